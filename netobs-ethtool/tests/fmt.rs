//! `netobs_ethtool::fmt` without root: recorded kernel replies shown as
//! ethtool 6.1 showed the same devices (tests/data/ethtool-*, its output
//! taken when the replies were), and hand-made records for what these
//! devices cannot show (histograms, pause counters, autonegotiated pause,
//! groups without members), checked against the rules of ethtool's source.

use netobs_ethtool::fmt::{
    feature_group, write_json, ChannelsDisplay, CoalesceDisplay, DriverInfoDisplay, DriverStatsDisplay,
    FeaturesDisplay, PauseDisplay, RingsDisplay, StdStatsDisplay, FEATURE_GROUPS,
};
use netobs_ethtool::netlink::{
    Bucket, Channels, Coalesce, Features, Pause, PauseNegotiated, Reply, Rings, StdGroup, StdStats, StringSetReply,
};
use netobs_ethtool::{DriverInfo, DriverStats, StatsKind, StringSet};

const REPLIES: &[u8] = include_bytes!("data/replies.bin");
const GSTRINGS: &[u8] = include_bytes!("data/gstrings.bin");

/// The recorded replies (see tests/fixtures.rs for the format).
fn replies() -> Vec<Reply<'static>> {
    let mut out = Vec::new();
    let mut b = REPLIES;
    while b.len() >= 4 {
        let n = u32::from_ne_bytes(b[..4].try_into().unwrap()) as usize;
        out.push(Reply::parse_payload(&b[4..4 + n]).unwrap());
        b = &b[4 + n..];
    }
    out
}

fn reply_of(cmd_reply: u8) -> Reply<'static> {
    replies().into_iter().find(|r| r.cmd() == cmd_reply).unwrap()
}

/// `[ object ]` and its line break, as `ethtool --json` writes one device.
fn json_of(block: &impl serde::Serialize) -> String {
    let mut out = Vec::new();
    write_json(&mut out, &[block]).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn recorded_replies_print_as_ethtool_printed_them() {
    // STRSET_GET_REPLY (1), the first recorded: the global feature names.
    let names = StringSetReply::all(&reply_of(1)).unwrap()[0].to_vec();
    let features = Features::from_reply(&reply_of(11), names).unwrap();
    let k = FeaturesDisplay::new("fx0", &features);
    assert_eq!(k.to_string(), include_str!("data/ethtool-k-fx0.txt"));
    assert_eq!(json_of(&k), include_str!("data/ethtool-json-k-fx0.json"));

    let channels = Channels::from_reply(&reply_of(18));
    let l = ChannelsDisplay::new("fx0", &channels);
    assert_eq!(l.to_string(), include_str!("data/ethtool-l-fx0.txt"));

    let rings = Rings::from_reply(&reply_of(16));
    assert_eq!(
        RingsDisplay::new("eth0", &rings).to_string(),
        include_str!("data/ethtool-g-eth0.txt")
    );
    let coalesce = Coalesce::from_reply(&reply_of(20));
    assert_eq!(
        CoalesceDisplay::new("eth0", &coalesce).to_string(),
        include_str!("data/ethtool-c-eth0.txt")
    );
}

#[test]
fn driver_statistics_and_information() {
    let names = StringSet::parse_gstrings(GSTRINGS.to_vec()).unwrap();
    let values: Vec<u64> = (0..names.len() as u64).collect();
    let stats = DriverStats { names, values };
    let text = DriverStatsDisplay::new("fx0", StatsKind::Driver, &stats).to_string();
    assert!(text.starts_with("NIC statistics:\n     peer_ifindex: 0\n"), "{text}");
    assert_eq!(text.lines().count(), 1 + stats.values.len());
    let phy = DriverStatsDisplay::new("fx0", StatsKind::Phy, &stats).to_string();
    assert!(phy.starts_with("PHY statistics:\n"), "{phy}");
    let json = json_of(&DriverStatsDisplay::new("fx0", StatsKind::Driver, &stats));
    assert!(
        json.starts_with("[ {\n        \"ifname\": \"fx0\",\n        \"peer_ifindex\": 0,\n"),
        "{json}"
    );

    let info = DriverInfo {
        driver: "veth".into(),
        version: "1.0".into(),
        fw_version: String::new(),
        bus_info: String::new(),
        erom_version: String::new(),
        n_priv_flags: 0,
        n_stats: 9,
        testinfo_len: 0,
        eedump_len: 0,
        regdump_len: 0,
    };
    assert_eq!(
        DriverInfoDisplay::new("fx0", &info).to_string(),
        "driver: veth\nversion: 1.0\nfirmware-version: \nexpansion-rom-version: \nbus-info: \n\
         supports-statistics: yes\nsupports-test: no\nsupports-eeprom-access: no\n\
         supports-register-dump: no\nsupports-priv-flags: no\n"
    );
}

/// Standard groups with an RMON histogram (netlink/stats.c): a bucket
/// without a lower bound is `<high>Octets`, the open one `<low>toMaxOctets`,
/// unnamed counters are left out; the JSON histogram is an array of
/// objects laid out by json_writer (`[ {`, `},{`, `} ]`).
#[test]
fn standard_statistics_with_histograms() {
    let stats = StdStats {
        groups: vec![
            StdGroup {
                name: "rmon".into(),
                counters: vec![("undersize_pkts".into(), 1), (String::new(), 9)],
                hist_rx: vec![
                    Bucket {
                        low: 0,
                        high: 64,
                        value: 5,
                    },
                    Bucket {
                        low: 65,
                        high: 0,
                        value: 7,
                    },
                ],
                hist_tx: vec![Bucket {
                    low: 65,
                    high: 127,
                    value: 2,
                }],
            },
            StdGroup {
                name: "eth-mac".into(),
                ..StdGroup::default()
            },
        ],
    };
    let s = StdStatsDisplay::new("eth9", &stats);
    assert_eq!(
        s.to_string(),
        "Standard stats for eth9:\n\
         rmon-undersize_pkts: 1\n\
         rx-rmon-etherStatsPkts64Octets: 5\n\
         rx-rmon-etherStatsPkts65toMaxOctets: 7\n\
         tx-rmon-etherStatsPkts65to127Octets: 2\n"
    );
    let want = r#"[ {
        "ifname": "eth9",
        "rmon": {
            "undersize_pkts": 1,
            "rx-pktsNtoM": [ {
                    "low": 0,
                    "high": 64,
                    "val": 5
                },{
                    "low": 65,
                    "high": 0,
                    "val": 7
                } ],
            "tx-pktsNtoM": [ {
                    "low": 65,
                    "high": 127,
                    "val": 2
                } ]
        },
        "eth-mac": {}
    } ]
