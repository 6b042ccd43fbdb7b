//! tcplife on tracepoints: one line per TCP connection when it closes, with
//! its addresses and lifetime, like bcc's tcplife (without byte counts,
//! which the tracepoint does not carry).
//!
//! `cargo run --example tcplife -- [--port N] [--count N]`

use std::time::Duration;

use netobs::trace::tcp::{LifeTracker, TcpWatch};

#[path = "tcp/tool.rs"]
mod tool;

fn main() -> std::process::ExitCode {
    tool::exit_with("tcplife", run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let tool::Tool { mut mon, count, stop } = tool::start(
        "tcplife",
        TcpWatch {
            states: true,
            ..Default::default()
        },
    )?;
    let close = mon
        .decoder()
        .state_value("TCP_CLOSE")
        .ok_or("kernel has no TCP_CLOSE state")?;
    let mut life = LifeTracker::default();
    let mut seen = 0u64;
    println!("PID     LADDR           LPORT RADDR           RPORT MS");
    while !stop.is_stopped() && count.is_none_or(|c| seen < c) {
        let mut done = Vec::new();
        mon.poll(Some(Duration::from_millis(500)), |e| done.extend(life.feed(e, close)))?;
        for l in done {
            if count.is_some_and(|c| seen >= c) {
                break;
            }
            seen += 1;
            let f = l.flow;
            println!(
                "{:<7} {:<15} {:<5} {:<15} {:<5} {:.2}",
                l.pid,
                f.saddr,
                f.sport,
                f.daddr,
                f.dport,
                l.duration as f64 / 1e6
            );
        }
    }
    Ok(())
}
