//! The compiler's live Linux code mode against libpcap's: `tcpdump -i IF
//! -ddd EXPR` on a veth opens the device, so libpcap generates the code
//! of a live socket (ancillary loads for VLAN tags, packet type and
//! interface index). For every expression, our program and libpcap's,
//! both run by our interpreter with skb metadata as the kernel presents
//! it, return the same verdict for every packet of the corpus rewritten
//! into the shapes the kernel shows a socket filter: untagged, outer tag
//! stripped into the metadata, tag still in the bytes (sent frames),
//! stripped outer tag plus an inner tag in the bytes (QinQ), both tags in
//! the bytes, truncated; received and sent, on two interface indexes.
//! Expressions whose instructions are identical to libpcap's are listed.

use std::io::Cursor;

use netobs_capture::bpf::{self, Metadata, Program};
use netobs_capture::file::{linktype, CaptureReader};
use netobs_capture::filter::{compile, compile_with, CodeMode};
use netobs_testsupport::{privileged, TestNetns};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");

/// PACKET_HOST and PACKET_OUTGOING (include/uapi/linux/if_packet.h).
const PACKET_HOST: u8 = 0;
const PACKET_OUTGOING: u8 = 4;

/// Expressions whose live code is instruction-for-instruction libpcap's.
const IDENTICAL: &[&str] = &[
    "vlan",
    "vlan 10",
    "not vlan",
    "vlan 10 and ip",
    "vlan and vlan 20",
    "vlan 10 and len > 100",
    "inbound",
    "outbound",
    "ifindex 3",
    "vlan and ether proto 0x4321",
    "vlan and ip6",
    "inbound and vlan 10",
    "vlan 20",
    "vlan and ether host 00:11:22:33:44:55",
    "vlan and mpls and ip",
    "vlan and icmp6",
    "vlan and ip multicast",
    "vlan and ip6 multicast",
    "vlan and arp",
    "vlan and ip6 net 2001:db8::/32",
    "vlan and not vlan",
    "vlan and vlan and vlan",
    "vlan and icmp[icmptype] = icmp-echo",
    "inbound and not arp",
    "ifindex 4 or vlan",
    "vlan 10 and tcp port 80",
    "vlan and ip6 and udp port 53",
    "vlan and udp",
    "vlan 10 and vlan 20 and udp",
    "vlan and proto 17",
    "outbound and udp",
    "not inbound and tcp",
    "udp port 53 and vlan",
    "tcp port 80",
    "vlan and host 10.0.0.1",
    "vlan 100 and net 192.168.0.0/16",
    "vlan and tcp[tcpflags] & tcp-syn != 0",
    "vlan and ipx",
    "vlan and stp",
    "vlan and iso",
    "vlan and llc",
];

/// Expressions compared by verdict only: libpcap's optimizer merges
/// identical blocks (the ARP and RARP halves of `host`), folds constant
/// arithmetic, or lays some blocks out differently.
const BY_VERDICT: &[&str] = &[
    "vlan and ether[12:2] = 0x8100",
    "vlan or ip",
    "ip or vlan 10",
    "vlan and ip[0] & 0xf > 5",
    "vlan and udp[ip[0] & 0xf] > 0",
    "vlan and ip[ip[0] & 0x3] = 0",
    "vlan and tcp[tcp[12] >> 4] = 1",
    "vlan and pppoes and ip",
    "vlan and portrange 1-1023",
    "vlan 10 and (tcp or udp) and not port 22",
    "not vlan and tcp",
];

/// A one-namespace veth whose name `tcpdump -i` can open.
fn world() -> TestNetns {
    let ns = TestNetns::new();
    ns.veth("lva", "lvb", None, None);
    ns
}

