//! One-line summaries against the real tcpdump: packets built here (raw
//! bytes), written to a pcap file with PcapWriter, read back by
//! `tcpdump -n -r` (also `-q`, `-e`, `-S`) and compared line by line with
//! netobs's summaries of the same bytes. Covers truncated captures (caplen
//! below the length on the wire), every ICMP/ICMPv6 message the summaries
//! name, neighbour discovery, IPv6 extension headers, VLAN/QinQ and ARP
//! with unknown formats, MPTCP options of every subtype, IPv6 address
//! texts; each also cooked as `-i any` captures it (LINUX_SLL2); and
//! random bytes never make a summary panic.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

use netobs_capture::file::{linktype, PcapWriter, Precision};
use netobs_capture::summary::{self, Summarizer};
use netobs_core::rtnetlink::InterfaceNames;
use proptest::prelude::*;

const A4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const B4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const C4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);

fn a6() -> Ipv6Addr {
    "fd00::1".parse().unwrap()
}
fn b6() -> Ipv6Addr {
    "fd00::2".parse().unwrap()
}

fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A frame with VLAN tags (TPID, VLAN id) before `ethertype`.
fn tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a];
    for (tpid, id) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(0x2000 | id).to_be_bytes()); // priority 1
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 header (no options) over `payload`, its total length covering
/// `payload_len` bytes of which `payload` may be only the start.
fn ipv4_len(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8], payload_len: usize) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

fn ipv4(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    ipv4_len(proto, src, dst, payload, payload.len())
}

fn ipv6_len(next: u8, src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8], payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload_len as u16).to_be_bytes());
    p.extend_from_slice(&[next, 255]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

fn ipv6(next: u8, src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    ipv6_len(next, src, dst, payload, payload.len())
}

fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    // nop, nop, timestamps
    tcp_with(
        sport,
        dport,
        seq,
        ack,
        flags,
        &[1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9],
        data,
    )
}

/// A TCP segment with `options` (a multiple of 4 bytes).
fn tcp_with(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, options: &[u8], data: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    let offset = ((20 + options.len()) / 4) as u8;
    t.extend_from_slice(&[offset << 4, flags, 0x01, 0xf6, 0, 0, 0, 0]);
    t.extend_from_slice(options);
    t.extend_from_slice(data);
    t
}

fn udp(sport: u16, dport: u16, data_len: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data_len) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend(std::iter::repeat_n(0x61, data_len));
    u
}

fn icmp(kind: u8, code: u8, word: [u8; 4], rest: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, code, 0, 0];
    m.extend_from_slice(&word);
    m.extend_from_slice(rest);
    m
}

/// The start of a datagram an ICMP error quotes: IP header and 8 bytes.
fn quoted_v4(proto: u8) -> Vec<u8> {
    let mut l4 = udp(40000, 9999, 0);
    l4.truncate(8);
    ipv4_len(proto, B4, Ipv4Addr::new(10, 77, 0, 3), &l4, 25)
}

fn quoted_v6(proto: u8) -> Vec<u8> {
    let l4 = udp(40000, 9999, 0);
    ipv6_len(proto, b6(), "fd00::3".parse().unwrap(), &l4, 25)
}

fn arp(hrd: u16, pro: u16, hln: u8, pln: u8, op: u16, tha: [u8; 6]) -> Vec<u8> {
    let mut a = Vec::new();
    a.extend_from_slice(&hrd.to_be_bytes());
    a.extend_from_slice(&pro.to_be_bytes());
    a.extend_from_slice(&[hln, pln]);
    a.extend_from_slice(&op.to_be_bytes());
    let (hl, pl) = (hln as usize, pln as usize);
    a.extend(std::iter::repeat_n(0x0a, hl)); // sender hardware
    a.extend(std::iter::repeat_n(10, pl)); // sender protocol
    a.extend_from_slice(&tha[..hl.min(6)]);
    a.extend(std::iter::repeat_n(0, hl.saturating_sub(6)));
    a.extend(std::iter::repeat_n(11, pl));
    a
}

/// A packet as the capture saw it: the bytes kept and the length on the wire.
struct Captured {
    data: Vec<u8>,
    wire_len: u32,
}

fn whole(f: Vec<u8>) -> Captured {
    Captured {
        wire_len: f.len() as u32,
        data: f,
    }
}

