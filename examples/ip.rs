//! `ip [-s [-s]] [-j] [-n NETNS] link [show [dev] DEV]`: iproute2's
//! `ip link show`, byte for byte as iproute2 6.1 prints it, built only on the
//! public netobs API. `ip -s link --interval SECS [--count N]` prints
//! nicstat-style rates instead.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netobs::core::rates::CounterSnapshot;
use netobs::core::rtnetlink::{
    link_type_name, HwAddr, Link, LinkFlags, LinkStats64, OperState, IFLA_LINK, RTM_DELLINK,
};
use netobs::core::{Error, NetlinkSocket, Netns, Protocol};

#[path = "common/mod.rs"]
mod common;
use common::json::push_json_str;

struct Opts {
    stats: u8,
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
    let mut o = Opts {
        stats: 0,
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
            o.stats += 1;
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
    Ok(o)
}

/// What the printer needs to know about the other links: names for
/// `@peer` and `master`, flags for M-DOWN.
struct Names {
    by_index: Vec<(u32, String, LinkFlags)>,
    nsids: Option<Vec<(i32, String)>>,
    groups: Vec<(u32, String)>,
}

impl Names {
    fn lookup(&mut self, sock: &mut NetlinkSocket, index: u32) -> Option<(String, LinkFlags)> {
        if let Some((_, n, f)) = self.by_index.iter().find(|(i, _, _)| *i == index) {
            return Some((n.clone(), *f));
        }
        let l = sock.link_by_index(index).ok()?;
        let entry = (l.name()?.to_string(), l.flags());
        self.by_index.push((index, entry.0.clone(), entry.1));
        Some(entry)
    }

    fn netns_name(&mut self, sock: &mut NetlinkSocket, id: i32) -> Option<String> {
        let map = self.nsids.get_or_insert_with(|| sock.netns_names_by_id());
        map.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())
    }

    fn group(&self, id: u32) -> String {
        self.groups
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// /etc/iproute2/group, as iproute2's rtnl_group_n2a reads it.
fn read_groups() -> Vec<(u32, String)> {
    let mut v = Vec::new();
    if let Ok(s) = std::fs::read_to_string("/etc/iproute2/group") {
        for line in s.lines() {
            let line = line.trim_start();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut it = line.split_whitespace();
            let (Some(id), Some(name)) = (it.next(), it.next()) else {
                continue;
            };
            let id = match id.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => id.parse().ok(),
            };
            if let Some(id) = id {
                v.push((id, name.to_string()));
            }
        }
    }
    v
}

/// Writes `"key":` with the comma JSON needs before every member but the first.
struct JsonObj<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> JsonObj<'o> {
    fn open(out: &'o mut String) -> Self {
        out.push('{');
        JsonObj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_json_str(self.out, k);
        self.out.push(':');
        self.out
    }
    fn str(&mut self, k: &str, v: &str) {
        push_json_str(self.key(k), v);
    }
    fn num(&mut self, k: &str, v: impl std::fmt::Display) {
        let o = self.key(k);
        let _ = write!(o, "{v}");
    }
    fn close(self) {
        self.out.push('}');
    }
}

const FLAG_NAMES: &[(LinkFlags, &str)] = &[
    (LinkFlags::LOOPBACK, "LOOPBACK"),
    (LinkFlags::BROADCAST, "BROADCAST"),
    (LinkFlags::POINTOPOINT, "POINTOPOINT"),
    (LinkFlags::MULTICAST, "MULTICAST"),
    (LinkFlags::NOARP, "NOARP"),
    (LinkFlags::ALLMULTI, "ALLMULTI"),
    (LinkFlags::PROMISC, "PROMISC"),
    (LinkFlags::MASTER, "MASTER"),
    (LinkFlags::SLAVE, "SLAVE"),
    (LinkFlags::DEBUG, "DEBUG"),
    (LinkFlags::DYNAMIC, "DYNAMIC"),
    (LinkFlags::AUTOMEDIA, "AUTOMEDIA"),
    (LinkFlags::PORTSEL, "PORTSEL"),
    (LinkFlags::NOTRAILERS, "NOTRAILERS"),
    (LinkFlags::UP, "UP"),
    (LinkFlags::LOWER_UP, "LOWER_UP"),
    (LinkFlags::DORMANT, "DORMANT"),
    (LinkFlags::ECHO, "ECHO"),
];

