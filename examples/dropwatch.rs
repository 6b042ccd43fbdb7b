//! dropwatch on tracepoints: where in the kernel packets are dropped, and why.
//!
//! `cargo run --release --example dropwatch -- [-l kas] [--interval SECS]
//! [--count N] [--reason NAME] [--protocol 0xNNNN] [--location FUNC]
//! [--top N] [--stacks N] [--json]`
//!
//! Every interval it prints one line per (location, reason, protocol) seen,
//! largest first, like dropwatch's summary alerts:
//! `1 drops at __netif_receive_skb_core.constprop.0+0x7e6/0xf00 (0xffffffff81e65646) [UNHANDLED_PROTO]`.
//! It reads `skb:kfree_skb` from a private trace instance, so it also works
//! where the real dropwatch fails with "Unable to find NET_DM family".
//! With `--stacks N` it also prints the N most frequent kernel stacks of
//! the interval (a `stacktrace` trigger on the event).
//! Ctrl-C or SIGTERM ends it and removes the instance.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use netobs::trace::btf::Btf;
use netobs::trace::frames::{DropFrames, FrameLine};
use netobs::trace::{DropCounts, DropFilter, DropMonitor, Kallsyms, StackCounts, Tracefs};

#[path = "common/exit.rs"]
mod exit;
#[path = "common/signal.rs"]
mod signal;

/// `--json`: one object per (location, reason, protocol) of an interval.
#[derive(serde::Serialize)]
struct DropLine<'a> {
    interval: u64,
    count: u64,
    rate: Box<RawValue>,
    location: String,
    symbol: Option<String>,
    reason: &'a str,
    reason_code: u32,
    protocol: u16,
}

/// `--json`: the events an interval lost.
#[derive(serde::Serialize)]
struct LostLine {
    interval: u64,
    lost: u64,
}

/// `--json`: a kernel stack and how many drops took it.
#[derive(serde::Serialize)]
struct StackLine<'a> {
    interval: u64,
    count: u64,
    stack: &'a [String],
}

struct Args {
    kas: bool,
    interval: Duration,
    count: Option<u64>,
    top: usize,
    stacks: usize,
    json: bool,
    frames: bool,
    filter: DropFilter,
}

const USAGE: &str = "usage: dropwatch [-l kas] [--interval SECS] [--count N] [--reason NAME] \
                     [--protocol 0xNNNN] [--location FUNC] [--top N] [--stacks N] [--json] [--frames]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        kas: false,
        interval: Duration::from_secs(1),
        count: None,
        top: usize::MAX,
        stacks: 0,
        json: false,
        frames: false,
        filter: DropFilter::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "-l" => match value("-l")?.as_str() {
                "kas" => a.kas = true,
                "none" => a.kas = false,
                m => return Err(format!("unknown lookup method {m:?} (kas or none)")),
            },
            "--interval" | "-i" => {
                let v = value("--interval")?;
                let s: f64 = v
                    .parse()
                    .map_err(|_| format!("--interval: {v:?} is not a number of seconds"))?;
                if !s.is_finite() || s <= 0.0 {
                    return Err("--interval must be positive".into());
                }
                a.interval = Duration::from_secs_f64(s);
            }
            "--count" | "-c" => {
                let v = value("--count")?;
                a.count = Some(v.parse().map_err(|_| format!("--count: {v:?} is not a count"))?);
            }
            "--top" => {
                let v = value("--top")?;
                a.top = v.parse().map_err(|_| format!("--top: {v:?} is not a count"))?;
            }
            "--stacks" => {
                let v = value("--stacks")?;
                a.stacks = v.parse().map_err(|_| format!("--stacks: {v:?} is not a count"))?;
            }
            "--reason" => a.filter.reason = Some(value("--reason")?),
            "--location" => a.filter.location = Some(value("--location")?),
            "--protocol" => {
                let v = value("--protocol")?;
                let n = match v.strip_prefix("0x") {
                    Some(h) => u16::from_str_radix(h, 16),
                    None => v.parse(),
                };
                a.filter.protocol = Some(n.map_err(|_| format!("--protocol: {v:?} is not an EtherType"))?);
            }
            "--json" | "-j" => a.json = true,
            "--frames" => a.frames = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// `--frames`: one line per dropped frame with its link-layer header, read
