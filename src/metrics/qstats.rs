//! `netobs_netdev_queue_COUNTER_total{device,queue}`: per-queue statistics
//! of drivers that keep them (the netdev generic-netlink family's
//! QSTATS_GET, kernel 6.10+; `ip`'s `stats` has no per-queue view).
//!
//! One counter family per statistic the kernel sends (`rx-packets` is
//! `netobs_netdev_queue_rx_packets_total`), `queue` the queue's number
//! (receive counters come from receive queues, transmit counters from
//! transmit queues). A kernel without the family, or devices whose
//! drivers keep no queue statistics, give no samples and no error.

use std::collections::HashMap;

use netobs_ethtool::qstats::{counter_name, NetdevNetlink, Queue};

use super::{per_target, Collector, MetricType, Scrape, Targets};

/// The queue statistics collector (source name `qstats`).
#[derive(Debug, Clone)]
pub struct QstatsCollector {
    targets: Targets,
}

impl QstatsCollector {
    /// Reads the queue statistics of each of `targets`.
    pub fn new(targets: Targets) -> Self {
        QstatsCollector { targets }
    }
}

impl Collector for QstatsCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        per_target(scrape, &self.targets, "qstats", |t, out| {
            let netns = t.netns();
            let mut nl = match NetdevNetlink::open_in(&netns) {
                Ok(nl) => nl,
                Err(e) if netobs_core::ErrorInfo::kind(&e) == netobs_core::ErrorKind::Unsupported => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let stats = match nl.qstats(None, true) {
                Ok(s) => s,
                Err(e) if netobs_core::ErrorInfo::kind(&e) == netobs_core::ErrorKind::Unsupported => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            if stats.is_empty() {
                return Ok(());
            }
            let names: HashMap<u32, String> = {
                let mut sock = netobs_core::NetlinkSocket::open_in(netobs_core::Protocol::Route, &netns)?;
                sock.links()?.into_iter().map(|l| (l.index, l.name)).collect()
            };
            for q in &stats {
                let queue = match q.queue {
                    Some(Queue::Rx(n) | Queue::Tx(n)) => n.to_string(),
                    _ => continue,
                };
                let device = names.get(&q.ifindex).cloned().unwrap_or_else(|| q.ifindex.to_string());
                for &(kind, v) in &q.counters {
                    let Some(name) = counter_name(kind) else { continue };
                    let metric = format!("netobs_netdev_queue_{}_total", name.replace('-', "_"));
                    let help = format!(
                        "Queue statistic {name} of the device's queue. Source: netdev generic netlink (QSTATS_GET)."
                    );
                    out.add(
                        &metric,
                        &help,
                        MetricType::Counter,
                        &[("device", &device), ("queue", &queue)],
                        v,
                    );
                }
            }
            Ok(())
        });
    }
}
