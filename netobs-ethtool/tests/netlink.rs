//! The ethtool netlink family against the real kernel, in throw-away
//! namespaces: one-device requests, dumps answering for every device,
//! EOPNOTSUPP as a normal answer, string sets and standard groups.

use netobs_core::Netns;
use netobs_ethtool::netlink::{msg, sset, Channels, Dev, EthtoolNetlink};
use netobs_ethtool::Error;
use netobs_testsupport::{privileged, TestNetns};

#[test]
fn veth_channels_features_and_dump() {
    if !privileged("veth_channels_features_and_dump") {
        return;
    }
    let ns = TestNetns::new();
    ns.veth("nla0", "nla1", None, None);
    ns.veth("nlb0", "nlb1", None, None);
    let mut nl = EthtoolNetlink::open_in(&Netns::named(ns.name())).unwrap();

    // veth: one rx and one tx queue by default, up to the CPU count.
    let ch = nl.channels(Dev::Name("nla0")).unwrap();
    assert_eq!((ch.rx, ch.tx, ch.combined), (Some(1), Some(1), None));
    assert!(ch.rx_max.unwrap() >= 1);
    let ifindex = {
        let r = nl.get(msg::CHANNELS_GET, Dev::Name("nla0"), 0).unwrap();
        assert_eq!(r.ifname(), Some("nla0"));
        r.ifindex().unwrap()
    };
    assert_eq!(nl.channels(Dev::Index(ifindex)).unwrap(), ch);

    // A dump answers for every veth; lo has no channels and is left out.
    let mut seen = Vec::new();
    nl.dump(msg::CHANNELS_GET, 0, |r| {
        seen.push((r.ifname().unwrap_or("").to_owned(), Channels::from_reply(r)));
        Ok(())
    })
    .unwrap();
    let mut names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["nla0", "nla1", "nlb0", "nlb1"]);

    // Features: named by the kernel's string set, one value per name.
    let f = nl.features(Dev::Name("nla0")).unwrap();
    assert!(f.names.len() > 40, "{}", f.names.len());
    assert_eq!(f.active.len(), f.names.len());
    let sg = f.names.iter().position(|n| n == "tx-scatter-gather").unwrap();
    assert!(f.active[sg]);
    let mut dumped = 0;
    nl.dump(
        msg::FEATURES_GET,
        netobs_ethtool::netlink::flags::COMPACT_BITSETS,
        |r| {
            let active = r.bitset(netobs_ethtool::netlink::attr::features::ACTIVE)?.unwrap();
            assert!(active.is_compact());
            assert_eq!(active.size() as usize, f.names.len());
            dumped += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(dumped, 5); // four veths and lo

    // veth's link settings (drivers/net/veth.c, veth_get_link_ksettings):
    // 10 Gb/s full duplex, twisted pair, no autonegotiation.
    let lm = nl.link_modes(Dev::Name("nla0")).unwrap();
    assert_eq!((lm.speed, lm.duplex, lm.autoneg), (Some(10_000), Some(1), Some(false)));
    assert_eq!(nl.link_info(Dev::Name("nla0")).unwrap().port, Some(0)); // PORT_TP
    assert!(nl.link_state(Dev::Name("nla0")).unwrap().link.is_some());
    assert!(matches!(nl.fec(Dev::Name("nla0")), Err(Error::NotSupported { .. })));

    // EOPNOTSUPP is a normal answer, by name.
    match nl.rings(Dev::Name("nla0")) {
        Err(e @ Error::NotSupported { .. }) => assert_eq!(e.errno(), Some(libc::EOPNOTSUPP)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(nl.coalesce(Dev::Name("lo")), Err(Error::NotSupported { .. })));

    // Unknown device: the kernel's extended-ack text is kept.
    match nl.channels(Dev::Name("nbt-nosuch0")) {
        Err(e @ Error::Netlink { .. }) => {
            assert_eq!(e.errno(), Some(libc::ENODEV));
            assert!(e.to_string().contains("no device matches name"), "{e}");
        }
        other => panic!("{other:?}"),
    }

    // Standard statistics: every group the kernel names, newer ones too.
    let groups = nl.string_set(None, sset::STATS_STD).unwrap();
    assert_eq!(&groups[..4], ["eth-phy", "eth-mac", "eth-ctrl", "rmon"]);
    let st = nl.std_stats(Dev::Name("nla0"), &[]).unwrap();
    let got: Vec<&str> = st.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(got, groups);
    assert!(matches!(
        nl.std_stats(Dev::Name("nla0"), &["no-such-group"]),
        Err(Error::UnknownGroup(_))
    ));

    // Per-device string set over netlink agrees with the ioctl's.
    let nl_names = nl.string_set(Some(Dev::Name("nla0")), sset::STATS).unwrap();
    let eth = netobs_ethtool::Ethtool::open_in(&Netns::named(ns.name())).unwrap();
    let io_names: Vec<String> = eth.stats("nla0").unwrap().names.names().map(String::from).collect();
    assert_eq!(nl_names, io_names);
}

/// The ioctl answers what netlink answers, shaped the same; the combined
/// handle says that netlink answered.
#[test]
fn ioctl_fallback_agrees_with_netlink() {
    if !privileged("ioctl_fallback_agrees_with_netlink") {
        return;
    }
    let ns = TestNetns::new();
    ns.veth("nlf0", "nlf1", None, None);
    let netns = Netns::named(ns.name());
    let mut any = netobs_ethtool::EthtoolAny::open_in(&netns).unwrap();
    let (ch, src) = any.channels("nlf0").unwrap();
    assert_eq!(src, netobs_ethtool::Source::Netlink);
    assert_eq!(any.ioctl.channels("nlf0").unwrap(), ch);
    // Without the netlink handle the ioctl answers, and says so.
    any.netlink = None;
    assert_eq!(any.channels("nlf0").unwrap(), (ch, netobs_ethtool::Source::Ioctl));
    // Features: both paths give the same names and bits.
    let (nl_feat, _) = {
        let mut with_nl = netobs_ethtool::EthtoolAny::open_in(&netns).unwrap();
        with_nl.features("nlf0").unwrap()
    };
    let (io_feat, src) = any.features("nlf0").unwrap();
    assert_eq!(src, netobs_ethtool::Source::Ioctl);
    assert_eq!(io_feat, nl_feat);
    // veth has neither rings nor pause: EOPNOTSUPP on both paths.
    assert!(matches!(any.rings("nlf0"), Err(Error::NotSupported { .. })));
    assert!(matches!(any.pause("nlf0"), Err(Error::NotSupported { .. })));
    // eth0 (virtio_net), read-only: both paths give the same rings.
    if let (Ok(io), Ok(mut nl)) = (netobs_ethtool::Ethtool::open(), EthtoolNetlink::open()) {
        if let (Ok(a), Ok(b)) = (io.rings("eth0"), nl.rings(Dev::Name("eth0"))) {
            assert_eq!((a.rx_max, a.tx_max, a.rx, a.tx), (b.rx_max, b.tx_max, b.rx, b.tx));
        }
        // Coalescing: what netlink reports, the ioctl reports alike.
        if let (Ok(a), Ok(b)) = (io.coalesce("eth0"), nl.coalesce(Dev::Name("eth0"))) {
            for (x, y) in [
                (a.rx_usecs, b.rx_usecs),
                (a.rx_max_frames, b.rx_max_frames),
                (a.tx_usecs, b.tx_usecs),
            ] {
                if y.is_some() {
                    assert_eq!(x, y);
                }
            }
            assert_eq!(a.use_adaptive_rx, b.use_adaptive_rx);
        }
        assert_eq!(io.features("eth0").ok(), nl.features(Dev::Name("eth0")).ok());
    }
}

/// A family the kernel lacks gives a clear error naming it (the lookup the
/// ethtool handle makes for "ethtool", with a name no kernel has; names
/// of 16 bytes or more are refused earlier, EINVAL "Attribute failed policy
/// validation", GENL_NAMSIZ).
#[test]
fn missing_family_is_a_clear_error() {
    let mut sock = netobs_core::NetlinkSocket::open(netobs_core::Protocol::Generic).unwrap();
    let e: Error = sock.genl_family("nbt-nofamily").unwrap_err().into();
    assert_eq!(
        e.to_string(),
        "generic netlink family \"nbt-nofamily\" is not available in this kernel"
    );
    assert_eq!(e.errno(), Some(libc::ENOENT));
}

/// Queue statistics of the netdev family: virtio_net (eth0 here) keeps
/// them, and its per-queue answers add up to its per-device sums; veth and
/// lo keep none: left out of dumps, EOPNOTSUPP when asked by index.
#[test]
fn queue_stats_where_the_driver_has_them() {
    use netobs_ethtool::qstats::{counter_name, NetdevNetlink, Queue};
    if !privileged("queue_stats_where_the_driver_has_them") {
        return;
    }
    let ns = TestNetns::new();
    ns.veth("nlq0", "nlq1", None, None);
    let mut nd = match NetdevNetlink::open_in(&Netns::named(ns.name())) {
        Err(e @ Error::NoFamily("netdev")) => {
            assert_eq!(e.errno(), Some(libc::ENOENT));
            assert!(e.to_string().contains("not supported by this kernel"), "{e}");
            eprintln!("queue_stats_where_the_driver_has_them: skipped: {e}");
            return;
        }
        r => r.unwrap(),
    };
    assert!(nd.qstats(None, true).unwrap().is_empty());
    assert!(matches!(nd.qstats(Some(1), false), Err(Error::NotSupported { .. })));
    match nd.qstats(Some(999_999), false) {
        Err(e) => assert_eq!(e.errno(), Some(libc::ENODEV)),
        Ok(v) => panic!("{v:?}"),
    }

    // Root namespace, read only.
    let mut root = NetdevNetlink::open().unwrap();
    let sums = root.qstats(None, false).unwrap();
    for dev in &sums {
        let queues = root.qstats(Some(dev.ifindex), true).unwrap();
        assert!(queues.iter().all(|q| q.ifindex == dev.ifindex && q.queue.is_some()));
        let rx: u64 = queues
            .iter()
            .filter(|q| matches!(q.queue, Some(Queue::Rx(_))))
            .flat_map(|q| q.counters.iter().filter(|(k, _)| *k == 8).map(|(_, v)| *v))
            .sum();
        let dev_rx = dev.counters.iter().find(|(k, _)| *k == 8).map(|(_, v)| *v);
        if let Some(dev_rx) = dev_rx {
            // Traffic may arrive between the two dumps: never fewer.
            assert!(rx >= dev_rx, "queues {rx} < device {dev_rx}");
        }
        assert!(dev.counters.iter().all(|(k, _)| counter_name(*k).is_some() || *k > 34));
    }
}
