//! `node_network_*_total{device}`: interface counters as node_exporter 1.5
//! writes them.
//!
//! node_exporter 1.5 reads rtnetlink (`--collector.netdev.netlink`, on by
//! default: `rtnetlink.Link.List`, IFLA_STATS64) and, without
//! `--collector.netdev.enable-detailed-metrics`, folds the fields into the
//! legacy /proc/net/dev columns (collector/netdev_common.go `legacy()`, the
//! sums of net/core/net-procfs.c `dev_seq_printf_stats`):
//!
//! | family suffix | rtnl_link_stats64 fields |
//! |---|---|
//! | receive_bytes, receive_packets, transmit_bytes, transmit_packets | the field of that name |
//! | receive_errs / transmit_errs | rx_errors / tx_errors |
//! | receive_drop | rx_dropped + rx_missed_errors |
//! | receive_fifo | rx_fifo_errors |
//! | receive_frame | rx_frame_errors + rx_length_errors + rx_over_errors + rx_crc_errors |
//! | receive_multicast | multicast |
//! | receive_compressed / transmit_compressed | rx_compressed / tx_compressed |
//! | receive_nohandler | rx_nohandler (0 on kernels older than 4.6) |
//! | transmit_drop | tx_dropped |
//! | transmit_fifo | tx_fifo_errors |
//! | transmit_colls | collisions |
//! | transmit_carrier | tx_carrier_errors + tx_aborted_errors + tx_heartbeat_errors + tx_window_errors |
//!
//! Every family is a counter with HELP `Network device statistic KEY.`,
//! as node_exporter writes it.

use netobs_core::rtnetlink::LinkStats64;
use netobs_core::{NetlinkSocket, Protocol};

use super::{per_target, Collector, MetricSet, MetricType, Result, Scrape, Targets};

/// How a family's value is computed from a link's counters.
pub type Field = fn(&LinkStats64) -> u64;

/// The families, in node_exporter's key names, and how each is computed.
pub const FIELDS: [(&str, Field); 17] = [
    ("receive_bytes", |s| s.rx_bytes),
    ("receive_packets", |s| s.rx_packets),
    ("receive_errs", |s| s.rx_errors),
    ("receive_drop", |s| s.rx_dropped.wrapping_add(s.rx_missed_errors)),
    ("receive_fifo", |s| s.rx_fifo_errors),
    ("receive_frame", |s| {
        s.rx_frame_errors
            .wrapping_add(s.rx_length_errors)
            .wrapping_add(s.rx_over_errors)
            .wrapping_add(s.rx_crc_errors)
    }),
    ("receive_compressed", |s| s.rx_compressed),
    ("receive_multicast", |s| s.multicast),
    ("receive_nohandler", |s| s.rx_nohandler.unwrap_or(0)),
    ("transmit_bytes", |s| s.tx_bytes),
    ("transmit_packets", |s| s.tx_packets),
    ("transmit_errs", |s| s.tx_errors),
    ("transmit_drop", |s| s.tx_dropped),
    ("transmit_fifo", |s| s.tx_fifo_errors),
    ("transmit_colls", |s| s.collisions),
    ("transmit_carrier", |s| {
        s.tx_carrier_errors
            .wrapping_add(s.tx_aborted_errors)
            .wrapping_add(s.tx_heartbeat_errors)
            .wrapping_add(s.tx_window_errors)
    }),
    ("transmit_compressed", |s| s.tx_compressed),
];

/// Writes the netdev families of one namespace's links into `out`.
pub fn write_links(out: &mut MetricSet, links: &[(String, LinkStats64)]) {
    let ids: Vec<_> = FIELDS
        .iter()
        .map(|(key, _)| {
            out.family(
                &format!("node_network_{key}_total"),
                &format!("Network device statistic {key}."),
                MetricType::Counter,
            )
        })
        .collect();
    for (name, stats) in links {
        for ((_, get), id) in FIELDS.iter().zip(&ids) {
            out.sample(*id, &[("device", name)], get(stats));
        }
    }
}

/// Reads the links and their counters of the target's namespace (a dump
/// interrupted by a link change is read again).
pub fn read_links(netns: &netobs_core::Netns) -> Result<Vec<(String, LinkStats64)>> {
    let mut sock = NetlinkSocket::open_in(Protocol::Route, netns)?;
    let mut links = Vec::new();
    netobs_core::socket::retry_interrupted(|| {
        links.clear();
        sock.for_each_link(|l| {
            if let Some(s) = l.stats64() {
                links.push((l.name_lossy().into_owned(), s));
            }
        })
    })?;
    Ok(links)
}

/// The netdev collector (source name `netdev`).
#[derive(Debug, Clone)]
pub struct NetdevCollector {
    targets: Targets,
}

impl NetdevCollector {
    /// Reads the links of each of `targets`.
    pub fn new(targets: Targets) -> Self {
        NetdevCollector { targets }
    }
}

impl Collector for NetdevCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        per_target(scrape, &self.targets, "netdev", |t, out| {
            let links = read_links(&t.netns())?;
            write_links(out, &links);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_sums() {
        let s = LinkStats64 {
            rx_dropped: 1,
            rx_missed_errors: 2,
            rx_frame_errors: 1,
            rx_length_errors: 2,
            rx_over_errors: 4,
            rx_crc_errors: 8,
            tx_carrier_errors: 1,
            tx_aborted_errors: 2,
            tx_heartbeat_errors: 4,
            tx_window_errors: 8,
            ..Default::default()
        };
        let mut m = MetricSet::new();
        write_links(&mut m, &[("eth0".into(), s)]);
        let v = |n: &str| m.get(n).map(|f| f.samples()[0].value().as_f64());
        assert_eq!(v("node_network_receive_drop_total"), Some(3.0));
        assert_eq!(v("node_network_receive_frame_total"), Some(15.0));
        assert_eq!(v("node_network_transmit_carrier_total"), Some(15.0));
        assert_eq!(m.families().len(), 17);
        assert_eq!(m.families()[0].help(), "Network device statistic receive_bytes.");
    }
}
