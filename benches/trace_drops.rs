//! kfree_skb drops read in binary from trace_pipe_raw vs text from
//! trace_pipe, in one run, on the same kind of traffic.
//!
//! A generator thread sends Ethernet frames with an EtherType nobody
//! handles (0x88b6, IEEE local experimental) on the loopback of a private
//! namespace through an AF_PACKET socket: each one is a `skb:kfree_skb`
//! UNHANDLED_PROTO drop, and the kernel filter on that EtherType keeps
//! other processes' drops out, so sent = parsed + lost exactly.
//! Each mode gets its own private instance with the same kernel filter and
//! reads for the same time on the main thread; we count events decoded
//! (protocol, location, reason), the reader thread's CPU time
//! (/proc/thread-self/schedstat) and lost events, as the pages report them
//! and as per_cpu/cpuN/stats count them (trace_pipe prints `[LOST N EVENTS]`).
//! Then the captured pages and lines are parsed again from memory, to show
//! what one core can parse when no system call is involved.
//!
//! Run (root): `cargo bench --bench trace_drops` (`-- --secs N` per mode).
//! Under `cargo test --benches` it runs for 0.2 s per mode as a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use netobs::trace::drops::parse_kfree_skb_line;
use netobs::trace::{KfreeSkb, Page, RawReader, TextReader, Tracefs};
use netobs_testsupport::TestNetns;

#[path = "common/generator.rs"]
mod generator;
use generator::Generator;

use generator::thread_cpu_ns;

#[derive(Debug, Default)]
struct Run {
    sent: u64,
    events: u64,
    lost: u64,
    stats_lost: u64,
    cpu_ns: u64,
    wall: Duration,
}

impl Run {
    fn print(&self, name: &str) {
        let secs = self.wall.as_secs_f64();
        println!(
            "{name:<22} sent {:>9}  parsed {:>9} ({:>8.0}/s)  lost {:>8} (stats {:>8})  reader cpu {:>6.0} ms = {:>7.1} ns/event",
            self.sent,
            self.events,
            self.events as f64 / secs,
            self.lost,
            self.stats_lost,
            self.cpu_ns as f64 / 1e6,
            self.cpu_ns as f64 / self.events.max(1) as f64
        );
    }
}

const FILTER: &str = "protocol == 0x88b6";

/// `buffer_kb` per CPU; `nap` between reads makes a slow reader that loses events.
fn raw_mode(
    t: &Tracefs,
    ns: &TestNetns,
    kfree: &KfreeSkb,
    secs: f64,
    buffer_kb: u64,
    nap: Duration,
    keep: &mut Vec<(u32, Vec<u8>)>,
) -> Run {
    let inst = t.private_instance("bench-raw").unwrap();
    inst.set_buffer_size_kb(buffer_kb).unwrap();
    inst.enable_event("skb", "kfree_skb", Some(FILTER)).unwrap();
    let mut reader = RawReader::open(&inst).unwrap();
    let gen = Generator::start(ns);
    let mut run = Run::default();
    let (start, cpu0) = (Instant::now(), thread_cpu_ns());
    let mut count = |cpu: u32, p: &Page<'_>, keep: &mut Vec<(u32, Vec<u8>)>| {
        for r in p.records().flatten() {
            if let Some(d) = kfree.decode(cpu, &r) {
                black_box((d.protocol, d.location, d.reason));
                run.events += 1;
            }
        }
        if keep.len() < 4096 {
            keep.push((cpu, p.data().to_vec()));
        }
    };
    let mut gen = Some(gen);
    loop {
        if gen.is_some() && start.elapsed().as_secs_f64() >= secs {
            run.sent = gen.take().unwrap().stop().0;
        }
        let s = reader
            .read(Some(Duration::from_millis(10)), |cpu, p| count(cpu, p, keep))
            .unwrap();
        if gen.is_none() && s.pages == 0 {
            break;
        }
        std::thread::sleep(nap);
    }
    run.wall = start.elapsed();
    run.cpu_ns = thread_cpu_ns() - cpu0;
    run.lost = reader.lost();
    run.stats_lost = reader.stats_lost().unwrap();
    run
}