/// The flag words iproute2 prints, in its order (print_link_flags).
fn flag_words(flags: LinkFlags, mdown: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut f = flags.bits();
    if flags.contains(LinkFlags::UP) && !flags.contains(LinkFlags::RUNNING) {
        words.push("NO-CARRIER".to_string());
    }
    f &= !LinkFlags::RUNNING.bits();
    for (flag, name) in FLAG_NAMES {
        if f & flag.bits() != 0 {
            f &= !flag.bits();
            words.push((*name).to_string());
        }
    }
    if f != 0 {
        words.push(format!("{f:x}"));
    }
    if mdown {
        words.push("M-DOWN".to_string());
    }
    words
}

/// Decimal width, as iproute2's size_columns counts it.
fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v > 9 {
        n += 1;
        v /= 10;
    }
    n
}

fn size_columns(cols: &mut [usize; 8], vals: [u64; 8]) {
    for (c, v) in cols.iter_mut().zip(vals) {
        *c = (*c).max(digits(v));
    }
}

/// Writes each `(separator, width, text)` cell, text right-aligned.
fn cells(out: &mut String, cells: &[(&str, usize, &str)]) {
    for (sep, w, t) in cells {
        out.push_str(sep);
        let _ = write!(out, "{t:>w$}");
    }
}

/// Writes each `(width, value)` as iproute2's print_num does: `"%*u "`.
fn nums(out: &mut String, vals: &[(usize, u64)]) {
    for (w, v) in vals {
        let _ = write!(out, "{v:>w$} ");
    }
}

/// One direction's header and counter lines (`    RX: bytes packets ...`),
/// with the compressed column only when that counter is non-zero.
fn direction(out: &mut String, label: &str, head: [&str; 6], c: &[usize; 8], vals: [u64; 6], compressed: u64) {
    let _ = write!(out, "    {label}:");
    for (i, t) in head.into_iter().enumerate() {
        // The first heading shares its column with the "    RX: " lead-in.
        cells(out, &[(" ", if i == 0 { c[0] - 4 } else { c[i] }, t)]);
    }
    cells(out, &[(" ", c[6], if compressed != 0 { "compressed" } else { "" })]);
    out.push_str("\n    ");
    for (i, v) in vals.into_iter().enumerate() {
        nums(out, &[(c[i], v)]);
    }
    if compressed != 0 {
        nums(out, &[(c[6], compressed)]);
    }
}

