//! The pcap-filter compiler against libpcap: for every expression of the
//! shared corpus (and our own), our program and `tcpdump -y EN10MB -ddd`'s,
//! both run by our interpreter, return the same verdict for every packet
//! of the corpus plus our own VLAN-tagged, truncated and IPv6-fragment
//! frames. Expressions we refuse are listed and counted, not hidden.

use std::io::Cursor;
use std::process::Command;

use netobs_capture::bpf::{self, Metadata, Program};
use netobs_capture::file::{linktype, CaptureReader};
use netobs_capture::filter::{compile, compile_with, CodeMode};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");
const FILTERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/filters-ethernet.txt");

/// Our own expressions: carry-over, precedence, arithmetic, VLAN offsets.
const OURS: &[&str] = &[
    "port 80 or 443",
    "tcp port 80 or 443 or 8080",
    "host 10.0.0.1 or 10.0.0.2",
    "not port 22 and not 53",
    "tcp and port 80 or udp",
    "not tcp or udp and host 192.168.1.1",
    "!(ip or arp) && !ip6",
    "src net 10.0.0.0/8 and dst port 53",
    "net 192.168 or net 172.16.0.0 mask 255.240.0.0",
    "src or dst host 192.168.1.1",
    "src and dst net 10",
    "ip6 net 2001:db8::/32 or ip6 host fe80::1",
    "vlan and ip",
    "vlan 100 and udp port 53",
    "vlan or ip",
    "vlan and vlan and tcp",
    "ether src 00:11:22:33:44:55 or ether dst ff:ff:ff:ff:ff:ff",
    "ether broadcast or ether multicast",
    "broadcast or multicast",
    "ip multicast or ip6 multicast",
    "len > 100 and len <= 1500",
    "less 64 or greater 1000",
    "ip[0] & 0xf > 5",
    "ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] == tcp-syn",
    "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
    "icmp6[icmp6type] == icmp6-neighborsolicit",
    "udp[ip[0] & 0xf] > 0",
    "ip[ip[0] & 0x3] = 0x45",
    "tcp[tcp[12] >> 4] = 1",
    "ether[12:2] = 0x800 ^ 0",
    "0 - ip[8] < 0 - 32",
    "ip[6] * 3 / 2 % 7 = 1",
    "ip proto \\udp or ip6 proto 58",
    "ether proto \\arp or ether proto 0x86dd",
    "portrange 1-1023 and not tcp",
    "udp dst portrange 33434-33534",
    "sctp or icmp6 or igmp",
    "ip and ip6",
    "arp or rarp",
    "proto 17",
    "mpls and ip",
    "mpls 100 and mpls 200 and ip6",
    "mpls and tcp port 80",
    "mpls and mpls and mpls",
    "pppoes 3 and ip",
    "pppoes and tcp port 80 or udp",
    "pppoes and ip6 and icmp6",
    "pppoed or pppoes 0x1234",
    "mpls 100 and mpls 200 and udp",
    "mpls 100 and mpls 201",
    "pppoes 0x1234 and tcp port 80",
];

fn libpcap(expr: &str, link: &str) -> Option<Program> {
    let out = Command::new("tcpdump")
        .args(["-y", link, "-ddd", expr])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| bpf::parse_decimal(&String::from_utf8_lossy(&out.stdout)).unwrap())
}

fn libpcap_error(expr: &str) -> String {
    let out = Command::new("tcpdump")
        .args(["-y", "EN10MB", "-ddd", expr])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The corpus frames plus our own: tagged, double-tagged, truncated,
/// IPv6 fragments.
fn packets() -> Vec<(Vec<u8>, u32)> {
    let mut r = CaptureReader::new(Cursor::new(std::fs::read(CORPUS).unwrap())).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        v.push((rec.data.to_vec(), rec.orig_len));
    }
    let n = v.len();
    let mut extra = Vec::new();
    // Tag every 20th IPv4/IPv6 frame with VLAN 100 (and some twice).
    for (i, (f, len)) in v.iter().enumerate().step_by(20) {
        if f.len() < 14 {
            continue;
        }
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0x00, 0x00, 100]);
        if i % 40 == 0 {
            t.extend_from_slice(&[0x81, 0x00, 0x00, 7]);
        }
        t.extend_from_slice(&f[12..]);
        let grow = t.len() - f.len();
        extra.push((t, len + grow as u32));
    }
    // Truncate every 7th frame at a header boundary.
    for (i, (f, len)) in v.iter().enumerate().step_by(7) {
        let cut = [14, 20, 34, 38, 54, 60][i % 6].min(f.len());
        extra.push((f[..cut].to_vec(), *len));
    }
    // IPv6 fragments: first (offset 0) and later fragments of UDP port 53.
    for offset in [0u16, 1] {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd];
        f.extend_from_slice(&[0x60, 0, 0, 0, 0, 24, 44, 64]);
        f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[17, 0, (offset >> 5) as u8, ((offset << 3) as u8) | 1, 0, 0, 0, 9]);
        f.extend_from_slice(&[0x13, 0x88, 0x00, 0x35, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let l = f.len() as u32;
        extra.push((f, l));
    }
    // MPLS (two labels, then IPv4 or IPv6) and PPPoE session frames built
    // from corpus IP packets.
    for (f, len) in v
        .iter()
        .filter(|(f, _)| f.len() > 14 && (f[12..14] == [8, 0] || f[12..14] == [0x86, 0xdd]))
        .take(200)
    {
        let mut m = f[..12].to_vec();
        m.extend_from_slice(&[0x88, 0x47, 0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40]);
        m.extend_from_slice(&f[14..]);
        extra.push((m, len + 8));
        let mut p = f[..12].to_vec();
        let ppp = if f[12] == 8 { [0x00, 0x21] } else { [0x00, 0x57] };
        p.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 0x00, ppp[0], ppp[1]]);
        p.extend_from_slice(&f[14..]);
        extra.push((p, len + 8));
    }
    v.extend(extra);
    assert!(v.len() > n);
    v
}

