//! `ss`, rebuilt on netobs: the same output as iproute2's ss 6.1 for the
//! common options, plus `--json`.
//!
//! ```text
//! cargo run --release --example ss -- [-t -u -w -x -M -l -a -n -r -e -m -i -p -o -s -H -O -4 -6 -K] [-N NS]
//!                                      [--json] [state STATE ...] [exclude STATE ...] [FILTER]
//! ```
//!
//! What to list, the records and what ss prints for each socket come from
//! netobs-sockdiag (`query`, `fmt`); this example parses the arguments,
//! lays out the columns and chooses the exit codes. Output is rendered
//! like ss renders when stdout is not a terminal: each column as wide as
//! its widest field, in batches of ss's 5 MiB buffer.

use std::io::Write;

use netobs::core::{NetlinkSocket, Netns, Protocol};
use netobs::sockdiag::fmt::{self, Address, Names, Options, Port, Queue};
use netobs::sockdiag::owners::Owners;
use netobs::sockdiag::query::{self, Families, Pipeline, Query, SocketRecord};
use netobs::sockdiag::{counters, filter, Proto, SockDiag, States};

// ---------------------------------------------------------------- columns

const COL_NETID: usize = 0;
const COL_STATE: usize = 1;
const COL_RECVQ: usize = 2;
const COL_SENDQ: usize = 3;
const COL_ADDR: usize = 4;
const COL_MAX: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    align: Align,
    header: &'static str,
    ldelim: &'static str,
    disabled: bool,
    width: usize,
    max_len: usize,
}

const BUF_CHUNK: usize = 1024 * 1024;
const CHUNK_HDR: usize = 16;
const BUF_CHUNKS_MAX: usize = 5;

/// ss's output buffer (misc/ss.c `out`, `field_next`, `render`): fields
/// are stored as tokens, column widths come from the longest field, and
/// the buffer is rendered whenever it reaches five 1 MiB chunks at the end
/// of a line. The chunk arithmetic is kept so batch boundaries, and so
/// widths, match ss exactly on large outputs. All token text lives in one
/// string; a token is its column and end offset.
struct Table<W: Write> {
    cols: Vec<Column>,
    cur: usize,
    buf: String,
    tokens: Vec<(u8, u32)>,
    tok_start: usize,
    chunks: usize,
    /// Bytes used in the current chunk's data area, including the
    /// current token's length descriptor.
    used: usize,
    /// Whether the current token is the first of its chunk.
    first_in_chunk: bool,
    out: Vec<u8>,
    /// Where rendered batches go.
    sink: W,
}

impl<W: Write> Table<W> {
    fn new(sink: W) -> Self {
        let c = |align, header, ldelim| Column {
            align,
            header,
            ldelim,
            disabled: false,
            width: 0,
            max_len: 0,
        };
        Table {
            cols: vec![
                c(Align::Left, "Netid", ""),
                c(Align::Left, "State", " "),
                c(Align::Left, "Recv-Q", " "),
                c(Align::Left, "Send-Q", " "),
                c(Align::Right, "Local Address:", " "),
                c(Align::Left, "Port", ""),
                c(Align::Right, "Peer Address:", " "),
                c(Align::Left, "Port", ""),
                c(Align::Left, "Process", ""),
                c(Align::Left, "", ""),
            ],
            cur: 0,
            buf: String::with_capacity(1 << 20),
            tokens: Vec::with_capacity(1 << 16),
            tok_start: 0,
            chunks: 0,
            used: 0,
            first_in_chunk: true,
            out: Vec::with_capacity(1 << 20),
            sink,
        }
    }

    fn new_chunk(&mut self) {
        self.chunks += 1;
        self.used = 2;
        self.first_in_chunk = true;
    }

    fn avail(&self) -> usize {
        BUF_CHUNK - CHUNK_HDR - self.used
    }

    /// Appends to the current field.
    fn out(&mut self, s: &str) {
        self.out_with(|b| b.push_str(s));
    }

    /// Appends what the library's printer `write_to` writes to the current
    /// field (the adapters of netobs_sockdiag::fmt: `|b| x.write_to(b)`).
    fn out_fmt(&mut self, write_to: impl FnOnce(&mut String) -> std::fmt::Result) {
        self.out_with(|b| {
            let _ = write_to(b);
        });
    }

