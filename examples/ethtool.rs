//! `ethtool [--json] [-I] -S|-i|-g|-l|-k|-c|-a DEV`, printed as ethtool 6.1
//! prints them (error text and exit status included): -S and -i on the
//! SIOCETHTOOL ioctl path, the others and `-S DEV --all-groups` /
//! `--groups G..` on the ethtool netlink family. What each block looks
//! like is `netobs::ethtool::fmt`'s; this program parses the arguments,
//! asks the library and chooses ethtool's error lines and exit codes.
//! `--json` works for every mode (ethtool 6.1 refuses it for -S without
//! groups, -i, -g, -l and -c; there the objects are the library's own, in
//! ethtool's layout).

use std::fmt::Display;
use std::io::Write as _;
use std::process::ExitCode;

use netobs::core::error::strerror;
use netobs::core::ErrorInfo;
use netobs::ethtool::fmt::{
    write_json, ChannelsDisplay, CoalesceDisplay, DriverInfoDisplay, DriverStatsDisplay, FeaturesDisplay, PauseDisplay,
    RingsDisplay, StdStatsDisplay,
};
use netobs::ethtool::netlink::{Dev, EthtoolNetlink};
use netobs::ethtool::{DriverStats, Error, Ethtool, StatsKind, StringSetId};
use serde::Serialize;

/// What ethtool was asked to show.
enum Mode<'a> {
    /// `-S DEV`: the driver's statistics (ioctl).
    DriverStats,
    /// `-S DEV --all-groups` (no names) or `--groups G..`.
    StdStats(Vec<&'a str>),
    /// `-i DEV` (ioctl).
    DriverInfo,
    /// `-g DEV`.
    Rings,
    /// `-l DEV`.
    Channels,
    /// `-c DEV`.
    Coalesce,
    /// `-a DEV`.
    Pause,
    /// `-k DEV`.
    Features,
}

/// The command line.
struct Args<'a> {
    /// `--json`.
    json: bool,
    /// `-I` / `--include-statistics`.
    include_stats: bool,
    mode: Mode<'a>,
    dev: &'a str,
}

/// ethtool's `exit_bad_args()`.
fn bad_args() -> ExitCode {
    eprintln!("ethtool: bad command line argument(s)");
    eprintln!("For more information run ethtool -h");
    ExitCode::from(1)
}

/// Parses the command line as ethtool's `main()` does: global flags
/// first, then the option, the device and the option's own parameters.
fn parse(argv: &[String]) -> Result<Args<'_>, ExitCode> {
    let mut argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (mut json, mut include_stats) = (false, false);
    while let Some(first) = argv.first() {
        match *first {
            "--json" => json = true,
            "-I" | "--include-statistics" => include_stats = true,
            _ => break,
        }
        argv.remove(0);
    }
    let (option, dev, rest) = match argv.as_slice() {
        [option, dev, rest @ ..] if !dev.starts_with('-') => (*option, *dev, rest),
        _ => return Err(bad_args()),
    };
    let mode = match (option, rest) {
        ("-S" | "--statistics", []) => Mode::DriverStats,
        ("-S" | "--statistics", ["--all-groups"]) => Mode::StdStats(Vec::new()),
        ("-S" | "--statistics", ["--groups", groups @ ..]) if !groups.is_empty() => Mode::StdStats(groups.to_vec()),
        ("-S" | "--statistics", [other, ..]) => {
            eprintln!("ethtool (-S): unknown parameter '{other}'");
            return Err(ExitCode::from(1));
        }
        (_, [_, ..]) => return Err(bad_args()),
        ("-i" | "--driver", []) => Mode::DriverInfo,
        ("-g" | "--show-ring", []) => Mode::Rings,
        ("-l" | "--show-channels", []) => Mode::Channels,
        ("-c" | "--show-coalesce", []) => Mode::Coalesce,
        ("-a" | "--show-pause", []) => Mode::Pause,
        ("-k" | "--show-features" | "--show-offload", []) => Mode::Features,
        _ => return Err(bad_args()),
    };
    Ok(Args {
        json,
        include_stats,
        mode,
        dev,
    })
}

/// What perror() would say after the step: the errno's words, or our own
/// text where no errno is behind the error.
fn errno_text(e: &Error) -> String {
    e.errno().map_or_else(|| e.to_string(), strerror)
}