/// `frame` captured with a snap length: tcpdump prints from the headers.
fn snapped(mut f: Vec<u8>, wire_len: usize, snaplen: usize) -> Captured {
    f.truncate(snaplen);
    Captured {
        data: f,
        wire_len: wire_len as u32,
    }
}

fn truncated_transports() -> Vec<Captured> {
    let seg = tcp(40000, 5001, 1000, 2000, 0x18, &[0x61; 80]);
    let udp_big = udp(40002, 5003, 3000);
    vec![
        // A 20000-byte TCP segment captured with a 96-byte snaplen.
        snapped(
            ether(0x0800, &ipv4_len(6, A4, B4, &seg, 32 + 20000)),
            14 + 20 + 32 + 20000,
            96,
        ),
        snapped(
            ether(0x0800, &ipv4_len(17, A4, B4, &udp_big, udp_big.len())),
            14 + 20 + udp_big.len(),
            96,
        ),
        snapped(
            ether(0x86dd, &ipv6_len(6, a6(), b6(), &seg, 32 + 20000)),
            14 + 40 + 32 + 20000,
            96,
        ),
        snapped(
            ether(0x86dd, &ipv6_len(17, a6(), b6(), &udp_big, udp_big.len())),
            14 + 40 + udp_big.len(),
            96,
        ),
        // A UDP length beyond the IP payload, and one shorter than its header.
        whole(ether(0x0800, &ipv4_len(17, A4, B4, &udp(1, 2, 30), 20))),
        whole(ether(0x0800, &ipv4(17, A4, B4, &[0, 1, 0, 2, 0, 4, 0, 0]))),
        // An IP protocol tcpdump does not decode: its length from the header.
        snapped(
            ether(0x0800, &ipv4_len(253, A4, B4, &[0; 60], 1000)),
            14 + 20 + 1000,
            96,
        ),
        // Whole segments, for relative sequence numbers.
        whole(ether(
            0x0800,
            &ipv4(6, A4, B4, &tcp(40000, 5001, 1000, 2000, 0x10, b"")),
        )),
        whole(ether(
            0x0800,
            &ipv4(6, B4, A4, &tcp(5001, 40000, 2000, 1001, 0x18, b"hello")),
        )),
        // A SACK block (relative to the ack's base without -S), Fast Open
        // cookies (option 34 and the RFC 6994 experiment) and an unknown option.
        whole(ether(
            0x0800,
            &ipv4(6, A4, B4, &{
                let mut sack = vec![1, 1, 5, 10];
                sack.extend_from_slice(&2100u32.to_be_bytes());
                sack.extend_from_slice(&2200u32.to_be_bytes());
                tcp_with(40000, 5001, 1001, 2006, 0x10, &sack, b"")
            }),
        )),
        whole(ether(
            0x0800,
            &ipv4(
                6,
                A4,
                B4,
                &tcp_with(
                    40010,
                    5001,
                    7,
                    0,
                    0x02,
                    &[34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 254, 4, 0xf9, 0x89, 34, 2, 1, 1, 1, 1],
                    b"",
                ),
            ),
        )),
        whole(ether(
            0x0800,
            &ipv4(
                6,
                A4,
                B4,
                &tcp_with(40011, 5001, 7, 0, 0x02, &[254, 6, 0x12, 0x34, 0, 0, 99, 2, 1, 1], b""),
            ),
        )),
    ]
}

