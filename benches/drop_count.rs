//! Counting kfree_skb drops in the kernel with a hist trigger vs reading
//! every drop from the ring, in one run, on the same kind of traffic.
//!
//! The generator of `benches/common/generator.rs` makes UNHANDLED_PROTO
//! drops as fast as one thread can; each mode runs for the same time:
//! - `no counter`: nothing watches (the baseline cost of a drop);
//! - `ring`: `DropCounter::open_ring`, the binary ring read continuously;
//! - `hist`: `DropCounter::open_hist`, the kernel's table read once a second
//!   (where the kernel has hist triggers; this host has none: Debian's 6.1
//!   and 6.12 in `scripts/test-kernels`' VMs do).
//!
//! The kernel's work per drop runs in the sending thread (softirq on
//! return from the send), so CPU per drop = (sender + reader thread CPU)
//! / drops; counting costs that minus the baseline. Counts are checked:
//! hist counts every drop sent, ring counts + lost = sent.
//!
//! Run (root): `cargo bench --bench drop_count` (`-- --secs N` per mode).
//! Under `cargo test --benches` it runs 0.2 s per mode as a smoke test.

use std::time::{Duration, Instant};

use netobs::trace::{DropCounter, DropFilter, Tracefs};
use netobs_testsupport::TestNetns;

#[path = "common/generator.rs"]
mod generator;
use generator::{thread_cpu_ns, Generator, ETHERTYPE};

struct Run {
    sent: u64,
    counted: u64,
    lost: u64,
    sender_ns: u64,
    reader_ns: u64,
}

impl Run {
    fn per_drop(&self) -> f64 {
        (self.sender_ns + self.reader_ns) as f64 / self.sent.max(1) as f64
    }

    fn print(&self, name: &str, baseline: f64) {
        println!(
            "{name:<11} drops {:>9}  counted {:>9}  lost {:>7}  sender {:>6.0} ms  reader {:>5.0} ms  = {:>6.1} ns/drop, counting {:>+6.1} ns/drop",
            self.sent,
            self.counted,
            self.lost,
            self.sender_ns as f64 / 1e6,
            self.reader_ns as f64 / 1e6,
            self.per_drop(),
            self.per_drop() - baseline
        );
    }
}

/// Runs the generator for `secs` while `counter` (if any) is read.
fn mode(ns: &TestNetns, counter: Option<DropCounter>, secs: f64) -> Run {
    let mut counter = counter;
    let gen = Generator::start(ns);
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let wall = Duration::from_secs_f64(secs);
    while start.elapsed() < wall {
        match counter.as_mut() {
            // The ring must be drained as it fills.
            Some(c) if c.source() == netobs::trace::CountSource::Ring => {
                c.counts(Some(Duration::from_millis(100))).unwrap();
            }
            // The kernel's table is read once a second, as a scrape would.
            Some(c) => {
                std::thread::sleep(Duration::from_secs(1).min(wall.saturating_sub(start.elapsed())));
                c.counts(None).unwrap();
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let (sent, sender_ns) = gen.stop();
    let mut counted = 0;
    let mut lost = 0;
    if let Some(c) = counter.as_mut() {
        // What is still in flight, then the final count.
        let mut last = c.counts(Some(Duration::from_millis(200))).unwrap().total();
        loop {
            let now = c.counts(Some(Duration::from_millis(200))).unwrap().total();
            if now == last {
                break;
            }
            last = now;
        }
        counted = last;
        lost = c.lost();
    }
    Run {
        sent,
        counted,
        lost,
        sender_ns,
        reader_ns: thread_cpu_ns() - cpu0,
    }
}

fn main() {
    let secs = generator::secs_per_mode();
    if !netobs_testsupport::privileged("drop_count bench") {
        return;
    }
    let t = Tracefs::find_or_mount().unwrap();
    let ns = TestNetns::new();
    let filter = DropFilter {
        protocol: Some(ETHERTYPE),
        ..Default::default()
    };
    println!(
        "kernel {}, {secs} s per mode, one sender thread",
        std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap().trim()
    );
    let base = mode(&ns, None, secs);
    let baseline = base.per_drop();
    base.print("no counter", baseline);
    let ring = mode(&ns, Some(DropCounter::open_ring(&t, &filter, None).unwrap()), secs);
    ring.print("ring", baseline);
    assert_eq!(ring.counted + ring.lost, ring.sent, "ring: counted + lost = sent");
    match DropCounter::open_hist(&t, &filter, None) {
        Ok(c) => {
            let hist = mode(&ns, Some(c), secs);
            hist.print("hist", baseline);
            assert_eq!(hist.counted + hist.lost, hist.sent, "hist: counted + dropped = sent");
            let (r, h) = (ring.per_drop() - baseline, hist.per_drop() - baseline);
            println!(
                "counting cost per drop: ring {r:.1} ns, hist {h:.1} ns, ring/hist {:.2}x",
                r / h.max(0.1)
            );
        }
        Err(e) => println!("hist: not measured here: {e}"),
    }
}