fn text_mode(t: &Tracefs, ns: &TestNetns, secs: f64, keep: &mut Vec<String>) -> Run {
    let inst = t.private_instance("bench-text").unwrap();
    inst.set_buffer_size_kb(4096).unwrap();
    inst.enable_event("skb", "kfree_skb", Some(FILTER)).unwrap();
    let mut reader = TextReader::open(&inst).unwrap();
    let gen = Generator::start(ns);
    let mut run = Run::default();
    let (start, cpu0) = (Instant::now(), thread_cpu_ns());
    let mut gen = Some(gen);
    loop {
        if gen.is_some() && start.elapsed().as_secs_f64() >= secs {
            run.sent = gen.take().unwrap().stop().0;
        }
        let n = reader
            .read(Some(Duration::from_millis(10)), |line| {
                if let Some(d) = parse_kfree_skb_line(line) {
                    black_box(d);
                    run.events += 1;
                } else if let Some(rest) = line.split_once("[LOST ") {
                    run.lost += rest
                        .1
                        .split(' ')
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                        .unwrap_or(0);
                }
                if keep.len() < 200_000 {
                    keep.push(line.to_owned());
                }
            })
            .unwrap();
        if gen.is_none() && n == 0 {
            break;
        }
    }
    run.wall = start.elapsed();
    run.cpu_ns = thread_cpu_ns() - cpu0;
    let mut stats = 0;
    for cpu in inst.cpus().unwrap() {
        stats += inst.cpu_stats(cpu).unwrap().lost();
    }
    run.stats_lost = stats;
    run
}

fn main() {
    let secs = generator::secs_per_mode();
    if !netobs_testsupport::privileged("trace_drops bench") {
        return;
    }
    let t = Tracefs::find_or_mount().unwrap();
    let kfree = KfreeSkb::new(&t.event_format("skb", "kfree_skb").unwrap()).unwrap();
    let ns = TestNetns::new();
    let layout = t.page_layout().unwrap();

    let mut pages = Vec::new();
    let mut lines = Vec::new();
    let raw = raw_mode(&t, &ns, &kfree, secs, 4096, Duration::ZERO, &mut pages);
    let text = text_mode(&t, &ns, secs, &mut lines);
    let slow = raw_mode(&t, &ns, &kfree, secs, 16, Duration::from_millis(50), &mut Vec::new());
    println!("live, {secs} s per mode, generator: AF_PACKET frames of EtherType 0x88b6 on lo (one core), reader on the other");
    raw.print("trace_pipe_raw (binary)");
    text.print("trace_pipe (text)");
    slow.print("slow binary, 16 KiB");
    println!(
        "slow reader: sent - parsed = {}, lost reported by pages = {}, by per_cpu stats = {}",
        slow.sent as i64 - slow.events as i64,
        slow.lost,
        slow.stats_lost
    );
    let per_raw = raw.cpu_ns as f64 / raw.events.max(1) as f64;
    let per_text = text.cpu_ns as f64 / text.events.max(1) as f64;
    println!("reader cpu per event: text / binary = {:.1}x", per_text / per_raw);

    // Parsing alone, from memory: the captured pages and lines again.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        50
    } else {
        2
    };
    // Rebuild a page header around each page's captured records.
    let pages: Vec<(u32, Vec<u8>)> = pages
        .into_iter()
        .map(|(cpu, data)| {
            let mut page = vec![0u8; layout.data_offset];
            page[layout.commit_offset..layout.commit_offset + 8].copy_from_slice(&(data.len() as u64).to_ne_bytes());
            page.extend_from_slice(&data);
            (cpu, page)
        })
        .collect();
    let mut n = 0u64;
    let start = Instant::now();
    for _ in 0..rounds {
        for (cpu, page) in &pages {
            let p = Page::parse(page, &layout).unwrap();
            for r in p.records().flatten() {
                if let Some(d) = kfree.decode(*cpu, &r) {
                    black_box((d.protocol, d.location, d.reason));
                    n += 1;
                }
            }
        }
    }
    let bin_rate = n as f64 / start.elapsed().as_secs_f64();
    let mut m = 0u64;
    let start = Instant::now();
    for _ in 0..rounds {
        for l in &lines {
            if let Some(d) = parse_kfree_skb_line(l) {
                black_box(d);
                m += 1;
            }
        }
    }
    let text_rate = m as f64 / start.elapsed().as_secs_f64();
    println!(
        "parse only (one core, from memory): binary {:.2} M events/s ({n} events), text {:.2} M events/s ({m} lines): {:.1}x",
        bin_rate / 1e6,
        text_rate / 1e6,
        bin_rate / text_rate
    );
}