    /// Appends what `f` writes to the current field.
    fn out_with(&mut self, f: impl FnOnce(&mut String)) {
        if self.cols[self.cur].disabled {
            return;
        }
        if self.chunks == 0 {
            self.new_chunk();
        }
        let before = self.buf.len();
        f(&mut self.buf);
        let len = self.buf.len() - before;
        if !(len < self.avail() || self.first_in_chunk) {
            // ss moves the partial token to a new chunk.
            let tlen = before - self.tok_start;
            self.new_chunk();
            self.used += tlen;
        }
        self.used += len.min(self.avail());
    }

    fn flush_field(&mut self) {
        let c = &mut self.cols[self.cur];
        if c.disabled {
            return;
        }
        let len = self.buf.len() - self.tok_start;
        c.max_len = c.max_len.max(len);
        self.tokens.push((self.cur as u8, self.buf.len() as u32));
        self.tok_start = self.buf.len();
        if self.chunks == 0 {
            self.new_chunk();
        }
        let pad = len % 2;
        if self.avail() < pad + 2 {
            self.new_chunk();
            return;
        }
        self.used += pad + 2;
        self.first_in_chunk = false;
    }

    fn next(&mut self) {
        if self.cur == COL_MAX - 1 && self.chunks >= BUF_CHUNKS_MAX {
            self.render();
            return;
        }
        self.flush_field();
        self.cur = if self.cur == COL_MAX - 1 { 0 } else { self.cur + 1 };
    }

    fn set(&mut self, col: usize) {
        while self.cur != col {
            self.next();
        }
    }

    fn header(&mut self) {
        while self.cur != COL_MAX - 1 {
            if !self.cols[self.cur].disabled {
                let h = self.cols[self.cur].header;
                self.out(h);
            }
            self.next();
        }
    }

    fn pad(out: &mut Vec<u8>, n: usize) {
        out.resize(out.len() + n, b' ');
    }

    /// Compact rendering (stdout is not a terminal): widths are the
    /// measured maxima plus the left delimiter.
    fn render(&mut self) {
        if self.chunks == 0 && self.tokens.is_empty() {
            return;
        }
        // The last, unflushed field is a token too, but (as in ss, where
        // only field_flush() measures) its length does not count for width.
        if !self.cols[self.cur].disabled {
            self.tokens.push((self.cur as u8, self.buf.len() as u32));
        }
        let mut first = true;
        for c in self.cols.iter_mut().filter(|c| !c.disabled) {
            c.width = if !first && c.max_len > 0 {
                c.max_len + c.ldelim.len()
            } else {
                c.max_len
            };
            if c.width > 0 {
                first = false;
            }
        }
        let mut line_started = false;
        let mut f = self.cols.iter().position(|c| c.width > 0).unwrap_or(0);
        let mut start = 0usize;
        for &(_, end) in &self.tokens {
            let tok = &self.buf.as_bytes()[start..end as usize];
            start = end as usize;
            let col = &self.cols[f];
            let mut printed = 0;
            if line_started {
                self.out.extend_from_slice(col.ldelim.as_bytes());
                printed = col.ldelim.len();
            }
            line_started = true;
            if col.width > 0 && col.align == Align::Right {
                let s = col.width.saturating_sub(tok.len() + printed);
                Self::pad(&mut self.out, s);
                printed += s;
            }
            self.out.extend_from_slice(tok);
            printed += tok.len();
            if col.width > 0 && col.align == Align::Left {
                Self::pad(&mut self.out, col.width.saturating_sub(printed));
            }
            loop {
                if f == COL_MAX - 1 {
                    self.out.push(b'\n');
                    f = 0;
                    line_started = false;
                } else {
                    f += 1;
                }
                if !self.cols[f].disabled {
                    break;
                }
            }
            if self.out.len() >= 1 << 20 {
                let _ = self.sink.write_all(&self.out);
                self.out.clear();
            }
        }
        if line_started {
            self.out.push(b'\n');
        }
        let _ = self.sink.write_all(&self.out);
        self.out.clear();
        self.tokens.clear();
        self.buf.clear();
        self.tok_start = 0;
        self.chunks = 0;
        self.cur = 0;
    }
}

// ---------------------------------------------------------------- options

