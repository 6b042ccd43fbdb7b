//! Interface counter rates between two snapshots: what nicstat and
//! `sar -n DEV,EDEV` show.

use std::time::Instant;

use crate::error::Result;
use crate::rtnetlink::LinkStats64;
use crate::socket::NetlinkSocket;

/// Counters of every link at one instant.
#[derive(Debug, Clone)]
pub struct CounterSnapshot {
    /// When the dump was taken.
    pub taken: Instant,
    /// (index, name, counters) per link, in dump order.
    pub links: Vec<(u32, String, LinkStats64)>,
}

impl CounterSnapshot {
    /// Dumps the counters of every link the socket's namespace has.
    pub fn take(sock: &mut NetlinkSocket) -> Result<Self> {
        let mut links = Vec::new();
        sock.for_each_link(|l| {
            if let (Some(s), Some(n)) = (l.stats64(), l.name()) {
                links.push((l.index(), n.to_owned(), s));
            }
        })?;
        Ok(CounterSnapshot {
            taken: Instant::now(),
            links,
        })
    }

    /// Per-second rates from `earlier` to `self`, for links present in
    /// both (same index and name: a re-created link is a new link).
    pub fn rates_since(&self, earlier: &CounterSnapshot) -> Vec<LinkRate> {
        let secs = self.taken.duration_since(earlier.taken).as_secs_f64();
        self.links
            .iter()
            .filter_map(|(idx, name, now)| {
                let (_, _, then) = earlier.links.iter().find(|(i, n, _)| i == idx && n == name)?;
                Some(LinkRate::from_delta(*idx, name.clone(), &now.delta(then), secs))
            })
            .collect()
    }
}

/// Per-second rates of one link over an interval.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRate {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Interval length in seconds.
    pub seconds: f64,
    /// Kilobytes (1024) received per second (nicstat rKB/s).
    pub rx_kbytes: f64,
    /// Kilobytes (1024) sent per second (nicstat wKB/s).
    pub tx_kbytes: f64,
    /// Packets received per second (rPk/s).
    pub rx_packets: f64,
    /// Packets sent per second (wPk/s).
    pub tx_packets: f64,
    /// Average received packet size in bytes (rAvs), 0 when idle.
    pub rx_avg_size: f64,
    /// Average sent packet size in bytes (wAvs), 0 when idle.
    pub tx_avg_size: f64,
    /// Receive errors per second.
    pub rx_errors: f64,
    /// Transmit errors per second.
    pub tx_errors: f64,
    /// Receive drops per second.
    pub rx_dropped: f64,
    /// Transmit drops per second.
    pub tx_dropped: f64,
}

impl LinkRate {
    /// Rates from a counter delta over `seconds`.
    pub fn from_delta(index: u32, name: String, d: &LinkStats64, seconds: f64) -> Self {
        let per = |v: u64| if seconds > 0.0 { v as f64 / seconds } else { 0.0 };
        let avg = |bytes: u64, pkts: u64| if pkts > 0 { bytes as f64 / pkts as f64 } else { 0.0 };
        LinkRate {
            index,
            name,
            seconds,
            rx_kbytes: per(d.rx_bytes) / 1024.0,
            tx_kbytes: per(d.tx_bytes) / 1024.0,
            rx_packets: per(d.rx_packets),
            tx_packets: per(d.tx_packets),
            rx_avg_size: avg(d.rx_bytes, d.rx_packets),
            tx_avg_size: avg(d.tx_bytes, d.tx_packets),
            rx_errors: per(d.rx_errors),
            tx_errors: per(d.tx_errors),
            rx_dropped: per(d.rx_dropped),
            tx_dropped: per(d.tx_dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_reset() {
        let then = LinkStats64 {
            rx_bytes: 1000,
            rx_packets: 10,
            tx_bytes: u64::MAX - 5,
            ..Default::default()
        };
        let now = LinkStats64 {
            rx_bytes: 3048,
            rx_packets: 12,
            tx_bytes: 100,
            ..Default::default()
        };
        let d = now.delta(&then);
        assert_eq!(d.rx_bytes, 2048);
        assert_eq!(d.tx_bytes, 100, "a counter that went backwards was reset");
        let r = LinkRate::from_delta(1, "x".into(), &d, 2.0);
        assert_eq!(r.rx_kbytes, 1.0);
        assert_eq!(r.rx_packets, 1.0);
        assert_eq!(r.rx_avg_size, 1024.0);
        assert_eq!(r.tx_avg_size, 0.0);
    }
}
