//! `ip [-s [-s]] [-j] [-n NETNS] link [show [dev] DEV]`: iproute2's
//! `ip link show`, byte for byte as iproute2 6.1 prints it, built only on the
//! public netobs API: netobs-core's `LinkShow` knows what ip prints for a
//! link (text, and `ip -j` through its `Serialize`); this file parses the
//! arguments, asks for the links and writes them out. `ip -s link --interval
//! SECS [--count N]` prints nicstat-style rates instead.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netobs::core::names::Groups;
use netobs::core::rates::CounterSnapshot;
use netobs::core::rtnetlink::{Link, LinkNames, LinkShow, StatsLevel};
use netobs::core::{Error, NetlinkSocket, Netns, Protocol};
use serde_json::value::RawValue;

struct Opts {
    stats: Option<StatsLevel>,
    json: bool,
    netns: Option<String>,
    dev: Option<String>,
    interval: Option<f64>,
    count: Option<u64>,
}

fn usage() -> ExitCode {
    eprintln!("Usage: ip [ -s [ -s ] ] [ -j ] [ -n NETNS ] link [ show [ [ dev ] DEVICE ] ]");
    eprintln!("       ip -s link --interval SECS [ --count N ] [ show [ dev ] DEVICE ]");
    ExitCode::from(255)
}

/// iproute2's `matches()`: `arg` is a non-empty prefix of `word`.
fn matches(arg: &str, word: &str) -> bool {
    !arg.is_empty() && word.starts_with(arg)
}

fn parse_args() -> Result<Opts, ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stats_options = 0;
    let mut o = Opts {
        stats: None,
        json: false,
        netns: None,
        dev: None,
        interval: None,
        count: None,
    };
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') && !args[i].starts_with("--") {
        let a = args[i].as_str();
        let a = a
            .strip_prefix("--")
            .map(|s| s.to_string())
            .unwrap_or_else(|| a.to_string());
        if matches(&a, "-stats") || matches(&a, "-statistics") {
            stats_options += 1;
        } else if matches(&a, "-json") {
            o.json = true;
        } else if matches(&a, "-netns") {
            i += 1;
            o.netns = Some(args.get(i).ok_or_else(usage)?.clone());
        } else {
            eprintln!("Option \"{a}\" is unknown, try \"ip -help\".");
            return Err(ExitCode::from(255));
        }
        i += 1;
    }
    if !args.get(i).is_some_and(|a| matches(a, "link")) {
        return Err(usage());
    }
    i += 1;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "show" | "list" | "lst" => {}
            "--interval" => {
                i += 1;
                o.interval = Some(
                    args.get(i)
                        .and_then(|s| s.parse().ok())
                        .filter(|&s: &f64| s > 0.0)
                        .ok_or_else(usage)?,
                );
            }
            "--count" => {
                i += 1;
                o.count = Some(args.get(i).and_then(|s| s.parse().ok()).ok_or_else(usage)?);
            }
            "dev" => {
                i += 1;
                o.dev = Some(args.get(i).ok_or_else(usage)?.clone());
            }
            "help" => return Err(usage()),
            dev => {
                if o.dev.is_some() {
                    eprintln!("Error: either \"dev\" is duplicate, or \"{dev}\" is a garbage.");
                    return Err(ExitCode::from(255));
                }
                o.dev = Some(dev.to_string());
            }
        }
        i += 1;
    }
    o.stats = StatsLevel::from_count(stats_options);
    Ok(o)
}

fn open_socket(o: &Opts) -> Result<NetlinkSocket, ExitCode> {
    let netns = o.netns.as_deref().map(Netns::named).unwrap_or_default();
    NetlinkSocket::open_in(Protocol::Route, &netns).map_err(|e| {
        match (&e, &o.netns) {
            (Error::Netns { source, .. }, Some(n)) => {
                let text = netobs::core::error::strerror(source.raw_os_error().unwrap_or(0));
                eprintln!("Cannot open network namespace \"{n}\": {text}");
            }
            _ => eprintln!("ip: {e}"),
        }
        ExitCode::from(255)
    })
}

/// The link messages to show, copied out of the receive buffer so the
/// socket is free for the lookups of peers, masters and namespaces.
type LinkMessages = Vec<(u16, Vec<u8>)>;

