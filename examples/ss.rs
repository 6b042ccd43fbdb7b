//! `ss`, rebuilt on netobs: the same output as iproute2's ss 6.1 for the
//! common options, plus `--json`.
//!
//! ```text
//! cargo run --release --example ss -- [-t -u -w -x -M -l -a -n -r -e -m -i -p -o -s -H -O -4 -6 -K] [-N NS]
//!                                      [--json] [state STATE ...] [exclude STATE ...] [FILTER]
//! ```
//!
//! Output is rendered like ss renders when stdout is not a terminal: each
//! column as wide as its widest field, in batches of ss's 5 MiB buffer.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;

use netobs::core::{NetlinkSocket, Netns, Protocol};
use netobs::sockdiag::inet_diag::{Extensions, Family, InetRequest, InetSock, Proto, States};
use netobs::sockdiag::netlink_diag::{self, NetlinkShow, NetlinkSock};
use netobs::sockdiag::owners::Owners;
use netobs::sockdiag::packet_diag::{PacketShow, PacketSock};
use netobs::sockdiag::unix_diag::{UnixShow, UnixSock};
use netobs::sockdiag::{bytecode, counters, filter, proc_net, SockDiag, TcpInfo};

#[path = "common/mod.rs"]
mod common;
use common::json::json_str;

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
struct Table {
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
}

impl Table {
    fn new() -> Self {
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
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
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
                let _ = lock.write_all(&self.out);
                self.out.clear();
            }
        }
        if line_started {
            self.out.push(b'\n');
        }
        let _ = lock.write_all(&self.out);
        self.out.clear();
        self.tokens.clear();
        self.buf.clear();
        self.tok_start = 0;
        self.chunks = 0;
        self.cur = 0;
    }
}

/// Appends `v` in decimal.
fn push_u64(b: &mut String, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &tmp[i..] {
        b.push(d as char);
    }
}

/// Appends `v` left-aligned in `width` columns (C's `%-6d`).
fn push_padded(b: &mut String, v: u64, width: usize) {
    let start = b.len();
    push_u64(b, v);
    for _ in b.len() - start..width {
        b.push(' ');
    }
}

/// Appends an address as ss prints it: dotted IPv4, `*` for the IPv6
/// wildcard of a dual-stack socket, bracketed IPv6 otherwise.
fn push_ip(b: &mut String, addr: IpAddr, v6only: bool) {
    match addr {
        IpAddr::V4(a) => {
            for (i, o) in a.octets().iter().enumerate() {
                if i > 0 {
                    b.push('.');
                }
                push_u64(b, *o as u64);
            }
        }
        IpAddr::V6(a) if !v6only && a.is_unspecified() => b.push('*'),
        IpAddr::V6(a) => {
            let _ = write!(b, "[{a}]");
        }
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

// ---------------------------------------------------------------- formats

/// A fixed buffer for formatting numbers without touching the heap.
struct StackBuf {
    b: [u8; 64],
    n: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf { b: [0; 64], n: 0 }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.b[..self.n]).unwrap_or("")
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.n + s.len();
        if end > self.b.len() {
            return Err(std::fmt::Error);
        }
        self.b[self.n..end].copy_from_slice(s.as_bytes());
        self.n = end;
        Ok(())
    }
}

/// C's `%g` with `prec` significant digits, appended to `b`. Rust's exact
/// float formatting rounds the binary value correctly, half to even, as
/// glibc's printf does; the digits are formatted once and laid out here.
fn fmt_g(b: &mut String, x: f64, prec: usize) {
    if x == 0.0 {
        b.push('0');
        return;
    }
    let p = prec.max(1);
    let mut t = StackBuf::new();
    // Round first: rounding can change the exponent (9.9999 -> 1.00e1).
    let _ = write!(t, "{:.*e}", p - 1, x.abs());
    let (mant, e) = t.as_str().split_once('e').unwrap_or((t.as_str(), "0"));
    let exp = e.parse::<i32>().unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &c in mant.as_bytes().iter().filter(|c| c.is_ascii_digit()).take(digits.len()) {
        digits[n] = c;
        n += 1;
    }
    if x < 0.0 {
        b.push('-');
    }
    g_layout(b, &digits[..n], exp);
}

/// Lays out significant `digits` (value d0.d1d2... x 10^exp) the way `%g`
/// does with precision `digits.len()`: exponent form below 1e-4 or from
/// 10^precision on, fixed otherwise, trailing zeros removed.
fn g_layout(b: &mut String, digits: &[u8], exp: i32) {
    let p = digits.len() as i32;
    let last = digits.iter().rposition(|&d| d != b'0').unwrap_or(0);
    let sig = &digits[..=last];
    let push = |b: &mut String, ds: &[u8]| ds.iter().for_each(|&d| b.push(d as char));
    if exp < -4 || exp >= p {
        push(b, &sig[..1]);
        if sig.len() > 1 {
            b.push('.');
            push(b, &sig[1..]);
        }
        b.push('e');
        b.push(if exp < 0 { '-' } else { '+' });
        if exp.abs() < 10 {
            b.push('0');
        }
        push_u64(b, exp.unsigned_abs() as u64);
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        for i in 0..int_len {
            b.push(*digits.get(i).unwrap_or(&b'0') as char);
        }
        if sig.len() > int_len {
            b.push('.');
            push(b, &sig[int_len..]);
        }
    } else {
        b.push_str("0.");
        for _ in 0..(-exp - 1) {
            b.push('0');
        }
        push(b, sig);
    }
}

