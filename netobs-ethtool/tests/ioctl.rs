//! The ioctl path against the real kernel and the real `ethtool`, on a veth
//! pair built in a throw-away namespace.

use netobs_core::Netns;
use netobs_ethtool::{Error, Ethtool};
use netobs_testsupport::{connected_pair, privileged};

#[test]
fn veth_stats_match_ethtool() {
    if !privileged("veth_stats_match_ethtool") {
        return;
    }
    let (ns, _peer) = connected_pair("e0", "e1", "10.66.0", 5);
    let eth = Ethtool::open_in(&Netns::named(ns.name())).unwrap();
    let info = eth.driver_info("e0").unwrap();
    assert_eq!(info.driver, "veth");
    let stats = eth.stats("e0").unwrap();
    assert_eq!(stats.names.len(), info.n_stats as usize);
    let out = ns.exec("ethtool", &["-S", "e0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: Vec<(String, u64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.trim().rsplit_once(": ")?;
            Some((n.to_string(), v.parse().ok()?))
        })
        .collect();
    let ours: Vec<(String, u64)> = stats.iter().map(|(n, v)| (n.to_string(), v)).collect();
    assert_eq!(ours, theirs);
    let peer_idx = ours.iter().find(|(n, _)| n == "peer_ifindex").map(|(_, v)| *v);
    assert!(peer_idx.is_some_and(|v| v > 0), "{ours:?}");
}

#[test]
fn clear_errors() {
    let eth = Ethtool::open().unwrap();
    match eth.driver_info("nbt-nosuch0") {
        Err(e @ Error::NoSuchInterface(_)) => assert_eq!(e.errno(), Some(libc::ENODEV)),
        other => panic!("{other:?}"),
    }
    // lo has no driver information: EOPNOTSUPP, reported as NotSupported.
    match eth.driver_info("lo") {
        Err(e @ Error::NotSupported { .. }) => assert!(e.to_string().contains("EOPNOTSUPP"), "{e}"),
        other => panic!("{other:?}"),
    }
    // ...and no statistics: an empty set, not an error.
    assert!(eth.stats("lo").unwrap().names.is_empty());
    assert!(matches!(
        eth.stats("a-name-longer-than-ifnamsiz"),
        Err(Error::NoSuchInterface(_))
    ));
}

/// ETHTOOL_GSET (node_exporter's source for link modes) says what the
/// netlink LINKMODES_GET/LINKINFO_GET answers and `ethtool e0` print say
/// of the same veth; lo has no link settings.
#[test]
fn legacy_link_settings_match_netlink_and_ethtool() {
    use netobs_ethtool::netlink::{Dev, EthtoolNetlink};
    if !privileged("legacy_link_settings_match_netlink_and_ethtool") {
        return;
    }
    let (ns, _peer) = connected_pair("g0", "g1", "10.66.1", 5);
    let netns = Netns::named(ns.name());
    let eth = Ethtool::open_in(&netns).unwrap();
    let s = eth.legacy_link_settings("g0").unwrap();
    let mut nl = EthtoolNetlink::open_in(&netns).unwrap();
    let modes = nl.link_modes(Dev::Name("g0")).unwrap();
    let info = nl.link_info(Dev::Name("g0")).unwrap();
    assert_eq!(
        (Some(s.speed), Some(s.duplex), Some(s.autoneg != 0)),
        (modes.speed, modes.duplex, modes.autoneg)
    );
    assert_eq!(
        (Some(s.port), Some(s.phy_address), Some(s.transceiver)),
        (info.port, info.phyaddr, info.transceiver)
    );
    let out = ns.exec("ethtool", &["g0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| Some(l.trim().strip_prefix(name)?.strip_prefix(":")?.trim()))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert_eq!(field("Speed"), format!("{}Mb/s", s.speed));
    assert_eq!(field("Duplex"), if s.duplex == 1 { "Full" } else { "Half" });
    assert_eq!(field("Auto-negotiation"), if s.autoneg != 0 { "on" } else { "off" });
    assert_eq!(field("Port"), if s.port == 0 { "Twisted Pair" } else { "other" });
    // veth supports and advertises no link mode: "Not reported".
    assert!(s.supported.is_empty() && s.advertising.is_empty(), "{s:?}");
    assert_eq!(field("Supported link modes"), "Not reported");
    match eth.legacy_link_settings("lo") {
        Err(e @ Error::NotSupported { .. }) => assert_eq!(e.errno(), Some(libc::EOPNOTSUPP)),
        other => panic!("{other:?}"),
    }
}
