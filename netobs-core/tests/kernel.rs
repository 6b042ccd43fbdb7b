//! netobs-core against the real kernel, in namespaces the tests build.

use netobs_core::genl::GENL_ID_CTRL;
use netobs_core::nlmsg::MsgBuf;
use netobs_core::rtnetlink::{self, stats_filter_bit, Link, OperState, IFLA_STATS_LINK_64, STATS_ALL_GROUPS};
use netobs_core::{Error, NetlinkSocket, Netns, Protocol};
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
        Err(e @ Error::NoSuchNetns { .. }) => {
            assert!(e.to_string().contains("nbt-does-not-exist"), "{e}")
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
