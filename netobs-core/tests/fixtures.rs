//! Recorded RTM_NEWLINK dumps from this kernel (tests/data/links.bin, taken
//! by `kernel.rs::record_fixture`): decoding without root, a differential
//! test against netlink-packet-route, and a bounded mutation test.

use netlink_packet_core::Parseable;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netobs_core::names::Groups;
use netobs_core::nlmsg::NlMsgs;
use netobs_core::rtnetlink::{Link, LinkFlags, LinkNames, LinkPeer, LinkShow, OperState, StatsLevel, RTM_NEWLINK};
use netobs_core::{NetlinkSocket, Protocol};
use proptest::prelude::*;

const DUMP: &[u8] = include_bytes!("data/links.bin");

fn messages() -> Vec<&'static [u8]> {
    NlMsgs::new(DUMP).map(|m| m.unwrap().bytes()).collect()
}

#[test]
fn decodes_the_recorded_dump() {
    let links: Vec<Link<'_>> = NlMsgs::new(DUMP).map(|m| Link::parse(&m.unwrap()).unwrap()).collect();
    let names: Vec<&str> = links.iter().map(|l| l.name().unwrap()).collect();
    assert_eq!(names, ["lo", "vb", "va", "br0", "vx0"]);
    assert!(links.iter().all(|l| l.msg_kind() == RTM_NEWLINK));
    let lo = &links[0];
    assert_eq!(lo.index(), 1);
    assert!(lo.flags().contains(LinkFlags::LOOPBACK | LinkFlags::UP));
    assert_eq!(lo.mtu(), Some(65536));
    assert_eq!(lo.link_type(), 772);
    let va = links.iter().find(|l| l.name() == Some("va")).unwrap();
    let vb = links.iter().find(|l| l.name() == Some("vb")).unwrap();
    let br = links.iter().find(|l| l.name() == Some("br0")).unwrap();
    assert_eq!(va.kind(), Some("veth"));
    assert_eq!(va.link(), Some(vb.index()));
    assert_eq!(vb.master(), Some(br.index()));
    assert_eq!(vb.slave_kind(), Some("bridge"));
    assert_eq!(va.alias(), Some("fixture alias"));
    assert_eq!(va.altnames().collect::<Vec<_>>(), ["fixture-altname"]);
    assert_eq!(va.operstate(), Some(OperState::Up));
    assert_eq!(va.address().map(|a| a.len()), Some(6));
    assert_eq!(va.txqlen(), Some(1000));
    assert_eq!(va.group(), Some(0));
    // The recorder pinged its own address: the packets crossed lo.
    assert!(lo.stats64().unwrap().rx_packets >= 3);
    assert_eq!(
        links.iter().find(|l| l.name() == Some("vx0")).unwrap().kind(),
        Some("vxlan")
    );
}

