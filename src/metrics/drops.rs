//! `netobs_skb_drops_total{reason,location}`: packets the kernel freed as
//! dropped, by drop reason and the function that dropped them.
//!
//! Counted by a [`DropCounter`] on the `skb:kfree_skb` tracepoint: in the
//! kernel with a hist trigger where the kernel has hist triggers, else from
//! the tracepoint's binary ring, which a thread of this collector reads
//! continuously (a ring read only at scrape time would overflow between
//! scrapes). Counts start when the collector starts. `reason` is the
//! kernel's drop reason name (`UNHANDLED_PROTO`, from the running kernel's
//! format file), `location` the function that freed the packet, without
//! offset or compiler suffix (`__netif_receive_skb_core`), `unknown` where
//! kallsyms does not know the address. The tracepoint is host-wide: drops
//! of every namespace are counted, without a `netns` label.
//!
//! Cardinality is bounded: at most `max_series` series. The first
//! `max_series - 1` (reason, location) pairs seen (largest first within a
//! scrape) keep their own series for the life of the collector; drops of
//! any later pair are summed into the overflow series
//! `{reason="other",location="other"}`, so every series stays a counter.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use netobs_core::stop::Stop;
use netobs_trace::{CountSource, DropCounter, DropCounts, Kallsyms, KfreeSkb};

use super::{Collector, MetricSet, MetricType, Result, Scrape};

/// The default bound on `netobs_skb_drops_total` series.
pub const DEFAULT_MAX_SERIES: usize = 100;

/// The label value of the overflow series.
pub const OVERFLOW: &str = "other";

#[derive(Debug, Default)]
struct Snapshot {
    counts: DropCounts,
    lost: u64,
    error: Option<String>,
}

#[derive(Debug)]
enum Counting {
    /// The kernel's table, read at each scrape.
    Hist(Box<Mutex<DropCounter>>),
    /// The ring, read by the poller thread into the snapshot.
    Ring(Arc<Mutex<Snapshot>>),
}

/// The drop collector (source name `drops`).
#[derive(Debug)]
pub struct DropsCollector {
    counting: Counting,
    kfree: KfreeSkb,
    syms: Kallsyms,
    max_series: usize,
    admitted: Mutex<HashSet<(String, String)>>,
    stop: Stop,
    poller: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves counts that are
    // still counts.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DropsCollector {
    /// Counts with `counter` (see [`DropCounter::open`]), naming locations
    /// with `syms`, in at most `max_series` series (at least 1). On the
    /// ring path a thread reads the ring until the collector is dropped.
    pub fn new(mut counter: DropCounter, syms: Kallsyms, max_series: usize) -> Result<Self> {
        let stop = Stop::new().map_err(|source| super::Error::Io {
            what: "create the drop poller's stop handle".into(),
            source,
        })?;
        let kfree = counter.kfree_skb().clone();
        let (counting, poller) = match counter.source() {
            CountSource::Hist => (Counting::Hist(Box::new(Mutex::new(counter))), None),
            CountSource::Ring => {
                counter.set_stop(&stop);
                let snap = Arc::new(Mutex::new(Snapshot::default()));
                let (s, st) = (snap.clone(), stop.clone());
                let h = std::thread::Builder::new()
                    .name("netobs-drops".into())
                    .spawn(move || poll_ring(counter, &s, &st))
                    .map_err(|source| super::Error::Io {
                        what: "start the drop poller thread".into(),
                        source,
                    })?;
                (Counting::Ring(snap), Some(h))
            }
        };
        Ok(DropsCollector {
            counting,
            kfree,
            syms,
            max_series: max_series.max(1),
            admitted: Mutex::new(HashSet::new()),
            stop,
            poller,
        })
    }

    /// Where the drops are counted.
    pub fn source(&self) -> CountSource {
        match self.counting {
            Counting::Hist(_) => CountSource::Hist,
            Counting::Ring(_) => CountSource::Ring,
        }
    }

    fn read(&self) -> Result<(DropCounts, u64)> {
        match &self.counting {
            Counting::Hist(c) => {
                let mut c = lock(c);
                let counts = c.counts(None)?;
                Ok((counts, c.lost()))
            }
            Counting::Ring(s) => {
                let s = lock(s);
                if let Some(e) = &s.error {
                    return Err(super::Error::Other(e.clone().into()));
                }
                Ok((s.counts.clone(), s.lost))
            }
        }
    }