/// print_stats64 of iproute2's ip/ipaddress.c, text form.
fn stats_text(out: &mut String, s: &LinkStats64, carrier_changes: Option<u32>, level: u8) {
    let nohandler = s.rx_nohandler.unwrap_or(0);
    let otherhost = s.rx_otherhost_dropped.unwrap_or(0);
    let cc = carrier_changes.map(u64::from);
    let mut c = [10, 7, 6, 7, 7, 7, 10, 9];
    let (rxc, txc) = (s.rx_compressed, s.tx_compressed);
    let rx = [
        s.rx_bytes,
        s.rx_packets,
        s.rx_errors,
        s.rx_dropped,
        s.rx_missed_errors,
        s.multicast,
    ];
    let tx = [
        s.tx_bytes,
        s.tx_packets,
        s.tx_errors,
        s.tx_dropped,
        s.tx_carrier_errors,
        s.collisions,
    ];
    size_columns(&mut c, [rx[0], rx[1], rx[2], rx[3], rx[4], rx[5], rxc, 0]);
    if level > 1 {
        let e = [
            0,
            s.rx_length_errors,
            s.rx_crc_errors,
            s.rx_frame_errors,
            s.rx_fifo_errors,
            s.rx_over_errors,
        ];
        size_columns(&mut c, [e[0], e[1], e[2], e[3], e[4], e[5], nohandler, otherhost]);
    }
    size_columns(&mut c, [tx[0], tx[1], tx[2], tx[3], tx[4], tx[5], txc, 0]);
    if level > 1 {
        let e = [
            s.tx_aborted_errors,
            s.tx_fifo_errors,
            s.tx_window_errors,
            s.tx_heartbeat_errors,
        ];
        size_columns(&mut c, [0, 0, e[0], e[1], e[2], e[3], cc.unwrap_or(0), 0]);
    }
    let opt = |on: bool, text: &'static str| if on { text } else { "" };

    direction(
        out,
        "RX",
        ["bytes", "packets", "errors", "dropped", "missed", "mcast"],
        &c,
        rx,
        rxc,
    );
    if level > 1 {
        out.push_str("\n    RX errors:");
        cells(
            out,
            &[
                ("", c[0] - 10, ""),
                (" ", c[1], "length"),
                (" ", c[2], "crc"),
                (" ", c[3], "frame"),
            ],
        );
        cells(out, &[(" ", c[4], "fifo"), (" ", c[5], "overrun")]);
        cells(
            out,
            &[(
                "",
                if nohandler != 0 { c[6] + 1 } else { 0 },
                opt(nohandler != 0, " nohandler"),
            )],
        );
        cells(
            out,
            &[(
                "",
                if otherhost != 0 { c[7] + 1 } else { 0 },
                opt(otherhost != 0, " otherhost"),
            )],
        );
        let _ = write!(out, "\n{:w$}", "", w = c[0] + 5);
        nums(
            out,
            &[
                (c[1], s.rx_length_errors),
                (c[2], s.rx_crc_errors),
                (c[3], s.rx_frame_errors),
            ],
        );
        nums(out, &[(c[4], s.rx_fifo_errors), (c[5], s.rx_over_errors)]);
        if nohandler != 0 {
            nums(out, &[(c[6], nohandler)]);
        }
        if otherhost != 0 {
            nums(out, &[(c[7], otherhost)]);
        }
    }
    out.push('\n');
    direction(
        out,
        "TX",
        ["bytes", "packets", "errors", "dropped", "carrier", "collsns"],
        &c,
        tx,
        txc,
    );
    if level > 1 {
        out.push_str("\n    TX errors:");
        cells(
            out,
            &[
                ("", c[0] - 10, ""),
                (" ", c[1], "aborted"),
                (" ", c[2], "fifo"),
                (" ", c[3], "window"),
            ],
        );
        cells(
            out,
            &[(" ", c[4], "heartbt"), (" ", c[5], opt(cc.is_some(), "transns"))],
        );
        let _ = write!(out, "\n{:w$}", "", w = c[0] + 5);
        nums(
            out,
            &[
                (c[1], s.tx_aborted_errors),
                (c[2], s.tx_fifo_errors),
                (c[3], s.tx_window_errors),
            ],
        );
        nums(out, &[(c[4], s.tx_heartbeat_errors)]);
        if let Some(cc) = cc {
            nums(out, &[(c[5], cc)]);
        }
    }
}