/// The text iproute2 printed for the same dump agrees with the decoded
/// counters (the recorded `ip -s -s link` was taken right after the dump):
/// every number of its RX/TX blocks, by the column iproute2 prints it in.
#[test]
fn recorded_ip_output_agrees_with_the_decoded_counters() {
    let text = include_str!("data/links.ip-s-s.txt");
    let lines: Vec<&str> = text.lines().collect();
    let numbers = |i: usize| -> Vec<u64> { lines[i].split_whitespace().map(|w| w.parse().unwrap()).collect() };
    let mut checked = 0;
    for m in NlMsgs::new(DUMP) {
        let m = m.unwrap();
        let l = Link::parse(&m).unwrap();
        let head = format!("{}: {}", l.index(), l.name().unwrap());
        let start = lines
            .iter()
            .position(|line| line.starts_with(&head))
            .unwrap_or_else(|| panic!("{head}"));
        let end = lines[start + 1..]
            .iter()
            .position(|line| !line.starts_with(' '))
            .map_or(lines.len(), |n| start + 1 + n);
        let at = |label: &str| {
            (start..end)
                .find(|&i| lines[i].trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("{head}: no {label} line"))
                + 1
        };
        let s = l.stats64().unwrap();
        assert_eq!(
            numbers(at("RX:  bytes")),
            [
                s.rx_bytes,
                s.rx_packets,
                s.rx_errors,
                s.rx_dropped,
                s.rx_missed_errors,
                s.multicast
            ],
            "{head} RX"
        );
        assert_eq!(
            numbers(at("RX errors:")),
            [
                s.rx_length_errors,
                s.rx_crc_errors,
                s.rx_frame_errors,
                s.rx_fifo_errors,
                s.rx_over_errors
            ],
            "{head} RX errors"
        );
        assert_eq!(
            numbers(at("TX:  bytes")),
            [
                s.tx_bytes,
                s.tx_packets,
                s.tx_errors,
                s.tx_dropped,
                s.tx_carrier_errors,
                s.collisions
            ],
            "{head} TX"
        );
        let tx_err = numbers(at("TX errors:"));
        assert_eq!(
            tx_err[..4],
            [
                s.tx_aborted_errors,
                s.tx_fifo_errors,
                s.tx_window_errors,
                s.tx_heartbeat_errors
            ],
            "{head} TX errors"
        );
        // transns is IFLA_CARRIER_CHANGES, not a stats64 field.
        assert_eq!(Some(tx_err[4]), l.carrier_changes().map(u64::from), "{head} transns");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// The recorded dump rendered by [`LinkShow`] at `-s -s` is the text
/// iproute2 printed for it, byte for byte (every peer and master is in the
/// dump, so nothing is asked of the kernel).
#[test]
fn link_show_prints_what_iproute2_printed() {
    let want = include_str!("data/links.ip-s-s.txt");
    let links: Vec<Link<'_>> = NlMsgs::new(DUMP).map(|m| Link::parse(&m.unwrap()).unwrap()).collect();
    let mut names = LinkNames::new(Groups::parse("0 default\n"));
    links.iter().for_each(|l| names.remember(l));
    let mut sock = NetlinkSocket::open(Protocol::Route).unwrap();
    let text: String = links
        .iter()
        .map(|l| LinkShow::resolve(l, &mut names, &mut sock, Some(StatsLevel::Errors)).to_string())
        .collect();
    assert_eq!(text, want);
}

/// `ip -j link` for the recorded loopback: ip's keys, order and spelling.
#[cfg(feature = "serde")]
#[test]
fn link_show_serializes_as_ip_json() {
    let m = NlMsgs::new(DUMP).next().unwrap().unwrap();
    let lo = Link::parse(&m).unwrap();
    let mut names = LinkNames::new(Groups::default());
    let mut sock = NetlinkSocket::open(Protocol::Route).unwrap();
    let show = LinkShow::resolve(&lo, &mut names, &mut sock, None);
    assert_eq!(
        serde_json::to_string(&show).unwrap(),
        concat!(
            r#"{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","#,
            r#""operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","#,
            r#""address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"}"#
        )
    );
    let with_stats = LinkShow::resolve(&lo, &mut names, &mut sock, Some(StatsLevel::Counters));
    let json = serde_json::to_string(&with_stats).unwrap();
    assert!(
        json.contains(r#""stats64":{"rx":{"bytes":504,"packets":6,"errors":0,"dropped":0,"over_errors":0,"multicast":0},"tx":{"bytes":504,"#),
        "{json}"
    );
}

#[test]
fn differential_against_netlink_packet_route() {
    for raw in messages() {
        let m = netobs_core::NlMsg::parse(raw).unwrap();
        let ours = Link::parse(&m).unwrap();
        let theirs = LinkMessage::parse(m.payload()).unwrap();
        assert_eq!(ours.index(), theirs.header.index);
        assert_eq!(ours.flags().bits(), theirs.header.flags.bits());
        let mut seen_name = false;
        let mut seen_stats = false;
        for a in &theirs.attributes {
            match a {
                LinkAttribute::IfName(n) => {
                    seen_name = true;
                    assert_eq!(ours.name(), Some(n.as_str()));
                }
                LinkAttribute::Mtu(v) => assert_eq!(ours.mtu(), Some(*v)),
                LinkAttribute::TxQueueLen(v) => assert_eq!(ours.txqlen(), Some(*v)),
                LinkAttribute::Controller(v) => assert_eq!(ours.master(), Some(*v)),
                LinkAttribute::Link(v) => assert_eq!(ours.link(), Some(*v)),
                LinkAttribute::Qdisc(q) => assert_eq!(ours.qdisc(), Some(q.as_str())),
                LinkAttribute::Stats64(s) => {
                    seen_stats = true;
                    let o = ours.stats64().unwrap();
                    let theirs = [
                        s.rx_packets,
                        s.tx_packets,
                        s.rx_bytes,
                        s.tx_bytes,
                        s.rx_errors,
                        s.tx_errors,
                        s.rx_dropped,
                        s.tx_dropped,
                        s.multicast,
                        s.collisions,
                        s.rx_length_errors,
                        s.rx_over_errors,
                        s.rx_crc_errors,
                        s.rx_frame_errors,
                        s.rx_fifo_errors,
                        s.rx_missed_errors,
                        s.tx_aborted_errors,
                        s.tx_carrier_errors,
                        s.tx_fifo_errors,
                        s.tx_heartbeat_errors,
                        s.tx_window_errors,
                        s.rx_compressed,
                        s.tx_compressed,
                        s.rx_nohandler,
                        s.rx_otherhost_dropped,
                    ];
                    let ours_all: Vec<u64> = o.fields().map(|(_, v)| v).collect();
                    assert_eq!(ours_all, theirs, "every rtnl_link_stats64 field, in kernel order");
                }
                _ => {}
            }
        }
        assert!(seen_name && seen_stats);
    }
}

/// Older kernels send a shorter rtnl_link_stats64: the missing trailing
/// fields are None, the rest decode.
#[test]
fn shorter_stats_struct_gives_none() {
    use netobs_core::rtnetlink::LinkStats64;
    let full: Vec<u8> = (0..25u64).flat_map(|v| v.to_ne_bytes()).collect();
    let s = LinkStats64::decode(&full[..24 * 8], 8).unwrap();
    assert_eq!(s.rx_nohandler, Some(23));
    assert_eq!(s.rx_otherhost_dropped, None);
    assert_eq!(s.tx_compressed, 22);
    assert!(LinkStats64::decode(&full[..22 * 8], 8).is_none());
    // Longer structs from newer kernels: known fields decode, the rest stays raw.
    let longer: Vec<u8> = (0..27u64).flat_map(|v| v.to_ne_bytes()).collect();
    assert_eq!(LinkStats64::decode(&longer, 8).unwrap().rx_otherhost_dropped, Some(24));
}

/// Reads every accessor, so a mutation that slips through parse still
/// cannot make one panic.
fn touch(l: &Link<'_>) {
    let _ = (
        l.index(),
        l.flags(),
        l.name(),
        l.mtu(),
        l.qdisc(),
        l.operstate(),
        l.link_mode(),
    );
    let _ = (
        l.address(),
        l.broadcast(),
        l.perm_address(),
        l.master(),
        l.link(),
        l.link_netnsid(),
    );
    let _ = (
        l.alias(),
        l.altnames().count(),
        l.txqlen(),
        l.group(),
        l.kind(),
        l.slave_kind(),
    );
    let _ = (
        l.stats64(),
        l.carrier_changes(),
        l.xdp_attached(),
        l.to_owned(),
        l.attrs().count(),
    );
    // Rendering as ip does never panics either.
    let show = LinkShow {
        link: l,
        peer: LinkPeer::Absent,
        master: None,
        group: None,
        link_netns: None,
        stats: Some(StatsLevel::Errors),
    };
    let _ = show.to_string();
    #[cfg(feature = "serde")]
    let _ = serde_json::to_string(&show);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Flipped bytes, cut buffers and spliced lengths never panic: every
    /// message either parses or gives a DecodeError.
    #[test]
    fn mutated_dumps_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = DUMP.to_vec();
        for (i, v) in flips {
            let at = i.index(buf.len());
            buf[at] = v;
        }
        buf.truncate(cut.index(buf.len() + 1));
        for m in NlMsgs::new(&buf) {
            let Ok(m) = m else { break };
            if let Ok(l) = Link::parse(&m) {
                touch(&l);
            }
        }
    }

    /// Arbitrary bytes as a link payload.
    #[test]
    fn random_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(l) = Link::parse_payload(RTM_NEWLINK, &bytes) {
            touch(&l);
        }
        for a in netobs_core::nlattr::Attrs::new(&bytes) {
            let Ok(a) = a else { break };
            let _ = (a.u32(), a.u64(), a.str(), a.nested().count());
        }
    }
}