/// One link: RTM_GETLINK by name (or altname), as `ip link show DEV` does.
fn one_link(sock: &mut NetlinkSocket, dev: &str) -> Result<LinkMessages, ExitCode> {
    match sock.link_by_name(dev) {
        Ok(l) => Ok(vec![(l.msg_kind(), l.payload().to_vec())]),
        Err(Error::NoSuchInterface(_)) => {
            eprintln!("Device \"{dev}\" does not exist.");
            Err(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("ip: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// Every link: one dump, whose names and flags also fill the cache.
fn all_links(sock: &mut NetlinkSocket, names: &mut LinkNames) -> Result<LinkMessages, ExitCode> {
    let mut messages = Vec::new();
    sock.for_each_link(|l| {
        names.remember(l);
        messages.push((l.msg_kind(), l.payload().to_vec()));
    })
    .map_err(|e| {
        eprintln!("Dump terminated: {e}");
        ExitCode::from(1)
    })?;
    Ok(messages)
}

fn show(o: &Opts) -> Result<(), ExitCode> {
    let mut sock = open_socket(o)?;
    let mut names = LinkNames::new(Groups::system());
    let messages = match &o.dev {
        Some(dev) => one_link(&mut sock, dev)?,
        None => all_links(&mut sock, &mut names)?,
    };
    let links: Vec<Link<'_>> = messages
        .iter()
        .filter_map(|(kind, payload)| Link::parse_payload(*kind, payload).ok())
        .collect();
    let shown: Vec<LinkShow<'_>> = links
        .iter()
        .map(|l| LinkShow::resolve(l, &mut names, &mut sock, o.stats))
        .collect();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe ends the output quietly, as for ip.
    let _ = if o.json {
        serde_json::to_writer(&mut w, &shown)
            .map_err(std::io::Error::from)
            .and_then(|()| w.write_all(b"\n"))
    } else {
        shown.iter().try_for_each(|s| write!(w, "{s}"))
    }
    .and_then(|()| w.flush());
    Ok(())
}

/// A rate as `{:.3}` writes it. serde_json writes an f64 in its shortest
/// form (`1.5`, not `1.500`), so the digits go to it as a raw JSON number.
struct ThreeDecimals(f64);

impl serde::Serialize for ThreeDecimals {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(format!("{:.3}", self.0)) {
            Ok(digits) => digits.serialize(serializer),
            Err(_) => RawValue::NULL.serialize(serializer), // NaN or infinite
        }
    }
}

/// One line of `--interval -j` output.
#[derive(serde::Serialize)]
struct RateLine<'a> {
    time: &'a str,
    ifname: &'a str,
    rx_kbytes: ThreeDecimals,
    tx_kbytes: ThreeDecimals,
    rx_packets: ThreeDecimals,
    tx_packets: ThreeDecimals,
    rx_avg_size: ThreeDecimals,
    tx_avg_size: ThreeDecimals,
    rx_errors: ThreeDecimals,
    tx_errors: ThreeDecimals,
    rx_dropped: ThreeDecimals,
    tx_dropped: ThreeDecimals,
}

fn rates(o: &Opts, secs: f64) -> Result<(), ExitCode> {
    let mut sock = open_socket(o)?;
    let take = |sock: &mut NetlinkSocket| {
        CounterSnapshot::take(sock).map_err(|e| {
            eprintln!("ip: {e}");
            ExitCode::from(1)
        })
    };
    let mut prev = take(&mut sock)?;
    if let Some(dev) = &o.dev {
        if !prev.links.iter().any(|(_, n, _)| n == dev) {
            eprintln!("Device \"{dev}\" does not exist.");
            return Err(ExitCode::from(1));
        }
    }
    if !o.json {
        println!(
            "{:>8} {:>12} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            "Time", "Int", "rKB/s", "wKB/s", "rPk/s", "wPk/s", "rAvs", "wAvs", "rErr/s", "wErr/s", "rDrp/s", "wDrp/s"
        );
    }
    let mut n = 0u64;
    while o.count.is_none_or(|c| n < c) {
        std::thread::sleep(Duration::from_secs_f64(secs));
        let cur = take(&mut sock)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            % 86400;
        let t = format!("{:02}:{:02}:{:02}", now / 3600, now / 60 % 60, now % 60);
        let mut out = String::new();
        for r in cur.rates_since(&prev) {
            if o.dev.as_ref().is_some_and(|d| *d != r.name) {
                continue;
            }
            if o.json {
                let line = RateLine {
                    time: &t,
                    ifname: &r.name,
                    rx_kbytes: ThreeDecimals(r.rx_kbytes),
                    tx_kbytes: ThreeDecimals(r.tx_kbytes),
                    rx_packets: ThreeDecimals(r.rx_packets),
                    tx_packets: ThreeDecimals(r.tx_packets),
                    rx_avg_size: ThreeDecimals(r.rx_avg_size),
                    tx_avg_size: ThreeDecimals(r.tx_avg_size),
                    rx_errors: ThreeDecimals(r.rx_errors),
                    tx_errors: ThreeDecimals(r.tx_errors),
                    rx_dropped: ThreeDecimals(r.rx_dropped),
                    tx_dropped: ThreeDecimals(r.tx_dropped),
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    out.push_str(&json);
                    out.push('\n');
                }
            } else {
                let _ = writeln!(
                    out,
                    "{:>8} {:>12} {:>9.2} {:>9.2} {:>8.2} {:>8.2} {:>7.1} {:>7.1} {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
                    t,
                    r.name,
                    r.rx_kbytes,
                    r.tx_kbytes,
                    r.rx_packets,
                    r.tx_packets,
                    r.rx_avg_size,
                    r.tx_avg_size,
                    r.rx_errors,
                    r.tx_errors,
                    r.rx_dropped,
                    r.tx_dropped
                );
            }
        }
        print!("{out}");
        let _ = std::io::stdout().flush();
        prev = cur;
        n += 1;
    }
    Ok(())
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(code) => return code,
    };
    let r = match o.interval {
        Some(secs) => rates(&o, secs),
        None => show(&o),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