/// print_stats64, JSON form.
fn stats_json(obj: &mut JsonObj<'_>, s: &LinkStats64, carrier_changes: Option<u32>, level: u8) {
    let out = obj.key("stats64");
    let mut st = JsonObj::open(out);
    {
        let mut rx = JsonObj::open(st.key("rx"));
        rx.num("bytes", s.rx_bytes);
        rx.num("packets", s.rx_packets);
        rx.num("errors", s.rx_errors);
        rx.num("dropped", s.rx_dropped);
        rx.num("over_errors", s.rx_over_errors);
        rx.num("multicast", s.multicast);
        if s.rx_compressed != 0 {
            rx.num("compressed", s.rx_compressed);
        }
        if level > 1 {
            rx.num("length_errors", s.rx_length_errors);
            rx.num("crc_errors", s.rx_crc_errors);
            rx.num("frame_errors", s.rx_frame_errors);
            rx.num("fifo_errors", s.rx_fifo_errors);
            rx.num("missed_errors", s.rx_missed_errors);
            if let Some(v) = s.rx_nohandler.filter(|&v| v != 0) {
                rx.num("nohandler", v);
            }
            if let Some(v) = s.rx_otherhost_dropped.filter(|&v| v != 0) {
                rx.num("otherhost", v);
            }
        }
        rx.close();
    }
    {
        let mut tx = JsonObj::open(st.key("tx"));
        tx.num("bytes", s.tx_bytes);
        tx.num("packets", s.tx_packets);
        tx.num("errors", s.tx_errors);
        tx.num("dropped", s.tx_dropped);
        tx.num("carrier_errors", s.tx_carrier_errors);
        tx.num("collisions", s.collisions);
        if s.tx_compressed != 0 {
            tx.num("compressed", s.tx_compressed);
        }
        if level > 1 {
            tx.num("aborted_errors", s.tx_aborted_errors);
            tx.num("fifo_errors", s.tx_fifo_errors);
            tx.num("window_errors", s.tx_window_errors);
            tx.num("heartbeat_errors", s.tx_heartbeat_errors);
            if let Some(cc) = carrier_changes {
                tx.num("carrier_changes", cc);
            }
        }
        tx.close();
    }
    st.close();
}

const LINK_MODES: [&str; 2] = ["DEFAULT", "DORMANT"];

