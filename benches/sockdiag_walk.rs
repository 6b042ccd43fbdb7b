//! A live inet_diag dump with tcp_info from a namespace full of sockets,
//! decoded by netobs-sockdiag: user time of the decode against the kernel's
//! sys time for building the dump, and heap allocations per socket.
//!
//! Run (root), on a namespace built by benches/ss_108k.py:
//! `NETOBS_BENCH_NS=nbench-ss cargo bench --bench sockdiag_walk`
//! Without NETOBS_BENCH_NS it walks the caller's own namespace once.

use std::hint::black_box;

use netobs::core::Netns;
use netobs::sockdiag::{Extensions, Family, InetRequest, Proto, SockDiag, States};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

/// (user, sys) CPU seconds of this process, from /proc/self/stat.
fn cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are 12 and 13 after the state field.
    let tick = 100.0; // USER_HZ on Linux
    (
        f[11].parse::<f64>().unwrap() / tick,
        f[12].parse::<f64>().unwrap() / tick,
    )
}

fn walk(diag: &mut SockDiag) -> (u64, u64) {
    let mut n = 0u64;
    let mut sum = 0u64;
    for family in [Family::Inet, Family::Inet6] {
        let mut req = InetRequest::new(family, Proto::Tcp, States::ALL);
        req.ext = Extensions::INFO | Extensions::VEGASINFO | Extensions::CONG;
        diag.for_each_inet(&req, |s| {
            n += 1;
            sum += s.sport() as u64 + s.dport() as u64 + s.rqueue() as u64 + s.inode() as u64;
            if let Some(i) = s.tcp_info() {
                sum += i.rtt().unwrap_or(0) as u64 + i.snd_cwnd().unwrap_or(0) as u64 + i.bytes_acked().unwrap_or(0);
            }
            sum += s.congestion().map_or(0, |c| c.len() as u64);
        })
        .unwrap();
    }
    (n, black_box(sum))
}

fn main() {
    let ns = std::env::var("NETOBS_BENCH_NS").ok();
    let netns = ns.as_deref().map_or(Netns::Current, Netns::named);
    let rounds: usize = if ns.is_some() { 20 } else { 1 };
    let mut diag = SockDiag::open_in(&netns).expect("open sock_diag (root? namespace?)");
    let (n, _) = walk(&mut diag); // warm-up: grows the receive buffer once
    let a0 = allocations();
    let (u0, s0) = cpu();
    let t0 = std::time::Instant::now();
    for _ in 0..rounds {
        walk(&mut diag);
    }
    let wall = t0.elapsed().as_secs_f64() / rounds as f64;
    let (u1, s1) = cpu();
    let allocs = (allocations() - a0) as f64 / (n.max(1) as f64 * rounds as f64);
    let (user, sys) = ((u1 - u0) / rounds as f64, (s1 - s0) / rounds as f64);
    println!(
        "sockets {n}: wall {:.1} ms, user {:.1} ms, sys {:.1} ms per dump; user/sys {:.1}%; heap allocations per socket {allocs:.4}",
        wall * 1e3,
        user * 1e3,
        sys * 1e3,
        if sys > 0.0 { 100.0 * user / sys } else { 0.0 }
    );
}