/// `%.{p}g` of `n / 10^scale` for an integer `n`, in exact decimal
/// arithmetic; `false` (nothing written) on an exact tie, where printf's
/// answer depends on the binary value of the quotient.
fn int_g(b: &mut String, n: u64, scale: i32, p: usize) -> bool {
    let mut all = [0u8; 20];
    let mut len = 0;
    let mut v = n;
    loop {
        all[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    all[..len].reverse();
    let mut exp = len as i32 - 1 - scale;
    let mut d = [b'0'; 20];
    let keep = p.min(len);
    d[..keep].copy_from_slice(&all[..keep]);
    if len > p {
        let rest = &all[p..len];
        let up = match rest[0] {
            b'6'..=b'9' => true,
            b'5' if rest[1..].iter().any(|&c| c != b'0') => true,
            b'5' => return false,
            _ => false,
        };
        if up {
            let mut i = p;
            loop {
                if i == 0 {
                    // 999 -> 1000: one more digit before the point.
                    d[0] = b'1';
                    d[1..p].fill(b'0');
                    exp += 1;
                    break;
                }
                i -= 1;
                if d[i] == b'9' {
                    d[i] = b'0';
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
    }
    g_layout(b, &d[..p], exp);
    true
}

/// misc/ss.c `sprint_bw`: `%.3g` with a k/M/G/T suffix, or `%.0f` with -n.
fn sprint_bw(b: &mut String, bw: f64, numeric: bool) {
    let integral = (0.0..9.0e15).contains(&bw) && bw.fract() == 0.0;
    if numeric {
        if integral {
            push_u64(b, bw as u64);
        } else {
            let mut d = StackBuf::new();
            let _ = write!(d, "{bw:.0}");
            b.push_str(d.as_str());
        }
        return;
    }
    for (scale, exp10, suffix) in [(1e12, 12, 'T'), (1e9, 9, 'G'), (1e6, 6, 'M'), (1e3, 3, 'k')] {
        if bw >= scale {
            if !(integral && int_g(b, bw as u64, exp10, 3)) {
                fmt_g(b, bw / scale, 3);
            }
            b.push(suffix);
            return;
        }
    }
    if !(integral && int_g(b, bw as u64, 0, 6)) {
        fmt_g(b, bw, 6);
    }
}

fn print_ms_timer(timeout: u32) -> String {
    let mut secs = timeout / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = timeout % 1000;
    let mut s = String::new();
    if minutes > 0 {
        msecs = 0;
        let _ = write!(s, "{minutes}min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        let _ = write!(s, "{secs}{}", if msecs > 0 { "." } else { "sec" });
    }
    if msecs > 0 {
        let _ = write!(s, "{msecs:03}ms");
    }
    s
}

fn proto_name(p: u8) -> &'static str {
    match p as i32 {
        0 => "raw",
        libc::IPPROTO_UDP => "udp",
        libc::IPPROTO_TCP => "tcp",
        libc::IPPROTO_SCTP => "sctp",
        libc::IPPROTO_DCCP => "dccp",
        libc::IPPROTO_ICMPV6 => "icmp6",
        _ => "???",
    }
}

struct Services {
    by_port: HashMap<(u16, &'static str), Option<String>>,
    ephemeral: (u16, u16),
    text: String,
}

impl Services {
    fn new() -> Self {
        let eph = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| {
                let mut w = s.split_whitespace().map(|v| v.parse::<u16>());
                Some((w.next()?.ok()?, w.next()?.ok()?))
            })
            .unwrap_or((1024, 4999));
        Services {
            by_port: HashMap::new(),
            ephemeral: eph,
            text: std::fs::read_to_string("/etc/services").unwrap_or_default(),
        }
    }

    /// getservbyport(), skipping ephemeral ports like ss.
    fn name(&mut self, port: u16, proto: &'static str) -> Option<&str> {
        let (lo, hi) = self.ephemeral;
        let text = &self.text;
        self.by_port
            .entry((port, proto))
            .or_insert_with(|| {
                if port >= lo && port <= hi {
                    return None;
                }
                text.lines().find_map(|l| {
                    let l = l.split('#').next()?;
                    let mut w = l.split_whitespace();
                    let name = w.next()?;
                    let (p, pr) = w.next()?.split_once('/')?;
                    (pr == proto && p.parse::<u16>().ok()? == port).then(|| name.to_string())
                })
            })
            .as_deref()
    }
}

// ---------------------------------------------------------------- state

struct Ss {
    o: Opts,
    t: Table,
    owners: Option<Owners>,
    services: Services,
    ifnames: HashMap<u32, String>,
    route: Option<NetlinkSocket>,
    cgroups: Option<HashMap<u64, String>>,
    netns: Netns,
    json: Vec<String>,
    /// The filter, which ss also runs in user space on unix, packet and
    /// netlink sockets.
    expr: Option<filter::Expr>,
}

impl Ss {
    /// Formats one socket from its answer's payload (and destroys it with -K).
    fn show(&mut self, kind: Kind, payload: &[u8], killer: Option<&mut SockDiag>) {
        match kind {
            Kind::Netlink => self.netlink(&NetlinkSock::parse_payload(payload).unwrap_or_else(|e| die(e))),
            Kind::Packet => self.packet(&PacketSock::parse_payload(payload).unwrap_or_else(|e| die(e))),
            Kind::Unix => self.unix(&UnixSock::parse_payload(payload).unwrap_or_else(|e| die(e))),
            Kind::Inet(proto, _) => {
                let s = InetSock::parse_payload(payload).unwrap_or_else(|e| die(e));
                self.inet_or_kill(&s, proto, killer, true);
            }
            Kind::ProcInet(proto) => {
                let s = InetSock::parse_payload(payload).unwrap_or_else(|e| die(e));
                self.inet_or_kill(&s, proto, killer, false);
            }
        }
    }

    fn ifname(&mut self, index: u32) -> String {
        if let Some(n) = self.ifnames.get(&index) {
            return n.clone();
        }
        if self.route.is_none() {
            self.route = NetlinkSocket::open_in(Protocol::Route, &self.netns).ok();
        }
        let name = self
            .route
            .as_mut()
            .and_then(|r| r.link_by_index(index).ok().and_then(|l| l.name().map(str::to_string)))
            .unwrap_or_else(|| format!("if{index}"));
        self.ifnames.insert(index, name.clone());
        name
    }

    fn cgroup_path(&mut self, id: u64) -> String {
        let map = self.cgroups.get_or_insert_with(netobs::sockdiag::cgroup::paths);
        map.get(&id).cloned().unwrap_or_else(|| format!("unreachable:{id:x}"))
    }

    /// ` users:(("cmd",pid=P,fd=F),...)`. ss prepends each owner to its
    /// hash chain, so the last one found prints first.
    fn users(owners: &Owners, ino: u32, b: &mut String) {
        if ino == 0 {
            return;
        }
        // Most sockets have one owner: keep up to 8 on the stack.
        let mut few: [Option<&netobs::sockdiag::owners::Owner>; 8] = [None; 8];
        let mut n = 0;
        for o in owners.of(ino).take(few.len()) {
            few[n] = Some(o);
            n += 1;
        }
        if n == 0 {
            return;
        }
        if n == few.len() && owners.of(ino).nth(n).is_some() {
            let many: Vec<_> = owners.of(ino).collect();
            Self::print_users(owners, many.iter().rev().copied(), b);
        } else {
            Self::print_users(owners, few[..n].iter().rev().flatten().copied(), b);
        }
    }

    fn print_users<'o>(
        owners: &Owners,
        list: impl Iterator<Item = &'o netobs::sockdiag::owners::Owner>,
        b: &mut String,
    ) {
        b.push_str(" users:(");
        for (i, o) in list.enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("(\"");
            b.push_str(owners.command(o));
            b.push_str("\",pid=");
            push_u64(b, o.pid as u64);
            b.push_str(",fd=");
            push_u64(b, o.fd as u64);
            b.push(')');
        }
        b.push(')');
    }

    fn addr_port(&mut self, addr: IpAddr, port: u16, ifindex: u32, v6only: bool, proto: &'static str) {
        if ifindex != 0 {
            let n = self.ifname(ifindex);
            self.t.out_with(|b| {
                push_ip(b, addr, v6only);
                b.push('%');
                b.push_str(&n);
                b.push(':');
            });
        } else {
            self.t.out_with(|b| {
                push_ip(b, addr, v6only);
                b.push(':');
            });
        }
        self.t.next();
        if port == 0 {
            self.t.out("*");
        } else if self.o.numeric || proto == "raw" {
            // ss names raw "ports" (IP protocols) with inet_proto_n2a; the
            // number is what -n prints and what this example always prints.
            self.t.out_with(|b| push_u64(b, port as u64));
        } else {
            match self.services.name(port, proto) {
                Some(n) => {
                    let n = n.to_string();
                    self.t.out(&n);
                }
                None => self.t.out_with(|b| push_u64(b, port as u64)),
            }
        }
        self.t.next();
    }

    /// With -K, closes the socket first and shows it only if that worked
    /// (ss skips sockets the kernel cannot close or that are already gone).
    /// `details`: whether `-e` has details to print (not for /proc sources).
    fn inet_or_kill(&mut self, s: &InetSock<'_>, proto: Proto, killer: Option<&mut SockDiag>, details: bool) {
        if let Some(k) = killer {
            match k.destroy(proto, s) {
                Ok(()) => {}
                Err(e) if matches!(e.errno(), Some(libc::EOPNOTSUPP) | Some(libc::ENOENT)) => return,
                Err(e) => die(format!("SOCK_DESTROY answers: {e}")),
            }
        }
        self.inet(s, proto, details);
    }

    fn inet(&mut self, s: &InetSock<'_>, proto: Proto, details: bool) {
        let netid = match proto {
            Proto::Mptcp => "mptcp",
            _ => proto_name(s.protocol().unwrap_or(match proto {
                Proto::Tcp => libc::IPPROTO_TCP as u8,
                Proto::Udp => libc::IPPROTO_UDP as u8,
                _ => 0,
            })),
        };
        if self.o.json {
            self.json.push(inet_json(s, netid));
            return;
        }
        let state = s.state().map_or("UNKNOWN", |st| st.ss_name());
        self.t.set(COL_NETID);
        self.t.out(netid);
        self.t.set(COL_STATE);
        self.t.out(state);
        self.t.set(COL_RECVQ);
        let (rq, wq) = (s.rqueue(), s.wqueue());
        self.t.out_with(|b| push_padded(b, rq as u64, 6));
        self.t.set(COL_SENDQ);
        self.t.out_with(|b| push_padded(b, wq as u64, 6));
        self.t.set(COL_ADDR);
        let v6only = s.family() == libc::AF_INET6 as u8 && s.v6only().unwrap_or(false);
        let svc = match proto {
            Proto::Udp => "udp",
            Proto::Raw => "raw",
            _ => "tcp",
        };
        self.addr_port(s.src(), s.sport(), s.interface(), v6only, svc);
        self.addr_port(s.dst(), s.dport(), 0, v6only, svc);
        if let Some(owners) = &self.owners {
            let ino = s.inode();
            self.t.out_with(|b| Self::users(owners, ino, b));
        }
        if self.o.options && s.timer() != 0 {
            let names = ["off", "on", "keepalive", "timewait", "persist", "unknown"];
            let t = names[(s.timer() as usize).min(5)];
            self.t
                .out(&format!(" timer:({t},{},{})", print_ms_timer(s.expires()), s.retrans()));
        }
        if self.o.details && details {
            let mut d = String::new();
            if s.uid() != 0 {
                let _ = write!(d, " uid:{}", s.uid());
            }
            let _ = write!(d, " ino:{} sk:{:x}", s.inode(), s.cookie());
            if let Some(m) = s.mark().filter(|&m| m != 0) {
                let _ = write!(d, " fwmark:0x{m:x}");
            }
            if let Some(c) = s.cgroup_id().filter(|&c| c != 0) {
                let _ = write!(d, " cgroup:{}", self.cgroup_path(c));
            }
            if s.family() == libc::AF_INET6 as u8 {
                if let Some(v) = s.v6only() {
                    let _ = write!(d, " v6only:{}", v as u8);
                }
            }
            if let Some(m) = s.shutdown() {
                d.push_str(&shutdown_arrows(m));
            }
            self.t.out(&d);
        }
        if self.o.mem || (self.o.info && proto != Proto::Udp) {
            let o = &self.o;
            self.t.out_with(|b| {
                if !o.oneline {
                    b.push_str("\n\t");
                }
                if proto == Proto::Mptcp {
                    mptcp_show_info(b, s);
                } else {
                    tcp_show_info(b, s, o);
                }
            });
        }
    }

    /// misc/ss.c `netlink_show_one`: `PROTOCOL:PROCESS` as the local
    /// address (the kernel's own socket is `kernel`; a port id that is a
    /// live PID shows its command; `-n` shows numbers), `*` as the peer
    /// unless connected. ss shows no users for netlink sockets.
    fn netlink(&mut self, s: &NetlinkSock<'_>) {
        // ndiag_portid is an int in ss: autobound ports are negative.
        let pid = s.portid() as i32;
        let proto = s.protocol();
        let key = filter::OtherKey {
            lport: pid,
            rport: -1,
            iface: 0,
            protocol: proto as u32,
            netlink: true,
        };
        if self.expr.as_ref().is_some_and(|e| !e.matches_other(&key)) {
            return;
        }
        let m = s.meminfo();
        let (rq, wq) = m.map_or((0, 0), |m| (m.rmem_alloc, m.wmem_alloc));
        if self.o.json {
            let mut j = String::new();
            let _ = write!(
                j,
                "{{\"netid\":\"nl\",\"state\":\"UNCONN\",\"recv_q\":{rq},\"send_q\":{wq},\"protocol\":{proto},\"portid\":{pid},\"inode\":{}}}",
                s.inode()
            );
            self.json.push(j);
            return;
        }
        self.t.set(COL_NETID);
        self.t.out("nl");
        self.t.set(COL_STATE);
        self.t.out("UNCONN");
        self.t.set(COL_RECVQ);
        self.t.out_with(|b| push_padded(b, rq as u64, 6));
        self.t.set(COL_SENDQ);
        self.t.out_with(|b| push_padded(b, wq as u64, 6));
        self.t.set(COL_ADDR);
        let numeric = self.o.numeric;
        self.t.out_with(|b| {
            match netlink_diag::protocol_name(proto).filter(|_| !numeric) {
                Some(n) => b.push_str(n),
                None => push_u64(b, proto as u64),
            }
            b.push(':');
        });
        self.t.next();
        let process = match pid {
            0 if !numeric => "kernel".to_owned(),
            p if p > 0 && !numeric => command_of(p).map_or_else(|| p.to_string(), |c| format!("{c}/{p}")),
            p => p.to_string(),
        };
        self.t.out(&process);
        self.t.next();
        if s.state() == 1 {
            // NETLINK_CONNECTED: `GROUP:PORTID`.
            self.t.out_with(|b| {
                push_u64(b, s.dst_group() as u64);
                b.push(':');
            });
            self.t.next();
            self.t.out(&(s.dst_portid() as i32).to_string());
        } else {
            self.t.out("*");
            self.t.next();
        }
        self.t.next();
        if self.o.details {
            // The first 32 groups as one word, as ss reads the bitmap.
            let groups = s.groups().filter(|g| *g <= 32).fold(0u32, |w, g| w | 1 << (g - 1));
            self.t.out(&format!(" sk=0 cb=0 groups=0x{groups:08x}"));
        }
        if self.o.mem {
            if let Some(m) = m {
                self.t.out("\t");
                self.t.out(&skmem(&m));
            }
        }
    }

    /// misc/ss.c `packet_show_sock`: protocol and interface as the local
    /// address, `*` as the peer.
    fn packet(&mut self, s: &PacketSock<'_>) {
        let netid = if s.kind() as i32 == libc::SOCK_RAW {
            "p_raw"
        } else {
            "p_dgr"
        };
        let info = s.info();
        let iface = info.map_or(0, |i| i.index);
        let key = filter::OtherKey {
            lport: iface as i32,
            rport: 0,
            iface,
            protocol: s.protocol() as u32,
            netlink: false,
        };
        if self.expr.as_ref().is_some_and(|e| !e.matches_other(&key)) {
            return;
        }
        if self.o.json {
            let mut j = String::new();
            let _ = write!(
                j,
                "{{\"netid\":\"{netid}\",\"state\":\"UNCONN\",\"protocol\":{},\"interface\":{iface},\"inode\":{},\"uid\":{}}}",
                s.protocol(),
                s.inode(),
                s.uid().unwrap_or(0)
            );
            self.json.push(j);
            return;
        }
        let rq = s.meminfo().map_or(0, |m| m.rmem_alloc);
        self.t.set(COL_NETID);
        self.t.out(netid);
        self.t.set(COL_STATE);
        self.t.out("UNCONN");
        self.t.set(COL_RECVQ);
        self.t.out_with(|b| push_padded(b, rq as u64, 6));
        self.t.set(COL_SENDQ);
        self.t.out_with(|b| push_padded(b, 0, 6));
        self.t.set(COL_ADDR);
        let proto = s.protocol();
        let numeric = self.o.numeric;
        self.t.out_with(|b| {
            if proto == libc::ETH_P_ALL as u16 {
                b.push('*');
            } else {
                match ll_proto_name(proto).filter(|_| !numeric) {
                    Some(n) => b.push_str(n),
                    None => {
                        b.push('[');
                        push_u64(b, proto as u64);
                        b.push(']');
                    }
                }
            }
            b.push(':');
        });
        self.t.next();
        if iface == 0 {
            self.t.out("*");
        } else {
            let n = self.ifname(iface);
            self.t.out(&n);
        }
        self.t.next();
        self.t.out("*");
        self.t.next();
        self.t.next();
        if let Some(owners) = &self.owners {
            let ino = s.inode();
            self.t.out_with(|b| Self::users(owners, ino, b));
        }
        if self.o.details {
            let mut d = String::new();
            if let Some(uid) = s.uid().filter(|&u| u != 0) {
                let _ = write!(d, " uid:{uid}");
            }
            let _ = write!(d, " ino:{} sk:{:x}", s.inode(), s.cookie());
            if let Some(i) = info {
                d.push_str(if self.o.oneline { " ver:" } else { "\n\tver:" });
                let _ = write!(d, "{} cpy_thresh:{} flags( ", i.version, i.copy_thresh);
                for (bit, name) in [
                    (1, "running"),
                    (2, " auxdata"),
                    (4, " origdev"),
                    (8, " vnethdr"),
                    (16, " loss"),
                ] {
                    if i.flags & bit != 0 {
                        d.push_str(name);
                    }
                }
                if i.flags == 0 {
                    d.push('0');
                }
                d.push_str(" )");
            }
            for (ring, name) in [(s.rx_ring(), "ring_rx("), (s.tx_ring(), "ring_tx(")] {
                if let Some(r) = ring {
                    d.push_str(if self.o.oneline { " " } else { "\n\t" });
                    let _ = write!(
                        d,
                        "{name}blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                        r.block_size, r.block_nr, r.frame_size, r.frame_nr, r.retire_tmo, r.features
                    );
                }
            }
            if let Some((id, kind)) = s.fanout() {
                d.push_str(if self.o.oneline { " fanout(" } else { "\n\tfanout(" });
                let _ = write!(d, "id:{id},type:");
                match kind {
                    0 => d.push_str("hash"),
                    1 => d.push_str("lb"),
                    2 => d.push_str("cpu"),
                    3 => d.push_str("roll"),
                    4 => d.push_str("random"),
                    5 => d.push_str("qm"),
                    k => {
                        let _ = write!(d, "0x{k:x}");
                    }
                }
                d.push(')');
            }
            self.t.out(&d);
        }
        if self.o.mem {
            if let Some(m) = s.meminfo() {
                self.t.out(&skmem(&m));
            }
        }
    }

    fn unix(&mut self, s: &UnixSock<'_>) {
        let netid = match s.kind() as i32 {
            libc::SOCK_STREAM => "u_str",
            libc::SOCK_SEQPACKET => "u_seq",
            _ => "u_dgr",
        };
        let name = s.name().map(|n| {
            let mut v = n.to_vec();
            if v.first() == Some(&0) {
                for b in v.iter_mut().filter(|b| **b == 0) {
                    *b = b'@';
                }
            }
            // ss prints the name as a C string: it stops at a NUL.
            if let Some(z) = v.iter().position(|&b| b == 0) {
                v.truncate(z);
            }
            String::from_utf8_lossy(&v).into_owned()
        });
        if let Some(e) = &self.expr {
            let key = filter::UnixKey {
                name: name.as_deref(),
                inode: s.inode(),
                peer: s.peer().unwrap_or(0),
            };
            if !e.matches_unix(&key) {
                return;
            }
        }
        if self.o.json {
            let mut j = String::new();
            let _ = write!(
                j,
                "{{\"netid\":\"{netid}\",\"state\":\"{}\",\"recv_q\":{},\"send_q\":{},\"local\":{},\"inode\":{},\"peer_inode\":{}}}",
                netobs::sockdiag::TcpState::from_u8(s.state()).map_or("UNKNOWN", |x| x.ss_name()),
                s.rqlen().map_or(0, |r| r.0),
                s.rqlen().map_or(0, |r| r.1),
                json_str(name.as_deref().unwrap_or("*")),
                s.inode(),
                s.peer().unwrap_or(0)
            );
            self.json.push(j);
            return;
        }
        let (rq, wq) = s.rqlen().unwrap_or((0, 0));
        self.t.set(COL_NETID);
        self.t.out(netid);
        self.t.set(COL_STATE);
        self.t
            .out(netobs::sockdiag::TcpState::from_u8(s.state()).map_or("UNKNOWN", |x| x.ss_name()));
        self.t.set(COL_RECVQ);
        self.t.out_with(|b| push_padded(b, rq as u64, 6));
        self.t.set(COL_SENDQ);
        self.t.out_with(|b| push_padded(b, wq as u64, 6));
        self.t.set(COL_ADDR);
        self.t.out(name.as_deref().unwrap_or("*"));
        self.t.out(" ");
        self.t.next();
        self.t.out_with(|b| push_u64(b, s.inode() as u64));
        self.t.next();
        self.t.out("* ");
        self.t.next();
        self.t.out_with(|b| push_u64(b, s.peer().unwrap_or(0) as u64));
        self.t.next();
        if let Some(owners) = &self.owners {
            let ino = s.inode();
            self.t.out_with(|b| Self::users(owners, ino, b));
        }
        if self.o.mem {
            if let Some(m) = s.meminfo() {
                self.t.out(&skmem(&m));
            }
        }
        if self.o.details {
            let mut d = String::new();
            if let Some(m) = s.shutdown() {
                d.push_str(&shutdown_arrows(m));
            }
            if let Some((ino, dev)) = s.vfs() {
                let _ = write!(d, " ino:{ino} dev:{}/{}", (dev >> 20) & 0xfff, dev & 0xfffff);
            }
            if let Some(p) = s.pending() {
                d.push_str(" peers:");
                for i in p {
                    let _ = write!(d, " {i}");
                }
            }
            self.t.out(&d);
        }
    }
}

/// ss's shutdown mask: `<->` open, `-->` receive side shut, `<--` send side shut.
fn shutdown_arrows(m: u8) -> String {
    format!(
        " {}-{}",
        if m & 1 != 0 { '-' } else { '<' },
        if m & 2 != 0 { '-' } else { '>' }
    )
}

fn skmem(m: &netobs::sockdiag::inet_diag::SkMemInfo) -> String {
    let mut s = format!(
        " skmem:(r{},rb{},t{},tb{},f{},w{},o{}",
        m.rmem_alloc, m.rcvbuf, m.wmem_alloc, m.sndbuf, m.fwd_alloc, m.wmem_queued, m.optmem
    );
    if let Some(b) = m.backlog {
        let _ = write!(s, ",bl{b}");
    }
    if let Some(d) = m.drops {
        let _ = write!(s, ",d{d}");
    }
    s.push(')');
    s
}

/// The command of process `pid` as /proc/PID/stat shows it (the text
/// between the first `(` and the next `)`, as ss's `fscanf("%*d (%[^)])")`).
fn command_of(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.split_once('(')?;
    Some(rest.split(')').next()?.to_owned())
}

/// iproute2's lib/ll_proto.c names of link-layer protocols.
fn ll_proto_name(p: u16) -> Option<&'static str> {
    let table: &[(i32, &str)] = &[
        (libc::ETH_P_LOOP, "loop"),
        (libc::ETH_P_PUP, "pup"),
        (libc::ETH_P_PUPAT, "pupat"),
        (libc::ETH_P_IP, "ip"),
        (libc::ETH_P_X25, "x25"),
        (libc::ETH_P_ARP, "arp"),
        (libc::ETH_P_BPQ, "bpq"),
        (libc::ETH_P_IEEEPUP, "ieeepup"),
        (libc::ETH_P_IEEEPUPAT, "ieeepupat"),
        (libc::ETH_P_DEC, "dec"),
        (libc::ETH_P_DNA_DL, "dna_dl"),
        (libc::ETH_P_DNA_RC, "dna_rc"),
        (libc::ETH_P_DNA_RT, "dna_rt"),
        (libc::ETH_P_LAT, "lat"),
        (libc::ETH_P_DIAG, "diag"),
        (libc::ETH_P_CUST, "cust"),
        (libc::ETH_P_SCA, "sca"),
        (libc::ETH_P_RARP, "rarp"),
        (libc::ETH_P_ATALK, "atalk"),
        (libc::ETH_P_AARP, "aarp"),
        (libc::ETH_P_IPX, "ipx"),
        (libc::ETH_P_IPV6, "ipv6"),
        (libc::ETH_P_PPP_DISC, "ppp_disc"),
        (libc::ETH_P_PPP_SES, "ppp_ses"),
        (libc::ETH_P_ATMMPOA, "atmmpoa"),
        (libc::ETH_P_ATMFATE, "atmfate"),
        (libc::ETH_P_802_3, "802_3"),
        (libc::ETH_P_AX25, "ax25"),
        (libc::ETH_P_ALL, "all"),
        (libc::ETH_P_802_2, "802_2"),
        (libc::ETH_P_SNAP, "snap"),
        (libc::ETH_P_DDCMP, "ddcmp"),
        (libc::ETH_P_WAN_PPP, "wan_ppp"),
        (libc::ETH_P_PPP_MP, "ppp_mp"),
        (libc::ETH_P_LOCALTALK, "localtalk"),
        (0x000C, "can"), // ETH_P_CAN (if_ether.h); libc lacks it
        (libc::ETH_P_PPPTALK, "ppptalk"),
        (libc::ETH_P_TR_802_2, "tr_802_2"),
        (libc::ETH_P_MOBITEX, "mobitex"),
        (libc::ETH_P_CONTROL, "control"),
        (libc::ETH_P_IRDA, "irda"),
        (libc::ETH_P_ECONET, "econet"),
        (libc::ETH_P_TIPC, "tipc"),
        (0x8892, "profinet"), // ETH_P_PROFINET
        (libc::ETH_P_AOE, "aoe"),
        (0x88A4, "ethercat"), // ETH_P_ETHERCAT
        (libc::ETH_P_8021Q, "802.1Q"),
        (libc::ETH_P_8021AD, "802.1ad"),
        (libc::ETH_P_MPLS_UC, "mpls_uc"),
        (libc::ETH_P_MPLS_MC, "mpls_mc"),
        (libc::ETH_P_TEB, "teb"),
    ];
    table.iter().find(|(v, _)| *v == p as i32).map(|(_, n)| *n)
}

/// ` name:value`.
fn kv(b: &mut String, name: &str, v: u64) {
    b.push(' ');
    b.push_str(name);
    b.push(':');
    push_u64(b, v);
}

/// A microsecond field printed in milliseconds with `%g`: exact digits
/// while they fit %g's six significant digits.
fn ms(b: &mut String, us: u32) {
    if us >= 1_000_000 {
        fmt_g(b, us as f64 / 1000.0, 6);
        return;
    }
    push_u64(b, (us / 1000) as u64);
    let frac = us % 1000;
    if frac != 0 {
        b.push('.');
        let d = [frac / 100, frac / 10 % 10, frac % 10];
        let keep = if d[2] != 0 {
            3
        } else if d[1] != 0 {
            2
        } else {
            1
        };
        for v in &d[..keep] {
            b.push((b'0' + *v as u8) as char);
        }
    }
}

/// misc/ss.c `tcp_show_info` + `tcp_stats_print`.
fn tcp_show_info(x: &mut String, s: &InetSock<'_>, o: &Opts) {
    if let Some(m) = s.skmeminfo() {
        x.push_str(&skmem(&m));
    } else if let Some(m) = s.meminfo() {
        let _ = write!(x, " mem:(r{},w{},f{},t{})", m.rmem, m.wmem, m.fmem, m.tmem);
    }
    tcp_stats(x, s, o);
    if let Some(keys) = s.md5_keys() {
        // ss prints each key with printf, outside its column buffer; here
        // it stays in its place on the line.
        x.push_str(" md5keys:");
        for (n, k) in keys.enumerate() {
            if n > 0 {
                x.push(',');
            }
            let _ = write!(x, "{}/{}=", k.addr(), k.prefix_len());
            for &b in k.key() {
                if b.is_ascii_graphic() && b != b'\\' && b != b',' {
                    x.push(b as char);
                } else {
                    let _ = write!(x, "\\{b:03o}");
                }
            }
        }
    }
    if let Some(ulp) = s.ulp() {
        tcp_ulp(x, &ulp);
    }
}

/// misc/ss.c `mptcp_show_info`: memory, then `struct mptcp_info`.
fn mptcp_show_info(x: &mut String, s: &InetSock<'_>) {
    if let Some(m) = s.skmeminfo() {
        x.push_str(&skmem(&m));
    }
    let Some(m) = s.mptcp_info() else { return };
    for (v, name) in [
        (m.subflows, "subflows"),
        (m.add_addr_signal, "add_addr_signal"),
        (m.add_addr_accepted, "add_addr_accepted"),
        (m.subflows_max, "subflows_max"),
        (m.add_addr_signal_max, "add_addr_signal_max"),
        (m.add_addr_accepted_max, "add_addr_accepted_max"),
    ] {
        if v != 0 {
            kv(x, name, v as u64);
        }
    }
    if m.flags & 1 != 0 {
        x.push_str(" fallback");
    }
    if m.flags & 2 != 0 {
        x.push_str(" remote_key");
    }
    if m.token != 0 {
        let _ = write!(x, " token:{:x}", m.token);
    }
    for (v, name) in [
        (m.write_seq, "write_seq"),
        (m.snd_una, "snd_una"),
        (m.rcv_nxt, "rcv_nxt"),
    ] {
        if v != 0 {
            let _ = write!(x, " {name}:{v:x}");
        }
    }
}

/// misc/ss.c: ` tcp-ulp-NAME` and the kTLS or MPTCP subflow details.
fn tcp_ulp(x: &mut String, ulp: &netobs::sockdiag::inet_diag::UlpInfo<'_>) {
    if let Some(name) = ulp.name() {
        let _ = write!(x, " tcp-ulp-{name}");
    }
    if let Some(t) = ulp.tls() {
        match t.version {
            Some(0x0303) => x.push_str(" version: 1.2"),
            Some(0x0304) => x.push_str(" version: 1.3"),
            Some(v) => {
                let _ = write!(x, " version: unknown({v})");
            }
            None => {}
        }
        match t.cipher {
            Some(51) => x.push_str(" cipher: aes-gcm-128"),
            Some(52) => x.push_str(" cipher: aes-gcm-256"),
            _ => {}
        }
        for (name, conf) in [("rxconf", t.rxconf), ("txconf", t.txconf)] {
            let Some(c) = conf else { continue };
            let _ = match c {
                1 => write!(x, " {name}: none"),
                2 => write!(x, " {name}: sw"),
                3 => write!(x, " {name}: hw"),
                4 => write!(x, " {name}: hw-record"),
                c => write!(x, " {name}: unknown({c})"),
            };
        }
        if t.zc_ro_tx {
            x.push_str(" zc_ro_tx");
        }
    }
    if let Some(m) = ulp.mptcp() {
        let flags = m.flags.unwrap_or(0);
        if flags != 0 {
            x.push_str(" flags:");
            for (bit, c) in "MmJjBbecv".chars().enumerate() {
                if flags & (1 << bit) != 0 {
                    x.push(c);
                }
            }
        }
        if let (Some(tr), Some(tl), Some(ir), Some(il)) = (m.token_rem, m.token_loc, m.id_rem, m.id_loc) {
            let _ = write!(x, " token:{tr:04x}(id:{ir})/{tl:04x}(id:{il})");
        }
        if let Some(v) = m.map_seq {
            let _ = write!(x, " seq:{v:x}");
        }
        if let Some(v) = m.map_sfseq {
            let _ = write!(x, " sfseq:{v:x}");
        }
        if let Some(v) = m.ssn_offset {
            let _ = write!(x, " ssnoff:{v:x}");
        }
        if let Some(v) = m.map_datalen {
            let _ = write!(x, " maplen:{v:x}");
        }
    }
}

/// The tcp_info part of misc/ss.c `tcp_show_info` (`tcp_stats_print`).
fn tcp_stats(x: &mut String, s: &InetSock<'_>, o: &Opts) {
    let Some(raw) = s.tcp_info() else { return };
    // ss zero-fills a short struct; read missing fields as 0.
    let i = raw;
    let z32 = |v: Option<u32>| v.unwrap_or(0);
    let z64 = |v: Option<u64>| v.unwrap_or(0);
    if o.options {
        for (bit, name) in [
            (netobs::sockdiag::tcp_info::TCPI_OPT_TIMESTAMPS, " ts"),
            (netobs::sockdiag::tcp_info::TCPI_OPT_SACK, " sack"),
            (netobs::sockdiag::tcp_info::TCPI_OPT_ECN, " ecn"),
            (netobs::sockdiag::tcp_info::TCPI_OPT_ECN_SEEN, " ecnseen"),
            (netobs::sockdiag::tcp_info::TCPI_OPT_SYN_DATA, " fastopen"),
        ] {
            if i.has_option(bit) {
                x.push_str(name);
            }
        }
    }
    if let Some(c) = s.congestion().filter(|c| !c.is_empty()) {
        x.push(' ');
        x.push_str(c);
    }
    if i.has_option(netobs::sockdiag::tcp_info::TCPI_OPT_WSCALE) {
        let _ = write!(
            x,
            " wscale:{},{}",
            i.snd_wscale().unwrap_or(0),
            i.rcv_wscale().unwrap_or(0)
        );
    }
    let rto = z32(i.rto());
    if rto != 0 && rto != 3_000_000 {
        x.push_str(" rto:");
        ms(x, rto);
    }
    if let Some(b) = i.backoff().filter(|&b| b != 0) {
        kv(x, "backoff", b as u64);
    }
    let rtt = z32(i.rtt());
    if rtt != 0 {
        x.push_str(" rtt:");
        ms(x, rtt);
        x.push('/');
        ms(x, z32(i.rttvar()));
    }
    let ato = z32(i.ato());
    if ato != 0 {
        x.push_str(" ato:");
        ms(x, ato);
    }
    for (v, name) in [
        (z32(i.snd_mss()), "mss"),
        (z32(i.pmtu()), "pmtu"),
        (z32(i.rcv_mss()), "rcvmss"),
        (z32(i.advmss()), "advmss"),
        (z32(i.snd_cwnd()), "cwnd"),
    ] {
        if v != 0 {
            kv(x, name, v as u64);
        }
    }
    let ssthresh = z32(i.snd_ssthresh());
    if ssthresh != 0 && ssthresh < 0xffff {
        kv(x, "ssthresh", ssthresh as u64);
    }
    for (v, name) in [
        (z64(i.bytes_sent()), "bytes_sent"),
        (z64(i.bytes_retrans()), "bytes_retrans"),
        (z64(i.bytes_acked()), "bytes_acked"),
        (z64(i.bytes_received()), "bytes_received"),
        (z32(i.segs_out()) as u64, "segs_out"),
        (z32(i.segs_in()) as u64, "segs_in"),
        (z32(i.data_segs_out()) as u64, "data_segs_out"),
        (z32(i.data_segs_in()) as u64, "data_segs_in"),
    ] {
        if v != 0 {
            kv(x, name, v);
        }
    }
    if let Some(d) = s.dctcp() {
        if d.enabled != 0 {
            let _ = write!(
                x,
                " dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                d.ce_state, d.alpha, d.ab_ecn, d.ab_tot
            );
        } else {
            x.push_str(" dctcp:fallback_mode");
        }
    }
    if let Some(bbr) = s.bbr() {
        x.push_str(" bbr:(bw:");
        sprint_bw(x, bbr.bw as f64 * 8.0, o.numeric);
        x.push_str("bps,mrtt:");
        fmt_g(x, bbr.min_rtt as f64 / 1000.0, 6);
        if bbr.pacing_gain != 0 {
            x.push_str(",pacing_gain:");
            fmt_g(x, bbr.pacing_gain as f64 / 256.0, 6);
        }
        if bbr.cwnd_gain != 0 {
            x.push_str(",cwnd_gain:");
            fmt_g(x, bbr.cwnd_gain as f64 / 256.0, 6);
        }
        x.push(')');
    }
    let mut rtt_for_bw = rtt as f64;
    if let Some(v) = s.vegas() {
        if v.enabled != 0 && v.rtt != 0 && v.rtt != 0x7fff_ffff {
            rtt_for_bw = v.rtt as f64;
        }
    }
    let (mss, cwnd) = (z32(i.snd_mss()), z32(i.snd_cwnd()));
    if rtt_for_bw > 0.0 && mss != 0 && cwnd != 0 {
        let bps = cwnd as f64 * mss as f64 * 8_000_000.0 / rtt_for_bw;
        x.push_str(" send ");
        sprint_bw(x, bps, o.numeric);
        x.push_str("bps");
    }
    for (v, name) in [
        (z32(i.last_data_sent()), "lastsnd"),
        (z32(i.last_data_recv()), "lastrcv"),
        (z32(i.last_ack_recv()), "lastack"),
    ] {
        if v != 0 {
            kv(x, name, v as u64);
        }
    }
    let pacing = z64(i.pacing_rate());
    if pacing != 0 && pacing != u64::MAX {
        x.push_str(" pacing_rate ");
        sprint_bw(x, pacing as f64 * 8.0, o.numeric);
        x.push_str("bps");
        let max = z64(i.max_pacing_rate());
        if max != 0 && max != u64::MAX {
            x.push('/');
            sprint_bw(x, max as f64 * 8.0, o.numeric);
            x.push_str("bps");
        }
    }
    let dr = z64(i.delivery_rate());
    if dr != 0 {
        x.push_str(" delivery_rate ");
        sprint_bw(x, dr as f64 * 8.0, o.numeric);
        x.push_str("bps");
    }
    if let Some(d) = i.delivered().filter(|&d| d != 0) {
        kv(x, "delivered", d as u64);
    }
    if let Some(d) = i.delivered_ce().filter(|&d| d != 0) {
        kv(x, "delivered_ce", d as u64);
    }
    if i.delivery_rate_app_limited() == Some(true) {
        x.push_str(" app_limited");
    }
    let busy = z64(i.busy_time());
    if busy != 0 {
        let _ = write!(x, " busy:{}ms", busy / 1000);
        let rw = z64(i.rwnd_limited());
        if rw != 0 {
            let _ = write!(
                x,
                " rwnd_limited:{}ms({:.1}%)",
                rw / 1000,
                100.0 * rw as f64 / busy as f64
            );
        }
        let sb = z64(i.sndbuf_limited());
        if sb != 0 {
            let _ = write!(
                x,
                " sndbuf_limited:{}ms({:.1}%)",
                sb / 1000,
                100.0 * sb as f64 / busy as f64
            );
        }
    }
    if let Some(u) = i.unacked().filter(|&u| u != 0) {
        kv(x, "unacked", u as u64);
    }
    let (re, ret) = (z32(i.retrans()), z32(i.total_retrans()));
    if re != 0 || ret != 0 {
        kv(x, "retrans", re as u64);
        x.push('/');
        push_u64(x, ret as u64);
    }
    if let Some(l) = i.lost().filter(|&l| l != 0) {
        kv(x, "lost", l as u64);
    }
    let sacked = z32(i.sacked());
    if sacked != 0 && s.state() != Some(netobs::sockdiag::TcpState::Listen) {
        kv(x, "sacked", sacked as u64);
    }
    if let Some(d) = i.dsack_dups().filter(|&d| d != 0) {
        kv(x, "dsack_dups", d as u64);
    }
    if let Some(f) = i.fackets().filter(|&f| f != 0) {
        kv(x, "fackets", f as u64);
    }
    let reord = z32(i.reordering());
    if reord != 3 {
        let _ = write!(x, " reordering:{}", reord as i32);
    }
    if let Some(r) = i.reord_seen().filter(|&r| r != 0) {
        let _ = write!(x, " reord_seen:{}", r as i32);
    }
    let rcv_rtt = z32(i.rcv_rtt());
    if rcv_rtt != 0 {
        x.push_str(" rcv_rtt:");
        ms(x, rcv_rtt);
    }
    if let Some(r) = i.rcv_space().filter(|&r| r != 0) {
        let _ = write!(x, " rcv_space:{}", r as i32);
    }
    if let Some(r) = i.rcv_ssthresh().filter(|&r| r != 0) {
        kv(x, "rcv_ssthresh", r as u64);
    }
    if let Some(n) = i.notsent_bytes().filter(|&n| n != 0) {
        kv(x, "notsent", n as u64);
    }
    let min_rtt = z32(i.min_rtt());
    if min_rtt != 0 && min_rtt != u32::MAX {
        x.push_str(" minrtt:");
        ms(x, min_rtt);
    }
    if let Some(r) = i.rcv_ooopack().filter(|&r| r != 0) {
        kv(x, "rcv_ooopack", r as u64);
    }
    if let Some(w) = i.snd_wnd().filter(|&w| w != 0) {
        kv(x, "snd_wnd", w as u64);
    }
    let _: &TcpInfo = &i;
}

fn inet_json(s: &InetSock<'_>, netid: &str) -> String {
    let mut j = String::new();
    let _ = write!(
        j,
        "{{\"netid\":\"{netid}\",\"state\":\"{}\",\"recv_q\":{},\"send_q\":{},\"src\":\"{}\",\"sport\":{},\"dst\":\"{}\",\"dport\":{},\"interface\":{},\"uid\":{},\"inode\":{},\"cookie\":{},\"timer\":{},\"expires_ms\":{},\"retrans\":{}",
        s.state().map_or("UNKNOWN", |x| x.ss_name()),
        s.rqueue(),
        s.wqueue(),
        s.src(),
        s.sport(),
        s.dst(),
        s.dport(),
        s.interface(),
        s.uid(),
        s.inode(),
        s.cookie(),
        s.timer(),
        s.expires(),
        s.retrans()
    );
    if let Some(c) = s.congestion() {
        let _ = write!(j, ",\"congestion\":{}", json_str(c));
    }
    if let Some(m) = s.skmeminfo() {
        let _ = write!(
            j,
            ",\"skmem\":{{\"rmem_alloc\":{},\"rcvbuf\":{},\"wmem_alloc\":{},\"sndbuf\":{},\"fwd_alloc\":{},\"wmem_queued\":{},\"optmem\":{},\"backlog\":{},\"drops\":{}}}",
            m.rmem_alloc,
            m.rcvbuf,
            m.wmem_alloc,
            m.sndbuf,
            m.fwd_alloc,
            m.wmem_queued,
            m.optmem,
            m.backlog.unwrap_or(0),
            m.drops.unwrap_or(0)
        );
    }
    if let Some(i) = s.tcp_info() {
        j.push_str(",\"tcp_info\":{");
        let mut first = true;
        for &(name, off, size) in netobs::sockdiag::tcp_info::TCP_INFO_FIELDS {
            let Some(b) = i.bytes().get(off..off + size) else { break };
            let v: u64 = match size {
                1 => b[0] as u64,
                2 => u16::from_ne_bytes([b[0], b[1]]) as u64,
                4 => u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as u64,
                _ => u64::from_ne_bytes(b.try_into().unwrap_or_default()),
            };
            if !first {
                j.push(',');
            }
            first = false;
            let _ = write!(j, "\"{name}\":{v}");
        }
        j.push('}');
    }
    j.push('}');
    j
}

// ---------------------------------------------------------------- main

/// The socket table a dump reads (and a kept answer came from).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Netlink,
    Packet,
    Unix,
    Inet(Proto, Family),
    /// Inet sockets from the /proc/net table (no sock_diag module).
    ProcInet(Proto),
}

/// Appends one answer payload to `buf` as `[u32 length][payload][padding]`.
fn keep(buf: &mut Vec<u8>, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// The dumps one listing needs, in ss's order (netlink, packet, unix,
/// raw, udp, tcp, mptcp), each socket's answer handed on as it arrives.
struct Plan {
    netlink: bool,
    packet: bool,
    unix: bool,
    inet: Vec<Proto>,
    families: Vec<Family>,
    states: States,
    mem: bool,
    info: bool,
    details: bool,
    bytecode: Option<Vec<u8>>,
}

impl Plan {
    /// The dump requests, in ss's order.
    fn jobs(&self) -> Vec<Kind> {
        let mut jobs = Vec::new();
        if self.netlink {
            jobs.push(Kind::Netlink);
        }
        if self.packet {
            jobs.push(Kind::Packet);
        }
        if self.unix {
            jobs.push(Kind::Unix);
        }
        for &proto in &self.inet {
            for &family in &self.families {
                jobs.push(Kind::Inet(proto, family));
            }
        }
        jobs
    }

    /// Runs every dump in order on one socket.
    fn run(&self, diag: &mut SockDiag, emit: &mut dyn FnMut(Kind, &[u8])) -> Result<(), netobs::sockdiag::Error> {
        for job in self.jobs() {
            self.run_job(diag, job, emit)?;
        }
        Ok(())
    }

    /// Runs one dump, handing each answer's payload to `emit`.
    fn run_job(
        &self,
        diag: &mut SockDiag,
        job: Kind,
        emit: &mut dyn FnMut(Kind, &[u8]),
    ) -> Result<(), netobs::sockdiag::Error> {
        match job {
            Kind::Netlink => {
                let show = NetlinkShow::GROUPS | NetlinkShow::MEMINFO;
                diag.for_each_netlink(netlink_diag::NDIAG_PROTO_ALL, show, |s| emit(job, s.payload()))
            }
            Kind::Packet => {
                let show = PacketShow::INFO
                    | PacketShow::MEMINFO
                    | PacketShow::FILTER
                    | PacketShow::RING_CFG
                    | PacketShow::FANOUT;
                diag.for_each_packet(show, |s| emit(job, s.payload()))
            }
            Kind::Unix => {
                let mut show = UnixShow::NAME | UnixShow::PEER | UnixShow::RQLEN;
                if self.mem {
                    show |= UnixShow::MEMINFO;
                }
                if self.details {
                    show |= UnixShow::VFS | UnixShow::ICONS;
                }
                diag.for_each_unix(self.states, show, |s| emit(job, s.payload()))
            }
            // Never planned: only a fallback of an Inet job.
            Kind::ProcInet(_) => Ok(()),
            Kind::Inet(proto, family) => {
                let mut req = InetRequest::new(family, proto, self.states);
                if self.mem {
                    req.ext |= Extensions::MEMINFO | Extensions::SKMEMINFO;
                }
                if self.info {
                    req.ext |= Extensions::INFO | Extensions::VEGASINFO | Extensions::CONG;
                }
                req.bytecode = self.bytecode.as_deref();
                // Without the protocol's sock_diag module (raw_diag is often
                // missing) the library reads the /proc/net table, as ss does.
                match diag.for_each_inet(&req, |s| emit(job, s.payload())) {
                    // MPTCP may be absent (ENOENT/EINVAL from an old kernel): ss stays quiet.
                    Err(_) if proto == Proto::Mptcp => Ok(()),
                    Err(e) if e.errno() == Some(libc::ENOENT) && proc_net::table_name(proto, family).is_some() => {
                        let job = Kind::ProcInet(proto);
                        diag.for_each_inet_in_proc(&req, |s| emit(job, s.payload()))
                    }
                    r => r,
                }
            }
        }
    }
}

/// The payloads [`keep`] stored, in order.
fn kept(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?) as usize;
        let p = buf.get(at + 4..at + 4 + len)?;
        at = (at + 4 + len).next_multiple_of(4);
        Some(p)
    })
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

