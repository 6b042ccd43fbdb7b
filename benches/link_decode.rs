//! Decode of a 2000-link RTM_NEWLINK dump: netobs-core's views vs
//! netlink-packet-route's owned messages, on the same bytes, with heap
//! allocations counted.
//!
//! The dump is built from the recorded dump of this kernel
//! (netobs-core/tests/data/links.bin: lo, veth, bridge, vxlan), repeated
//! with fresh interface indexes up to 2000 messages.
//!
//! Run: `cargo bench --bench link_decode`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netlink_packet_core::Parseable;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netobs::core::nlmsg::NlMsgs;
use netobs::core::rtnetlink::Link;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const LINKS: usize = 2000;

fn dump_2000() -> Vec<u8> {
    let rec: &[u8] = include_bytes!("../netobs-core/tests/data/links.bin");
    let msgs: Vec<&[u8]> = NlMsgs::new(rec).map(|m| m.unwrap().bytes()).collect();
    let mut out = Vec::new();
    for i in 0..LINKS {
        let m = msgs[i % msgs.len()];
        let at = out.len();
        out.extend_from_slice(m);
        // ifinfomsg.ifi_index lives at nlmsghdr (16) + 4.
        out[at + 20..at + 24].copy_from_slice(&(i as i32 + 1).to_ne_bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// What a consumer of the dump reads from each link.
fn netobs_decode(buf: &[u8]) -> u64 {
    let mut sum = 0u64;
    for m in NlMsgs::new(buf) {
        let m = m.unwrap();
        let l = Link::parse(&m).unwrap();
        sum += l.index() as u64 + l.mtu().unwrap_or(0) as u64 + l.flags().bits() as u64;
        sum += l.name().map_or(0, |n| n.len() as u64);
        if let Some(s) = l.stats64() {
            sum += s.rx_bytes + s.tx_packets + s.rx_dropped;
        }
    }
    sum
}

fn npr_decode(buf: &[u8]) -> u64 {
    let mut sum = 0u64;
    for m in NlMsgs::new(buf) {
        let m = m.unwrap();
        let l = LinkMessage::parse(m.payload()).unwrap();
        sum += l.header.index as u64 + l.header.flags.bits() as u64;
        for a in &l.attributes {
            match a {
                LinkAttribute::Mtu(v) => sum += *v as u64,
                LinkAttribute::IfName(n) => sum += n.len() as u64,
                LinkAttribute::Stats64(s) => sum += s.rx_bytes + s.tx_packets + s.rx_dropped,
                _ => {}
            }
        }
    }
    sum
}

fn allocs_per_message(f: fn(&[u8]) -> u64, buf: &[u8]) -> f64 {
    let before = allocations();
    black_box(f(black_box(buf)));
    (allocations() - before) as f64 / LINKS as f64
}

fn bench(c: &mut Criterion) {
    let buf = dump_2000();
    assert_eq!(
        netobs_decode(&buf),
        npr_decode(&buf),
        "both decoders read the same values"
    );
    println!(
        "heap allocations per message: netobs-core {:.2}, netlink-packet-route {:.2} ({} bytes, {LINKS} links)",
        allocs_per_message(netobs_decode, &buf),
        allocs_per_message(npr_decode, &buf),
        buf.len()
    );
    let mut g = c.benchmark_group("decode_2000_links");
    g.throughput(Throughput::Elements(LINKS as u64));
    g.sample_size(30);
    g.bench_function("netobs-core", |b| b.iter(|| netobs_decode(black_box(&buf))));
    g.bench_function("netlink-packet-route", |b| b.iter(|| npr_decode(black_box(&buf))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
