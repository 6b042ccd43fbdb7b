//! netobs-core against the real kernel, in namespaces the tests build.

use std::time::Duration;

use netobs_core::genl::GENL_ID_CTRL;
use netobs_core::nlmsg::MsgBuf;
use netobs_core::rtnetlink::{self, stats_filter_bit, Link, OperState, IFLA_STATS_LINK_64, STATS_ALL_GROUPS};
use netobs_core::{Error, ErrorInfo, ErrorKind, NetlinkSocket, Netns, Protocol};
use netobs_testsupport::{connected_pair, privileged, TestNetns};

/// `left` here, `right` in a second namespace, pinged across the pair.
fn world() -> (TestNetns, TestNetns) {
    let (ns, peer) = connected_pair("left", "right", "10.88.0", 10);
    ns.ip(&["link", "add", "br9", "type", "bridge"]);
    (ns, peer)
}

/// The world and a route socket inside its first namespace.
fn world_socket() -> (TestNetns, TestNetns, NetlinkSocket) {
    let (ns, peer) = world();
    let sock = NetlinkSocket::open_in(Protocol::Route, &Netns::named(ns.name())).unwrap();
    (ns, peer, sock)
}

/// `ip -n NS -o link` names, the oracle for which links exist.
fn ip_names(ns: &TestNetns) -> Vec<String> {
    ns.ip(&["-o", "link"])
        .lines()
        .filter_map(|l| {
            l.split(": ")
                .nth(1)
                .map(|n| n.split('@').next().unwrap_or(n).to_string())
        })
        .collect()
}

#[test]
fn dump_in_namespace_sees_its_links_only() {
    if !privileged("dump_in_namespace_sees_its_links_only") {
        return;
    }
    let (ns, _peer, mut sock) = world_socket();
    let links = sock.links().unwrap();
    let names: Vec<String> = links.iter().map(|l| l.name.clone()).collect();
    assert_eq!(names, ip_names(&ns));
    let left = links.iter().find(|l| l.name == "left").unwrap();
    assert!(left.link_netnsid.is_some(), "peer lives in another namespace");
    assert_eq!(left.kind.as_deref(), Some("veth"));
    assert_eq!(left.operstate, Some(OperState::Up));
    assert_eq!(left.mtu, Some(1500));
    let s = left.stats64.unwrap();
    assert!(s.tx_packets >= 10 && s.rx_packets >= 10, "{s:?}");
    assert!(
        s.rx_nohandler.is_some() && s.rx_otherhost_dropped.is_some(),
        "6.x sends the full struct"
    );
    // The caller's thread did not move: its own namespace has no "left".
    let mut here = NetlinkSocket::open(Protocol::Route).unwrap();
    assert!(matches!(here.link_by_name("left"), Err(Error::NoSuchInterface(_))));
    // By path and by fd too.
    let by_path = NetlinkSocket::open_in(Protocol::Route, &Netns::path(ns.path()))
        .unwrap()
        .links()
        .unwrap();
    assert_eq!(by_path.len(), links.len());
    let fd = Netns::named(ns.name()).open().unwrap().unwrap();
    let by_fd = NetlinkSocket::open_in(Protocol::Route, &Netns::Fd(fd))
        .unwrap()
        .links()
        .unwrap();
    assert_eq!(by_fd.len(), links.len());
}

