//! `node_softnet_*{cpu}`: per-CPU receive backlog counters.
//!
//! node_exporter 1.5 writes `processed_total`, `dropped_total` and
//! `times_squeezed_total` (counters) from /proc/net/softnet_stat. Later
//! node_exporter releases add `received_rps_total`, `flow_limit_count_total`
//! and `backlog_len`; this collector writes those too, with those names,
//! where the kernel has the fields. The `cpu` label is the kernel's CPU
//! number (Linux 5.10+), else the line's index as node_exporter 1.5 takes
//! it: the two agree unless CPUs are offline. The file is host-wide, so
//! the collector runs once whatever the namespaces.

use netobs_core::softnet::SoftnetStat;

use super::{Collector, MetricSet, MetricType, Scrape};

/// Writes the families of `stats`.
pub fn write_softnet(out: &mut MetricSet, stats: &[SoftnetStat]) {
    type Field = fn(&SoftnetStat) -> Option<u32>;
    let families: [(&str, &str, MetricType, Field); 6] = [
        (
            "node_softnet_processed_total",
            "Number of processed packets",
            MetricType::Counter,
            |s| Some(s.processed),
        ),
        (
            "node_softnet_dropped_total",
            "Number of dropped packets",
            MetricType::Counter,
            |s| Some(s.dropped),
        ),
        (
            "node_softnet_times_squeezed_total",
            "Number of times processing packets ran out of quota",
            MetricType::Counter,
            |s| Some(s.time_squeeze),
        ),
        (
            "node_softnet_received_rps_total",
            "Number of times cpu woken up received_rps",
            MetricType::Counter,
            |s| s.received_rps,
        ),
        (
            "node_softnet_flow_limit_count_total",
            "Number of times flow limit has been reached",
            MetricType::Counter,
            |s| s.flow_limit_count,
        ),
        (
            "node_softnet_backlog_len",
            "Softnet backlog status",
            MetricType::Gauge,
            |s| s.backlog_len,
        ),
    ];
    for (name, help, kind, get) in families {
        let id = out.family(name, help, kind);
        for s in stats {
            if let Some(v) = get(s) {
                out.sample(id, &[("cpu", &s.cpu.to_string())], v);
            }
        }
    }
}

/// The softnet collector (source name `softnet`, host-wide).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftnetCollector;

impl Collector for SoftnetCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        scrape.source("softnet", None, |out| {
            write_softnet(out, &netobs_core::softnet::read()?);
            Ok(())
        });
    }
}
