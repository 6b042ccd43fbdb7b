//! Recorded ethtool netlink replies and an ETHTOOL_GSTRINGS answer from
//! this kernel (tests/data/, taken by `record_fixtures`): decoding without
//! root, and bounded mutation tests of every reply and string-set parser.
//!
//! replies.bin is a sequence of records: a native-endian u32 length, then
//! one reply's generic-netlink payload (genlmsghdr and attributes).

use netobs_core::Netns;
use netobs_ethtool::ioctl::ETH_GSTRING_LEN;
use netobs_ethtool::netlink::{
    attr, decode_everything, flags, msg, sset, string_set_request, Bitset, Channels, Dev, EthtoolNetlink, Reply,
    StatsGroup, StringSetReply,
};
use netobs_ethtool::{Ethtool, StringSet, StringSetId};
use netobs_testsupport::TestNetns;
use proptest::prelude::*;

const REPLIES: &[u8] = include_bytes!("data/replies.bin");
const GSTRINGS: &[u8] = include_bytes!("data/gstrings.bin");

fn records(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_ne_bytes(b[..4].try_into().unwrap()) as usize;
        out.push(&b[4..4 + n]);
        b = &b[4 + n..];
    }
    out
}

fn reply_of(cmd_reply: u8) -> Reply<'static> {
    records(REPLIES)
        .into_iter()
        .map(|p| Reply::parse_payload(p).unwrap())
        .find(|r| r.cmd() == cmd_reply)
        .unwrap_or_else(|| panic!("no reply {cmd_reply} recorded"))
}

#[test]
fn recorded_replies_decode() {
    let all = records(REPLIES);
    assert!(all.len() >= 8, "{}", all.len());
    for p in &all {
        assert!(decode_everything(p) > 0);
    }
    // STRSET_GET_REPLY (1): the global feature names.
    let strset = reply_of(1);
    let sets = StringSetReply::all(&strset).unwrap();
    assert_eq!(sets[0].id, sset::FEATURES);
    let names = sets[0].to_vec();
    assert_eq!(names.len(), sets[0].count as usize);
    assert!(names.iter().any(|n| n == "tx-scatter-gather"));
    // FEATURES_GET_REPLY (11), compact: every bitset has one bit per name.
    let feats = reply_of(11);
    assert_eq!(feats.ifname(), Some("fx0"));
    let active = feats.bitset(attr::features::ACTIVE).unwrap().unwrap();
    assert!(active.is_compact());
    assert_eq!(active.size() as usize, names.len());
    let sg = names.iter().position(|n| n == "tx-scatter-gather").unwrap() as u32;
    assert!(active.is_set(sg));
    // CHANNELS_GET_REPLY (18): veth's one rx and one tx queue.
    let ch = Channels::from_reply(&reply_of(18));
    assert_eq!((ch.rx, ch.tx, ch.combined), (Some(1), Some(1), None));
    // STATS_GET_REPLY (33): one group per standard group, empty on veth.
    let st = reply_of(33);
    let groups = StatsGroup::all(&st).unwrap();
    assert!(groups.len() >= 4);
    assert_eq!(groups.iter().map(|g| g.id).take(4).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert!(groups.iter().all(|g| g.counters().count() == 0));
}

/// The verbose form of the same features names the bits itself and agrees
/// with the compact form.
#[test]
fn verbose_and_compact_bitsets_agree() {
    let recs: Vec<Reply<'_>> = records(REPLIES)
        .into_iter()
        .map(|p| Reply::parse_payload(p).unwrap())
        .filter(|r| r.cmd() == 11)
        .collect();
    assert_eq!(recs.len(), 2);
    let compact = recs[0].bitset(attr::features::ACTIVE).unwrap().unwrap();
    let verbose: Bitset<'_> = recs[1].bitset(attr::features::ACTIVE).unwrap().unwrap();
    assert!(!verbose.is_compact());
    assert!(verbose.bits().all(|b| b.name.is_some()));
    assert_eq!(compact.set_bits(), verbose.set_bits());
}

#[test]
fn recorded_gstrings_decode_and_bad_counts_fail() {
    let set = StringSet::parse_gstrings(GSTRINGS.to_vec()).unwrap();
    assert_eq!(set.name(0), "peer_ifindex");
    assert!(set.len() >= 9);
    // Truncated: the count runs past the bytes.
    let cut = GSTRINGS[..GSTRINGS.len() - 1].to_vec();
    assert!(StringSet::parse_gstrings(cut).is_err());
    // Oversized count, and a count that would overflow the multiplication.
    for count in [set.len() as u32 + 1, u32::MAX] {
        let mut b = GSTRINGS.to_vec();
        b[8..12].copy_from_slice(&count.to_ne_bytes());
        assert!(StringSet::parse_gstrings(b).is_err());
    }
    assert!(StringSet::parse_gstrings(vec![0; 11]).is_err());
    // Extra bytes after the names are dropped; a name without NUL or not
    // UTF-8 reads as its bytes up to the slot's end, or empty.
    let mut b = GSTRINGS.to_vec();
    b.extend_from_slice(&[0xff; 100]);
    b[12..12 + ETH_GSTRING_LEN].fill(0xff);
    let s = StringSet::parse_gstrings(b).unwrap();
    assert_eq!((s.len(), s.name(0)), (set.len(), ""));
}

/// Reads everything from string sets whose count and strings disagree:
/// no panic, and no allocation beyond the strings actually sent.
#[test]
fn string_set_count_larger_than_strings() {
    let strset = reply_of(1);
    let sets = StringSetReply::all(&strset).unwrap();
    let mut payload = strset.payload().to_vec();
    // Find the COUNT attribute (type 2, len 8) inside the set and inflate it.
    let count = sets[0].count.to_ne_bytes();
    let pos = payload
        .windows(8)
        .position(|w| w[..4] == [8, 0, 2, 0] && w[4..] == count)
        .unwrap();
    payload[pos + 4..pos + 8].copy_from_slice(&u32::MAX.to_ne_bytes());
    let r = Reply::parse_payload(&payload).unwrap();
    let sets = StringSetReply::all(&r).unwrap();
    assert_eq!(sets[0].count, u32::MAX);
    assert_eq!(sets[0].to_vec().len(), sets[0].strings().count());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Flipped bytes and cut buffers in every recorded reply never panic.
    #[test]
    fn mutated_replies_never_panic(
        which in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let recs = records(REPLIES);
        let mut buf = recs[which.index(recs.len())].to_vec();
        for (i, v) in flips {
            let at = i.index(buf.len());
            buf[at] = v;
        }
        buf.truncate(cut.index(buf.len() + 1));
        decode_everything(&buf);
    }

    /// Arbitrary bytes as a reply, a bitset, a QSTATS answer and a
    /// GSTRINGS answer.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes);
        if let Ok(q) = netobs_ethtool::qstats::QStats::parse_payload(&bytes) {
            let _ = (q.counters().count(), q.get(8), q.queue);
        }
        if let Ok(b) = Bitset::parse(&bytes) {
            let _ = (b.set_bits(), b.bits().count(), b.is_set(3), b.in_mask(70));
        }
        if let Ok(s) = StringSet::parse_gstrings(bytes) {
            let _ = s.names().count();
        }
    }
}