"#;
    assert_eq!(json_of(&s), want);
}

/// netlink/pause.c: the negotiated directions when autonegotiation is on,
/// "Statistics:" only above a counter, `statistics` in JSON whenever the
/// kernel sent the nest, and a blank line after the text block.
#[test]
fn pause_with_negotiation_and_counters() {
    let pause = Pause {
        autoneg: Some(true),
        rx: Some(true),
        tx: Some(false),
        tx_pause_frames: Some(3),
        rx_pause_frames: None,
        stats_present: true,
    };
    let negotiated = Some(PauseNegotiated { rx: true, tx: false });
    let a = PauseDisplay::new("eth9", &pause, negotiated);
    assert_eq!(
        a.to_string(),
        "Pause parameters for eth9:\nAutonegotiate:\ton\nRX:\t\ton\nTX:\t\toff\n\
         RX negotiated: on\nTX negotiated: off\nStatistics:\n  tx_pause_frames: 3\n\n"
    );
    assert_eq!(
        json_of(&a),
        r#"[ {
        "ifname": "eth9",
        "autonegotiate": true,
        "rx": true,
        "tx": false,
        "negotiated": {
            "rx": true,
            "tx": false
        },
        "statistics": {
            "tx_pause_frames": 3
        }
    } ]
"#
    );
    let quiet = Pause {
        autoneg: Some(false),
        tx_pause_frames: None,
        ..pause
    };
    let a = PauseDisplay::new("eth9", &quiet, None);
    assert_eq!(
        a.to_string(),
        "Pause parameters for eth9:\nAutonegotiate:\toff\nRX:\t\ton\nTX:\t\toff\n\n"
    );
    assert!(json_of(&a).contains("\"tx\": false,\n        \"statistics\": {}\n    } ]"));
}

/// IEEE 802.3 Annex 28B as netlink/pause.c resolves it.
#[test]
fn pause_resolution() {
    let r = |ours, peer| {
        let n = PauseNegotiated::resolve(ours, peer);
        (n.rx, n.tx)
    };
    assert_eq!(r((true, false), (true, false)), (true, true));
    assert_eq!(r((true, true), (false, true)), (true, false));
    assert_eq!(r((false, true), (true, true)), (false, true));
    assert_eq!(r((false, true), (false, true)), (false, false));
    assert_eq!(r((true, false), (false, true)), (false, false));
}