/// by an eprobe on skb:kfree_skb (offsets from the kernel's BTF); `--count`
/// counts frames.
fn run_frames(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let stop = signal::stop_on_signals().map_err(|e| format!("install a signal handler: {e}"))?;
    let tracefs = Tracefs::find_or_mount()?;
    let syms = Kallsyms::load()?;
    let btf = Btf::load_vmlinux().map_err(|e| format!("--frames: {e}"))?;
    let mut frames = DropFrames::open(&tracefs, &args.filter, Some(&syms), &btf)
        .map_err(|e| format!("--frames needs event probes on skb:kfree_skb: {e}"))?;
    frames.set_stop(&stop);
    eprintln!(
        "dropwatch: frames from an eprobe on skb:kfree_skb (instance {})",
        frames.instance().name()
    );
    let mut seen = 0u64;
    while !stop.is_stopped() && args.count.is_none_or(|c| seen < c) {
        let mut lines = Vec::new();
        let kfree = frames.kfree_skb().clone();
        let lost = frames.poll(Some(Duration::from_millis(500)), |f| {
            lines.push(
                FrameLine {
                    frame: f,
                    kfree: &kfree,
                    syms: Some(&syms),
                }
                .to_string(),
            )
        })?;
        for l in lines {
            if args.count.is_some_and(|c| seen >= c) {
                break;
            }
            println!("{l}");
            seen += 1;
        }
        if lost > 0 {
            println!("{lost} drop events lost (trace buffer overrun)");
        }
    }
    Ok(())
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.frames {
        return run_frames(args);
    }
    let stop = signal::stop_on_signals().map_err(|e| format!("install a signal handler: {e}"))?;
    let tracefs = Tracefs::find_or_mount()?;
    let syms = if args.kas || args.stacks > 0 || args.filter.location.is_some() {
        Some(Kallsyms::load()?)
    } else {
        None
    };
    // Stacks come from a trigger on the tracepoint; otherwise NET_DM where the kernel has it.
    let mut mon = if args.stacks > 0 {
        DropMonitor::open_tracepoint(&tracefs, &args.filter, syms.as_ref())?
    } else {
        DropMonitor::open(&tracefs, &args.filter, syms.as_ref())?
    };
    mon.set_stop(&stop);
    if args.stacks > 0 {
        mon.enable_stacks()?;
    }
    match mon.net_dm_error() {
        None => eprintln!("dropwatch: backend NET_DM generic netlink (packet alerts)"),
        Some(net_dm) => {
            let via = match mon.text_fallback_reason() {
                None => "trace_pipe_raw".to_string(),
                Some(why) => format!("text trace_pipe, because {why}"),
            };
            eprintln!(
                "dropwatch: backend skb:kfree_skb tracepoint via {via} (instance {}); NET_DM: {net_dm}",
                mon.instance().name(),
            );
        }
    }
    let mut counts = DropCounts::default();
    let mut stacks = StackCounts::default();
    let mut interval = 0u64;
    while !stop.is_stopped() && args.count.is_none_or(|c| interval < c) {
        let start = Instant::now();
        let mut lost = 0;
        while !stop.is_stopped() {
            let left = args.interval.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            lost += if args.stacks > 0 {
                mon.poll_detailed(Some(left), |d| {
                    counts.add(&d.drop);
                    stacks.add(d.stack);
                })?
            } else {
                mon.poll(Some(left), |d| counts.add(d))?
            };
        }
        interval += 1;
        let secs = start.elapsed().as_secs_f64();
        let kfree = mon.kfree_skb();
        for (key, n) in counts.top(args.top) {
            let reason = kfree
                .reason_name(key.reason)
                .map(str::to_owned)
                .unwrap_or_else(|| key.reason.to_string());
            let symbol = syms.as_ref().filter(|_| args.kas).and_then(|s| s.lookup(key.location));
            if args.json {
                let line = DropLine {
                    interval,
                    count: n,
                    // Three decimals, as the text form rounds its rates.
                    rate: RawValue::from_string(format!("{:.3}", DropCounts::rate(n, secs)))?,
                    location: format!("{:#x}", key.location),
                    symbol: symbol.map(|l| l.to_string()),
                    reason: &reason,
                    reason_code: key.reason,
                    protocol: key.protocol,
                };
                println!("{}", serde_json::to_string(&line)?);
            } else if let Some(l) = symbol {
                println!("{n} drops at {l} ({:#x}) [{reason}]", key.location);
            } else if args.kas {
                println!("{n} drops at {:#x} ({:#x}) [{reason}]", key.location, key.location);
            } else {
                println!("{n} drops at location {:#x} [{reason}]", key.location);
            }
        }
        if lost > 0 {
            if args.json {
                println!("{}", serde_json::to_string(&LostLine { interval, lost })?);
            } else {
                println!("{lost} drop events lost (trace buffer overrun)");
            }
        }
        for (stack, n) in stacks.top(args.stacks) {
            let frames: Vec<String> = stack
                .iter()
                .map(|a| syms.as_ref().map(|s| s.format(*a)).unwrap_or_else(|| format!("{a:#x}")))
                .collect();
            if args.json {
                let line = StackLine {
                    interval,
                    count: n,
                    stack: &frames,
                };
                println!("{}", serde_json::to_string(&line)?);
            } else {
                println!("{n} drops with stack:");
                for f in frames {
                    println!("    {f}");
                }
            }
        }
        counts.clear();
        stacks.clear();
    }
    Ok(())
}

fn main() -> ExitCode {
    exit::run_tool("dropwatch", parse_args, run)
}