/// Records tests/data (run by hand as root: `cargo test -p netobs-ethtool
/// --test fixtures record_fixtures -- --ignored`).
#[test]
#[ignore]
fn record_fixtures() {
    let ns = TestNetns::new();
    ns.veth("fx0", "fx1", None, None);
    let netns = Netns::named(ns.name());
    let mut nl = EthtoolNetlink::open_in(&netns).unwrap();
    let mut out = Vec::new();
    let mut keep = |p: &[u8]| {
        out.extend_from_slice(&(p.len() as u32).to_ne_bytes());
        out.extend_from_slice(p);
    };
    let d = Some(Dev::Name("fx0"));
    keep(
        nl.get_with(msg::STRSET_GET, None, 0, |r| string_set_request(r, sset::FEATURES))
            .unwrap()
            .payload(),
    );
    keep(
        nl.get_with(msg::STRSET_GET, d, 0, |r| string_set_request(r, sset::STATS))
            .unwrap()
            .payload(),
    );
    keep(
        nl.get_with(msg::STRSET_GET, None, 0, |r| string_set_request(r, sset::STATS_STD))
            .unwrap()
            .payload(),
    );
    keep(
        nl.get(msg::FEATURES_GET, Dev::Name("fx0"), flags::COMPACT_BITSETS)
            .unwrap()
            .payload(),
    );
    keep(nl.get(msg::FEATURES_GET, Dev::Name("fx0"), 0).unwrap().payload());
    for cmd in [
        msg::CHANNELS_GET,
        msg::LINKINFO_GET,
        msg::LINKMODES_GET,
        msg::LINKSTATE_GET,
    ] {
        keep(nl.get(cmd, Dev::Name("fx0"), 0).unwrap().payload());
    }
    let groups = nl.string_set(None, sset::STATS_STD).unwrap().len() as u32;
    let mask = [(1u32 << groups) - 1];
    keep(
        nl.get_with(msg::STATS_GET, d, 0, |r| {
            netobs_ethtool::netlink::stats_groups_request(r, &mask, groups)
        })
        .unwrap()
        .payload(),
    );
    // eth0 (virtio_net) of the root namespace, read only: rings, coalesce.
    if let Ok(mut root) = EthtoolNetlink::open() {
        for cmd in [msg::RINGS_GET, msg::COALESCE_GET] {
            if let Ok(r) = root.get(cmd, Dev::Name("eth0"), 0) {
                keep(r.payload());
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::write(dir.join("replies.bin"), &out).unwrap();
    let gstrings = netns
        .run(|| {
            // struct ethtool_gstrings as the kernel answers it: cmd
            // (ETHTOOL_GSTRINGS), string_set, len, then the names.
            let names = Ethtool::open().unwrap().string_set("fx0", StringSetId::Stats).unwrap();
            let mut b = Vec::new();
            for w in [0x1bu32, StringSetId::Stats as u32, names.len() as u32] {
                b.extend_from_slice(&w.to_ne_bytes());
            }
            b.extend_from_slice(names.as_bytes());
            b
        })
        .unwrap();
    std::fs::write(dir.join("gstrings.bin"), gstrings).unwrap();
}
