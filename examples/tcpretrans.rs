//! tcpretrans on tracepoints: every retransmitted TCP segment with its
//! connection and state, like bcc's tcpretrans.
//!
//! `cargo run --example tcpretrans -- [--port N] [--count N]`

use std::time::Duration;

use netobs::trace::tcp::{TcpEvent, TcpWatch};

#[path = "tcp/tool.rs"]
mod tool;

fn main() -> std::process::ExitCode {
    tool::exit_with("tcpretrans", run)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let tool::Tool { mut mon, count, stop } = tool::start(
        "tcpretrans",
        TcpWatch {
            retransmits: true,
            ..Default::default()
        },
    )?;
    let mut seen = 0u64;
    println!("TIME(ns)       PID    IP LADDR:LPORT               T> RADDR:RPORT               STATE");
    while !stop.is_stopped() && count.is_none_or(|c| seen < c) {
        let mut events = Vec::new();
        mon.poll(Some(Duration::from_millis(500)), |e| events.push(*e))?;
        for e in events {
            let TcpEvent::Retransmit {
                timestamp,
                pid,
                flow,
                state,
            } = e
            else {
                continue;
            };
            if count.is_some_and(|c| seen >= c) {
                break;
            }
            seen += 1;
            let ip = if flow.saddr.is_ipv4() { 4 } else { 6 };
            let l = std::net::SocketAddr::new(flow.saddr, flow.sport);
            let r = std::net::SocketAddr::new(flow.daddr, flow.dport);
            println!(
                "{timestamp:<14} {pid:<6} {ip:<2} {:<25} R> {:<25} {}",
                l.to_string(),
                r.to_string(),
                mon.decoder().state_name(state)
            );
        }
    }
    Ok(())
}