#[test]
fn get_by_name_and_index() {
    if !privileged("get_by_name_and_index") {
        return;
    }
    let (_ns, _peer, mut sock) = world_socket();
    let idx = sock.link_by_name("left").unwrap().index();
    let l = sock.link_by_index(idx).unwrap();
    assert_eq!(l.name(), Some("left"));
    match sock.link_by_name("eth9") {
        Err(e @ Error::NoSuchInterface(_)) => assert_eq!(e.to_string(), "interface \"eth9\" not found"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(sock.link_by_index(999_999), Err(Error::NoSuchInterface(_))));
}

#[test]
fn getstats_agrees_with_getlink() {
    if !privileged("getstats_agrees_with_getlink") {
        return;
    }
    let (_ns, _peer, mut sock) = world_socket();
    let links = sock.links().unwrap();
    let mut seen = 0;
    sock.for_each_link_stats(STATS_ALL_GROUPS, |m| {
        let l = links
            .iter()
            .find(|l| l.index == m.ifindex())
            .expect("stats for a known link");
        assert_eq!(m.stats64(), l.stats64, "{}", l.name);
        seen += 1;
    })
    .unwrap();
    assert_eq!(seen, links.len());
    let idx = links.iter().find(|l| l.name == "left").unwrap().index;
    let one = sock.link_stats(idx, stats_filter_bit(IFLA_STATS_LINK_64)).unwrap();
    assert_eq!(one.ifindex(), idx);
    assert!(one.stats64().unwrap().rx_packets >= 10);
    assert!(one.offload_cpu_hit().is_none(), "veth has no offload stats");
}

#[test]
fn extended_ack_text_reaches_the_error() {
    if !privileged("extended_ack_text_reaches_the_error") {
        return;
    }
    // With NETLINK_GET_STRICT_CHK, a link dump whose ifinfomsg carries an
    // index is refused with an extended-ack message (rtnl_valid_dump_ifinfo_req).
    let mut sock = NetlinkSocket::open(Protocol::Route).unwrap();
    let mut req = MsgBuf::new();
    let hdr = rtnetlink::IfInfoMsg {
        index: 1,
        ..Default::default()
    };
    req.begin(rtnetlink::RTM_GETLINK, 0).push(&hdr.to_bytes());
    let err = sock.dump(&mut req).unwrap().next().unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("Filter by device index not supported for link dumps"),
        "{text}"
    );
    // The socket stays usable after the error.
    assert!(!sock.links().unwrap().is_empty());
}

#[test]
fn generic_netlink_family_lookup() {
    let mut sock = NetlinkSocket::open(Protocol::Generic).unwrap();
    let ctrl = sock.genl_family("nlctrl").unwrap().clone();
    assert_eq!(ctrl.id, GENL_ID_CTRL);
    assert!(ctrl.mcast_group("notify").is_some(), "{ctrl:?}");
    let ethtool = sock.genl_family("ethtool").unwrap().clone();
    assert!(ethtool.id > GENL_ID_CTRL);
    assert!(ethtool.mcast_group("monitor").is_some(), "{ethtool:?}");
    // Cached: the second lookup gives the same answer without asking.
    assert_eq!(sock.genl_family("ethtool").unwrap(), &ethtool);
    match sock.genl_family("no_such_family") {
        Err(e @ Error::NoSuchFamily(_)) => assert!(e.to_string().contains("no_such_family")),
        other => panic!("{other:?}"),
    }
    let mut route = NetlinkSocket::open(Protocol::Route).unwrap();
    assert!(matches!(route.genl_family("ethtool"), Err(Error::Protocol(_))));
}

#[test]
fn sock_diag_socket_opens() {
    let sock = NetlinkSocket::open(Protocol::SockDiag).unwrap();
    assert!(sock.port() != 0);
}

