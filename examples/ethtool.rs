//! `ethtool [--json] [-I] -S|-i|-g|-l|-k|-c|-a DEV`, printed as ethtool 6.1
//! prints them (error text and exit status included): -S and -i on the
//! SIOCETHTOOL ioctl path, the others and `-S DEV --all-groups` /
//! `--groups G..` on the ethtool netlink family. `--json` works for every
//! mode (ethtool 6.1 refuses it for -S without groups, -i, -g, -l and -c;
//! there the JSON layout is our own, in ethtool's json_writer style).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use netobs::core::Error as CoreError;
use netobs::ethtool::netlink::{Coalesce, Dev, EthtoolNetlink, Features};
use netobs::ethtool::{Error, Ethtool, StatsKind, StringSetId};

/// strerror-style text of an errno, as ethtool's perror prints it.
fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    s.split(" (os error").next().unwrap_or_default().to_string()
}

fn err_text(e: &Error) -> String {
    match e.errno() {
        Some(n) => strerror(n),
        None => e.to_string(),
    }
}

fn bad_args() -> ExitCode {
    eprintln!("ethtool: bad command line argument(s)");
    eprintln!("For more information run ethtool -h");
    ExitCode::from(1)
}

/// A writer that lays out JSON as ethtool's json_writer does in pretty
/// mode: four spaces per level, `[ {` ... `} ]`, `{}` for empty objects.
struct Json {
    out: String,
    depth: usize,
    sep: bool,
}

impl Json {
    fn new() -> Self {
        Json {
            out: String::new(),
            depth: 0,
            sep: false,
        }
    }
    fn eol(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }
    fn eor(&mut self) {
        if self.sep {
            self.out.push(',');
        }
        self.sep = true;
    }
    fn begin(&mut self, c: char) {
        self.eor();
        self.out.push(c);
        self.depth += 1;
        self.sep = false;
    }
    fn end(&mut self, c: char) {
        self.depth -= 1;
        if self.sep {
            self.eol();
        }
        self.out.push(c);
        self.sep = true;
    }
    fn start_array(&mut self) {
        self.begin('[');
        self.out.push(' ');
    }
    fn end_array(&mut self) {
        if self.sep {
            self.out.push(' ');
        }
        self.sep = false;
        self.end(']');
    }
    fn start_object(&mut self) {
        self.begin('{');
    }
    fn end_object(&mut self) {
        self.end('}');
    }
    fn name(&mut self, name: &str) {
        self.eor();
        self.eol();
        self.sep = false;
        let _ = write!(self.out, "\"{}\": ", name.replace('\\', "\\\\").replace('"', "\\\""));
    }
    fn raw(&mut self, name: &str, v: &str) {
        self.name(name);
        self.out.push_str(v);
        self.sep = true;
    }
    fn str(&mut self, name: &str, v: &str) {
        self.raw(name, &format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")));
    }
    fn u64(&mut self, name: &str, v: u64) {
        self.raw(name, &v.to_string());
    }
    fn opt_u32(&mut self, name: &str, v: Option<u32>) {
        if let Some(v) = v {
            self.u64(name, v.into());
        }
    }
    fn opt_bool(&mut self, name: &str, v: Option<bool>) {
        match v {
            Some(true) => self.raw(name, "true"),
            Some(false) => self.raw(name, "false"),
            None => self.raw(name, "null"),
        }
    }
    fn object_start(&mut self, name: &str) {
        self.name(name);
        self.start_object();
    }
}

/// Output of one command: text, or one JSON object per device inside `[ ]`.
struct Out {
    json: Option<Json>,
    text: String,
}

impl Out {
    fn new(json: bool) -> Self {
        let json = json.then(|| {
            let mut j = Json::new();
            j.start_array();
            j
        });
        Out {
            json,
            text: String::new(),
        }
    }
    fn flush(mut self) {
        let mut s = std::mem::take(&mut self.text);
        if let Some(mut j) = self.json.take() {
            j.end_array();
            s = j.out;
            s.push('\n');
        }
        let _ = std::io::stdout().write_all(s.as_bytes());
    }
}

/// Prints a netlink failure as ethtool does: the kernel's extended-ack
/// message (with the offending attribute's offset), then the errno text.
fn netlink_error(e: &Error) -> ExitCode {
    match e {
        Error::Netlink {
            source: CoreError::Kernel { errno, msg, offset },
            ..
        } => {
            if let Some(m) = msg {
                match offset {
                    Some(o) => eprintln!("netlink error: {m} (offset {o})"),
                    None => eprintln!("netlink error: {m}"),
                }
            }
            eprintln!("netlink error: {}", strerror(*errno));
        }
        Error::NotSupported { .. } => eprintln!("netlink error: {}", strerror(libc::EOPNOTSUPP)),
        other => eprintln!("netlink error: {}", err_text(other)),
    }
    ExitCode::from(1)
}

fn stats(dev: &str, out: &mut Out) -> ExitCode {
    let eth = match Ethtool::open() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Cannot get control socket: {}", err_text(&e));
            return ExitCode::from(70);
        }
    };
    let names = match eth.string_set(dev, StringSetId::Stats) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("Cannot get stats strings information: {}", err_text(&e));
            return ExitCode::from(96);
        }
    };
    if names.is_empty() {
        eprintln!("no stats available");
        return ExitCode::from(94);
    }
    let mut values = Vec::new();
    if let Err(e) = eth.read_values(dev, StatsKind::Driver, &names, &mut values) {
        eprintln!("Cannot get stats information: {}", err_text(&e));
        return ExitCode::from(97);
    }
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        for (name, v) in names.names().zip(values) {
            j.u64(name, v);
        }
        j.end_object();
        return ExitCode::SUCCESS;
    }
    let t = &mut out.text;
    t.push_str("NIC statistics:\n");
    for (name, v) in names.names().zip(values) {
        let _ = writeln!(t, "     {name}: {v}");
    }
    ExitCode::SUCCESS
}