fn icmp_messages() -> Vec<Captured> {
    let mut out = Vec::new();
    let mut v4 = |m: Vec<u8>| out.push(whole(ether(0x0800, &ipv4(1, C4, A4, &m))));
    v4(icmp(8, 0, [0, 7, 0, 1], &[0; 16]));
    v4(icmp(0, 0, [0, 7, 0, 1], &[0; 16]));
    for code in 0..=16 {
        v4(icmp(3, code, [0, 0, 0, 0], &quoted_v4(17)));
    }
    v4(icmp(3, 3, [0; 4], &quoted_v4(6)));
    v4(icmp(3, 3, [0; 4], &quoted_v4(47)));
    v4(icmp(3, 4, [0, 0, 0x05, 0xdc], &quoted_v4(17)));
    for code in 0..=4 {
        v4(icmp(5, code, [192, 0, 2, 1], &quoted_v4(17)));
    }
    for code in 0..=2 {
        v4(icmp(11, code, [0; 4], &quoted_v4(17)));
    }
    v4(icmp(12, 0, [20, 0, 0, 0], &quoted_v4(17)));
    v4(icmp(12, 2, [0; 4], &quoted_v4(17)));
    v4(icmp(4, 0, [0; 4], &quoted_v4(17)));
    v4(icmp(10, 0, [0; 4], &[]));
    v4(icmp(
        9,
        0,
        [2, 2, 0x07, 0x08],
        &[192, 0, 2, 1, 0, 0, 0, 5, 192, 0, 2, 2, 0, 0, 0, 9],
    ));
    v4(icmp(9, 0, [0, 2, 0, 30], &[]));
    v4(icmp(13, 0, [0, 3, 0, 4], &[0; 12]));
    v4(icmp(
        14,
        0,
        [0, 3, 0, 4],
        &[0x03, 0x1a, 0x2b, 0x3c, 0, 0, 0, 5, 0x05, 0x26, 0x5c, 0x00],
    ));
    v4(icmp(15, 0, [0, 3, 0, 4], &[]));
    v4(icmp(16, 0, [0, 3, 0, 4], &[]));
    v4(icmp(17, 0, [0, 3, 0, 4], &[0; 4]));
    v4(icmp(18, 0, [0, 3, 0, 4], &[255, 255, 255, 0]));
    v4(icmp(42, 0, [0; 4], &[]));
    // An unreachable whose quote the capture cut short.
    out.push(snapped(
        ether(0x0800, &ipv4(1, C4, A4, &icmp(3, 3, [0; 4], &quoted_v4(17)))),
        14 + 20 + 8 + 28,
        14 + 20 + 8 + 12,
    ));
    // A port unreachable for a truncated UDP datagram, as the kernel sends it.
    out.push(whole(ether(
        0x0800,
        &ipv4(1, B4, A4, &icmp(3, 3, [0; 4], &quoted_v4(17))),
    )));
    out
}

fn icmp6_messages() -> Vec<Captured> {
    let mut out = Vec::new();
    let mut v6 = |m: Vec<u8>| out.push(whole(ether(0x86dd, &ipv6(58, a6(), b6(), &m))));
    let target = b6().octets();
    v6(icmp(128, 0, [0, 7, 0, 1], &[0; 8]));
    v6(icmp(129, 0, [0, 7, 0, 1], &[0; 8]));
    for code in 0..=4 {
        v6(icmp(1, code, [0; 4], &quoted_v6(17)));
    }
    v6(icmp(1, 4, [0; 4], &quoted_v6(6)));
    v6(icmp(2, 0, [0, 0, 0x05, 0x00], &quoted_v6(17)));
    v6(icmp(3, 0, [0; 4], &quoted_v6(17)));
    v6(icmp(3, 1, [0; 4], &quoted_v6(17)));
    for code in 0..=4 {
        v6(icmp(4, code, [0, 0, 0, 6], &quoted_v6(17)));
    }
    // Neighbour discovery: solicitations with a source link-layer option.
    v6(icmp(133, 0, [0; 4], &[1, 1, 2, 0, 0, 0, 0, 0x0a]));
    v6(icmp(134, 0, [64, 0, 0x07, 0x08], &[0; 8]));
    let mut ns = target.to_vec();
    ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 0x0a]);
    v6(icmp(135, 0, [0; 4], &ns));
    let mut na = target.to_vec();
    na.extend_from_slice(&[2, 1, 2, 0, 0, 0, 0, 0x0b]);
    v6(icmp(136, 0, [0x60, 0, 0, 0], &na));
    let mut redirect = target.to_vec();
    redirect.extend_from_slice(&a6().octets());
    v6(icmp(137, 0, [0; 4], &redirect));
    // MLD: v1 query, report and done, v2 query and report.
    let group: Ipv6Addr = "ff02::1:ff00:2".parse().unwrap();
    v6(icmp(130, 0, [0x27, 0x10, 0, 0], &group.octets()));
    v6(icmp(131, 0, [0, 0, 0, 0], &group.octets()));
    v6(icmp(132, 0, [0, 0, 0, 0], &group.octets()));
    let mut q2 = group.octets().to_vec();
    q2.extend_from_slice(&[2, 125, 0, 1]);
    q2.extend_from_slice(&a6().octets());
    v6(icmp(130, 0, [0x27, 0x10, 0, 0], &q2));
    let mut r2 = vec![4, 0, 0, 0];
    r2.extend_from_slice(&group.octets());
    v6(icmp(143, 0, [0, 0, 0, 1], &r2));
    v6(icmp(144, 0, [0x12, 0x34, 0, 0], &[]));
    let mut ext = Vec::new();
    // Extension headers: hop-by-hop (router alert) before an MLDv2 report,
    // destination options before UDP, a first and a later fragment.
    let mut hbh = vec![58, 0, 5, 2, 0, 0, 1, 0];
    hbh.extend_from_slice(&icmp(143, 0, [0, 0, 0, 1], &r2));
    ext.push(whole(ether(0x86dd, &ipv6(0, a6(), b6(), &hbh))));
    let mut dst = vec![17, 0, 1, 4, 0, 0, 0, 0];
    dst.extend_from_slice(&udp(40000, 5001, 12));
    ext.push(whole(ether(0x86dd, &ipv6(60, a6(), b6(), &dst))));
    let mut first = vec![17, 0, 0, 1, 0, 0, 0, 9];
    first.extend_from_slice(&udp(40000, 5001, 40));
    ext.push(whole(ether(0x86dd, &ipv6(44, a6(), b6(), &first[..8 + 24]))));
    let mut later = vec![17, 0, 0, 24, 0, 0, 0, 9];
    later.extend_from_slice(&[0x61; 24]);
    ext.push(whole(ether(0x86dd, &ipv6(44, a6(), b6(), &later))));
    v6(icmp(141, 0, [0; 4], &[]));
    out.extend(ext);
    out
}

