//! A recorded inet_diag dump from this kernel (tests/data/inet_tcp.bin, taken
//! by `record_fixture`, with INFO, VEGASINFO, CONG and memory extensions):
//! decoding without root, and bounded mutation tests
//! of every view and of the filter parser.

use netobs_core::nlmsg::NlMsgs;
use netobs_sockdiag::{decode_all, filter, InetSock, TcpState};
use proptest::prelude::*;

const DUMP: &[u8] = include_bytes!("data/inet_tcp.bin");

mod common {
    pub mod ss_world;
}
use common::ss_world;

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

/// One record per socket of every family, read back from what it was
/// parsed from, with ss's names and the keys its filter reads.
#[test]
fn records_of_every_family() {
    use netobs_sockdiag::query::{Endpoint, SocketRecord};
    let world = ss_world::answers();
    let records: Vec<SocketRecord<'_>> = world
        .iter()
        .map(|(origin, payload)| {
            let r = SocketRecord::parse(*origin, payload).unwrap();
            assert_eq!(r.origin(), *origin);
            assert_eq!(r.payload(), &payload[..]);
            r
        })
        .collect();
    let netids: std::collections::BTreeSet<&str> = records.iter().map(|r| r.netid).collect();
    for n in [
        "nl", "p_raw", "p_dgr", "u_str", "u_dgr", "u_seq", "tcp", "udp", "raw", "mptcp",
    ] {
        assert!(netids.contains(n), "{n} missing from {netids:?}");
    }
    // Abstract names as ss prints them, also to its filter.
    let names: Vec<String> = records
        .iter()
        .filter_map(|r| match r.local {
            Endpoint::Unix { name: Some(n), .. } => Some(n.to_string()),
            _ => None,
        })
        .collect();
    assert!(names.iter().any(|n| n == "@netobs@inner@"), "{names:?}");
    let inner = filter::parse("src unix:@netobs@*").unwrap().unwrap();
    let matching: Vec<_> = records.iter().filter(|r| inner.matches(&r.filter_key())).collect();
    assert_eq!(matching.len(), 1);
    // The packet socket bound to lo (index 1) is its own "port" and interface.
    let lo = filter::parse("dev 1 and sport = :1").unwrap().unwrap();
    assert!(records
        .iter()
        .any(|r| r.netid == "p_dgr" && lo.matches(&r.filter_key())));
    // Packet and netlink sockets are UNCONN.
    assert!(records
        .iter()
        .filter(|r| matches!(r.netid, "nl" | "p_raw" | "p_dgr"))
        .all(|r| r.state_name() == "UNCONN"));
}

/// ss's netids for types it does not know (misc/ss.c `unix_netid_name`,
/// `packet_show_sock`): a unix socket is `u_dgr`, a packet socket `p_dgr`.
#[test]
fn unknown_socket_types_get_ss_netids() {
    use netobs_sockdiag::query::{packet_netid, unix_netid, Origin, SocketRecord};
    assert_eq!(unix_netid(libc::SOCK_STREAM as u8), "u_str");
    assert_eq!(unix_netid(libc::SOCK_SEQPACKET as u8), "u_seq");
    assert_eq!(unix_netid(libc::SOCK_DGRAM as u8), "u_dgr");
    assert_eq!(unix_netid(9), "u_dgr");
    assert_eq!(packet_netid(libc::SOCK_RAW as u8), "p_raw");
    assert_eq!(packet_netid(9), "p_dgr");
    // A unix_diag_msg of type 9, state 7, inode 42, no attributes.
    let mut msg = [0u8; 16];
    msg[0] = libc::AF_UNIX as u8;
    (msg[1], msg[2]) = (9, 7);
    msg[4..8].copy_from_slice(&42u32.to_ne_bytes());
    let r = SocketRecord::parse(Origin::Unix, &msg).unwrap();
    assert_eq!((r.netid, r.state_name(), r.inode), ("u_dgr", "UNCONN", 42));
}