fn info(dev: &str, out: &mut Out) -> ExitCode {
    let eth = match Ethtool::open() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Cannot get control socket: {}", err_text(&e));
            return ExitCode::from(70);
        }
    };
    let d = match eth.driver_info(dev) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Cannot get driver information: {}", err_text(&e));
            return ExitCode::from(71);
        }
    };
    let yn = |v: u32| if v != 0 { "yes" } else { "no" };
    let fields = [
        ("driver", d.driver.as_str()),
        ("version", &d.version),
        ("firmware-version", &d.fw_version),
        ("expansion-rom-version", &d.erom_version),
        ("bus-info", &d.bus_info),
        ("supports-statistics", yn(d.n_stats)),
        ("supports-test", yn(d.testinfo_len)),
        ("supports-eeprom-access", yn(d.eedump_len)),
        ("supports-register-dump", yn(d.regdump_len)),
        ("supports-priv-flags", yn(d.n_priv_flags)),
    ];
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        for (k, v) in fields {
            j.str(k, v);
        }
        j.end_object();
        return ExitCode::SUCCESS;
    }
    for (k, v) in fields {
        let _ = writeln!(out.text, "{k}: {v}");
    }
    ExitCode::SUCCESS
}

/// `-S DEV --all-groups` / `--groups G..`: the standard statistics groups.
fn std_stats(nl: &mut EthtoolNetlink, dev: &str, groups: &[&str], out: &mut Out) -> Result<(), Error> {
    let st = nl.std_stats(Dev::Name(dev), groups)?;
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        for g in &st.groups {
            j.object_start(&g.name);
            for (n, v) in &g.counters {
                j.u64(n, *v);
            }
            for (dir, hist) in [("rx", &g.hist_rx), ("tx", &g.hist_tx)] {
                if hist.is_empty() {
                    continue;
                }
                j.name(&format!("{dir}-pktsNtoM"));
                j.begin('[');
                for b in hist {
                    j.eor();
                    j.eol();
                    j.sep = false;
                    j.start_object();
                    j.u64("low", b.low.into());
                    j.u64("high", b.high.into());
                    j.u64("val", b.value);
                    j.end_object();
                }
                j.end(']');
            }
            j.end_object();
        }
        j.end_object();
        return Ok(());
    }
    let t = &mut out.text;
    let _ = writeln!(t, "Standard stats for {dev}:");
    for g in &st.groups {
        for (n, v) in &g.counters {
            let _ = writeln!(t, "{}-{n}: {v}", g.name);
        }
        for (dir, hist) in [("rx", &g.hist_rx), ("tx", &g.hist_tx)] {
            for b in hist {
                // ethtool 6.1 names buckets "<dir>-<group>-etherStatsPkts<low>to<high>Octets"
                // (e.g. rx-rmon-etherStatsPkts64to64Octets); the last bucket may be open.
                if b.high != 0 {
                    let _ = writeln!(
                        t,
                        "{dir}-{}-etherStatsPkts{}to{}Octets: {}",
                        g.name, b.low, b.high, b.value
                    );
                } else {
                    let _ = writeln!(t, "{dir}-{}-etherStatsPkts{}toMaxOctets: {}", g.name, b.low, b.value);
                }
            }
        }
    }
    Ok(())
}