/// IPv6 addresses whose text differs between printers: IPv4-compatible
/// and IPv4-mapped tails, `::1`, `::`, runs of zeros of equal length, in
/// the header and in a neighbour solicitation's target.
fn ipv6_addresses() -> Vec<Captured> {
    let addrs = [
        "::102:304",
        "::1:0",
        "::ffff:a00:1",
        "::ffff:0:a00:1",
        "::1",
        "::",
        "::2",
        "1::102:304",
        "64:ff9b::102:304",
        "2001:db8:0:0:1:0:0:1",
        "0:0:1::1",
        "fe80::1",
    ];
    let mut out = Vec::new();
    for pair in addrs.windows(2) {
        let (src, dst) = (pair[0].parse().unwrap(), pair[1].parse().unwrap());
        out.push(whole(ether(0x86dd, &ipv6(17, src, dst, &udp(40000, 5001, 4)))));
        let target: Ipv6Addr = pair[0].parse().unwrap();
        let mut ns = target.octets().to_vec();
        ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 0x0a]);
        out.push(whole(ether(0x86dd, &ipv6(58, a6(), dst, &icmp(135, 0, [0; 4], &ns)))));
    }
    out
}

fn links() -> Vec<Captured> {
    let dgram = ipv4(17, A4, B4, &udp(40000, 5001, 11));
    vec![
        whole(tagged(&[(0x8100, 100)], 0x0800, &dgram)),
        whole(tagged(&[(0x88a8, 200), (0x8100, 2001)], 0x0800, &dgram)),
        whole(tagged(&[(0x8100, 100)], 0x0806, &arp(1, 0x0800, 6, 4, 1, [0; 6]))),
        whole(tagged(&[(0x8100, 5)], 0x86dd, &ipv6(17, a6(), b6(), &udp(1, 2, 3)))),
        // ARP: unknown formats, padded to the Ethernet minimum.
        whole(ether(0x0806, &arp(0, 0, 0, 0, 0, [0; 6]))),
        whole(ether(0x0806, &[arp(1, 0x0800, 6, 4, 1, [0; 6]), vec![0; 18]].concat())),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 1, [2, 0, 0, 0, 0, 0x0b]))),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 2, [0; 6]))),
        whole(ether(0x0806, &arp(1, 0x86dd, 6, 16, 1, [0; 6]))),
        whole(ether(0x0806, &arp(6, 0x0800, 6, 4, 1, [0; 6]))),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 3, [2, 0, 0, 0, 0, 0x0b]))),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 4, [2, 0, 0, 0, 0, 0x0b]))),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 8, [2, 0, 0, 0, 0, 0x0b]))),
        whole(ether(0x0806, &arp(1, 0x0800, 6, 4, 9, [2, 0, 0, 0, 0, 0x0b]))),
        whole(ether(0x8035, &arp(1, 0x0800, 6, 4, 3, [2, 0, 0, 0, 0, 0x0b]))),
        // An EtherType nobody decodes: the link header, quick with -q.
        whole(ether(0x4321, b"netobs summary")),
    ]
}

