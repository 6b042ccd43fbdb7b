//! triage: at which layer are the packets lost? Watches namespaces (or one
//! interface, or one port) for a few seconds and prints the verdict with
//! its evidence, walking the stack as the seed articles do by hand: ss,
//! nstat, softnet_stat, tc -s qdisc, ip -s link, ethtool -S, dropwatch.
//!
//! `cargo run --example triage -- [-n NS]... [-i IF] [--port P] [--seconds S] [--json] [--html FILE]`
//!
//! Ctrl-C ends the window early and reports what was seen so far.

use std::time::Duration;

use netobs::core::Netns;
use netobs::diagnose::html::HtmlPage;
use netobs::diagnose::{diagnose, Options, ReportText, Target};

#[path = "common/exit.rs"]
mod exit;
#[path = "common/signal.rs"]
mod signal;

const USAGE: &str = "usage: triage [-n NS]... [-i IF] [--port P] [--seconds S] [--json] [--html FILE]";

struct Args {
    target: Target,
    seconds: f64,
    json: bool,
    html: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        target: Target::default(),
        seconds: 5.0,
        json: false,
        html: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or_else(|| format!("triage: {arg} needs {what}\n{USAGE}"));
        match arg.as_str() {
            "-n" | "--netns" => a.target.namespaces.push(Netns::named(&value("a namespace name")?)),
            "-i" | "--interface" => a.target.interface = Some(value("an interface name")?),
            "--port" => {
                let v = value("a port number")?;
                a.target.port = Some(
                    v.parse()
                        .map_err(|_| format!("triage: invalid port \"{v}\"\n{USAGE}"))?,
                );
            }
            "--seconds" => {
                let v = value("a number of seconds")?;
                a.seconds = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86400.0)
                    .ok_or_else(|| format!("triage: invalid number of seconds \"{v}\"\n{USAGE}"))?;
            }
            "--json" => a.json = true,
            "--html" => a.html = Some(value("a file name")?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("triage: unknown argument \"{other}\"\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    exit::run_tool("triage", parse, run)
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let stop = signal::stop_on_signals()?;
    let options = Options {
        window: Duration::from_secs_f64(a.seconds),
        stop: Some(stop),
        ..Options::default()
    };
    let report = diagnose(&a.target, &options)?;
    if let Some(path) = &a.html {
        std::fs::write(path, HtmlPage(&report).to_string()).map_err(|e| format!("write {path}: {e}"))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", ReportText(&report));
    }
    Ok(())
}
