//! The call graph under a kernel function, as the seed articles follow a
//! packet's receive path with ftrace's function_graph tracer (and as
//! `trace-cmd record -p function_graph -g FUNC` shows it).
//!
//! `cargo run --example funcgraph -- [-g FUNC] [--depth N] [--count N] [--pid PID] [--irqs]`
//!
//! Default FUNC: `__netif_receive_skb_core` (with its `.constprop.0`
//! copy), depth 3, interrupts that hit a traced call left out (as
//! `trace-cmd -O nofuncgraph-irqs`; `--irqs` shows them). Prints one line per call, `CPU) DURATION |  graph`, as
//! the kernel's trace file does; `--count N` stops after N top-level calls.
//! The tracer runs on the top-level instance (the only one with
//! set_graph_function) and only when nobody else uses it; Ctrl-C restores it.

use std::process::ExitCode;
use std::time::Duration;

use netobs::trace::graph::{traceable_functions, Duration3, FunctionGraph, GraphLines};
use netobs::trace::{Kallsyms, Tracefs};

#[path = "common/exit.rs"]
mod exit;
#[path = "common/signal.rs"]
mod signal;

struct Args {
    function: String,
    depth: u32,
    count: Option<u64>,
    pid: Option<i32>,
    irqs: bool,
}

const USAGE: &str = "usage: funcgraph [-g FUNC] [--depth N] [--count N] [--pid PID] [--irqs]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        function: "__netif_receive_skb_core".into(),
        depth: 3,
        count: None,
        pid: None,
        irqs: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "-g" => a.function = value("-g")?,
            "--depth" => {
                let v = value("--depth")?;
                a.depth = v.parse().map_err(|_| format!("--depth: {v:?} is not a number"))?;
            }
            "--count" => {
                let v = value("--count")?;
                a.count = Some(v.parse().map_err(|_| format!("--count: {v:?} is not a count"))?);
            }
            "--pid" => {
                let v = value("--pid")?;
                a.pid = Some(v.parse().map_err(|_| format!("--pid: {v:?} is not a pid"))?);
            }
            "--irqs" => a.irqs = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let stop = signal::stop_on_signals().map_err(|e| format!("install a signal handler: {e}"))?;
    let tracefs = Tracefs::find_or_mount()?;
    let functions = traceable_functions(&tracefs, &args.function)?;
    if functions.is_empty() {
        return Err(format!(
            "no traceable kernel function {:?} (available_filter_functions)",
            args.function
        )
        .into());
    }
    let syms = Kallsyms::load()?;
    let names: Vec<&str> = functions.iter().map(String::as_str).collect();
    let mut graph = FunctionGraph::open(&tracefs, &names, args.depth, args.irqs)?;
    graph.set_stop(&stop);
    eprintln!("funcgraph: tracing {} (depth {})", functions.join(" "), args.depth);
    let mut lines = GraphLines::default();
    let mut done = 0u64;
    while !stop.is_stopped() && args.count.is_none_or(|c| done < c) {
        let mut out = Vec::new();
        graph.poll(Some(Duration::from_millis(500)), |ev| {
            lines.feed(ev, Some(&syms), |l| out.push(l));
        })?;
        for l in out {
            if args.pid.is_some_and(|p| p != l.pid) || args.count.is_some_and(|c| done >= c) {
                continue;
            }
            println!(
                " {}) {}|  {}{}",
                l.cpu,
                Duration3(l.duration_ns),
                "  ".repeat(l.depth.max(0) as usize),
                l.text
            );
            if l.depth == 0 && (l.text == "}" || l.text.ends_with("();")) {
                done += 1;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    exit::run_tool("funcgraph", parse_args, run)
}