fn libpcap_live(ns: &TestNetns, expr: &str) -> Program {
    let out = ns.exec("tcpdump", &["-i", "lva", "-ddd", expr]);
    assert!(out.status.success(), "{expr}: {}", String::from_utf8_lossy(&out.stderr));
    bpf::parse_decimal(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

/// `tag` (TPID, TCI) inserted after the MAC addresses.
fn insert_tag(frame: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
    let mut t = frame[..12].to_vec();
    t.extend_from_slice(&tpid.to_be_bytes());
    t.extend_from_slice(&tci.to_be_bytes());
    t.extend_from_slice(&frame[12..]);
    t
}

/// The corpus frames in every shape a live socket filter sees, each with
/// its metadata and wire length.
fn kernel_views() -> Vec<(Vec<u8>, u32, Metadata)> {
    let mut r = CaptureReader::new(Cursor::new(std::fs::read(CORPUS).unwrap())).unwrap();
    let mut frames = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        frames.push((rec.data.to_vec(), rec.orig_len));
    }
    // Shapes the corpus has few of, built from its IP frames: MPLS and
    // PPPoE sessions, an unknown EtherType, IPv6 UDP to port 53.
    let mut extra = Vec::new();
    for (f, len) in frames
        .iter()
        .filter(|(f, _)| f.len() > 14 && (f[12..14] == [8, 0] || f[12..14] == [0x86, 0xdd]))
        .take(100)
    {
        let mut m = f[..12].to_vec();
        m.extend_from_slice(&[0x88, 0x47, 0x00, 0x06, 0x41, 0x40]);
        m.extend_from_slice(&f[14..]);
        extra.push((m, len + 4));
        let mut p = f[..12].to_vec();
        let ppp = if f[12] == 8 { [0x00, 0x21] } else { [0x00, 0x57] };
        p.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 0x00, ppp[0], ppp[1]]);
        p.extend_from_slice(&f[14..]);
        extra.push((p, len + 8));
    }
    let mut odd = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x43, 0x21];
    odd.extend_from_slice(&[0x5a; 46]);
    extra.push((odd.clone(), odd.len() as u32));
    let mut v6 = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd];
    v6.extend_from_slice(&[0x60, 0, 0, 0, 0, 16, 17, 64]);
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v6.extend_from_slice(&[0x13, 0x88, 0x00, 0x35, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    extra.push((v6.clone(), v6.len() as u32));
    // Every extra frame four times, so that each gets every tag shape.
    for e in extra {
        frames.extend(std::iter::repeat_n(e, 4));
    }
    let mut out = Vec::new();
    for (n, (f, len)) in frames.iter().enumerate() {
        let meta = |pkttype: u8, tci: Option<u16>| Metadata {
            pkttype,
            ifindex: 3 + (n % 2) as u32,
            vlan_tci: tci,
            vlan_tpid: if tci.is_some() { 0x8100 } else { 0 },
            ..Metadata::default()
        };
        let dir = if n % 3 == 0 { PACKET_OUTGOING } else { PACKET_HOST };
        out.push((f.clone(), *len, meta(dir, None)));
        if f.len() < 14 || n % 4 != 0 {
            continue;
        }
        // Received, tag stripped into the metadata (priority bits set on
        // some: the VLAN id is the low 12 bits).
        let tci = [10u16, 20, 0xa000 | 10, 100][n / 4 % 4];
        out.push((f.clone(), *len, meta(PACKET_HOST, Some(tci))));
        // Sent: the tag is still in the bytes.
        out.push((insert_tag(f, 0x8100, tci), len + 4, meta(PACKET_OUTGOING, None)));
        // QinQ received: outer tag in the metadata, inner in the bytes.
        out.push((insert_tag(f, 0x8100, 20), len + 4, meta(PACKET_HOST, Some(10))));
        // QinQ sent: both tags in the bytes.
        let inner = insert_tag(f, 0x8100, 20);
        out.push((insert_tag(&inner, 0x88a8, 10), len + 8, meta(PACKET_OUTGOING, None)));
        // Truncated just after the tag or inside the IPv4 header.
        let t = insert_tag(f, 0x8100, tci);
        for cut in [16, 20, 30] {
            out.push((t[..cut.min(t.len())].to_vec(), len + 4, meta(PACKET_OUTGOING, None)));
        }
    }
    out
}

fn differing(ours: &Program, theirs: &Program, views: &[(Vec<u8>, u32, Metadata)]) -> usize {
    views
        .iter()
        .filter(|(p, len, meta)| {
            (bpf::run(&ours.insns, p, *len, meta) != 0) != (bpf::run(&theirs.insns, p, *len, meta) != 0)
        })
        .count()
}

#[test]
fn live_code_gives_libpcaps_verdicts_and_often_its_instructions() {
    if !privileged("live_code_gives_libpcaps_verdicts_and_often_its_instructions") {
        return;
    }
    let ns = world();
    let views = kernel_views();
    let mut failures = Vec::new();
    let mut identical = Vec::new();
    for expr in IDENTICAL.iter().chain(BY_VERDICT) {
        let theirs = libpcap_live(&ns, expr);
        let ours = compile_with(expr, linktype::ETHERNET, 262144, CodeMode::LinuxLive).unwrap();
        bpf::check(&ours).unwrap();
        let bad = differing(&ours, &theirs, &views);
        if bad > 0 {
            failures.push(format!("{expr}: {bad} of {} packets differ", views.len()));
        }
        let accepted = views
            .iter()
            .filter(|(p, len, m)| bpf::run(&ours.insns, p, *len, m) != 0)
            .count();
        // (`not vlan and tcp` looks for tcp 4 bytes in on untagged frames:
        // libpcap's offsets move at `vlan` whatever its outcome.)
        if accepted == 0 && !["vlan and not vlan", "not vlan and tcp"].contains(expr) {
            failures.push(format!("{expr}: accepts no packet, the comparison proves little"));
        }
        if ours.insns == theirs.insns {
            identical.push(*expr);
        } else if IDENTICAL.contains(expr) {
            failures.push(format!(
                "{expr}: instructions differ\nours:\n{}libpcap:\n{}",
                bpf::format_image(&ours),
                bpf::format_image(&theirs)
            ));
        }
    }
    eprintln!(
        "{} expressions, {} identical to libpcap's instructions: {identical:?}",
        IDENTICAL.len() + BY_VERDICT.len(),
        identical.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `inbound`, `outbound` and `ifindex` need metadata a file does not
/// have: offline code refuses them on Ethernet and raw IP (libpcap does
/// when reading savefiles) and reads the cooked header on SLL/SLL2.
#[test]
fn direction_and_ifindex_offline() {
    for expr in ["inbound", "outbound and udp", "ifindex 3"] {
        for link in [linktype::ETHERNET, linktype::RAW] {
            let e = compile(expr, link, 262144).expect_err(expr).to_string();
            assert!(e.contains("needs the kernel's packet metadata"), "{e}");
            assert!(e.contains("at column 1"), "{e}");
        }
    }
    let e = compile("tcp and ifindex x", linktype::LINUX_SLL2, 262144).unwrap_err();
    assert!(e.to_string().contains("expected an interface index"), "{e}");
    // Offline cooked headers: what `tcpdump -y LINUX_SLL{,2} -ddd` gives.
    for (expr, link, name) in [
        ("inbound", linktype::LINUX_SLL, "LINUX_SLL"),
        ("outbound", linktype::LINUX_SLL, "LINUX_SLL"),
        ("inbound", linktype::LINUX_SLL2, "LINUX_SLL2"),
        ("ifindex 7", linktype::LINUX_SLL2, "LINUX_SLL2"),
    ] {
        let out = std::process::Command::new("tcpdump")
            .args(["-y", name, "-ddd", expr])
            .output()
            .unwrap();
        let theirs = bpf::parse_decimal(&String::from_utf8_lossy(&out.stdout)).unwrap();
        let ours = compile(expr, link, 262144).unwrap();
        assert_eq!(ours.insns, theirs.insns, "{name} {expr}");
    }
}

/// Offline code is unchanged by the mode switch: no ancillary load in it.
#[test]
fn offline_vlan_code_reads_only_packet_bytes() {
    for expr in ["vlan", "vlan 10 and ip", "vlan and vlan 20 and tcp port 80"] {
        let p = compile(expr, linktype::ETHERNET, 262144).unwrap();
        assert!(
            p.insns.iter().all(|i| i.k < bpf::skf::AD_OFF),
            "{expr}: {}",
            bpf::format_image(&p)
        );
        let live = compile_with(expr, linktype::ETHERNET, 262144, CodeMode::LinuxLive).unwrap();
        assert_ne!(p.insns, live.insns, "{expr}");
    }
}
