//! `node_sockstat_*`: socket summaries as node_exporter 1.5 writes them.
//!
//! From /proc/net/sockstat and sockstat6 of the namespace (prometheus/procfs
//! 0.8's parser): `node_sockstat_sockets_used` from the `sockets: used`
//! line, and for every other line `node_sockstat_PROTO_KEY` for the keys
//! inuse, orphan, tw, alloc, mem and memory present on it (PROTO as the
//! kernel spells it: `TCP`, `UDP6`, `FRAG`), plus `PROTO_mem_bytes` = mem
//! × page size where `mem` (pages) is present. All gauges, HELP `Number of
//! PROTO sockets in state KEY.`.

use netobs_sockdiag::counters::SockStat;

use super::{per_target, Collector, MetricSet, MetricType, Scrape, Targets};

/// The keys node_exporter exports, in its order.
const KEYS: [&str; 6] = ["inuse", "orphan", "tw", "alloc", "mem", "memory"];

/// Writes the families of `s`; `page_size` converts `mem` pages to bytes.
pub fn write_sockstat(out: &mut MetricSet, s: &SockStat, page_size: u64) {
    for (section, kv) in &s.sections {
        if section == "sockets" {
            if let Some((_, used)) = kv.iter().find(|(k, _)| k == "used") {
                out.add(
                    "node_sockstat_sockets_used",
                    "Number of IPv4 sockets in use.",
                    MetricType::Gauge,
                    &[],
                    *used,
                );
            }
            continue;
        }
        let get = |key: &str| kv.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
        for key in KEYS {
            // procfs reads a missing inuse as 0; node_exporter writes it.
            let Some(v) = get(key).or((key == "inuse").then_some(0)) else {
                continue;
            };
            out.add(
                &format!("node_sockstat_{section}_{key}"),
                &format!("Number of {section} sockets in state {key}."),
                MetricType::Gauge,
                &[],
                v,
            );
        }
        if let Some(pages) = get("mem") {
            out.add(
                &format!("node_sockstat_{section}_mem_bytes"),
                &format!("Number of {section} sockets in state mem_bytes."),
                MetricType::Gauge,
                &[],
                pages.wrapping_mul(page_size),
            );
        }
    }
}

/// The sockstat collector (source name `sockstat`).
#[derive(Debug, Clone)]
pub struct SockstatCollector {
    targets: Targets,
}

impl SockstatCollector {
    /// Reads sockstat and sockstat6 in each of `targets`.
    pub fn new(targets: Targets) -> Self {
        SockstatCollector { targets }
    }
}

impl Collector for SockstatCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        let page = netobs_core::page_size() as u64;
        per_target(scrape, &self.targets, "sockstat", |t, out| {
            let s = SockStat::read_in(&t.netns())?;
            write_sockstat(out, &s, page);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_node_exporter() {
        let mut s = SockStat::default();
        let text = "sockets: used 7\nTCP: inuse 1 orphan 0 tw 2 alloc 3 mem 4\nFRAG: inuse 0 memory 0\n";
        SockStat::parse("sockstat", text, &mut s).unwrap();
        SockStat::parse("sockstat6", "TCP6: inuse 1\n", &mut s).unwrap();
        let mut m = MetricSet::new();
        write_sockstat(&mut m, &s, 4096);
        let names: Vec<_> = m.families().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "node_sockstat_sockets_used",
                "node_sockstat_TCP_inuse",
                "node_sockstat_TCP_orphan",
                "node_sockstat_TCP_tw",
                "node_sockstat_TCP_alloc",
                "node_sockstat_TCP_mem",
                "node_sockstat_TCP_mem_bytes",
                "node_sockstat_FRAG_inuse",
                "node_sockstat_FRAG_memory",
                "node_sockstat_TCP6_inuse",
            ]
        );
        assert_eq!(
            m.get("node_sockstat_TCP_mem_bytes").unwrap().samples()[0].value(),
            16384u64.into()
        );
        assert_eq!(
            m.get("node_sockstat_TCP_tw").unwrap().help(),
            "Number of TCP sockets in state tw."
        );
    }
}