#[derive(Default)]
struct Opts {
    tcp: bool,
    udp: bool,
    raw: bool,
    unix: bool,
    packet: bool,
    netlink: bool,
    mptcp: bool,
    /// `-A QUERY` was given: ss then starts from the connected states.
    query: bool,
    /// The last family option was `-x` (ss's preferred_family AF_UNIX):
    /// filter addresses are unix name patterns.
    unix_addresses: bool,
    numeric: bool,
    resolve: bool,
    options: bool,
    details: bool,
    mem: bool,
    info: bool,
    processes: bool,
    summary: bool,
    header: bool,
    oneline: bool,
    v4: bool,
    v6: bool,
    kill: bool,
    json: bool,
    listening: bool,
    all: bool,
    netns: Option<String>,
}

fn usage() -> ! {
    eprintln!(
        "Usage: ss [ OPTIONS ] [ FILTER ]\n\
         options: -t -u -w -x -0 -M -a -l -n -r -e -m -i -p -o -s -H -O -4 -6 -K -N NS\n\
         \x20        -A all,inet,tcp,udp,raw,mptcp,unix,packet,netlink -f inet|inet6|unix|link|netlink --json\n\
         FILTER := [ state STATE-FILTER ] [ EXPRESSION ]"
    );
    std::process::exit(-1i32 as u8 as i32 & 0xff);
}

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("ss: {msg}");
    std::process::exit(1);
}

/// Options with a value: `-N NS`, `-A QUERY` (socket tables, comma
/// separated, as misc/ss.c `filter_db_parse`), `-f FAMILY`.
fn with_value(o: &mut Opts, name: &str, v: &str) {
    match name {
        "net" => o.netns = Some(v.to_string()),
        "family" => match v {
            "inet" | "inet6" => {
                (o.tcp, o.udp, o.raw, o.mptcp) = (true, true, true, true);
                if v == "inet" {
                    o.v4 = true;
                } else {
                    o.v6 = true;
                }
                o.unix_addresses = false;
            }
            "unix" => {
                o.unix = true;
                o.unix_addresses = true;
            }
            "link" => {
                o.packet = true;
                o.unix_addresses = false;
            }
            "netlink" => o.netlink = true,
            _ => {
                eprintln!("ss: \"{v}\" is invalid family");
                usage();
            }
        },
        _ => {
            o.query = true;
            for table in v.split(',') {
                match table {
                    "all" => {
                        (o.tcp, o.udp, o.raw, o.mptcp, o.unix, o.packet, o.netlink) =
                            (true, true, true, true, true, true, true)
                    }
                    "inet" => (o.tcp, o.udp, o.raw, o.mptcp) = (true, true, true, true),
                    "tcp" => o.tcp = true,
                    "udp" => o.udp = true,
                    "raw" => o.raw = true,
                    "mptcp" => o.mptcp = true,
                    "unix" => o.unix = true,
                    "packet" => o.packet = true,
                    "netlink" => o.netlink = true,
                    "dccp" | "sctp" | "unix_stream" | "u_str" | "unix_dgram" | "u_dgr" | "unix_seqpacket" | "u_seq"
                    | "packet_raw" | "p_raw" | "packet_dgram" | "p_dgr" | "tipc" | "vsock" | "vsock_stream"
                    | "v_str" | "vsock_dgram" | "v_dgr" | "xdp" => {
                        die(format!("socket table {table:?} is not supported by this example"))
                    }
                    _ => {
                        eprintln!("ss: \"{table}\" is illegal socket table id");
                        usage();
                    }
                }
            }
        }
    }
}

