//! Decode of a 10,000-socket inet_diag dump with tcp_info, skmeminfo and
//! congestion info: the netobs-sockdiag views on recorded bytes, with heap
//! allocations counted, plus the ss filter compiler.
//!
//! The dump is this kernel's recorded answer
//! (netobs-sockdiag/tests/data/inet_tcp.bin) repeated with fresh ports.
//!
//! Run: `cargo bench --bench sockdiag_decode`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netobs::core::nlmsg::NlMsgs;
use netobs::sockdiag::{bytecode, filter, InetSock};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const SOCKETS: usize = 10_000;

fn dump() -> Vec<u8> {
    let rec: &[u8] = include_bytes!("../netobs-sockdiag/tests/data/inet_tcp.bin");
    let msgs: Vec<&[u8]> = NlMsgs::new(rec).map(|m| m.unwrap().bytes()).collect();
    let mut out = Vec::new();
    for i in 0..SOCKETS {
        let m = msgs[i % msgs.len()];
        let at = out.len();
        out.extend_from_slice(m);
        // inet_diag_msg.id.idiag_dport lives at nlmsghdr (16) + 6.
        out[at + 22..at + 24].copy_from_slice(&(i as u16).to_be_bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// What `ss -tin` reads from each socket.
fn decode(buf: &[u8]) -> u64 {
    let mut sum = 0u64;
    for m in NlMsgs::new(buf) {
        let m = m.unwrap();
        let s = InetSock::parse(&m).unwrap();
        sum += s.sport() as u64 + s.dport() as u64 + s.rqueue() as u64 + s.inode() as u64;
        sum += s.state_raw() as u64 + s.congestion().map_or(0, |c| c.len() as u64);
        if let Some(i) = s.tcp_info() {
            sum += i.rtt().unwrap_or(0) as u64 + i.snd_cwnd().unwrap_or(0) as u64;
            sum += i.bytes_acked().unwrap_or(0) + i.delivery_rate().unwrap_or(0);
        }
        if let Some(m) = s.skmeminfo() {
            sum += m.rcvbuf as u64;
        }
        if let std::net::IpAddr::V4(a) = s.src() {
            sum += a.octets()[3] as u64;
        }
    }
    sum
}

fn bench(c: &mut Criterion) {
    let buf = dump();
    let before = allocations();
    black_box(decode(black_box(&buf)));
    println!(
        "heap allocations per socket: {:.3} ({} bytes, {SOCKETS} sockets)",
        (allocations() - before) as f64 / SOCKETS as f64,
        buf.len()
    );
    let mut g = c.benchmark_group("sockdiag");
    g.throughput(Throughput::Elements(SOCKETS as u64));
    g.sample_size(30);
    g.bench_function("decode_10000_sockets_with_tcp_info", |b| {
        b.iter(|| decode(black_box(&buf)))
    });
    g.finish();
    let text = "( dport = :443 or sport = :ssh ) and dst 10.0.0.0/8 and not src [::1] and sport > :1024";
    c.bench_function("ss_filter_parse_and_compile", |b| {
        b.iter(|| bytecode::compile(&filter::parse(black_box(text)).unwrap().unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
