//! Packet views over the shared corpus and over random bytes: they agree
//! with libpcap on which frames are TCP/UDP on which ports, and never panic.

use std::io::Cursor;
use std::process::Command;

use netobs_capture::bpf::{self, Metadata};
use netobs_capture::file::CaptureReader;
use netobs_capture::wire::{walk_ethernet, EthernetFrame, Ipv4Packet, Ipv6Packet};
use proptest::prelude::*;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");

fn corpus() -> Vec<Vec<u8>> {
    let mut r = CaptureReader::new(Cursor::new(std::fs::read(CORPUS).unwrap())).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        v.push(rec.data.to_vec());
    }
    v
}

/// libpcap's program for `expr` on Ethernet.
fn libpcap(expr: &str) -> bpf::Program {
    let out = Command::new("tcpdump")
        .args(["-y", "EN10MB", "-ddd", expr])
        .output()
        .unwrap();
    bpf::parse_decimal(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

/// The views find the same TCP-port-80 and UDP-port-53 frames as
/// libpcap's filters (run by our interpreter), except where the views are
/// stricter on purpose: an IPv4 total length too short for the transport
/// header (libpcap ignores the length field), and IPv6 extension headers
/// other than one fragment header (libpcap does not walk them).
#[test]
fn views_agree_with_libpcap_on_ports() {
    let frames = corpus();
    for (proto, port, expr) in [
        (6u8, 80u16, "(ip or ip6) and tcp port 80"),
        (17, 53, "(ip or ip6) and udp port 53"),
    ] {
        let prog = libpcap(expr);
        let mut agreed = 0;
        for f in &frames {
            let l = walk_ethernet(f);
            let ours =
                l.vlans == 0 && l.ip_protocol == Some(proto) && l.ports.is_some_and(|(s, d)| s == port || d == port);
            let theirs = bpf::run(&prog.insns, f, f.len() as u32, &Metadata::default()) != 0;
            if ours == theirs {
                agreed += 1;
                continue;
            }
            let eth = EthernetFrame::parse(f).unwrap();
            let explained = match eth.ethertype() {
                0x0800 => {
                    Ipv4Packet::parse(eth.payload()).is_ok_and(|ip| (ip.total_len() as usize) < ip.header_len() + 8)
                }
                0x86dd => {
                    Ipv6Packet::parse(eth.payload()).is_ok_and(|ip| ip.next_header() != proto && ip.next_header() != 44)
                }
                _ => false,
            };
            assert!(
                explained,
                "{expr}: ours {ours}, libpcap {theirs}: {:02x?}",
                &f[..f.len().min(64)]
            );
        }
        assert!(agreed > frames.len() - 10, "{expr}: only {agreed} frames agree");
    }
}

#[test]
fn ipv6_fragment_and_extension_headers() {
    // IPv6 / hop-by-hop (8 bytes) / fragment (offset 0, more) / UDP.
    let mut p = vec![0x60, 0, 0, 0, 0, 32, 0, 64];
    p.extend_from_slice(&[0u8; 32]);
    p.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0]); // hop-by-hop, next = fragment
    p.extend_from_slice(&[17, 0, 0x00, 0x01, 0, 0, 0, 7]); // fragment, next = UDP, M=1
    p.extend_from_slice(&[0x13, 0x88, 0x00, 0x35, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    let ip = Ipv6Packet::parse(&p).unwrap();
    let up = ip.upper_layer();
    assert_eq!(up.protocol, 17);
    let f = up.fragment.unwrap();
    assert_eq!((f.offset, f.more, f.ident), (0, true, 7));
    assert_eq!(&up.payload[..4], &[0x13, 0x88, 0x00, 0x35]);
    // A non-first fragment stops at the fragment header.
    p[40 + 8 + 2] = 0x01;
    p[40 + 8 + 3] = 0x00;
    let up = Ipv6Packet::parse(&p).unwrap().upper_layer();
    assert_eq!(up.fragment.unwrap().offset, 256);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random bytes, and corpus-like frames with random bytes flipped,
    /// never make a view panic.
    #[test]
    fn random_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), et in prop_oneof![Just(0x0800u16), Just(0x86dd), Just(0x0806), Just(0x8100)]) {
        walk_ethernet(&bytes);
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&et.to_be_bytes());
        f.extend_from_slice(&bytes);
        if f.len() > 14 { f[14] = (f[14] & 0x0f) | if et == 0x86dd { 0x60 } else { 0x40 }; }
        walk_ethernet(&f);
    }
}

#[test]
fn corpus_walks_without_panic() {
    for f in corpus() {
        walk_ethernet(&f);
        for cut in [0, 1, 13, 14, 20, 33, 34, 40, 54] {
            walk_ethernet(&f[..cut.min(f.len())]);
        }
    }
}

/// VXLAN frames of the corpus are walked into: every frame the views see
/// as VXLAN (untagged, to port 4789) libpcap's `udp dst port 4789` also
/// accepts, and each has an inner Ethernet layer. (libpcap accepts a few
/// more whose IP length field is too short for the views.)
#[test]
fn tunnels_are_walked_into() {
    let frames = corpus();
    let prog = libpcap("udp dst port 4789");
    let mut seen = 0;
    for f in &frames {
        let l = walk_ethernet(f);
        if l.vlans == 0 && l.ports.is_some_and(|(_, d)| d == 4789) {
            seen += 1;
            assert!(bpf::run(&prog.insns, f, f.len() as u32, &Metadata::default()) != 0);
            assert!(l.inner.as_ref().is_some_and(|i| i.ethertype.is_some()), "{l:?}");
        }
    }
    assert!(seen >= 20, "only {seen} VXLAN frames found");
}