/// netlink/features.c: a group of one shows that feature under the
/// group's name, a group of several or none gets a summary line, UFO is
/// not shown (nor what it stands for), unnamed bits are left out.
#[test]
fn feature_groups_and_annotations() {
    // (name, active, wanted, changeable, never changes)
    let bits = [
        ("tx-checksum-ipv4", true, false, true, false),
        ("tx-scatter-gather", false, true, true, false),
        ("tx-tcp-segmentation", true, true, true, false),
        ("tx-tcp6-segmentation", false, false, false, false),
        ("tx-udp-fragmentation", true, true, true, false),
        ("rx-gro", true, true, false, false),
        ("", true, true, true, false),
        ("highdma", true, true, true, true),
    ];
    let features = Features {
        names: bits.iter().map(|b| b.0.to_owned()).collect(),
        active: bits.iter().map(|b| b.1).collect(),
        wanted: bits.iter().map(|b| b.2).collect(),
        hw: bits.iter().map(|b| b.3).collect(),
        nochange: bits.iter().map(|b| b.4).collect(),
    };
    let k = FeaturesDisplay::new("eth9", &features);
    assert_eq!(
        k.to_string(),
        "Features for eth9:\n\
         rx-checksumming: off\n\
         tx-checksumming: on [requested off]\n\
         scatter-gather: off [requested on]\n\
         tcp-segmentation-offload: on\n\
         \ttx-tcp-segmentation: on\n\
         \ttx-tcp6-segmentation: off [fixed]\n\
         generic-segmentation-offload: off\n\
         generic-receive-offload: on [fixed]\n\
         large-receive-offload: off\n\
         rx-vlan-offload: off\n\
         tx-vlan-offload: off\n\
         ntuple-filters: off\n\
         receive-hashing: off\n\
         highdma: on [fixed]\n"
    );
    let json = json_of(&k);
    assert!(
        json.contains("\"rx-checksumming\": {\n            \"active\": false,\n            \"fixed\": null,\n            \"requested\": null\n        },"),
        "{json}"
    );
    assert!(!json.contains("udp-fragmentation"));
}

#[test]
fn feature_group_patterns() {
    let tso = feature_group("tx-tcp-segmentation").unwrap();
    assert_eq!(tso.long_name, "tcp-segmentation-offload");
    assert_eq!(tso.pattern.to_string(), "tx-tcp*-segmentation");
    for name in [
        "tx-tcp6-segmentation",
        "tx-tcp-mangleid-segmentation",
        "tx-tcp-ecn-segmentation",
    ] {
        assert_eq!(feature_group(name), Some(tso), "{name}");
    }
    // One `*` may stand for nothing, but head and tail may not overlap.
    assert_eq!(feature_group("tx-checksum-").map(|g| g.short_name), Some("tx"));
    assert_eq!(feature_group("tx-tcp-segmentatio"), None);
    assert_eq!(feature_group("rx-checksum-x"), None);
    assert_eq!(feature_group(""), None);
    assert_eq!(FEATURE_GROUPS.iter().filter(|g| !g.shown()).count(), 1);
}

/// ethtool's rules for `-g` that eth0 does not show: an unknown TCP data
/// split value, and `null`/absent values in our JSON.
#[test]
fn rings_edge_values() {
    let rings = Rings {
        tcp_data_split: Some(7),
        ..Rings::default()
    };
    let text = RingsDisplay::new("eth9", &rings).to_string();
    assert!(text.ends_with("TX Push:\tn/a\nTCP data split:\tunknown(7)\n"), "{text}");
    assert_eq!(
        json_of(&RingsDisplay::new("eth9", &rings)),
        "[ {\n        \"ifname\": \"eth9\",\n        \"tx-push\": null,\n        \"tcp-data-split\": 7\n    } ]\n"
    );
}

/// json_writer's escapes (jsonw_puts): `\'` and the C escapes, other
/// control bytes raw; `[ ]` for an empty array.
#[test]
fn json_writer_strings_and_empty_array() {
    let mut out = Vec::new();
    let map = std::collections::BTreeMap::from([("a'b\t\u{1}", "x\"y\\z/é")]);
    write_json(&mut out, &map).unwrap();
    assert_eq!(out, "{\n    \"a\\'b\\t\u{1}\": \"x\\\"y\\\\z/é\"\n}\n".as_bytes());
    out.clear();
    write_json(&mut out, &[(); 0]).unwrap();
    assert_eq!(out, b"[ ]\n");
}