fn na(v: Option<u32>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| v.to_string())
}

fn onoff(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "n/a",
    }
}

fn rings(nl: &mut EthtoolNetlink, dev: &str, out: &mut Out) -> Result<(), Error> {
    let r = nl.rings(Dev::Name(dev))?;
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        j.opt_u32("rx-max", r.rx_max);
        j.opt_u32("rx-mini-max", r.rx_mini_max);
        j.opt_u32("rx-jumbo-max", r.rx_jumbo_max);
        j.opt_u32("tx-max", r.tx_max);
        j.opt_u32("rx", r.rx);
        j.opt_u32("rx-mini", r.rx_mini);
        j.opt_u32("rx-jumbo", r.rx_jumbo);
        j.opt_u32("tx", r.tx);
        j.opt_u32("rx-buf-len", r.rx_buf_len);
        j.opt_u32("cqe-size", r.cqe_size);
        j.opt_bool("tx-push", r.tx_push);
        j.opt_u32("tcp-data-split", r.tcp_data_split.map(u32::from));
        j.end_object();
        return Ok(());
    }
    let split = match r.tcp_data_split {
        Some(1) => "off",
        Some(2) => "on",
        _ => "n/a",
    };
    let _ = write!(
        out.text,
        "Ring parameters for {dev}:\nPre-set maximums:\nRX:\t\t{}\nRX Mini:\t{}\nRX Jumbo:\t{}\nTX:\t\t{}\n\
         Current hardware settings:\nRX:\t\t{}\nRX Mini:\t{}\nRX Jumbo:\t{}\nTX:\t\t{}\n\
         RX Buf Len:\t\t{}\nCQE Size:\t\t{}\nTX Push:\t{}\nTCP data split:\t{}\n",
        na(r.rx_max),
        na(r.rx_mini_max),
        na(r.rx_jumbo_max),
        na(r.tx_max),
        na(r.rx),
        na(r.rx_mini),
        na(r.rx_jumbo),
        na(r.tx),
        na(r.rx_buf_len),
        na(r.cqe_size),
        onoff(r.tx_push),
        split,
    );
    Ok(())
}