fn parse_args(args: impl IntoIterator<Item = String>) -> (Opts, Vec<String>, Option<States>) {
    let mut o = Opts {
        header: true,
        ..Default::default()
    };
    let mut args = args.into_iter().peekable();
    let mut rest = Vec::new();
    // Short options are spelled as their long names, so one table serves both.
    const SHORT: &[(char, &str)] = &[
        ('t', "tcp"),
        ('u', "udp"),
        ('w', "raw"),
        ('x', "unix"),
        ('0', "packet"),
        ('M', "mptcp"),
        ('a', "all"),
        ('l', "listening"),
        ('n', "numeric"),
        ('r', "resolve"),
        ('o', "options"),
        ('e', "extended"),
        ('m', "memory"),
        ('i', "info"),
        ('p', "processes"),
        ('s', "summary"),
        ('H', "no-header"),
        ('O', "oneline"),
        ('4', "ipv4"),
        ('6', "ipv6"),
        ('K', "kill"),
    ];
    let set = |o: &mut Opts, name: &str| match name {
        "tcp" => o.tcp = true,
        "udp" => o.udp = true,
        "raw" => o.raw = true,
        "unix" => {
            o.unix = true;
            o.unix_addresses = true;
        }
        "packet" => {
            o.packet = true;
            o.unix_addresses = false;
        }
        "mptcp" => o.mptcp = true,
        "all" => o.all = true,
        "listening" => o.listening = true,
        "numeric" => o.numeric = true,
        "resolve" => o.resolve = true,
        "options" => o.options = true,
        "extended" => {
            o.options = true;
            o.details = true;
        }
        "memory" => o.mem = true,
        "info" => o.info = true,
        "processes" => o.processes = true,
        "summary" => o.summary = true,
        "no-header" => o.header = false,
        "oneline" => o.oneline = true,
        "ipv4" => {
            o.v4 = true;
            o.unix_addresses = false;
        }
        "ipv6" => {
            o.v6 = true;
            o.unix_addresses = false;
        }
        "kill" => o.kill = true,
        "json" => o.json = true,
        _ => usage(),
    };
    while let Some(a) = args.next() {
        if a == "--" {
            rest.extend(args.by_ref());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if matches!(name, "net" | "query" | "socket" | "family") {
                let v = value.unwrap_or_else(|| args.next().unwrap_or_else(|| usage()));
                with_value(&mut o, name, &v);
            } else {
                set(&mut o, name);
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for (k, c) in chars.iter().enumerate() {
                let long = match c {
                    'N' => Some("net"),
                    'A' => Some("query"),
                    'f' => Some("family"),
                    _ => None,
                };
                if let Some(long) = long {
                    let v: String = chars[k + 1..].iter().collect();
                    let v = if v.is_empty() {
                        args.next().unwrap_or_else(|| usage())
                    } else {
                        v
                    };
                    with_value(&mut o, long, &v);
                    break;
                }
                let name = SHORT.iter().find(|(s, _)| s == c).map_or("?", |(_, n)| n);
                set(&mut o, name);
            }
            continue;
        }
        rest.push(a);
        rest.extend(args.by_ref());
        break;
    }
    // state / exclude words come first, then the expression.
    let mut states: Option<States> = None;
    let mut i = 0;
    while i < rest.len() {
        let (word, excl) = match rest[i].as_str() {
            "state" => (rest.get(i + 1), false),
            "exclude" | "excl" => (rest.get(i + 1), true),
            _ => break,
        };
        let w = word.unwrap_or_else(|| usage());
        let s = States::parse(w).unwrap_or_else(|| {
            eprintln!("ss: wrong state name: {w}");
            std::process::exit(255);
        });
        states = Some(match (states, excl) {
            (None, false) => s,
            (Some(p), false) => p | s,
            (None, true) => States(States::ALL.0 & !s.0),
            (Some(p), true) => States(p.0 & !s.0),
        });
        i += 2;
    }
    (o, rest.split_off(i), states)
}

// ---------------------------------------------------------------- rows

/// Writes sockets as ss's table (or `--json`), into `W`.
struct Printer<W: Write> {
    t: Table<W>,
    opts: Options,
    names: Names,
    /// `--json`: the objects written so far (the array is opened and
    /// closed by [`Printer::finish`]).
    json: Option<Vec<u8>>,
}

impl<W: Write> Printer<W> {
    /// A printer for `o`'s output of query `q`: ss hides the Netid column
    /// when one table is listed (unix counts as three, packet as two: ss's
    /// sub-tables) and the State column when one state is.
    fn new(o: &Opts, q: &Query, names: Names, sink: W) -> Self {
        let ndbs: usize = q
            .tables
            .iter()
            .map(|t| match t {
                query::Table::Unix => 3,
                query::Table::Packet => 2,
                _ => 1,
            })
            .sum();
        let mut t = Table::new(sink);
        t.cols[COL_NETID].disabled = ndbs <= 1;
        t.cols[COL_STATE].disabled = !q.states.is_multiple();
        if o.header && !o.json {
            t.header();
        }
        Printer {
            t,
            opts: Options {
                numeric: o.numeric,
                timers: o.options,
                details: o.details,
                memory: o.mem,
                info: o.info,
                oneline: o.oneline,
            },
            names,
            json: o.json.then(Vec::new),
        }
    }

    /// One socket: its columns, then what ss prints after them.
    fn socket(&mut self, r: &SocketRecord<'_>, owners: Option<&Owners>) {
        if let Some(json) = &mut self.json {
            json.extend_from_slice(if json.is_empty() { b"\n  " } else { b",\n  " });
            serde_json::to_writer(&mut *json, &r.to_owned_record()).unwrap_or_else(|e| die(e));
            return;
        }
        let t = &mut self.t;
        t.set(COL_NETID);
        t.out(r.netid);
        t.set(COL_STATE);
        t.out(r.state_name());
        t.set(COL_RECVQ);
        t.out_fmt(|b| Queue(r.rqueue).write_to(b));
        t.set(COL_SENDQ);
        t.out_fmt(|b| Queue(r.wqueue).write_to(b));
        t.set(COL_ADDR);
        for end in [&r.local, &r.remote] {
            t.out_fmt(|b| Address::new(end, &self.names, &self.opts).write_to(b));
            t.next();
            if let Some(port) = Port::new(r, end, &self.names, &self.opts) {
                t.out_fmt(|b| port.write_to(b));
            }
            t.next();
        }
        for extra in fmt::extras(r, &self.opts, &self.names, owners) {
            t.out_fmt(|b| extra.write_to(b));
        }
    }

    /// Renders what is left; `--json` writes its array (the objects
    /// serialized by serde_json, the array laid out one object a line as
    /// the example always printed it).
    fn finish(mut self) -> W {
        match self.json.take() {
            Some(objects) => {
                let _ = self.t.sink.write_all(b"[");
                let _ = self.t.sink.write_all(&objects);
                let _ = self.t.sink.write_all(b"\n]\n");
            }
            None => self.t.render(),
        }
        let _ = self.t.sink.flush();
        self.t.sink
    }
}

// ---------------------------------------------------------------- main

/// The query `o` asks for (ss's filter_db_set / filter_af_set / defaults).
fn plan(o: &Opts, expr: Option<filter::Expr>, state_words: Option<States>) -> Query {
    use query::Table::{Inet, Netlink, Packet, Unix};
    let tables: Vec<query::Table> = [
        (o.tcp, Inet(Proto::Tcp)),
        (o.udp, Inet(Proto::Udp)),
        (o.raw, Inet(Proto::Raw)),
        (o.unix, Unix),
        (o.mptcp, Inet(Proto::Mptcp)),
        (o.packet, Packet),
        (o.netlink, Netlink),
    ]
    .into_iter()
    .filter_map(|(on, t)| on.then_some(t))
    .collect();
    let mut q = Query::ss(&tables, expr);
    // -A starts from the connected states, like ss without table options.
    if o.query {
        q.states = States::DEFAULT;
    }
    if o.all {
        q.states = States::ALL;
    } else if o.listening {
        q.states = States::LISTENING;
    }
    if let Some(s) = state_words {
        q.states = s;
    }
    q.families = match (o.v4, o.v6) {
        (true, false) => Families::INET,
        (false, true) => Families::INET6,
        _ => Families::all(),
    };
    (q.memory, q.info, q.details) = (o.mem, o.info, o.details);
    q
}

fn main() {
    let (o, expr_words, state_words) = parse_args(std::env::args().skip(1));
    if o.resolve {
        die("-r (host name resolution) is not supported: netobs prints addresses");
    }
    let netns = match &o.netns {
        Some(n) => {
            // Opened once here (ss's error if it cannot be); every socket
            // is then made inside it from this descriptor.
            match Netns::named(n).open() {
                Ok(Some(fd)) => Netns::Fd(fd),
                Ok(None) => Netns::Current,
                Err(e) => {
                    let text = netobs::core::error::strerror(e.errno().unwrap_or(libc::ENOENT));
                    eprintln!("Cannot open network namespace \"{n}\": {text}");
                    std::process::exit(1);
                }
            }
        }
        None => Netns::Current,
    };

    let expr_text = expr_words.join(" ");
    let resolve_dev = |name: &str| -> Option<u32> {
        let mut r = NetlinkSocket::open_in(Protocol::Route, &netns).ok()?;
        let link = r.link_by_name(name).ok()?;
        Some(link.index())
    };
    let options = filter::ParseOptions { unix: o.unix_addresses };
    let expr = match filter::parse_with_options(&expr_text, &resolve_dev, options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ss: {e}");
            eprintln!("    {expr_text}");
            if let Some(column) = netobs::core::ErrorInfo::column(&e) {
                eprintln!("    {}^", " ".repeat(column.saturating_sub(1)));
            }
            std::process::exit(255);
        }
    };
    let tables_given = o.tcp || o.udp || o.raw || o.unix || o.mptcp || o.packet || o.netlink;
    let q = plan(&o, expr, state_words);

    if o.summary {
        let sockstat = counters::SockStat::read_in(&netns).unwrap_or_else(|e| die(e));
        let counters = counters::read_in(&netns).unwrap_or_else(|e| die(e));
        print!(
            "{}",
            fmt::Summary {
                sockstat: &sockstat,
                counters: &counters
            }
        );
        if !tables_given && expr_words.is_empty() && state_words.is_none() {
            return;
        }
    }

    let mut killer = o.kill.then(|| SockDiag::open_in(&netns).unwrap_or_else(|e| die(e)));
    let names = Names::new(&netns).unwrap_or_else(|e| die(e));
    let mut p = Printer::new(&o, &q, names, std::io::stdout().lock());
    let mut show = |r: &SocketRecord<'_>, owners: Option<&Owners>| {
        // -K: each socket is destroyed first and shown only if that worked.
        if let Some(k) = killer.as_mut() {
            match query::kill(k, r) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => die(format!("SOCK_DESTROY answers: {e}")),
            }
        }
        p.socket(r, owners);
    };
    let listed = if o.processes {
        // -p: /proc is scanned on other threads while the kernel builds the dumps.
        q.run_with_owners(&netns, |r, owners| show(r, Some(owners)))
    } else if o.kill {
        q.run(&netns, Pipeline::Sequential, |r| show(r, None))
    } else {
        q.run(&netns, Pipeline::Parallel { workers: 2 }, |r| show(r, None))
    };
    listed.unwrap_or_else(|e| die(e));
    let _ = p.finish();
}

