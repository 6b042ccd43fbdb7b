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
