//! `exporter`: the network stack for Prometheus, with node_exporter 1.5's
//! names for what it shares with it, and kernel drop reasons, sockets by
//! state, listen queues and per-queue driver statistics besides.
//!
//! ```text
//! exporter [--listen ADDR] [-n NS]... [--all-namespaces] [--drops] [--ethtool]
//!          [--max-drop-series N] [--node-only]
//! ```
//! Everything it serves is `netobs::metrics`'; this file parses the
//! arguments, builds the registry and runs the server until SIGINT or
//! SIGTERM.

#[path = "common/exit.rs"]
mod exit;
#[path = "common/signal.rs"]
mod signal;

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use netobs::metrics::drops::{DropsCollector, DEFAULT_MAX_SERIES};
use netobs::metrics::{http, standard_registry, Targets};
use netobs::trace::{DropCounter, DropFilter, Kallsyms, Tracefs};

const DEFAULT_LISTEN: &str = "127.0.0.1:9101";

const USAGE: &str = "\
Usage: exporter [--listen ADDR] [-n NS]... [--all-namespaces] [--drops] [--ethtool]
                [--max-drop-series N] [--node-only]

Serves GET /metrics (Prometheus text 0.0.4 or OpenMetrics 1.0, as the
scrape's Accept header asks): node_exporter 1.5's netdev, netstat, sockstat
and softnet families, sockets by state, TCP listen queues and per-queue
driver statistics.

  --listen ADDR        address to listen on (default 127.0.0.1:9101, loopback only)
  -n, --netns NS       read namespace NS (/run/netns/NS); repeat for several,
                       which then carry a netns=\"NS\" label
  --all-namespaces     read the exporter's own namespace (no label) and every
                       /run/netns entry (netns label), listed at each scrape
  --drops              count kernel drops (skb:kfree_skb) by reason and function:
                       netobs_skb_drops_total{reason,location}
  --max-drop-series N  at most N drop series; the rest are summed in
                       {reason=\"other\",location=\"other\"} (default 100)
  --ethtool            driver statistics and link modes (node_ethtool_*, node_network_*_speed_bytes, ...)
  --node-only          only node_exporter's families (no sockets, listen queues
                       or queue statistics; --drops still adds the drops)";

struct Args {
    listen: String,
    netns: Vec<String>,
    all: bool,
    drops: bool,
    ethtool: bool,
    node_only: bool,
    max_drop_series: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        listen: DEFAULT_LISTEN.into(),
        netns: Vec::new(),
        all: false,
        drops: false,
        ethtool: false,
        node_only: false,
        max_drop_series: DEFAULT_MAX_SERIES,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("exporter: {name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--listen" => a.listen = value("--listen")?,
            "-n" | "--netns" => a.netns.push(value("-n")?),
            "--all-namespaces" => a.all = true,
            "--drops" => a.drops = true,
            "--ethtool" => a.ethtool = true,
            "--node-only" => a.node_only = true,
            "--max-drop-series" => {
                let v = value("--max-drop-series")?;
                a.max_drop_series = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("exporter: --max-drop-series: \"{v}\" is not a positive number"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("exporter: unknown argument \"{other}\"\n{USAGE}")),
        }
    }
    if a.all && !a.netns.is_empty() {
        return Err(format!("exporter: -n and --all-namespaces exclude each other\n{USAGE}"));
    }
    Ok(a)
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let stop = signal::stop_on_signals().map_err(|e| format!("install a signal handler: {e}"))?;
    let targets = if a.all { Targets::All } else { Targets::named(&a.netns) };
    let mut registry = standard_registry(targets, a.ethtool, !a.node_only);
    if a.drops {
        let tracefs = Tracefs::find_or_mount()?;
        tracefs.remove_stale_instances();
        let syms = Kallsyms::load()?;
        let counter = DropCounter::open(&tracefs, &DropFilter::default(), Some(&syms))?;
        if let Some(why) = counter.why_not_hist() {
            eprintln!("exporter: drops counted from the kfree_skb ring (no hist trigger: {why})");
        }
        registry.register(Box::new(DropsCollector::new(counter, syms, a.max_drop_series)?));
    }
    let listener = TcpListener::bind(&a.listen).map_err(|e| format!("listen on {}: {e}", a.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listen on {}: {e}", a.listen))?;
    eprintln!("exporter: serving http://{addr}/metrics");
    let config = http::Config {
        error_log: Some(Arc::new(|errors: &[String]| {
            for e in errors {
                eprintln!("exporter: left out of the scrape: {e}");
            }
        })),
        ..http::Config::default()
    };
    http::serve(listener, Arc::new(registry), &stop, config)?;
    Ok(())
}

fn main() -> ExitCode {
    exit::run_tool("exporter", parse, run)
}
