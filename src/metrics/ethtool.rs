//! `node_ethtool_*{device}`: driver statistics as node_exporter 1.5's
//! ethtool collector writes them (`--collector.ethtool`).
//!
//! For each device of the namespace: `node_ethtool_info` (ETHTOOL_GDRVINFO)
//! and one untyped family per driver statistic (`ethtool -S`), named as
//! node_exporter names it ([`metric_name`]): the statistic's name with
//! runs of characters outside `[0-9A-Za-z_]` (and the `_` around them)
//! made one `_`, lower-cased, leading `_` removed, the words `rx` and `tx`
//! spelled `received` and `transmitted`, prefixed `node_ethtool_`. Seven
//! common statistics have fixed names with `_total` (`rx_bytes` is
//! `node_ethtool_received_bytes_total`). Statistics whose names clash
//! after this are all left out, as node_exporter leaves them out; a name
//! the driver repeats counts once, with its last value. A device whose
//! driver has no statistics (EOPNOTSUPP) or that goes away during the
//! scrape gives no samples and fails nothing.
//!
//! Not written: node_exporter's link-mode families of this collector
//! (`node_network_supported_speed_bytes`, `node_network_autonegotiate`, ...).

use std::collections::HashMap;
use std::sync::LazyLock;

use netobs_ethtool::Ethtool;
use regex::Regex;

use super::{per_target, Collector, MetricSet, MetricType, Scrape, Targets};

// Constant patterns, compiled by the tests: not input.
#[allow(clippy::expect_used)]
static SANITIZE: LazyLock<Regex> = LazyLock::new(|| Regex::new("_*[^0-9A-Za-z_]+_*").expect("valid pattern"));
#[allow(clippy::expect_used)]
static RX: LazyLock<Regex> = LazyLock::new(|| Regex::new("(^|_)rx(_|$)").expect("valid pattern"));
#[allow(clippy::expect_used)]
static TX: LazyLock<Regex> = LazyLock::new(|| Regex::new("(^|_)tx(_|$)").expect("valid pattern"));

/// The statistics node_exporter gives fixed names and HELP texts.
const PRESET: [(&str, &str, &str); 7] = [
    (
        "rx_bytes",
        "node_ethtool_received_bytes_total",
        "Network interface bytes received",
    ),
    (
        "rx_dropped",
        "node_ethtool_received_dropped_total",
        "Number of received frames dropped",
    ),
    (
        "rx_errors",
        "node_ethtool_received_errors_total",
        "Number of received frames with errors",
    ),
    (
        "rx_packets",
        "node_ethtool_received_packets_total",
        "Network interface packets received",
    ),
    (
        "tx_bytes",
        "node_ethtool_transmitted_bytes_total",
        "Network interface bytes sent",
    ),
    (
        "tx_errors",
        "node_ethtool_transmitted_errors_total",
        "Number of sent frames with errors",
    ),
    (
        "tx_packets",
        "node_ethtool_transmitted_packets_total",
        "Network interface packets sent",
    ),
];

/// node_exporter's `buildEthtoolFQName`: the family name of statistic `stat`.
pub fn metric_name(stat: &str) -> String {
    let s = SANITIZE.replace_all(stat, "_").to_lowercase();
    let s = s.trim_start_matches('_');
    let s = RX.replace_all(s, "${1}received${2}");
    let s = TX.replace_all(&s, "${1}transmitted${2}");
    format!("node_ethtool_{s}")
}

/// Writes one device's driver statistics (`(name, value)` in driver order).
pub fn write_stats<'a>(out: &mut MetricSet, device: &str, stats: impl Iterator<Item = (&'a str, u64)>) {
    // Repeated names: the last value, as a Go map keeps it.
    let mut values: HashMap<&str, u64> = HashMap::new();
    for (name, v) in stats {
        values.insert(name, v);
    }
    let mut by_name: HashMap<String, Option<&str>> = HashMap::new();
    for &stat in values.keys() {
        by_name
            .entry(metric_name(stat))
            .and_modify(|e| *e = None)
            .or_insert(Some(stat));
    }
    let mut names: Vec<_> = by_name.into_iter().filter_map(|(n, s)| Some((n, s?))).collect();
    names.sort();
    for (name, stat) in names {
        let v = values.get(stat).copied().unwrap_or(0);
        let (name, help) = match PRESET.iter().find(|(s, _, _)| *s == stat) {
            Some((_, n, h)) => (n.to_string(), h.to_string()),
            None => (name, format!("Network interface {stat}")),
        };
        out.add(&name, &help, MetricType::Untyped, &[("device", device)], v);
    }
}

/// Writes `node_ethtool_info` of one device.
pub fn write_info(out: &mut MetricSet, device: &str, d: &netobs_ethtool::DriverInfo) {
    out.add(
        "node_ethtool_info",
        "A metric with a constant '1' value labeled by bus_info, device, driver, expansion_rom_version, firmware_version, version.",
        MetricType::Gauge,
        &[
            ("bus_info", &d.bus_info),
            ("device", device),
            ("driver", &d.driver),
            ("expansion_rom_version", &d.erom_version),
            ("firmware_version", &d.fw_version),
            ("version", &d.version),
        ],
        1u64,
    );
}

/// The ethtool collector (source name `ethtool`).
#[derive(Debug, Clone)]
pub struct EthtoolCollector {
    targets: Targets,
}

impl EthtoolCollector {
    /// Reads the driver statistics of every device in each of `targets`.
    pub fn new(targets: Targets) -> Self {
        EthtoolCollector { targets }
    }
}

impl Collector for EthtoolCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        per_target(scrape, &self.targets, "ethtool", |t, out| {
            let netns = t.netns();
            let links = super::netdev::read_links(&netns)?;
            let eth = Ethtool::open_in(&netns)?;
            for (dev, _) in &links {
                // Per device, any failure (EOPNOTSUPP, the device gone)
                // only leaves that device's samples out.
                if let Ok(d) = eth.driver_info(dev) {
                    write_info(out, dev, &d);
                }
                if let Ok(s) = eth.stats(dev) {
                    write_stats(out, dev, s.iter());
                }
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_node_exporter() {
        assert_eq!(
            metric_name("rx_queue_0_xdp_packets"),
            "node_ethtool_received_queue_0_xdp_packets"
        );
        assert_eq!(metric_name("peer_ifindex"), "node_ethtool_peer_ifindex");
        assert_eq!(metric_name("tx-timeout"), "node_ethtool_transmitted_timeout");
        assert_eq!(metric_name("  Port.RX (good)"), "node_ethtool_port_received_good_");
        assert_eq!(metric_name("a_rx_rx_b"), "node_ethtool_a_received_rx_b");
        assert_eq!(metric_name("rxtx"), "node_ethtool_rxtx");
    }

    #[test]
    fn clashes_and_presets() {
        let mut m = MetricSet::new();
        let stats = [
            ("rx_bytes", 5),
            ("tx-x", 1),
            ("tx_x", 2),
            ("peer_ifindex", 3),
            ("peer_ifindex", 4),
        ];
        write_stats(&mut m, "veth0", stats.into_iter());
        let names: Vec<_> = m.families().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            ["node_ethtool_peer_ifindex", "node_ethtool_received_bytes_total"]
        );
        assert_eq!(m.families()[0].samples()[0].value(), 4u64.into());
        assert_eq!(m.families()[1].help(), "Network interface bytes received");
        assert_eq!(m.families()[0].help(), "Network interface peer_ifindex");
    }
}