/// The packets in a pcap file under the temporary directory.
/// TCP segments carrying MPTCP options (RFC 8684): every subtype in each
/// form print-mptcp.c accepts, forms it refuses (a length or TCP flags a
/// subtype does not allow: `[bad opt]` ends the line), options after an
/// MPTCP option, and a malformed option length.
fn mptcp_segments() -> Vec<Captured> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    let key = [0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81];
    let key2 = [0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, 0x08];
    let opt = |sub_etc: u8, third: Option<u8>, body: &[u8]| {
        let mut o = vec![30, 0, sub_etc];
        o.extend(third);
        o.extend_from_slice(body);
        o[1] = o.len() as u8;
        o
    };
    let cat = |parts: &[&[u8]]| parts.concat();
    let seg = |flags: u8, options: Vec<u8>| {
        let mut options = options;
        while options.len() % 4 != 0 {
            options.push(1); // nop after, as padding
        }
        let data: &[u8] = if flags & 0x08 != 0 { b"mptcp data" } else { b"" };
        whole(ether(
            0x0800,
            &ipv4(6, A4, B4, &tcp_with(40000, 5001, 1000, 2000, flags, &options, data)),
        ))
    };
    let v4 = [10, 77, 0, 9];
    let v6: [u8; 16] = "fd00::9".parse::<Ipv6Addr>().unwrap().octets();
    let port = 5002u16.to_be_bytes();
    let hmac = [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3];
    let mut v = vec![
        // MP_CAPABLE: v1 SYN (4 bytes), v0 SYN with a key and checksums,
        // the third ACK with both keys, with data-level length (22),
        // an unknown version, and a SYN form on a plain ACK (bad)
        seg(SYN, cat(&[&[2, 4, 5, 0xb4], &opt(0x01, Some(0x01), &[])])),
        seg(SYN, opt(0x00, Some(0x81), &key)),
        seg(ACK, opt(0x01, Some(0x01), &cat(&[&key, &key2]))),
        seg(PSH_ACK, opt(0x01, Some(0x01), &cat(&[&key, &key2, &[0, 10]]))),
        seg(SYN, opt(0x03, Some(0x01), &key)),
        seg(ACK, opt(0x01, Some(0x01), &key)),
        // MP_JOIN: SYN (token, nonce, backup), SYN/ACK (hmac, nonce), ACK
        // (20-byte hmac), and a SYN form on an ACK (bad)
        seg(
            SYN,
            opt(0x11, Some(3), &cat(&[&[0, 0, 0x12, 0x34], &[0xab, 0xcd, 0xef, 0x01]])),
        ),
        seg(SYN | ACK, opt(0x10, Some(3), &cat(&[&key, &[0, 0, 0, 7]]))),
        seg(ACK, opt(0x10, Some(0), &[0x5a; 20])),
        seg(
            ACK,
            opt(0x10, Some(3), &cat(&[&[0, 0, 0x12, 0x34], &[0xab, 0xcd, 0xef, 0x01]])),
        ),
        // DSS: a 4-byte data ack; a 8-byte ack with an 8-byte mapping and
        // checksum; a mapping with DATA_FIN; one cut short (bad); on a SYN (bad)
        seg(ACK, opt(0x20, Some(0x01), &[0, 0, 1, 0])),
        seg(
            PSH_ACK,
            opt(
                0x20,
                Some(0x0f),
                &cat(&[&key, &key2, &[0, 0, 0, 1], &[0, 10], &[0xbe, 0xef]]),
            ),
        ),
        seg(
            PSH_ACK,
            opt(
                0x20,
                Some(0x15),
                &cat(&[&[0, 0, 1, 0], &[0, 0, 2, 0], &[0, 0, 0, 1], &[0, 10]]),
            ),
        ),
        seg(ACK, opt(0x20, Some(0x05), &[0, 0, 1, 0, 0, 0, 2])),
        seg(SYN, opt(0x20, Some(0x01), &[0, 0, 1, 0])),
        // ADD_ADDR: v1 with and without a port, echo, IPv6, v0 forms, and
        // a length no form has (bad)
        seg(ACK, opt(0x30, Some(2), &cat(&[&v4, &hmac]))),
        seg(ACK, opt(0x30, Some(2), &cat(&[&v4, &port, &hmac]))),
        seg(ACK, opt(0x31, Some(2), &v4)),
        seg(ACK, opt(0x31, Some(2), &cat(&[&v4, &port]))),
        seg(ACK, opt(0x30, Some(4), &cat(&[&v6, &hmac]))),
        seg(ACK, opt(0x30, Some(4), &cat(&[&v6, &port, &hmac]))),
        seg(ACK, opt(0x31, Some(4), &v6)),
        seg(ACK, opt(0x34, Some(5), &v4)),
        seg(ACK, opt(0x36, Some(5), &cat(&[&v6, &port]))),
        seg(ACK, opt(0x3f, Some(5), &v4)),
        seg(ACK, opt(0x30, Some(2), &[10, 77, 0, 9, 0])),
        // REMOVE_ADDR, MP_PRIO (both forms), MP_FAIL, MP_FASTCLOSE, an
        // unknown subtype, and wrong lengths of each (bad)
        seg(ACK, opt(0x40, Some(2), &[3, 4])),
        seg(ACK, opt(0x40, None, &[])),
        seg(ACK, opt(0x51, Some(2), &[])),
        seg(ACK, opt(0x50, None, &[])),
        seg(ACK, opt(0x50, Some(2), &[0])),
        seg(ACK, opt(0x60, Some(0), &key)),
        seg(ACK, opt(0x60, Some(0), &key[..4])),
        seg(ACK, opt(0x70, Some(0), &key2)),
        seg(ACK, opt(0x70, Some(0), &[])),
        seg(ACK, opt(0x90, Some(0), &[1, 2, 3])),
        seg(ACK, vec![30, 2]),
        // an MPTCP option followed by timestamps and sack
        seg(
            ACK,
            cat(&[
                &opt(0x20, Some(0x01), &[0, 0, 1, 0]),
                &[1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9],
            ]),
        ),
    ];
    // an option length running past the header (bad, before any MPTCP)
    v.push(seg(ACK, vec![1, 30, 40, 0x20]));
    v
}

