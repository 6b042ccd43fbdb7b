//! A recorded inet_diag dump from this kernel (tests/data/inet_tcp.bin, taken
//! by `record_fixture`, with INFO, VEGASINFO, CONG and memory extensions):
//! decoding without root, and bounded mutation tests
//! of every view and of the filter parser.

use netobs_core::nlmsg::NlMsgs;
use netobs_sockdiag::{decode_all, filter, InetSock, TcpState};
use proptest::prelude::*;

const DUMP: &[u8] = include_bytes!("data/inet_tcp.bin");

#[test]
fn decodes_the_recorded_dump() {
    let socks: Vec<InetSock<'_>> = NlMsgs::new(DUMP)
        .map(|m| InetSock::parse(&m.unwrap()).unwrap())
        .collect();
    assert_eq!(decode_all(DUMP), socks.len());
    let listen = socks.iter().filter(|s| s.state() == Some(TcpState::Listen)).count();
    let estab: Vec<_> = socks
        .iter()
        .filter(|s| s.state() == Some(TcpState::Established))
        .collect();
    assert_eq!(listen, 1);
    assert_eq!(estab.len(), 4);
    for s in &estab {
        let i = s.tcp_info().unwrap();
        // This 6.18 kernel sends the AccECN fields (280 bytes).
        assert!(i.bytes().len() >= 248, "{}", i.bytes().len());
        assert!(i.rtt().unwrap() > 0);
        assert!(i.total_rto().is_some());
        // This machine runs bbr: its info comes as INET_DIAG_BBRINFO.
        assert_eq!(s.congestion(), Some("bbr"));
        assert!(s.bbr().is_some());
        assert!(s.skmeminfo().unwrap().drops.is_some());
    }
    // The client that sent 1000 bytes still sees them in flight or acked.
    assert!(estab
        .iter()
        .any(|s| s.tcp_info().unwrap().bytes_acked().unwrap() >= 1000));
}

/// A shorter struct from an older kernel reads as `None` past its end.
#[test]
fn short_tcp_info_gives_none() {
    let s = NlMsgs::new(DUMP)
        .map(|m| m.unwrap())
        .find(|m| InetSock::parse(m).unwrap().state() == Some(TcpState::Established))
        .unwrap();
    let sock = InetSock::parse(&s).unwrap();
    let full = sock.tcp_info().unwrap();
    let old = netobs_sockdiag::TcpInfo::new(&full.bytes()[..104]);
    assert_eq!(old.total_retrans(), full.total_retrans());
    assert_eq!(old.pacing_rate(), None);
    assert_eq!(old.snd_wnd(), None);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_dumps_never_panic(flips in prop::collection::vec((0..DUMP.len(), any::<u8>()), 1..16), cut in 0..DUMP.len()) {
        let mut b = DUMP.to_vec();
        for (at, v) in flips {
            b[at] = v;
        }
        let _ = decode_all(&b);
        let _ = decode_all(&b[..cut]);
    }

    #[test]
    fn filter_parser_never_panics(words in prop::collection::vec(prop::sample::select(vec![
        "src", "dst", "sport", "dport", "dev", "fwmark", "cgroup", "autobound", "and", "or", "not", "!",
        "(", ")", "=", "!=", ">", "<", ">=", "<=", ":22", ":ssh", "10.0.0.0/8", "[::1]", "[::1", "*:80",
        "1.2.3.4:", "0x10/0xff", "::", "/", "7", "-1", "99999", "\\(", "a)", "((", "))",
    ]), 0..12)) {
        let text = words.join(" ");
        if let Ok(Some(e)) = filter::parse(&text) {
            let bc = netobs_sockdiag::bytecode::compile(&e);
            prop_assert!(netobs_sockdiag::bytecode::audit(&bc, true).is_ok(), "{} compiled to a program the audit refuses", text);
        }
    }

    #[test]
    fn arbitrary_bytecode_never_panics(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = netobs_sockdiag::bytecode::audit(&b, true);
        let k = filter::SockKey {
            src: "127.0.0.1".parse().unwrap(), dst: "::1".parse().unwrap(),
            sport: 1, dport: 2, ifindex: 0, mark: 0, cgroup: 0, autobound: false,
        };
        let _ = netobs_sockdiag::bytecode::run(&b, &k);
    }
}

/// Re-records tests/data/inet_tcp.bin: one listener and two connections
/// in a fresh namespace, dumped with INFO, CONG, SKMEMINFO and MEMINFO.
#[test]
#[ignore = "rewrites the fixture; run by hand as root"]
fn record_fixture() {
    use netobs_core::Netns;
    use netobs_sockdiag::{Extensions, Family, InetRequest, Proto, States};
    use std::io::Write;
    let ns = netobs_testsupport::TestNetns::new();
    let netns = Netns::named(ns.name());
    let _keep = netns
        .run(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:7000").unwrap();
            let mut c1 = std::net::TcpStream::connect("127.0.0.1:7000").unwrap();
            let a1 = l.accept().unwrap();
            let c2 = std::net::TcpStream::connect("127.0.0.1:7000").unwrap();
            let a2 = l.accept().unwrap();
            c1.write_all(&[7u8; 1000]).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
            (l, c1, a1, c2, a2)
        })
        .unwrap();
    let mut sock = netobs_core::NetlinkSocket::open_in(netobs_core::Protocol::SockDiag, &netns).unwrap();
    let mut req = InetRequest::new(Family::Inet, Proto::Tcp, States::ALL);
    req.ext = Extensions::INFO | Extensions::VEGASINFO | Extensions::CONG | Extensions::SKMEMINFO | Extensions::MEMINFO;
    let mut buf = netobs_core::MsgBuf::new();
    req.write(&mut buf);
    let mut out = Vec::new();
    let mut dump = sock.dump(&mut buf).unwrap();
    while let Some(m) = dump.next().unwrap() {
        out.extend_from_slice(m.bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inet_tcp.bin"), out).unwrap();
}