#[test]
fn same_verdicts_as_libpcap_on_ethernet() {
    let packets = packets();
    let corpus = std::fs::read_to_string(FILTERS).unwrap();
    let exprs: Vec<&str> = corpus
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .chain(OURS.iter().copied())
        .collect();
    let mut compared = 0;
    let mut identical = 0;
    let mut unsupported = Vec::new();
    let mut both_refuse = 0;
    let mut failures = Vec::new();
    for expr in &exprs {
        let theirs = libpcap(expr, "EN10MB");
        let ours = compile(expr, linktype::ETHERNET, 262144);
        match (ours, theirs) {
            (Ok(ours), Some(theirs)) => {
                compared += 1;
                identical += (ours.insns == theirs.insns) as usize;
                let meta = Metadata::default();
                let bad = packets
                    .iter()
                    .filter(|(p, len)| {
                        (bpf::run(&ours.insns, p, *len, &meta) != 0) != (bpf::run(&theirs.insns, p, *len, &meta) != 0)
                    })
                    .count();
                if bad > 0 {
                    failures.push(format!("{expr}: {bad} packets differ"));
                }
            }
            (Ok(ours), None) => {
                // libpcap refuses programs its optimizer proves reject
                // everything; ours must then reject every packet too.
                let accepted = packets
                    .iter()
                    .filter(|(p, len)| bpf::run(&ours.insns, p, *len, &Metadata::default()) != 0)
                    .count();
                if accepted > 0 || !libpcap_error(expr).contains("rejects all packets") {
                    failures.push(format!("{expr}: libpcap refuses it, we compile it"));
                }
            }
            (Err(e), Some(_)) => unsupported.push(format!("{expr}  --  {e}")),
            (Err(_), None) => both_refuse += 1,
        }
    }
    eprintln!(
        "{} expressions: {compared} compared, {} supported by libpcap but refused by us, {both_refuse} refused by both",
        exprs.len(),
        unsupported.len()
    );
    eprintln!("{identical} of the {compared} programs are libpcap's instruction for instruction");
    eprintln!("not supported yet ({}):", unsupported.len());
    for u in &unsupported {
        eprintln!("  {u}");
    }
    assert!(
        failures.is_empty(),
        "{} expressions differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 250, "only {compared} expressions compared");
    // The optimizing passes reproduce libpcap's optimizer on most of them.
    assert!(
        identical * 10 >= compared * 8,
        "only {identical} of {compared} identical"
    );
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases = [
        (
            "tcp port",
            "expected an address, number or name, found the end at column 9",
        ),
        ("host 10.0.0.1 and", "at column 18"),
        ("port 80 or or 443", "at column 12"),
        ("gateway foo", "'gateway' needs host name resolution"),
        ("host example.com", "netobs does not resolve host or network names"),
        ("protochain 6", "'protochain' is not supported"),
        ("ip broadcast", "needs the netmask"),
        ("tcp[13:3] = 1", "expected a size of 1, 2 or 4"),
        ("ip[0] / 0 = 1", "division by zero"),
        ("port 99999", "port 99999 is not 0..65535"),
        ("(tcp", "expected ')'"),
        ("tcp @", "unexpected character '@' at column 5"),
        ("vlan 5000", "VLAN id must be 0..4095"),
        ("net 10.0.0.1/8", "non-network bits set"),
    ];
    for (expr, want) in cases {
        let e = compile(expr, linktype::ETHERNET, 262144).expect_err(expr).to_string();
        assert!(e.contains(want), "{expr}: got \"{e}\", want \"{want}\"");
        assert!(e.starts_with("filter: "), "{e}");
    }
}

/// The same comparison on the other link types: the corpus frames
/// rewritten as Linux cooked (SLL, SLL2) and raw IP packets.
#[test]
fn same_verdicts_as_libpcap_on_sll_sll2_and_raw() {
    let eth = packets();
    let sll: Vec<(Vec<u8>, u32)> = eth
        .iter()
        .filter(|(f, _)| f.len() >= 14)
        .map(|(f, len)| {
            let mut s = vec![0, 0, 0, 1, 0, 6];
            s.extend_from_slice(&f[6..12]);
            s.extend_from_slice(&[0, 0]);
            s.extend_from_slice(&f[12..]);
            (s, len + 2)
        })
        .collect();
    let sll2: Vec<(Vec<u8>, u32)> = eth
        .iter()
        .filter(|(f, _)| f.len() >= 14)
        .map(|(f, len)| {
            let mut s = f[12..14].to_vec();
            s.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
            s.extend_from_slice(&f[6..12]);
            s.extend_from_slice(&[0, 0]);
            s.extend_from_slice(&f[14..]);
            (s, len + 6)
        })
        .collect();
    let raw: Vec<(Vec<u8>, u32)> = eth
        .iter()
        .filter(|(f, _)| f.len() > 14 && (f[12..14] == [8, 0] || f[12..14] == [0x86, 0xdd]))
        .map(|(f, len)| (f[14..].to_vec(), len - 14))
        .collect();
    let exprs = [
        "ip",
        "ip6",
        "arp",
        "tcp",
        "udp port 53",
        "port 80 or 443",
        "host 10.0.0.1",
        "net 192.168.0.0/16",
        "icmp or icmp6",
        "tcp[tcpflags] & tcp-syn != 0",
        "ip[8] < 64",
        "len > 100",
        "ip6 proto 17",
        "vlan",
        "ether proto 0x4321",
        "portrange 1-1024",
        "ip6 multicast",
        "src net 10 and not dst port 22",
    ];
    for (name, link, frames) in [
        ("LINUX_SLL", linktype::LINUX_SLL, &sll),
        ("LINUX_SLL2", linktype::LINUX_SLL2, &sll2),
        ("RAW", linktype::RAW, &raw),
    ] {
        for expr in exprs {
            let theirs = libpcap(expr, name);
            let ours = compile(expr, link, 262144);
            let meta = Metadata::default();
            let (Ok(ours), Some(theirs)) = (ours.as_ref(), theirs.as_ref()) else {
                if let Ok(ours) = ours.as_ref() {
                    // libpcap refuses what its optimizer proves rejects all.
                    let accepted = frames
                        .iter()
                        .filter(|(p, len)| bpf::run(&ours.insns, p, *len, &meta) != 0)
                        .count();
                    assert_eq!(accepted, 0, "{name} {expr}: libpcap refuses it, we accept {accepted}");
                } else {
                    assert!(
                        theirs.is_none(),
                        "{name} {expr}: we refuse what libpcap compiles: {ours:?}"
                    );
                }
                continue;
            };
            let bad = frames
                .iter()
                .filter(|(p, len)| {
                    (bpf::run(&ours.insns, p, *len, &meta) != 0) != (bpf::run(&theirs.insns, p, *len, &meta) != 0)
                })
                .count();
            assert_eq!(bad, 0, "{name} {expr}: {bad} packets differ");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 3000, ..Default::default() })]

    /// Random sequences of filter tokens never panic the compiler, and
    /// whatever compiles passes the kernel's checker.
    #[test]
    fn random_expressions_never_panic(words in proptest::collection::vec(proptest::sample::select(vec![
        "tcp", "udp", "ip", "ip6", "port", "80", "host", "10.0.0.1", "net", "/", "8", "src", "dst", "and", "or",
        "not", "(", ")", "[", "]", ":", "2", "4", "=", ">", "<=", "!=", "+", "-", "*", "%", "^", "&", "|", "<<",
        "len", "vlan", "ether", "proto", "portrange", "1-1024", "::1", "mask", "255.255", "icmp", "tcpflags",
        "tcp-syn", "less", "greater", "broadcast", "multicast", "0", "0xffffffff", "gateway", "x", "\\ip",
        "inbound", "outbound", "ifindex", "mpls", "pppoes", "vlan",
    ]), 0..14)) {
        let expr = words.join(" ");
        for link in [linktype::ETHERNET, linktype::LINUX_SLL, linktype::LINUX_SLL2, linktype::RAW] {
            for mode in [CodeMode::Offline, CodeMode::LinuxLive] {
                if let Ok(p) = compile_with(&expr, link, 65535, mode) {
                    proptest::prop_assert!(bpf::check(&p).is_ok(), "{}", expr);
                }
            }
        }
    }
}
