//! Driver statistics of 2000 veth interfaces in one namespace (root only):
//!
//! - one netobs call (`poll::all_stats`: list the links, then names and
//!   values of every interface) vs `ethtool -S DEV` run once per interface
//!   (one `ip netns exec` around a shell loop, so only ethtool is repeated);
//! - the per-interface cost of a repeated poll (names cached: one
//!   ETHTOOL_GSTATS per interface) vs the first read, with heap
//!   allocations counted (a repeated poll reuses its buffers).
//!
//! Both sides must read the same counters of every interface first.
//! Run: `cargo bench --bench ethtool_2000 [-- --links 2000 --runs 9]`

use std::process::Command;
use std::time::{Duration, Instant};

use netobs::core::Netns;
use netobs::ethtool::poll::{all_stats, StatsPoller};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test` build runs nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let links = arg("--links", 2000);
    let runs = arg("--runs", 9);
    let ns = Namespace(format!("nbt-ethb-{}", std::process::id()));
    run(Command::new("ip").args(["netns", "add", &ns.0]));
    let batch: String = (0..links / 2)
        .map(|i| format!("link add e{i}a type veth peer name e{i}b\n"))
        .collect();
    let mut child = Command::new("ip")
        .args(["-n", &ns.0, "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("ip -batch");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(batch.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let netns = Netns::named(&ns.0);
    let devs: Vec<String> = (0..links / 2)
        .flat_map(|i| [format!("e{i}a"), format!("e{i}b")])
        .collect();
    let script = format!("for d in {}; do ethtool -S $d; done", devs.join(" "));
    let ethtool_all = || run(Command::new("ip").args(["netns", "exec", &ns.0, "sh", "-c", &script]));

    // Same counters on both sides before timing anything.
    let ours = all_stats(Some(&netns)).unwrap();
    let mut text = String::new();
    for d in &devs {
        let i = ours.iter().find(|i| &i.ifname == d).unwrap();
        text.push_str("NIC statistics:\n");
        for (n, v) in i.iter() {
            text.push_str(&format!("     {n}: {v}\n"));
        }
    }
    assert_eq!(
        text.as_bytes(),
        ethtool_all(),
        "outputs differ: the comparison would be meaningless"
    );
    let counters: usize = ours.iter().map(|i| i.values.len()).sum();

    let mut one_call = Vec::new();
    let mut tool = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let all = all_stats(Some(&netns)).unwrap();
        one_call.push(t.elapsed());
        assert_eq!(all.len(), links + 1);
        let t = Instant::now();
        ethtool_all();
        tool.push(t.elapsed());
    }

    let mut poller = StatsPoller::open_in(&netns).unwrap();
    let a0 = allocations();
    let t = Instant::now();
    poller.poll().unwrap();
    let first = t.elapsed();
    let first_allocs = allocations() - a0;
    poller.poll().unwrap(); // rates buffers get their capacity
    let mut repeat = Vec::with_capacity(runs);
    let a0 = allocations();
    for _ in 0..runs {
        let t = Instant::now();
        poller.poll().unwrap();
        repeat.push(t.elapsed());
    }
    let repeat_allocs = (allocations() - a0) as f64 / runs as f64;

    let (oc, tl, rp) = (median(one_call), median(tool), median(repeat));
    let n = (links + 1) as f64;
    println!("driver statistics of {links} veth + lo in one namespace ({counters} counters), {runs} runs, medians");
    println!("  ethtool -S per interface (shell loop): {:9.1} ms", ms(tl));
    println!(
        "  netobs all_stats (one call):           {:9.1} ms   ratio {:.1}x",
        ms(oc),
        tl.as_secs_f64() / oc.as_secs_f64()
    );
    println!(
        "  poller first read:  {:7.2} µs per interface, {:.1} allocations per interface",
        first.as_secs_f64() * 1e6 / n,
        first_allocs as f64 / n
    );
    println!(
        "  poller repeat poll: {:7.2} µs per interface, {:.1} allocations per poll   first/repeat {:.1}x",
        rp.as_secs_f64() * 1e6 / n,
        repeat_allocs,
        first.as_secs_f64() / rp.as_secs_f64()
    );
}
