//! Start-up shared by the TCP tools examples (included with `#[path]`):
//! the command line `[--port N] [--count N]`, the signal flag and the monitor.

use netobs::core::stop::Stop;
use netobs::trace::tcp::{TcpMonitor, TcpWatch};
use netobs::trace::Tracefs;

#[path = "../common/exit.rs"]
mod exit;
#[path = "../common/signal.rs"]
mod signal;

/// What a tool runs with.
pub struct Tool {
    /// The monitor on its private instance.
    pub mon: TcpMonitor,
    /// Stop after this many printed events.
    pub count: Option<u64>,
    /// Tripped by SIGINT/SIGTERM; the monitor's waits end with it.
    pub stop: Stop,
}

/// Parses the command line, installs the signal handlers and opens the monitor.
pub fn start(tool: &str, watch: TcpWatch) -> Result<Tool, Box<dyn std::error::Error>> {
    let (watch, count) = parse(tool, watch)?;
    let stop = signal::stop_on_signals()?;
    let mut mon = TcpMonitor::open(&Tracefs::find_or_mount()?, watch)?;
    mon.set_stop(&stop);
    Ok(Tool { mon, count, stop })
}

/// Parses `--port N` and `--count N` into `watch` and the event count limit.
fn parse(tool: &str, mut watch: TcpWatch) -> Result<(TcpWatch, Option<u64>), String> {
    let mut count = None;
    let mut args = std::env::args().skip(1);
    let usage = format!("usage: {tool} [--port N] [--count N]");
    while let Some(a) = args.next() {
        let mut number = || -> Result<u64, String> {
            let v = args.next().ok_or(format!("{a} needs a value; {usage}"))?;
            v.parse().map_err(|_| format!("{a}: {v:?} is not a number; {usage}"))
        };
        match a.as_str() {
            "--port" => watch.port = Some(u16::try_from(number()?).map_err(|_| "--port: out of range".to_string())?),
            "--count" => count = Some(number()?),
            _ => return Err(format!("unknown argument {a:?}; {usage}")),
        }
    }
    Ok((watch, count))
}

/// Runs a tool's body and turns its error into `TOOL: message` on stderr
/// and exit status 1.
pub fn exit_with(tool: &str, run: impl FnOnce() -> Result<(), Box<dyn std::error::Error>>) -> std::process::ExitCode {
    exit::run_tool(tool, || Ok(()), |()| run())
}