fn write_pcap(name: &str, link: u16, packets: &[Captured]) -> String {
    let path = format!(
        "{}/netobs-summary-{}-{name}-{link}.pcap",
        std::env::temp_dir().display(),
        std::process::id()
    );
    let file = std::fs::File::create(&path).unwrap();
    let mut w = PcapWriter::new(file, link, 262144, Precision::Micro).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_packet((i as u64 + 1) * 1_000_000_000, p.wire_len, &p.data)
            .unwrap();
    }
    drop(w);
    path
}

/// An Ethernet frame as `-i any` would have captured it (LINUX_SLL2): the
/// EtherType as protocol, ARPHRD_ETHER, the source MAC as address, the
/// data after the Ethernet header (tags stay in it). Packet types and
/// interface indexes vary: 1 is lo for tcpdump and for us, the other
/// has no name (`?`).
fn cooked(i: usize, p: &Captured) -> Captured {
    let d = &p.data;
    let mut sll2 = d[12..14].to_vec();
    sll2.extend_from_slice(&[0, 0]);
    let ifindex: u32 = if i % 2 == 0 { 1 } else { 4_000_000 };
    sll2.extend_from_slice(&ifindex.to_be_bytes());
    sll2.extend_from_slice(&[0, 1, (i % 6) as u8, 6]);
    sll2.extend_from_slice(&d[6..12]);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(&d[14..]);
    Captured {
        data: sll2,
        wire_len: p.wire_len - 14 + summary::SLL2_HDR_LEN as u32,
    }
}

/// tcpdump's first line per packet, without the timestamp.
fn tcpdump_lines(path: &str, flags: &[&str]) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-n", "-r", path])
        .args(flags)
        .env("TZ", "UTC")
        .output()
        .expect("tcpdump (Debian package tcpdump) must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .map(|l| l.split_once(' ').map_or("", |x| x.1).to_string())
        .collect()
}