fn channels(nl: &mut EthtoolNetlink, dev: &str, out: &mut Out) -> Result<(), Error> {
    let c = nl.channels(Dev::Name(dev))?;
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        j.opt_u32("rx-max", c.rx_max);
        j.opt_u32("tx-max", c.tx_max);
        j.opt_u32("other-max", c.other_max);
        j.opt_u32("combined-max", c.combined_max);
        j.opt_u32("rx", c.rx);
        j.opt_u32("tx", c.tx);
        j.opt_u32("other", c.other);
        j.opt_u32("combined", c.combined);
        j.end_object();
        return Ok(());
    }
    let _ = write!(
        out.text,
        "Channel parameters for {dev}:\nPre-set maximums:\nRX:\t\t{}\nTX:\t\t{}\nOther:\t\t{}\nCombined:\t{}\n\
         Current hardware settings:\nRX:\t\t{}\nTX:\t\t{}\nOther:\t\t{}\nCombined:\t{}\n",
        na(c.rx_max),
        na(c.tx_max),
        na(c.other_max),
        na(c.combined_max),
        na(c.rx),
        na(c.tx),
        na(c.other),
        na(c.combined),
    );
    Ok(())
}

/// The coalescing parameters in ethtool's order: (text label, JSON key,
/// value), with an empty label marking a blank line.
fn coalesce_fields(c: &Coalesce) -> Vec<(&'static str, &'static str, Option<u32>)> {
    vec![
        ("stats-block-usecs", "stats-block-usecs", c.stats_block_usecs),
        ("sample-interval", "sample-interval", c.rate_sample_interval),
        ("pkt-rate-low", "pkt-rate-low", c.pkt_rate_low),
        ("pkt-rate-high", "pkt-rate-high", c.pkt_rate_high),
        ("", "", None),
        ("rx-usecs", "rx-usecs", c.rx_usecs),
        ("rx-frames", "rx-frames", c.rx_max_frames),
        ("rx-usecs-irq", "rx-usecs-irq", c.rx_usecs_irq),
        ("rx-frames-irq", "rx-frames-irq", c.rx_max_frames_irq),
        ("", "", None),
        ("tx-usecs", "tx-usecs", c.tx_usecs),
        ("tx-frames", "tx-frames", c.tx_max_frames),
        ("tx-usecs-irq", "tx-usecs-irq", c.tx_usecs_irq),
        ("tx-frames-irq", "tx-frames-irq", c.tx_max_frames_irq),
        ("", "", None),
        ("rx-usecs-low", "rx-usecs-low", c.rx_usecs_low),
        ("rx-frame-low", "rx-frame-low", c.rx_max_frames_low),
        ("tx-usecs-low", "tx-usecs-low", c.tx_usecs_low),
        ("tx-frame-low", "tx-frame-low", c.tx_max_frames_low),
        ("", "", None),
        ("rx-usecs-high", "rx-usecs-high", c.rx_usecs_high),
        ("rx-frame-high", "rx-frame-high", c.rx_max_frames_high),
        ("tx-usecs-high", "tx-usecs-high", c.tx_usecs_high),
        ("tx-frame-high", "tx-frame-high", c.tx_max_frames_high),
        ("", "", None),
    ]
}

fn coalesce(nl: &mut EthtoolNetlink, dev: &str, out: &mut Out) -> Result<(), Error> {
    let c = nl.coalesce(Dev::Name(dev))?;
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        j.opt_bool("adaptive-rx", c.use_adaptive_rx);
        j.opt_bool("adaptive-tx", c.use_adaptive_tx);
        for (_, key, v) in coalesce_fields(&c) {
            if !key.is_empty() {
                j.opt_u32(key, v);
            }
        }
        j.opt_bool("cqe-mode-rx", c.use_cqe_mode_rx);
        j.opt_bool("cqe-mode-tx", c.use_cqe_mode_tx);
        j.end_object();
        return Ok(());
    }
    let t = &mut out.text;
    let _ = writeln!(t, "Coalesce parameters for {dev}:");
    let _ = writeln!(
        t,
        "Adaptive RX: {}  TX: {}",
        onoff(c.use_adaptive_rx),
        onoff(c.use_adaptive_tx)
    );
    for (label, _, v) in coalesce_fields(&c) {
        if label.is_empty() {
            t.push('\n');
        } else {
            let _ = writeln!(t, "{label}: {}", na(v));
        }
    }
    let _ = writeln!(
        t,
        "CQE mode RX: {}  TX: {}\n",
        onoff(c.use_cqe_mode_rx),
        onoff(c.use_cqe_mode_tx)
    );
    Ok(())
}

