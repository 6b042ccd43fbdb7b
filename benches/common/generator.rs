//! The drop generator of the trace benches (included with `#[path]`): a
//! thread in a private namespace sends Ethernet frames with an EtherType
//! nobody handles (0x88b6, IEEE local experimental) on its loopback through
//! an AF_PACKET socket; each one is a `skb:kfree_skb` UNHANDLED_PROTO drop,
//! raised in the sending thread (loopback delivers through the backlog,
//! whose softirq runs when the sender re-enables bottom halves), so the
//! kernel's per-drop work is charged to that thread's CPU time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use netobs::core::netns::Netns;
use netobs_testsupport::TestNetns;

#[path = "../../tests/trace_support/raw_frame.rs"]
mod raw_frame;
use raw_frame::{frame, RawSender};

/// The EtherType of the generated frames.
pub const ETHERTYPE: u16 = 0x88b6;

/// The calling thread's CPU time in ns (/proc/thread-self/schedstat).
pub fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

/// A running generator thread.
pub struct Generator {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<u64>>,
}

impl Generator {
    /// Starts sending in `ns`.
    pub fn start(ns: &TestNetns) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (s2, n2, name) = (stop.clone(), sent.clone(), ns.name().to_owned());
        let handle = std::thread::spawn(move || {
            Netns::named(&name)
                .run(|| {
                    let cpu0 = thread_cpu_ns();
                    let sender = RawSender::open("lo");
                    let frame = frame(ETHERTYPE);
                    while !s2.load(Ordering::Relaxed) {
                        for _ in 0..64 {
                            if sender.send(&frame) {
                                n2.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    thread_cpu_ns() - cpu0
                })
                .unwrap()
        });
        Generator {
            stop,
            sent,
            handle: Some(handle),
        }
    }

    /// Stops it: the frames sent and the sending thread's CPU time (ns).
    pub fn stop(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let cpu = self.handle.take().unwrap().join().unwrap();
        (self.sent.load(Ordering::Relaxed), cpu)
    }
}

/// Seconds per mode: `--secs N`, else 5 under `cargo bench` and 0.2 as the
/// smoke test of `cargo test --benches`.
pub fn secs_per_mode() -> f64 {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    args.iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(if full { 5.0 } else { 0.2 })
}