    /// Sums `counts` per (reason, location) name pair and bounds them.
    fn series(&self, counts: &DropCounts) -> Vec<((String, String), u64)> {
        let mut named: HashMap<(String, String), u64> = HashMap::new();
        for (key, n) in counts.iter() {
            let reason = match self.kfree.reason_name(key.reason) {
                Some(r) => r.to_string(),
                None => key.reason.to_string(),
            };
            let location = self
                .syms
                .lookup(key.location)
                .map_or_else(|| "unknown".to_string(), |l| l.base_name().to_string());
            *named.entry((reason, location)).or_insert(0) += n;
        }
        bound(named, &mut lock(&self.admitted), self.max_series)
    }
}

/// Keeps the pairs already `admitted`, admits new ones (largest first)
/// while fewer than `max - 1` are, and sums the rest into the overflow
/// pair.
fn bound(
    named: HashMap<(String, String), u64>,
    admitted: &mut HashSet<(String, String)>,
    max: usize,
) -> Vec<((String, String), u64)> {
    let mut v: Vec<_> = named.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = Vec::with_capacity(v.len().min(max));
    let mut overflow: Option<u64> = None;
    for (key, n) in v {
        if admitted.contains(&key) || admitted.len() < max.saturating_sub(1) {
            admitted.insert(key.clone());
            out.push((key, n));
        } else {
            *overflow.get_or_insert(0) += n;
        }
    }
    if let Some(n) = overflow {
        out.push(((OVERFLOW.to_string(), OVERFLOW.to_string()), n));
    }
    out
}

fn poll_ring(mut counter: DropCounter, snap: &Mutex<Snapshot>, stop: &Stop) {
    while !stop.is_stopped() {
        match counter.counts(Some(Duration::from_millis(250))) {
            Ok(c) => {
                let mut s = lock(snap);
                s.counts = c;
                s.lost = counter.lost();
                s.error = None;
            }
            Err(e) => {
                if stop.is_stopped() {
                    break;
                }
                lock(snap).error = Some(format!("reading the kfree_skb ring: {e}"));
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

impl Drop for DropsCollector {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(h) = self.poller.take() {
            let _ = h.join();
        }
    }
}

impl Collector for DropsCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        scrape.source("drops", None, |out: &mut MetricSet| {
            let (counts, lost) = self.read()?;
            let id = out.family(
                "netobs_skb_drops_total",
                "Packets the kernel freed as dropped since the exporter started, by drop reason and dropping function (location=\"other\": series beyond the bound). Source: the skb:kfree_skb tracepoint (hist trigger or ring).",
                MetricType::Counter,
            );
            for ((reason, location), n) in self.series(&counts) {
                out.sample(id, &[("reason", &reason), ("location", &location)], n);
            }
            out.add(
                "netobs_skb_drops_lost_total",
                "Drops not counted: events the ring lost, or drops that found the kernel's hist table full. Source: the skb:kfree_skb tracepoint.",
                MetricType::Counter,
                &[],
                lost,
            );
            let source = match self.source() {
                CountSource::Hist => "hist",
                CountSource::Ring => "ring",
            };
            out.add(
                "netobs_skb_drops_counting_info",
                "Where drops are counted: in the kernel (hist) or from the tracepoint's ring (ring). Source: the exporter.",
                MetricType::Gauge,
                &[("source", source)],
                1u64,
            );
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(r: &str, l: &str) -> (String, String) {
        (r.to_string(), l.to_string())
    }

    #[test]
    fn bounded_and_stable() {
        let mut admitted = HashSet::new();
        let first: HashMap<_, _> = [(k("A", "f"), 10), (k("B", "g"), 5), (k("C", "h"), 1)].into();
        let s = bound(first, &mut admitted, 3);
        assert_eq!(s, [(k("A", "f"), 10), (k("B", "g"), 5), (k("other", "other"), 1)]);
        // C grows past B: B keeps its series, C stays in the overflow.
        let second: HashMap<_, _> = [(k("A", "f"), 10), (k("B", "g"), 5), (k("C", "h"), 50), (k("D", "i"), 2)].into();
        let s = bound(second, &mut admitted, 3);
        assert_eq!(s, [(k("A", "f"), 10), (k("B", "g"), 5), (k("other", "other"), 52)]);
        assert_eq!(bound(HashMap::new(), &mut HashSet::new(), 1), []);
        let one: HashMap<_, _> = [(k("A", "f"), 1)].into();
        assert_eq!(bound(one, &mut HashSet::new(), 1), [(k("other", "other"), 1)]);
    }
}