fn pause(nl: &mut EthtoolNetlink, dev: &str, stats: bool, out: &mut Out) -> Result<(), Error> {
    let p = nl.pause(Dev::Name(dev), stats)?;
    if let Some(j) = out.json.as_mut() {
        j.start_object();
        j.str("ifname", dev);
        j.opt_bool("autonegotiate", p.autoneg);
        j.opt_bool("rx", p.rx);
        j.opt_bool("tx", p.tx);
        if stats && (p.tx_pause_frames.is_some() || p.rx_pause_frames.is_some()) {
            j.object_start("statistics");
            if let Some(v) = p.tx_pause_frames {
                j.u64("tx_pause_frames", v);
            }
            if let Some(v) = p.rx_pause_frames {
                j.u64("rx_pause_frames", v);
            }
            j.end_object();
        }
        j.end_object();
        return Ok(());
    }
    let _ = write!(
        out.text,
        "Pause parameters for {dev}:\nAutonegotiate:\t{}\nRX:\t\t{}\nTX:\t\t{}\n",
        onoff(p.autoneg),
        onoff(p.rx),
        onoff(p.tx)
    );
    if stats && (p.tx_pause_frames.is_some() || p.rx_pause_frames.is_some()) {
        out.text.push_str("Statistics:\n");
        if let Some(v) = p.tx_pause_frames {
            let _ = writeln!(out.text, "  tx_pause_frames: {v}");
        }
        if let Some(v) = p.rx_pause_frames {
            let _ = writeln!(out.text, "  rx_pause_frames: {v}");
        }
    }
    Ok(())
}

/// ethtool's legacy feature groups (off_flag_def in ethtool.c): a long
/// name and the pattern of kernel feature names it stands for.
const FEATURE_GROUPS: [(&str, &str); 12] = [
    ("rx-checksumming", "rx-checksum"),
    ("tx-checksumming", "tx-checksum-*"),
    ("scatter-gather", "tx-scatter-gather*"),
    ("tcp-segmentation-offload", "tx-tcp*-segmentation"),
    ("udp-fragmentation-offload", "tx-udp-fragmentation"),
    ("generic-segmentation-offload", "tx-generic-segmentation"),
    ("generic-receive-offload", "rx-gro"),
    ("large-receive-offload", "rx-lro"),
    ("rx-vlan-offload", "rx-vlan-hw-parse"),
    ("tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple-filters", "rx-ntuple-filter"),
    ("receive-hashing", "rx-hashing"),
];