fn ours(packets: &[Captured], flags: &[&str]) -> Vec<String> {
    let (link, quick, absolute) = (flags.contains(&"-e"), flags.contains(&"-q"), flags.contains(&"-S"));
    let mut s = Summarizer::new().quick(quick);
    packets
        .iter()
        .map(|p| {
            let (d, n) = (&p.data[..], p.wire_len);
            let head = match (link, quick) {
                (false, _) => String::new(),
                (true, false) => summary::link_header(d, n),
                (true, true) => summary::link_header_quick(d, n),
            };
            let body = match (link, absolute && !quick) {
                (false, true) => summary::summary(d, n),
                (true, true) => summary::summary_after_link(d, n),
                (false, false) => s.summary(d, n),
                (true, false) => s.summary_after_link(d, n),
            };
            head + &body
        })
        .collect()
}

/// The same for LINUX_SLL2 frames, naming interfaces as tcpdump does
/// (if_indextoname in this namespace).
fn ours_cooked(packets: &[Captured], flags: &[&str]) -> Vec<String> {
    let (link, quick, absolute) = (flags.contains(&"-e"), flags.contains(&"-q"), flags.contains(&"-S"));
    let mut s = Summarizer::new().quick(quick);
    let names = std::cell::RefCell::new(InterfaceNames::open().unwrap());
    let name = |i: u32| names.borrow_mut().name(i);
    packets
        .iter()
        .map(|p| {
            let (d, n) = (&p.data[..], p.wire_len);
            match (link, absolute && !quick) {
                (false, true) => summary::sll2_summary(d, n, &name),
                (true, true) => summary::sll2_summary_with_link(d, n, &name),
                (false, false) => s.sll2_summary(d, n, &name),
                (true, false) => s.sll2_summary_with_link(d, n, &name),
            }
        })
        .collect()
}