#[cfg(test)]
#[path = "../netobs-sockdiag/tests/common/ss_world.rs"]
mod ss_world;

#[cfg(test)]
mod tests {
    use super::*;
    use netobs::sockdiag::query::Origin;

    /// What the example printed for the sockets recorded in ss_world.bin
    /// (one file of arguments and one of output each) before the library
    /// owned the printing.
    const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/netobs-sockdiag/tests/data/ss_world");

    /// What the example prints for the recorded sockets the query of
    /// `args` would have listed (its tables, families and states).
    fn replay(args: &str) -> Vec<u8> {
        let (o, _, states) = parse_args(args.split_whitespace().map(str::to_owned));
        let q = plan(&o, None, states);
        let dumps = q.dumps();
        // The recording ran in the cgroup2 root, whose id is 1.
        let names = Names::new(&Netns::Current)
            .unwrap()
            .with_cgroup_paths([(1, "/".to_owned())].into());
        let mut p = Printer::new(&o, &q, names, Vec::new());
        for (origin, payload) in ss_world::answers() {
            let r = SocketRecord::parse(origin, &payload).unwrap();
            let dump = match (origin, r.local) {
                (Origin::Netlink, _) => query::Dump::Netlink,
                (Origin::Packet, _) => query::Dump::Packet,
                (Origin::Unix, _) => query::Dump::Unix,
                (Origin::Inet(proto, _), query::Endpoint::Inet { addr, .. }) => query::Dump::Inet(
                    proto,
                    if addr.is_ipv4() {
                        netobs::sockdiag::Family::Inet
                    } else {
                        netobs::sockdiag::Family::Inet6
                    },
                ),
                _ => unreachable!(),
            };
            if dumps.contains(&dump) && q.states.contains_raw(r.state) {
                p.socket(&r, None);
            }
        }
        p.finish()
    }

    #[test]
    fn recorded_sockets_print_as_before() {
        let mut n = 0;
        for entry in std::fs::read_dir(WORLD).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "args") {
                let args = std::fs::read_to_string(&path).unwrap();
                let want = std::fs::read(path.with_extension("out")).unwrap();
                let got = replay(&args);
                assert!(got == want, "ss {args}\n{}", String::from_utf8_lossy(&got));
                n += 1;
            }
        }
        assert!(n >= 8);
    }
}