/// Shell-style match of `name` against `pat` with `*` wildcards only.
fn glob(pat: &str, name: &str) -> bool {
    match pat.split_once('*') {
        None => pat == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

fn feature_line(f: &Features, i: usize, name: &str, prefix: &str, out: &mut Out) {
    if name.is_empty() {
        return;
    }
    let active = f.active[i];
    let fixed = f.fixed(i);
    if let Some(j) = out.json.as_mut() {
        j.object_start(name);
        j.opt_bool("active", Some(active));
        j.opt_bool("fixed", Some(fixed));
        j.opt_bool("requested", Some(f.wanted[i]));
        j.end_object();
        return;
    }
    let suffix = if fixed {
        " [fixed]"
    } else if active != f.wanted[i] {
        if f.wanted[i] {
            " [requested on]"
        } else {
            " [requested off]"
        }
    } else {
        ""
    };
    let _ = writeln!(
        out.text,
        "{prefix}{name}: {}{suffix}",
        if active { "on" } else { "off" }
    );
}

fn features(nl: &mut EthtoolNetlink, dev: &str, out: &mut Out) -> Result<(), Error> {
    let f = nl.features(Dev::Name(dev))?;
    let group_of: Vec<Option<usize>> = f
        .names
        .iter()
        .map(|n| FEATURE_GROUPS.iter().position(|(_, pat)| glob(pat, n)))
        .collect();
    match out.json.as_mut() {
        Some(j) => {
            j.start_object();
            j.str("ifname", dev);
        }
        None => {
            let _ = writeln!(out.text, "Features for {dev}:");
        }
    }
    for (g, (long_name, _)) in FEATURE_GROUPS.iter().enumerate() {
        let members: Vec<usize> = (0..f.names.len()).filter(|&i| group_of[i] == Some(g)).collect();
        match members.as_slice() {
            [] => {}
            [one] => feature_line(&f, *one, long_name, "", out),
            many => {
                let on = many.iter().any(|&i| f.active[i]);
                match out.json.as_mut() {
                    Some(j) => {
                        j.object_start(long_name);
                        j.opt_bool("active", Some(on));
                        j.opt_bool("fixed", None);
                        j.opt_bool("requested", None);
                        j.end_object();
                    }
                    None => {
                        let _ = writeln!(out.text, "{long_name}: {}", if on { "on" } else { "off" });
                    }
                }
                for &i in many {
                    feature_line(&f, i, &f.names[i], "\t", out);
                }
            }
        }
    }
    for (i, name) in f.names.iter().enumerate() {
        if group_of[i].is_none() {
            feature_line(&f, i, name, "", out);
        }
    }
    if let Some(j) = out.json.as_mut() {
        j.end_object();
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Global flags before the option: --json, -I (--include-statistics).
    let mut json = false;
    let mut include_stats = false;
    while let Some(first) = args.first() {
        match first.as_str() {
            "--json" => json = true,
            "-I" | "--include-statistics" => include_stats = true,
            _ => break,
        }
        args.remove(0);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mode, dev, rest) = match args.as_slice() {
        [m, dev, rest @ ..] if !dev.starts_with('-') => (*m, *dev, rest),
        _ => return bad_args(),
    };
    let mode = match mode {
        "-S" | "--statistics" => "S",
        "-i" | "--driver" => "i",
        "-g" | "--show-ring" => "g",
        "-l" | "--show-channels" => "l",
        "-k" | "--show-features" | "--show-offload" => "k",
        "-c" | "--show-coalesce" => "c",
        "-a" | "--show-pause" => "a",
        _ => return bad_args(),
    };
    let groups: Option<Vec<&str>> = match (mode, rest) {
        (_, []) => None,
        ("S", ["--all-groups"]) => Some(Vec::new()),
        ("S", ["--groups", gs @ ..]) if !gs.is_empty() => Some(gs.to_vec()),
        ("S", [other, ..]) => {
            eprintln!("ethtool (-S): unknown parameter '{other}'");
            return ExitCode::from(1);
        }
        _ => return bad_args(),
    };
    let mut out = Out::new(json);
    let code = match (mode, groups) {
        ("S", None) => stats(dev, &mut out),
        ("i", _) => info(dev, &mut out),
        (mode, groups) => {
            let res = EthtoolNetlink::open().and_then(|mut nl| match mode {
                "S" => std_stats(&mut nl, dev, groups.as_deref().unwrap_or(&[]), &mut out),
                "g" => rings(&mut nl, dev, &mut out),
                "l" => channels(&mut nl, dev, &mut out),
                "c" => coalesce(&mut nl, dev, &mut out),
                "a" => pause(&mut nl, dev, include_stats, &mut out),
                _ => features(&mut nl, dev, &mut out),
            });
            match res {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => netlink_error(&e),
            }
        }
    };
    out.flush();
    code
}