/// The lines of `packets` that differ from tcpdump's, under each set of
/// flags, as Ethernet frames and as the same frames cooked (`-i any`).
fn compare(name: &str, packets: &[Captured]) -> Vec<String> {
    let cooked: Vec<Captured> = packets.iter().enumerate().map(|(i, p)| cooked(i, p)).collect();
    let mut failures = Vec::new();
    for (link, packets) in [(linktype::ETHERNET, packets), (linktype::LINUX_SLL2, &cooked[..])] {
        let path = write_pcap(name, link, packets);
        for flags in [&[][..], &["-q"], &["-e"], &["-S"], &["-q", "-e"]] {
            let want = tcpdump_lines(&path, flags);
            let got = match link {
                linktype::ETHERNET => ours(packets, flags),
                _ => ours_cooked(packets, flags),
            };
            assert_eq!(want.len(), packets.len(), "{name} {flags:?}: tcpdump printed {want:?}");
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                if w != g {
                    failures.push(format!(
                        "{name} (link type {link}) {flags:?} packet {}:\n  tcpdump: {w}\n  netobs:  {g}",
                        i + 1
                    ));
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    failures
}

/// Truncated transports, every ICMP and ICMPv6 message named (with
/// neighbour discovery and extension headers), VLAN tags and ARP formats,
/// MPTCP options and IPv6 address texts:
/// each group in its own file, all differences reported together.
#[test]
fn built_packets_print_as_tcpdump_prints_them() {
    let groups = [
        ("truncated", truncated_transports()),
        ("icmp", icmp_messages()),
        ("icmp6", icmp6_messages()),
        ("links", links()),
        ("mptcp", mptcp_segments()),
        ("ipv6addr", ipv6_addresses()),
    ];
    let failures: Vec<String> = groups
        .iter()
        .flat_map(|(name, packets)| compare(name, packets))
        .collect();
    assert!(
        failures.is_empty(),
        "{} lines differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes, and any truncation of the packets above, give a line
    /// and no panic.
    #[test]
    fn summaries_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..200, pick in 0usize..1000) {
        let mut all = truncated_transports();
        all.extend(icmp_messages());
        all.extend(icmp6_messages());
        all.extend(links());
        all.extend(mptcp_segments());
        all.extend(ipv6_addresses());
        let cooked: Vec<Captured> = all.iter().enumerate().map(|(i, p)| cooked(i, p)).collect();
        all.extend(cooked);
        let p = &all[pick % all.len()];
        let cut = &p.data[..cut.min(p.data.len())];
        for frame in [&bytes[..], cut] {
            for wire_len in [0, frame.len() as u32, 70000] {
                let _ = summary::summary(frame, wire_len);
                let _ = summary::summary_after_link(frame, wire_len);
                let _ = Summarizer::new().quick(true).summary(frame, wire_len);
                let _ = summary::link_header_quick(frame, wire_len);
                let _ = summary::sll2_summary(frame, wire_len, &|_| None);
                let _ = summary::sll2_summary_with_link(frame, wire_len, &|_| None);
                let _ = Summarizer::new().quick(true).sll2_summary_with_link(frame, wire_len, &|_| None);
            }
        }
    }
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");

/// Which transport tcpdump's line shows right after IP/IP6 (tunnels and
/// other protocols are out of scope), or ARP.
fn in_scope(line: &str) -> Option<&'static str> {
    let rest = line.strip_prefix("IP ").or_else(|| line.strip_prefix("IP6 "));
    let Some(rest) = rest else {
        return line.starts_with("ARP, ").then_some("ARP");
    };
    let text = rest.split_once(": ")?.1;
    match text {
        t if t.starts_with("Flags [") || t.starts_with("tcp ") => Some("TCP"),
        t if t.starts_with("UDP, ") || t.starts_with("truncated-udp") => Some("UDP"),
        t if t.starts_with("ICMP") => Some("ICMP"),
        _ => None,
    }
}

/// The whole shared corpus against `tcpdump -# -n` (and `-q`): every ARP
/// line and every IP line whose first protocol is TCP, UDP or ICMP is
/// ours, or ours followed by the application protocol tcpdump goes on to
/// decode. The ceilings are what is left (MPTCP options, ICMPv6 node
/// information and RPL, truncated TCP headers, MACsec frames, one ARP
/// protocol name); a regression fails.
#[test]
fn corpus_lines_equal_tcpdumps_up_to_the_application() {
    let mut reader =
        netobs_capture::file::CaptureReader::new(std::io::Cursor::new(std::fs::read(CORPUS).unwrap())).unwrap();
    let mut packets = Vec::new();
    while let Some(rec) = reader.next_record().unwrap() {
        packets.push(Captured {
            data: rec.data.to_vec(),
            wire_len: rec.orig_len,
        });
    }
    for (flags, ceilings) in [
        (&[][..], [("TCP", 298), ("UDP", 2), ("ICMP", 11), ("ARP", 1)]),
        (&["-q"][..], [("TCP", 2), ("UDP", 2), ("ICMP", 11), ("ARP", 1)]),
    ] {
        let out = Command::new("tcpdump")
            .args(["-#", "-n", "-r", CORPUS])
            .args(flags)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let ours = ours(&packets, flags);
        let mut differing = std::collections::BTreeMap::<&str, Vec<String>>::new();
        let mut compared = 0;
        for line in text.lines() {
            // `    N  HH:MM:SS.UUUUUU SUMMARY`
            let Some((number, rest)) = line.trim_start().split_once("  ") else {
                continue;
            };
            let (Ok(number), Some((_, theirs))) = (number.parse::<usize>(), rest.split_once(' ')) else {
                continue;
            };
            let Some(kind) = in_scope(theirs) else {
                continue;
            };
            compared += 1;
            let mine = &ours[number - 1];
            if theirs != mine && !(theirs.starts_with(mine.as_str()) && mine.contains("length")) {
                differing
                    .entry(kind)
                    .or_default()
                    .push(format!("tcpdump: {theirs}\n  netobs:  {mine}"));
            }
        }
        assert!(compared > 3000, "{flags:?}: only {compared} lines in scope");
        for (kind, ceiling) in ceilings {
            let lines = differing.get(kind).map_or(&[][..], |v| v.as_slice());
            assert!(
                lines.len() <= ceiling,
                "{flags:?} {kind}: {} lines differ (at most {ceiling}):\n  {}",
                lines.len(),
                lines.iter().take(10).cloned().collect::<Vec<_>>().join("\n  ")
            );
        }
    }
}
