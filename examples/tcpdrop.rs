//! tcpdrop on tracepoints: TCP packets the kernel dropped after they reached
//! a socket, with the connection, its state, the drop reason and where,
//! like bcc's tcpdrop.
//!
//! `cargo run --example tcpdrop -- [--port N] [--count N]`
//!
//! `skb:kfree_skb` (kernel-filtered on `rx_sk != 0`) names the socket; the
//! socket's addresses come from its state changes seen since start and, for
//! connections older than the tool, from the TCP events that carry its
//! cookie (tcp_probe on every received segment), its state then from a
//! sock_diag dump (`netobs::correlate::join_tcp_sockets`).
//!
//! Where the kernel's kfree_skb has no `rx_sk` (Linux 6.1), no drop can be
//! joined to its socket: the tool says so and shows the drops inside the
//! kernel's TCP code (a `tcp*` function or a `TCP_*` reason) with `?` for
//! the connection.

use std::time::Duration;

use netobs::core::{ErrorInfo, ErrorKind};
use netobs::trace::{DropFilter, DropMonitor, Kallsyms, Tracefs};

#[path = "common/exit.rs"]
mod exit;
#[path = "common/signal.rs"]
mod signal;

fn main() -> std::process::ExitCode {
    exit::run_tool("tcpdrop", || Ok(()), |()| run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (mut port, mut count) = (None::<u16>, None::<u64>);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--port" => port = Some(v.parse()?),
            "--count" => count = Some(v.parse()?),
            _ => return Err(format!("unknown argument {a:?}; usage: tcpdrop [--port N] [--count N]").into()),
        }
    }
    let stop = signal::stop_on_signals()?;
    let syms = Kallsyms::load()?;
    let filter = DropFilter {
        socket_only: true,
        ..Default::default()
    };
    let t = Tracefs::find_or_mount()?;
    let mut mon = match DropMonitor::open(&t, &filter, None) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            eprintln!("tcpdrop: {e}; showing drops in the kernel's TCP code without their connection");
            DropMonitor::open_tracepoint(&t, &DropFilter::default(), None)?
        }
        Err(e) => return Err(e.into()),
    };
    mon.set_stop(&stop);
    let joined = mon.kfree_skb().has_rx_sk();
    if joined {
        netobs::correlate::join_tcp_sockets(&mut mon, &[netobs::core::Netns::Current])?;
    }
    println!(
        "{:<14} {:<7} {:<2} {:<22} > {:<22} {:<11} {:<20} LOCATION",
        "TIME(ns)", "PID", "IP", "SADDR:SPORT", "DADDR:DPORT", "STATE", "REASON"
    );
    let mut seen = 0u64;
    while !stop.is_stopped() && count.is_none_or(|c| seen < c) {
        let mut lines = Vec::new();
        mon.poll_detailed(Some(Duration::from_millis(500)), |d| match d.tcp {
            Some(tcp) if port.is_none_or(|p| tcp.flow.sport == p || tcp.flow.dport == p) => {
                lines.push((d.drop, Some(tcp)))
            }
            None if !joined && port.is_none() => lines.push((d.drop, None)),
            _ => {}
        })?;
        for (d, tcp) in lines {
            let reason = mon.kfree_skb().reason_name(d.reason).unwrap_or("?");
            if tcp.is_none() {
                let in_tcp = syms
                    .lookup(d.location)
                    .is_some_and(|l| l.base_name().starts_with("tcp"));
                if !in_tcp && !reason.starts_with("TCP_") {
                    continue;
                }
            }
            if count.is_some_and(|c| seen >= c) {
                break;
            }
            seen += 1;
            let (ip, src, dst, state) = match tcp {
                Some(tcp) => {
                    let f = tcp.flow;
                    let tcpdec = mon.tcp_decoder().expect("enabled above");
                    (
                        if f.saddr.is_ipv4() { "4" } else { "6" },
                        std::net::SocketAddr::new(f.saddr, f.sport).to_string(),
                        std::net::SocketAddr::new(f.daddr, f.dport).to_string(),
                        tcp.state.map_or("UNKNOWN", |s| tcpdec.state_name(s)),
                    )
                }
                None => (
                    match d.protocol {
                        0x0800 => "4",
                        0x86dd => "6",
                        _ => "?",
                    },
                    "?".to_owned(),
                    "?".to_owned(),
                    "UNKNOWN",
                ),
            };
            println!(
                "{:<14} {:<7} {:<2} {:<22} > {:<22} {:<11} {:<20} {}",
                d.timestamp,
                d.pid,
                ip,
                src,
                dst,
                state,
                reason,
                syms.format(d.location)
            );
        }
    }
    Ok(())
}