fn parse_args() -> (Opts, Vec<String>, Option<States>) {
    let mut o = Opts {
        header: true,
        ..Default::default()
    };
    let mut args = std::env::args().skip(1).peekable();
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

fn main() {
    let (o, expr_words, state_words) = parse_args();
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
                    let os = std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::ENOENT)).to_string();
                    let text = os.split(" (os error").next().unwrap_or(&os);
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
            if let netobs::sockdiag::Error::Filter { column, .. } = e {
                eprintln!("    {}^", " ".repeat(column.saturating_sub(1)));
            }
            std::process::exit(255);
        }
    };
    // A unix name pattern makes ss list unix sockets only (parse_hostcond
    // resets the families to AF_UNIX), in the connected states by default.
    let unix_only = expr.as_ref().is_some_and(|e| e.names_unix());

    // Tables and states, as ss's filter_db_set / filter_af_set / defaults.
    let explicit = o.tcp || o.udp || o.raw || o.unix || o.mptcp || o.packet || o.netlink || unix_only;
    let (tcp, udp, raw, unix, mptcp, packet, netlink) = if unix_only {
        (false, false, false, true, false, false, false)
    } else if explicit {
        (o.tcp, o.udp, o.raw, o.unix, o.mptcp, o.packet, o.netlink)
    } else {
        (true, true, true, true, false, true, true)
    };
    let mut states = 0u32;
    if packet || netlink {
        states |= States::only(netobs::sockdiag::TcpState::Close).0;
    }
    if tcp || mptcp {
        states |= States::DEFAULT.0;
    }
    if udp || raw {
        states |= 1 << 1;
    }
    if unix {
        states |= States::DEFAULT.0;
    }
    // -A starts from the connected states, like ss without table options.
    if o.query {
        states = States::DEFAULT.0;
    }
    if o.all {
        states = States::ALL.0;
    } else if o.listening {
        states = States::LISTENING.0;
    }
    if let Some(s) = state_words {
        states = s.0;
    }
    let states = States(states);

    if o.summary {
        let ss = counters::SockStat::read_in(&netns).unwrap_or_else(|e| die(e));
        let c = counters::read_in(&netns).unwrap_or_else(|e| die(e));
        let g = |s: &str, k: &str| ss.get(s, k).unwrap_or(0) as i64;
        let (tcp_total, tws) = (g("TCP", "alloc"), g("TCP", "tw"));
        let (tcp4, tcp6) = (g("TCP", "inuse"), g("TCP6", "inuse"));
        let (udp4, udp6, raw4, raw6) = (
            g("UDP", "inuse"),
            g("UDP6", "inuse"),
            g("RAW", "inuse"),
            g("RAW6", "inuse"),
        );
        let (frag4, frag6) = (g("FRAG", "inuse"), g("FRAG6", "inuse"));
        let mut out = String::new();
        let _ = writeln!(out, "Total: {}", g("sockets", "used"));
        let _ = writeln!(
            out,
            "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
            tcp_total + tws,
            c.get("TcpCurrEstab").unwrap_or(0) as i32,
            tcp_total - (tcp4 + tcp6 - tws),
            g("TCP", "orphan"),
            tws
        );
        out.push('\n');
        out.push_str("Transport Total     IP        IPv6\n");
        for (n, a, b) in [
            ("RAW", raw4, raw6),
            ("UDP", udp4, udp6),
            ("TCP", tcp4, tcp6),
            ("INET", raw4 + udp4 + tcp4, raw6 + udp6 + tcp6),
            ("FRAG", frag4, frag6),
        ] {
            let _ = writeln!(out, "{n}\t  {:<9} {:<9} {:<9}", a + b, a, b);
        }
        out.push('\n');
        print!("{out}");
        if !explicit && expr_words.is_empty() && state_words.is_none() {
            return;
        }
    }

    let bc = expr.as_ref().map(bytecode::compile);

    // -p: walk /proc on other threads while the kernel builds the dumps.
    let owners_scan = o.processes.then(|| std::thread::spawn(Owners::scan));
    let mut diag = SockDiag::open_in(&netns).unwrap_or_else(|e| die(e));

    let mut killer = if o.kill {
        Some(SockDiag::open_in(&netns).unwrap_or_else(|e| die(e)))
    } else {
        None
    };
    let ndbs = [tcp, udp, raw, mptcp, netlink].iter().filter(|&&b| b).count()
        + if unix { 3 } else { 0 }
        + if packet { 2 } else { 0 };
    let mut ss = Ss {
        o,
        t: Table::new(),
        owners: None,
        services: Services::new(),
        ifnames: HashMap::new(),
        route: None,
        cgroups: None,
        netns,
        json: Vec::new(),
        expr: expr.clone(),
    };
    if ndbs <= 1 {
        ss.t.cols[COL_NETID].disabled = true;
    }
    if !states.is_multiple() {
        ss.t.cols[COL_STATE].disabled = true;
    }
    if ss.o.header && !ss.o.json {
        ss.t.header();
    }

    let plan = Plan {
        netlink: netlink && states.contains(netobs::sockdiag::TcpState::Close),
        packet: packet && states.contains(netobs::sockdiag::TcpState::Close),
        unix,
        inet: [
            (raw, Proto::Raw),
            (udp, Proto::Udp),
            (tcp, Proto::Tcp),
            (mptcp, Proto::Mptcp),
        ]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect(),
        families: match (ss.o.v4, ss.o.v6) {
            (true, false) => vec![Family::Inet],
            (false, true) => vec![Family::Inet6],
            _ => vec![Family::Inet, Family::Inet6],
        },
        states,
        mem: ss.o.mem,
        info: ss.o.info,
        details: ss.o.details,
        bytecode: bc,
    };
    if let Some(scan) = owners_scan {
        // -p: the answers are kept (payloads copied, one buffer per table)
        // and formatted after the owner scan, which runs meanwhile on
        // other threads.
        let mut dumps: Vec<(Kind, Vec<u8>)> = Vec::new();
        plan.run(&mut diag, &mut |kind, payload| {
            if dumps.last().is_none_or(|(k, _)| *k != kind) {
                dumps.push((kind, Vec::new()));
            }
            keep(&mut dumps.last_mut().expect("pushed above").1, payload);
        })
        .unwrap_or_else(|e| die(e));
        let owners = scan.join().unwrap_or_else(|_| die("owner scan failed"));
        ss.owners = Some(owners.unwrap_or_else(|e| die(e)));
        for (kind, buf) in &dumps {
            for payload in kept(buf) {
                ss.show(*kind, payload, killer.as_mut());
            }
        }
    } else if killer.is_some() {
        // -K: each socket is shown, and destroyed, as it arrives.
        plan.run(&mut diag, &mut |kind, payload| ss.show(kind, payload, killer.as_mut()))
            .unwrap_or_else(|e| die(e));
    } else {
        // The kernel builds the dumps in the recvmsg calls of two worker
        // threads, each with its own socket and taking the next dump in
        // ss's order, while this thread formats the answers in that order
        // as they arrive (in chunks): the kernel's work and ours overlap.
        let mut jobs = plan.jobs();
        // The netlink listing first, alone: it shows the dumping sockets,
        // and ss has one.
        if jobs.first() == Some(&Kind::Netlink) {
            jobs.remove(0);
            plan.run_job(&mut diag, Kind::Netlink, &mut |kind, payload| {
                ss.show(kind, payload, None)
            })
            .unwrap_or_else(|e| die(e));
        }
        let mut diags = vec![diag];
        if jobs.len() > 1 {
            diags.push(SockDiag::open_in(&ss.netns).unwrap_or_else(|e| die(e)));
        }
        let plan = std::sync::Arc::new(plan);
        let (txs, rxs): (Vec<_>, Vec<_>) = jobs
            .iter()
            .map(|_| std::sync::mpsc::channel::<(Kind, Vec<u8>)>())
            .unzip();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let jobs = std::sync::Arc::new(jobs);
        let txs = std::sync::Arc::new(std::sync::Mutex::new(txs.into_iter().map(Some).collect::<Vec<_>>()));
        let workers: Vec<_> = diags
            .into_iter()
            .map(|mut diag| {
                let (plan, jobs, next, txs) = (plan.clone(), jobs.clone(), next.clone(), txs.clone());
                std::thread::spawn(move || -> Result<(), netobs::sockdiag::Error> {
                    loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&job) = jobs.get(j) else { return Ok(()) };
                        let tx = txs.lock().expect("no panics while held")[j]
                            .take()
                            .expect("each job once");
                        // A chunk holds answers of one kind (a job's /proc
                        // fallback answers under another kind).
                        let mut chunk = Vec::with_capacity(1 << 18);
                        let mut chunk_kind = job;
                        plan.run_job(&mut diag, job, &mut |kind, payload| {
                            if chunk.len() >= 1 << 18 || (kind != chunk_kind && !chunk.is_empty()) {
                                let full = std::mem::replace(&mut chunk, Vec::with_capacity(1 << 18));
                                let _ = tx.send((chunk_kind, full));
                            }
                            chunk_kind = kind;
                            keep(&mut chunk, payload);
                        })?;
                        let _ = tx.send((chunk_kind, chunk));
                    }
                })
            })
            .collect();
        // Only the workers hold senders now: a job no worker reached
        // (after an error) ends its channel when they have all stopped.
        drop(txs);
        for rx in rxs {
            for (kind, buf) in rx {
                for payload in kept(&buf) {
                    ss.show(kind, payload, None);
                }
            }
        }
        for w in workers {
            match w.join() {
                Ok(r) => r.unwrap_or_else(|e| die(e)),
                Err(_) => die("socket dump failed"),
            }
        }
    }
    if ss.o.json {
        let mut out = String::from("[");
        for (i, j) in ss.json.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n  ");
            out.push_str(j);
        }
        out.push_str("\n]\n");
        print!("{out}");
        return;
    }
    ss.t.render();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format() {
        let g = |x: f64, p: usize| {
            let mut b = String::new();
            fmt_g(&mut b, x, p);
            b
        };
        assert_eq!(g(0.031, 6), "0.031");
        assert_eq!(g(204.0, 6), "204");
        assert_eq!(g(1234567.0, 6), "1.23457e+06");
        assert_eq!(g(0.00001, 6), "1e-05");
        assert_eq!(g(9.9999999, 3), "10");
        assert_eq!(g(13.3333, 3), "13.3");
        assert_eq!(g(0.125, 2), "0.12");
        assert_eq!(g(100000.0, 6), "100000");
        assert_eq!(g(1e-4, 6), "0.0001");
        assert_eq!(g(0.000123456, 6), "0.000123456");
        // The integer path agrees with the float path away from ties.
        for n in [
            1u64,
            9,
            10,
            999,
            1000,
            1234,
            99_949,
            99_951,
            123_456_789,
            999_999_999,
            1_000_000_000,
            7_770_000,
        ] {
            for (scale, p) in [(0, 6), (3, 3), (6, 3), (9, 3)] {
                let mut a = String::new();
                if int_g(&mut a, n, scale, p) {
                    assert_eq!(a, g(n as f64 / 10f64.powi(scale), p), "{n} / 1e{scale} %.{p}g");
                }
            }
        }
        let ms_of = |us: u32| {
            let mut b = String::new();
            ms(&mut b, us);
            b
        };
        for us in [1, 10, 31, 204_000, 999_999, 1_234_567, 50] {
            assert_eq!(ms_of(us), g(us as f64 / 1000.0, 6), "{us}");
        }
        assert_eq!(print_ms_timer(7_200_000), "120min");
        assert_eq!(print_ms_timer(59_876), "59sec");
        assert_eq!(print_ms_timer(1_234), "1.234ms");
    }
}
