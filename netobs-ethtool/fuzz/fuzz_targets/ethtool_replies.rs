//! Feeds arbitrary bytes to every parser of kernel bytes in netobs-ethtool:
//! ethtool netlink replies (header, typed values, bitsets in both forms,
//! string sets, standard statistics groups), netdev QSTATS answers and
//! ETHTOOL_GSTRINGS answers.
//! Run: `cargo fuzz run ethtool_replies` (seed: ../tests/data/*.bin).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_ethtool::netlink::{decode_everything, Bitset};
use netobs_ethtool::qstats::QStats;
use netobs_ethtool::StringSet;

fuzz_target!(|data: &[u8]| {
    decode_everything(data);
    if let Ok(b) = Bitset::parse(data) {
        let _ = (b.set_bits(), b.bits().count(), b.is_set(5), b.in_mask(40));
    }
    if let Ok(q) = QStats::parse_payload(data) {
        let _ = (q.counters().count(), q.get(8), q.queue, q.ifindex);
    }
    if let Ok(s) = StringSet::parse_gstrings(data.to_vec()) {
        let _ = s.names().map(str::len).sum::<usize>();
    }
});
