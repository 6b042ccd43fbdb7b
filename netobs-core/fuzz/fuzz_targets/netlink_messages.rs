//! Feeds arbitrary bytes to every parser of kernel bytes in netobs-core: the
//! message walker, NLMSG_ERROR decoding, link and stats views, genl family
//! answers and the attribute iterator. Run: `cargo fuzz run netlink_messages`
//! (seed corpus: ../tests/data/links.bin).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_core::genl::GenlFamily;
use netobs_core::nlattr::Attrs;
use netobs_core::nlmsg::{decode_status, NlMsgs};
use netobs_core::rtnetlink::{Link, LinkStatsMsg};

fuzz_target!(|data: &[u8]| {
    for m in NlMsgs::new(data) {
        let Ok(m) = m else { break };
        let _ = decode_status(&m);
        if let Ok(l) = Link::parse(&m) {
            let _ = (l.name(), l.mtu(), l.stats64(), l.altnames().count(), l.kind(), l.to_owned());
        }
        if let Ok(s) = LinkStatsMsg::parse(&m) {
            let _ = (s.stats64(), s.offload_cpu_hit(), s.offload_l3_stats());
        }
        let _ = GenlFamily::parse(&m);
        if let Ok(q) = netobs_core::rtnetlink::Qdisc::parse(&m) {
            let _ = (q.handle_text(), q.stats);
        }
    }
    for a in Attrs::new(data) {
        let Ok(a) = a else { break };
        let _ = (a.u64(), a.str(), a.nested().count());
    }
});