/// ethtool's `perror(step)` and the exit code it returns after it.
fn perror(step: &str, e: &Error, code: u8) -> ExitCode {
    eprintln!("{step}: {}", errno_text(e));
    ExitCode::from(code)
}

/// A netlink failure as ethtool prints it: the kernel's extended-ack
/// message (with the offending attribute's offset), then the errno text.
fn netlink_error(e: &Error) -> ExitCode {
    if let Some(m) = e.kernel_message() {
        match e.kernel_offset() {
            Some(o) => eprintln!("netlink error: {m} (offset {o})"),
            None => eprintln!("netlink error: {m}"),
        }
    }
    eprintln!("netlink error: {}", errno_text(e));
    ExitCode::from(1)
}

/// Runs `query` on a fresh ethtool netlink socket; a failure is printed
/// as ethtool prints it.
fn netlink<T>(query: impl FnOnce(&mut EthtoolNetlink) -> Result<T, Error>) -> Result<T, ExitCode> {
    EthtoolNetlink::open()
        .and_then(|mut nl| query(&mut nl))
        .map_err(|e| netlink_error(&e))
}

/// The SIOCETHTOOL handle (ethtool's `ioctl_init`).
fn control_socket() -> Result<Ethtool, ExitCode> {
    Ethtool::open().map_err(|e| perror("Cannot get control socket", &e, 70))
}

/// `ethtool -S DEV`'s steps (ethtool.c, `do_gstats`), each with its error
/// line and exit code: the names, then the values.
fn driver_stats(eth: &Ethtool, dev: &str) -> Result<DriverStats, ExitCode> {
    let names = eth
        .string_set(dev, StringSetId::Stats)
        .map_err(|e| perror("Cannot get stats strings information", &e, 96))?;
    if names.is_empty() {
        eprintln!("no stats available");
        return Err(ExitCode::from(94));
    }
    let mut values = Vec::new();
    eth.read_values(dev, StatsKind::Driver, &names, &mut values)
        .map_err(|e| perror("Cannot get stats information", &e, 97))?;
    Ok(DriverStats { names, values })
}

/// ethtool's JSON when no device could be shown: the array `new_json_obj`
/// opened, closed empty (`[ ]`).
const NO_OBJECTS: [(); 0] = [];

/// Prints one device's block: ethtool's text, or with `--json` its object
/// in the array ethtool opens around its output.
fn show(json: bool, block: &(impl Display + Serialize)) {
    let mut out = std::io::stdout().lock();
    // Like ethtool, a closed stdout is not an error of the query.
    let _ = if json {
        write_json(&mut out, &[block])
    } else {
        write!(out, "{block}")
    };
}

/// Asks for what `args` names and prints it.
fn run(args: &Args<'_>) -> Result<(), ExitCode> {
    let (dev, json) = (args.dev, args.json);
    let d = Dev::Name(dev);
    match &args.mode {
        Mode::DriverStats => {
            let stats = driver_stats(&control_socket()?, dev)?;
            show(json, &DriverStatsDisplay::new(dev, StatsKind::Driver, &stats));
        }
        Mode::DriverInfo => {
            let info = control_socket()?
                .driver_info(dev)
                .map_err(|e| perror("Cannot get driver information", &e, 71))?;
            show(json, &DriverInfoDisplay::new(dev, &info));
        }
        Mode::StdStats(groups) => {
            let stats = netlink(|nl| nl.std_stats(d, groups))?;
            show(json, &StdStatsDisplay::new(dev, &stats));
        }
        Mode::Rings => show(json, &RingsDisplay::new(dev, &netlink(|nl| nl.rings(d))?)),
        Mode::Channels => show(json, &ChannelsDisplay::new(dev, &netlink(|nl| nl.channels(d))?)),
        Mode::Coalesce => show(json, &CoalesceDisplay::new(dev, &netlink(|nl| nl.coalesce(d))?)),
        Mode::Features => show(json, &FeaturesDisplay::new(dev, &netlink(|nl| nl.features(d))?)),
        Mode::Pause => {
            let (pause, negotiated) = netlink(|nl| {
                let pause = nl.pause(d, args.include_stats)?;
                let negotiated = nl.pause_negotiated(d, &pause)?;
                Ok((pause, negotiated))
            })?;
            show(json, &PauseDisplay::new(dev, &pause, negotiated));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => {
            if args.json {
                let _ = write_json(std::io::stdout().lock(), &NO_OBJECTS);
            }
            code
        }
    }
}