#[test]
fn missing_namespace_is_a_clear_error() {
    match NetlinkSocket::open_in(Protocol::Route, &Netns::named("nbt-does-not-exist")) {
        Err(e @ Error::Netns { .. }) => {
            assert_eq!(
                e.to_string(),
                "cannot open network namespace \"/run/netns/nbt-does-not-exist\": No such file or directory"
            );
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert_eq!(ErrorInfo::errno(&e), Some(libc::ENOENT));
            assert_eq!(e.subject().as_deref(), Some("/run/netns/nbt-does-not-exist"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn link_netnsid_and_names() {
    if !privileged("link_netnsid_and_names") {
        return;
    }
    let a = TestNetns::new();
    let b = TestNetns::new();
    a.ip(&[
        "link",
        "add",
        "x0",
        "type",
        "veth",
        "peer",
        "name",
        "x1",
        "netns",
        b.name(),
    ]);
    let mut sock = NetlinkSocket::open_in(Protocol::Route, &Netns::named(a.name())).unwrap();
    let id = sock
        .link_by_name("x0")
        .unwrap()
        .link_netnsid()
        .expect("peer in another namespace");
    let names = sock.netns_names_by_id();
    assert!(names.iter().any(|(i, n)| *i == id && n == b.name()), "{names:?}");
}

/// Records the fixture under tests/data (run by hand: `cargo test -p
/// netobs-core --test kernel record_fixture -- --ignored`).
#[test]
#[ignore]
fn record_fixture() {
    let ns = TestNetns::new();
    ns.veth("va", "vb", Some("10.99.0.1/24"), None);
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "set", "vb", "master", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    ns.ip(&["link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789"]);
    ns.ip(&["link", "set", "dev", "va", "alias", "fixture alias"]);
    ns.ip(&["link", "property", "add", "dev", "va", "altname", "fixture-altname"]);
    ns.ping("10.99.0.1", 3);
    let mut sock = NetlinkSocket::open_in(Protocol::Route, &Netns::named(ns.name())).unwrap();
    let mut req = rtnetlink::link_dump_request();
    let mut dump = sock.dump(&mut req).unwrap();
    let mut out = Vec::new();
    while let Some(m) = dump.next().unwrap() {
        assert!(Link::parse(&m).is_ok());
        out.extend_from_slice(m.bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::write(dir.join("links.bin"), &out).unwrap();
    std::fs::write(dir.join("links.ip-s-s.txt"), ns.ip(&["-s", "-s", "link"])).unwrap();
}

/// Qdisc counters against `tc -s -j qdisc show` in the same namespace: a
/// token bucket at 8 kbit/s in front of a veth, flooded with pings, drops
/// and counts overlimits; every qdisc's counters must equal tc's.
#[test]
fn qdisc_counters_match_tc() {
    if !privileged("qdisc_counters_match_tc") {
        return;
    }
    let a = TestNetns::new();
    let b = TestNetns::new();
    // No IPv6 chatter (DAD, router solicitations) through the qdiscs
    // between the two reads.
    a.quiet_ipv6();
    b.quiet_ipv6();
    a.veth_to("qa", &b, "qb", Some("10.79.0.1/24"), Some("10.79.0.2/24"));
    let tc = |args: &[&str]| {
        let out = a.exec("tc", args);
        assert!(
            out.status.success(),
            "tc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tc(&[
        "qdisc", "replace", "dev", "qa", "root", "tbf", "rate", "8kbit", "burst", "1600", "limit", "3000",
    ]);
    let _ = a.exec(
        "ping",
        &["-c", "40", "-i", "0.005", "-s", "1000", "-w", "3", "10.79.0.2"],
    );
    // Let the bucket drain its queue so nothing moves between the reads.
    for _ in 0..50 {
        let now: Vec<serde_json::Value> = serde_json::from_str(&tc(&["-s", "-j", "qdisc", "show"])).unwrap();
        if now.iter().all(|q| q["qlen"] == 0 && q["backlog"] == 0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut sock = NetlinkSocket::open_in(Protocol::Route, &Netns::named(a.name())).unwrap();
    // A frame that still passes (an ARP refresh) between the reads moves
    // the counters: take tc's read between two equal reads of ours.
    let (mut ours, mut theirs) = (Vec::new(), String::new());
    for _ in 0..10 {
        ours = sock.qdiscs().unwrap();
        theirs = tc(&["-s", "-j", "qdisc", "show"]);
        if sock.qdiscs().unwrap() == ours {
            break;
        }
    }
    let names: std::collections::HashMap<u32, String> =
        sock.links().unwrap().into_iter().map(|l| (l.index, l.name)).collect();
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&theirs).unwrap();
    assert_eq!(ours.len(), parsed.len(), "{theirs}");
    let mut tbf_drops = 0;
    for q in &ours {
        let dev = &names[&q.ifindex];
        let t = parsed
            .iter()
            .find(|t| t["dev"] == dev.as_str() && t["handle"] == q.handle_text().as_str())
            .unwrap_or_else(|| panic!("{dev} {} not in tc's {theirs}", q.handle_text()));
        assert_eq!(t["kind"], q.kind.as_str());
        let s = q.stats.expect("TCA_STATS2");
        for (name, value) in [
            ("bytes", s.bytes),
            ("packets", s.packets),
            ("drops", u64::from(s.drops)),
            ("overlimits", u64::from(s.overlimits)),
            ("requeues", u64::from(s.requeues)),
            ("backlog", u64::from(s.backlog)),
            ("qlen", u64::from(s.qlen)),
        ] {
            assert_eq!(t[name].as_u64(), Some(value), "{dev} {} {name}: {theirs}", q.kind);
        }
        if q.kind == "tbf" {
            tbf_drops = s.drops;
        }
    }
    assert!(tbf_drops > 0, "the bucket dropped nothing: {theirs}");
}
