//! tcpstates on tracepoints: every TCP state change with its addresses and
//! the time spent in the previous state, like bcc's tcpstates.
//!
//! `cargo run --example tcpstates -- [--port N] [--count N]`
//!
//! Reads `sock:inet_sock_set_state` from a private trace instance; state
//! names come from the kernel's own table. Ctrl-C ends it.

use std::collections::HashMap;
use std::time::Duration;

use netobs::trace::tcp::{TcpEvent, TcpWatch};

#[path = "tcp/tool.rs"]
mod tool;

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".into())
}

fn main() -> std::process::ExitCode {
    tool::exit_with("tcpstates", run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let tool::Tool { mut mon, count, stop } = tool::start(
        "tcpstates",
        TcpWatch {
            states: true,
            ..Default::default()
        },
    )?;
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut seen = 0;
    println!(
        "SKADDR           C-PID  C-COMM     LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS"
    );
    while !stop.is_stopped() && count.is_none_or(|c| seen < c) {
        let mut lines = Vec::new();
        mon.poll(Some(Duration::from_millis(500)), |e| {
            if let TcpEvent::State {
                timestamp,
                pid,
                flow,
                old,
                new,
            } = *e
            {
                let prev = last.insert(flow.skaddr, timestamp).unwrap_or(timestamp);
                lines.push((flow, pid, old, new, (timestamp - prev) as f64 / 1e6));
            }
        })?;
        for (flow, pid, old, new, ms) in lines {
            if count.is_some_and(|c| seen >= c) {
                break;
            }
            seen += 1;
            let d = mon.decoder();
            println!(
                "{:016x} {:<6} {:<10} {:<15} {:<5} {:<15} {:<5} {:<11} -> {:<11} {:.3}",
                flow.skaddr,
                pid,
                comm(pid),
                flow.saddr,
                flow.sport,
                flow.daddr,
                flow.dport,
                d.state_name(old),
                d.state_name(new),
                ms
            );
        }
    }
    Ok(())
}