/// print_linkinfo of iproute2's ip/ipaddress.c for `ip link show`.
fn print_link(out: &mut String, l: &Link<'_>, o: &Opts, names: &mut Names, sock: &mut NetlinkSocket) {
    let name = String::from_utf8_lossy(l.name_bytes().unwrap_or_default()).into_owned();
    let flags = l.flags();
    // print_name_and_link: "@peer" part and the M-DOWN flag.
    let mut mdown = false;
    let mut shown = name.clone();
    let mut json_link: Option<Option<String>> = None;
    let mut json_link_index = None;
    if l.attr(IFLA_LINK).is_some() {
        let iflink = l.link().unwrap_or(0);
        if iflink != 0 {
            if l.link_netnsid().is_some() {
                json_link_index = Some(iflink);
                shown = format!("{name}@if{iflink}");
            } else {
                let (peer, pflags) = names
                    .lookup(sock, iflink)
                    .unwrap_or_else(|| (format!("if{iflink}"), LinkFlags::empty()));
                mdown = !pflags.contains(LinkFlags::UP);
                json_link = Some(Some(peer.clone()));
                shown = format!("{name}@{peer}");
            }
        } else {
            json_link = Some(None);
            shown = format!("{name}@NONE");
        }
    }
    let words = flag_words(flags, mdown);
    let master = l.master().map(|m| {
        names
            .lookup(sock, m)
            .map(|(n, _)| n)
            .unwrap_or_else(|| format!("if{m}"))
    });
    let group = l.group().map(|g| names.group(g));
    let type_name = link_type_name(l.link_type())
        .map(str::to_string)
        .unwrap_or_else(|| format!("[{}]", l.link_type()));
    let ptp = flags.contains(LinkFlags::POINTOPOINT);
    let hw = |b: &[u8]| {
        HwAddr {
            bytes: b,
            link_type: l.link_type(),
        }
        .to_string()
    };
    let permaddr = l.perm_address().filter(|p| l.address() != Some(*p));

    if o.json {
        let mut obj = JsonObj::open(out);
        if l.msg_kind() == RTM_DELLINK {
            obj.num("deleted", true);
        }
        obj.num("ifindex", l.index());
        if let Some(i) = json_link_index {
            obj.num("link_index", i);
        }
        match &json_link {
            Some(Some(p)) => obj.str("link", p),
            Some(None) => obj.num("link", "null"),
            None => {}
        }
        obj.str("ifname", &name);
        {
            let o2 = obj.key("flags");
            o2.push('[');
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    o2.push(',');
                }
                push_json_str(o2, w);
            }
            o2.push(']');
        }
        if let Some(m) = l.mtu() {
            obj.num("mtu", m);
        }
        if let Some(q) = l.qdisc() {
            obj.str("qdisc", q);
        }
        if let Some(m) = &master {
            obj.str("master", m);
        }
        match l.operstate() {
            Some(OperState::Other(v)) => obj.num("operstate_index", v),
            Some(s) => obj.str("operstate", s.name().unwrap_or_default()),
            None => {}
        }
        if let Some(m) = l.link_mode() {
            match LINK_MODES.get(m as usize) {
                Some(n) => obj.str("linkmode", n),
                None => obj.num("linkmode_index", m),
            }
        }
        if let Some(g) = &group {
            obj.str("group", g);
        }
        if let Some(q) = l.txqlen().filter(|&q| q != 0) {
            obj.num("txqlen", q);
        }
        obj.str("link_type", &type_name);
        if let Some(a) = l.address() {
            obj.str("address", &hw(a));
        }
        if let Some(b) = l.broadcast() {
            if ptp {
                obj.num("link_pointtopoint", true);
            }
            obj.str("broadcast", &hw(b));
        }
        if let Some(p) = permaddr {
            obj.str("permaddr", &hw(p));
        }
        if let Some(id) = l.link_netnsid() {
            obj.num("link_netnsid", id);
        }
        if l.proto_down() == Some(true) {
            obj.num("proto_down", true);
        }
        if let Some(a) = l.alias() {
            obj.str("ifalias", a);
        }
        if o.stats > 0 {
            if let Some(s) = l.stats64() {
                stats_json(&mut obj, &s, l.carrier_changes(), o.stats);
            }
        }
        if l.attr(netobs::core::rtnetlink::IFLA_PROP_LIST).is_some() {
            let o2 = obj.key("altnames");
            o2.push('[');
            for (i, a) in l.altnames().enumerate() {
                if i > 0 {
                    o2.push(',');
                }
                push_json_str(o2, a);
            }
            o2.push(']');
        }
        obj.close();
        return;
    }

    if l.msg_kind() == RTM_DELLINK {
        out.push_str("Deleted ");
    }
    let _ = write!(out, "{}: {}: <{}> ", l.index(), shown, words.join(","));
    if let Some(m) = l.mtu() {
        let _ = write!(out, "mtu {m} ");
    }
    if let Some(q) = l.qdisc() {
        let _ = write!(out, "qdisc {q} ");
    }
    if let Some(m) = &master {
        let _ = write!(out, "master {m} ");
    }
    match l.operstate() {
        Some(OperState::Other(v)) => {
            let _ = write!(out, "state {v:#x}");
        }
        Some(s) => {
            let _ = write!(out, "state {} ", s.name().unwrap_or_default());
        }
        None => {}
    }
    if let Some(m) = l.link_mode() {
        match LINK_MODES.get(m as usize) {
            Some(n) => {
                let _ = write!(out, "mode {n} ");
            }
            None => {
                let _ = write!(out, "mode {m} ");
            }
        }
    }
    if let Some(g) = &group {
        let _ = write!(out, "group {g} ");
    }
    if let Some(q) = l.txqlen().filter(|&q| q != 0) {
        let _ = write!(out, "qlen {q}");
    }
    let _ = write!(out, "\n    link/{type_name} ");
    if let Some(a) = l.address() {
        out.push_str(&hw(a));
    }
    if let Some(b) = l.broadcast() {
        out.push_str(if ptp { " peer " } else { " brd " });
        out.push_str(&hw(b));
    }
    if let Some(p) = permaddr {
        out.push_str(" permaddr ");
        out.push_str(&hw(p));
    }
    if let Some(id) = l.link_netnsid() {
        if id >= 0 {
            match names.netns_name(sock, id) {
                Some(n) => {
                    let _ = write!(out, " link-netns {n}");
                }
                None => {
                    let _ = write!(out, " link-netnsid {id}");
                }
            }
        } else {
            out.push_str(" link-netnsid unknown");
        }
    }
    if l.proto_down() == Some(true) {
        out.push_str(" protodown on ");
    }
    if let Some(a) = l.alias() {
        let _ = write!(out, "\n    alias {a}");
    }
    if o.stats > 0 {
        if let Some(s) = l.stats64() {
            out.push('\n');
            stats_text(out, &s, l.carrier_changes(), o.stats);
        }
    }
    for a in l.altnames() {
        let _ = write!(out, "\n    altname {a}");
    }
    out.push('\n');
}

