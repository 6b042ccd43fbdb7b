//! netobs-capture's pcap-filter compiler and classic BPF interpreter.
//!
//! - compile: every expression of the shared filter corpus that we
//!   support, compiled for Ethernet (per expression), offline and in live
//!   Linux mode, and typical expressions on their own (`vlan 10 and tcp
//!   port 80` in both modes);
//! - interpret: `tcp port 80 or 443` (our program and libpcap's, from
//!   `tcpdump -ddd`) and `vlan and udp` (offline and live code) over the
//!   8,382 corpus frames (per packet).
//!
//! Run: `cargo bench --bench capture_bpf` (needs the corpus in
//! netobs-capture/tests/data/corpus and tcpdump for libpcap's program).

use std::hint::black_box;
use std::io::Cursor;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netobs::capture::bpf::{self, Metadata, Program};
use netobs::capture::file::{linktype, CaptureReader};
use netobs::capture::filter::{compile, compile_with, CodeMode};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/netobs-capture/tests/data/corpus/eth_corpus.pcap"
);
const FILTERS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/netobs-capture/tests/data/corpus/filters-ethernet.txt"
);

fn packets() -> Vec<(Vec<u8>, u32)> {
    let mut r = CaptureReader::new(Cursor::new(std::fs::read(CORPUS).expect("corpus"))).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        v.push((rec.data.to_vec(), rec.orig_len));
    }
    v
}

fn libpcap(expr: &str) -> Program {
    let out = Command::new("tcpdump")
        .args(["-y", "EN10MB", "-ddd", expr])
        .output()
        .expect("tcpdump");
    bpf::parse_decimal(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

fn bench(c: &mut Criterion) {
    let text = std::fs::read_to_string(FILTERS).expect("filter corpus");
    let exprs: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|e| !e.is_empty() && compile(e, linktype::ETHERNET, 262144).is_ok())
        .collect();
    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Elements(exprs.len() as u64));
    for (name, mode) in [
        ("filter corpus (per expression)", CodeMode::Offline),
        ("filter corpus, live Linux code (per expression)", CodeMode::LinuxLive),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                for e in &exprs {
                    black_box(compile_with(black_box(e), linktype::ETHERNET, 262144, mode).unwrap());
                }
            })
        });
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("tcp port 80 or 443 and not src net 10.0.0.0/8", |b| {
        b.iter(|| {
            compile(
                black_box("tcp port 80 or 443 and not src net 10.0.0.0/8"),
                linktype::ETHERNET,
                262144,
            )
        })
    });
    for (name, mode) in [
        ("vlan 10 and tcp port 80 (offline)", CodeMode::Offline),
        ("vlan 10 and tcp port 80 (live Linux)", CodeMode::LinuxLive),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| compile_with(black_box("vlan 10 and tcp port 80"), linktype::ETHERNET, 262144, mode))
        });
    }
    g.finish();

    let pkts = packets();
    let meta = Metadata::default();
    let mut g = c.benchmark_group("interpret");
    g.throughput(Throughput::Elements(pkts.len() as u64));
    for (name, prog) in [
        (
            "tcp port 80 or 443 (netobs program)",
            compile("tcp port 80 or 443", linktype::ETHERNET, 262144).unwrap(),
        ),
        ("tcp port 80 or 443 (libpcap program)", libpcap("tcp port 80 or 443")),
        (
            "vlan and udp (netobs program)",
            compile("vlan and udp", linktype::ETHERNET, 262144).unwrap(),
        ),
        (
            "vlan and udp (netobs live Linux program)",
            compile_with("vlan and udp", linktype::ETHERNET, 262144, CodeMode::LinuxLive).unwrap(),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0u32;
                for (p, len) in &pkts {
                    n += (bpf::run(&prog.insns, black_box(p), *len, &meta) != 0) as u32;
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