fn open_socket(o: &Opts) -> Result<NetlinkSocket, ExitCode> {
    let netns = o.netns.as_deref().map(Netns::named).unwrap_or_default();
    NetlinkSocket::open_in(Protocol::Route, &netns).map_err(|e| {
        match (&e, &o.netns) {
            (Error::NoSuchNetns { source, .. }, Some(n)) => {
                // strerror text, without Rust's " (os error N)" suffix.
                let text = source.to_string();
                let text = text.split(" (os error").next().unwrap_or_default();
                eprintln!("Cannot open network namespace \"{n}\": {text}");
            }
            _ => eprintln!("ip: {e}"),
        }
        ExitCode::from(255)
    })
}

fn show(o: &Opts) -> Result<(), ExitCode> {
    let mut sock = open_socket(o)?;
    let mut names = Names {
        by_index: Vec::new(),
        nsids: None,
        groups: read_groups(),
    };
    let mut out = String::with_capacity(1 << 16);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if o.json {
        out.push('[');
    }
    if let Some(dev) = &o.dev {
        // One link: RTM_GETLINK by name, as `ip link show DEV` does; the
        // answer is copied so the socket is free for peer/master lookups.
        let (kind, payload) = match sock.link_by_name(dev) {
            Ok(l) => (l.msg_kind(), l.payload().to_vec()),
            Err(Error::NoSuchInterface(_)) => {
                eprintln!("Device \"{dev}\" does not exist.");
                return Err(ExitCode::from(1));
            }
            Err(e) => {
                eprintln!("ip: {e}");
                return Err(ExitCode::from(2));
            }
        };
        let link = Link::parse_payload(kind, &payload).map_err(|e| {
            eprintln!("ip: {e}");
            ExitCode::from(2)
        })?;
        print_link(&mut out, &link, o, &mut names, &mut sock);
    } else {
        // Whole table: one dump, kept as raw bytes so the printer can look
        // up peers and masters by index on the same socket.
        let mut msgs: Vec<(u16, Vec<u8>)> = Vec::new();
        let r = sock.for_each_link(|l| {
            names
                .by_index
                .push((l.index(), l.name().unwrap_or_default().to_string(), l.flags()));
            msgs.push((l.msg_kind(), l.payload().to_vec()));
        });
        if let Err(e) = r {
            eprintln!("Dump terminated: {e}");
            return Err(ExitCode::from(1));
        }
        for (i, (kind, payload)) in msgs.iter().enumerate() {
            let Ok(link) = Link::parse_payload(*kind, payload) else {
                continue;
            };
            if o.json && i > 0 {
                out.push(',');
            }
            print_link(&mut out, &link, o, &mut names, &mut sock);
            if out.len() > (1 << 15) {
                let _ = w.write_all(out.as_bytes());
                out.clear();
            }
        }
    }
    if o.json {
        out.push_str("]\n");
    }
    let _ = w.write_all(out.as_bytes());
    let _ = w.flush();
    Ok(())
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
                let mut obj = JsonObj::open(&mut out);
                obj.str("time", &t);
                obj.str("ifname", &r.name);
                for (k, v) in [
                    ("rx_kbytes", r.rx_kbytes),
                    ("tx_kbytes", r.tx_kbytes),
                    ("rx_packets", r.rx_packets),
                    ("tx_packets", r.tx_packets),
                    ("rx_avg_size", r.rx_avg_size),
                    ("tx_avg_size", r.tx_avg_size),
                    ("rx_errors", r.rx_errors),
                    ("tx_errors", r.tx_errors),
                    ("rx_dropped", r.rx_dropped),
                    ("tx_dropped", r.tx_dropped),
                ] {
                    obj.num(k, format_args!("{v:.3}"));
                }
                obj.close();
                out.push('\n');
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
