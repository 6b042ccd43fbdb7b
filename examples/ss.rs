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
use netobs::sockdiag::owners::Owners;
use netobs::sockdiag::unix_diag::{UnixShow, UnixSock};
use netobs::sockdiag::{bytecode, counters, filter, SockDiag, TcpInfo};

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
    // The digits are ASCII.
    b.push_str(std::str::from_utf8(&tmp[i..]).unwrap_or("?"));
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
    mptcp: bool,
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
         options: -t -u -w -x -M -a -l -n -r -e -m -i -p -o -s -H -O -4 -6 -K -N NS --json\n\
         FILTER := [ state STATE-FILTER ] [ EXPRESSION ]"
    );
    std::process::exit(-1i32 as u8 as i32 & 0xff);
}

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("ss: {msg}");
    std::process::exit(1);
}

// ---------------------------------------------------------------- formats

/// C's `%g` with `prec` significant digits.
fn fmt_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let p = prec.max(1);
    let exp = x.abs().log10().floor() as i32;
    // Round first: rounding can change the exponent (9.9999 -> 10).
    let e_repr = format!("{:.*e}", p - 1, x);
    let (mant, e) = e_repr.split_once('e').unwrap_or((&e_repr, "0"));
    let exp = e.parse::<i32>().unwrap_or(exp);
    if exp < -4 || exp >= p as i32 {
        let mant = strip_zeros(mant);
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn sprint_bw(bw: f64, numeric: bool) -> String {
    if numeric {
        format!("{bw:.0}")
    } else if bw >= 1e12 {
        format!("{}T", fmt_g(bw / 1e12, 3))
    } else if bw >= 1e9 {
        format!("{}G", fmt_g(bw / 1e9, 3))
    } else if bw >= 1e6 {
        format!("{}M", fmt_g(bw / 1e6, 3))
    } else if bw >= 1e3 {
        format!("{}k", fmt_g(bw / 1e3, 3))
    } else {
        fmt_g(bw, 6)
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
    expr: Option<filter::Expr>,
    json: Vec<String>,
}

impl Ss {
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

    fn users(&self, ino: u32) -> Option<String> {
        let owners = self.owners.as_ref()?;
        let list = owners.of(ino);
        if ino == 0 || list.is_empty() {
            return None;
        }
        // ss prepends each owner to its hash chain: the last found prints first.
        let mut s = String::from(" users:(");
        for (i, o) in list.iter().rev().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "(\"{}\",pid={},fd={})", owners.command(o), o.pid, o.fd);
        }
        s.push(')');
        Some(s)
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

    fn inet(&mut self, s: &InetSock<'_>, proto: Proto) {
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
        if let Some(u) = self.users(s.inode()) {
            self.t.out(&u);
        }
        if self.o.options && s.timer() != 0 {
            let names = ["off", "on", "keepalive", "timewait", "persist", "unknown"];
            let t = names[(s.timer() as usize).min(5)];
            self.t
                .out(&format!(" timer:({t},{},{})", print_ms_timer(s.expires()), s.retrans()));
        }
        if self.o.details {
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
                tcp_show_info(b, s, o);
            });
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
        if let Some(u) = self.users(s.inode()) {
            self.t.out(&u);
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

/// misc/ss.c `tcp_show_info` + `tcp_stats_print`.
fn tcp_show_info(x: &mut String, s: &InetSock<'_>, o: &Opts) {
    if let Some(m) = s.skmeminfo() {
        x.push_str(&skmem(&m));
    } else if let Some(m) = s.meminfo() {
        let _ = write!(x, " mem:(r{},w{},f{},t{})", m.rmem, m.wmem, m.fmem, m.tmem);
    }
    let Some(raw) = s.tcp_info() else { return };
    // ss zero-fills a short struct; read missing fields as 0.
    let i = raw;
    let z32 = |v: Option<u32>| v.unwrap_or(0);
    let z64 = |v: Option<u64>| v.unwrap_or(0);
    let g = |v: f64| fmt_g(v, 6);
    // Microsecond fields printed in milliseconds: exact digits while they
    // fit %g's six significant digits.
    let ms = |us: u32| -> String {
        if us >= 1_000_000 {
            return fmt_g(us as f64 / 1000.0, 6);
        }
        let mut b = String::with_capacity(12);
        push_u64(&mut b, (us / 1000) as u64);
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
        b
    };
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
        let _ = write!(x, " {c}");
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
        let _ = write!(x, " rto:{}", ms(rto));
    }
    if let Some(b) = i.backoff().filter(|&b| b != 0) {
        let _ = write!(x, " backoff:{b}");
    }
    let rtt = z32(i.rtt());
    if rtt != 0 {
        let _ = write!(x, " rtt:{}/{}", ms(rtt), ms(z32(i.rttvar())));
    }
    let ato = z32(i.ato());
    if ato != 0 {
        let _ = write!(x, " ato:{}", ms(ato));
    }
    for (v, name) in [
        (z32(i.snd_mss()), "mss"),
        (z32(i.pmtu()), "pmtu"),
        (z32(i.rcv_mss()), "rcvmss"),
        (z32(i.advmss()), "advmss"),
        (z32(i.snd_cwnd()), "cwnd"),
    ] {
        if v != 0 {
            let _ = write!(x, " {name}:{v}");
        }
    }
    let ssthresh = z32(i.snd_ssthresh());
    if ssthresh != 0 && ssthresh < 0xffff {
        let _ = write!(x, " ssthresh:{ssthresh}");
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
            let _ = write!(x, " {name}:{v}");
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
    if let Some(b) = s.bbr() {
        let _ = write!(
            x,
            " bbr:(bw:{}bps,mrtt:{}",
            sprint_bw(b.bw as f64 * 8.0, o.numeric),
            g(b.min_rtt as f64 / 1000.0)
        );
        if b.pacing_gain != 0 {
            let _ = write!(x, ",pacing_gain:{}", g(b.pacing_gain as f64 / 256.0));
        }
        if b.cwnd_gain != 0 {
            let _ = write!(x, ",cwnd_gain:{}", g(b.cwnd_gain as f64 / 256.0));
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
        let _ = write!(x, " send {}bps", sprint_bw(bps, o.numeric));
    }
    for (v, name) in [
        (z32(i.last_data_sent()), "lastsnd"),
        (z32(i.last_data_recv()), "lastrcv"),
        (z32(i.last_ack_recv()), "lastack"),
    ] {
        if v != 0 {
            let _ = write!(x, " {name}:{v}");
        }
    }
    let pacing = z64(i.pacing_rate());
    if pacing != 0 && pacing != u64::MAX {
        let _ = write!(x, " pacing_rate {}bps", sprint_bw(pacing as f64 * 8.0, o.numeric));
        let max = z64(i.max_pacing_rate());
        if max != 0 && max != u64::MAX {
            let _ = write!(x, "/{}bps", sprint_bw(max as f64 * 8.0, o.numeric));
        }
    }
    let dr = z64(i.delivery_rate());
    if dr != 0 {
        let _ = write!(x, " delivery_rate {}bps", sprint_bw(dr as f64 * 8.0, o.numeric));
    }
    if let Some(d) = i.delivered().filter(|&d| d != 0) {
        let _ = write!(x, " delivered:{d}");
    }
    if let Some(d) = i.delivered_ce().filter(|&d| d != 0) {
        let _ = write!(x, " delivered_ce:{d}");
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
        let _ = write!(x, " unacked:{u}");
    }
    let (re, ret) = (z32(i.retrans()), z32(i.total_retrans()));
    if re != 0 || ret != 0 {
        let _ = write!(x, " retrans:{re}/{ret}");
    }
    if let Some(l) = i.lost().filter(|&l| l != 0) {
        let _ = write!(x, " lost:{l}");
    }
    let sacked = z32(i.sacked());
    if sacked != 0 && s.state() != Some(netobs::sockdiag::TcpState::Listen) {
        let _ = write!(x, " sacked:{sacked}");
    }
    if let Some(d) = i.dsack_dups().filter(|&d| d != 0) {
        let _ = write!(x, " dsack_dups:{d}");
    }
    if let Some(f) = i.fackets().filter(|&f| f != 0) {
        let _ = write!(x, " fackets:{f}");
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
        let _ = write!(x, " rcv_rtt:{}", ms(rcv_rtt));
    }
    if let Some(r) = i.rcv_space().filter(|&r| r != 0) {
        let _ = write!(x, " rcv_space:{}", r as i32);
    }
    if let Some(r) = i.rcv_ssthresh().filter(|&r| r != 0) {
        let _ = write!(x, " rcv_ssthresh:{r}");
    }
    if let Some(n) = i.notsent_bytes().filter(|&n| n != 0) {
        let _ = write!(x, " notsent:{n}");
    }
    let min_rtt = z32(i.min_rtt());
    if min_rtt != 0 && min_rtt != u32::MAX {
        let _ = write!(x, " minrtt:{}", ms(min_rtt));
    }
    if let Some(r) = i.rcv_ooopack().filter(|&r| r != 0) {
        let _ = write!(x, " rcv_ooopack:{r}");
    }
    if let Some(w) = i.snd_wnd().filter(|&w| w != 0) {
        let _ = write!(x, " snd_wnd:{w}");
    }
    let _: &TcpInfo = &i;
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
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
        "unix" => o.unix = true,
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
        "ipv4" => o.v4 = true,
        "ipv6" => o.v6 = true,
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
            match long.split_once('=') {
                Some(("net", v)) => o.netns = Some(v.to_string()),
                None if long == "net" => o.netns = Some(args.next().unwrap_or_else(|| usage())),
                _ => set(&mut o, long),
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            for (k, c) in chars.iter().enumerate() {
                if *c == 'N' {
                    let v: String = chars[k + 1..].iter().collect();
                    o.netns = Some(if v.is_empty() {
                        args.next().unwrap_or_else(|| usage())
                    } else {
                        v
                    });
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
            let ns = Netns::named(n);
            if let Err(e) = ns.run(|| ()) {
                let os = std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::ENOENT)).to_string();
                let text = os.split(" (os error").next().unwrap_or(&os);
                eprintln!("Cannot open network namespace \"{n}\": {text}");
                std::process::exit(1);
            }
            ns
        }
        None => Netns::Current,
    };

    // Tables and states, as ss's filter_db_set / filter_af_set / defaults.
    let explicit = o.tcp || o.udp || o.raw || o.unix || o.mptcp;
    let (tcp, udp, raw, unix, mptcp) = if explicit {
        (o.tcp, o.udp, o.raw, o.unix, o.mptcp)
    } else {
        (true, true, true, true, false)
    };
    let mut states = 0u32;
    if tcp || mptcp {
        states |= States::DEFAULT.0;
    }
    if udp || raw {
        states |= 1 << 1;
    }
    if unix {
        states |= States::DEFAULT.0;
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

    let expr_text = expr_words.join(" ");
    let resolve_dev = |name: &str| -> Option<u32> {
        let mut r = NetlinkSocket::open_in(Protocol::Route, &netns).ok()?;
        let link = r.link_by_name(name).ok()?;
        Some(link.index())
    };
    let expr = match filter::parse_with(&expr_text, &resolve_dev) {
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
    let bc = expr.as_ref().map(bytecode::compile);

    let owners = if o.processes {
        Some(Owners::scan().unwrap_or_else(|e| die(e)))
    } else {
        None
    };
    let mut diag = SockDiag::open_in(&netns).unwrap_or_else(|e| die(e));

    let mut killer = if o.kill {
        Some(SockDiag::open_in(&netns).unwrap_or_else(|e| die(e)))
    } else {
        None
    };
    let ndbs = [tcp, udp, raw, mptcp].iter().filter(|&&b| b).count() + if unix { 3 } else { 0 };
    let mut ss = Ss {
        o,
        t: Table::new(),
        owners,
        services: Services::new(),
        ifnames: HashMap::new(),
        route: None,
        cgroups: None,
        netns,
        expr,
        json: Vec::new(),
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

    if unix {
        let mut show = UnixShow::NAME | UnixShow::PEER | UnixShow::RQLEN;
        if ss.o.mem {
            show |= UnixShow::MEMINFO;
        }
        if ss.o.details {
            show |= UnixShow::VFS | UnixShow::ICONS;
        }
        let mut err = None;
        let r = diag.for_each_unix(states, show, |s| {
            if err.is_none() {
                ss.unix(s);
            }
        });
        if let Err(e) = r.map_err(|e| err.get_or_insert(e).to_string()) {
            die(e);
        }
    }

    let families: &[Family] = match (ss.o.v4, ss.o.v6) {
        (true, false) => &[Family::Inet],
        (false, true) => &[Family::Inet6],
        _ => &[Family::Inet, Family::Inet6],
    };
    let mut ext = Extensions::empty();
    if ss.o.mem {
        ext |= Extensions::MEMINFO | Extensions::SKMEMINFO;
    }
    if ss.o.info {
        ext |= Extensions::INFO | Extensions::VEGASINFO | Extensions::CONG;
    }
    for (on, proto) in [
        (raw, Proto::Raw),
        (udp, Proto::Udp),
        (tcp, Proto::Tcp),
        (mptcp, Proto::Mptcp),
    ] {
        if !on {
            continue;
        }
        for &family in families {
            let mut req = InetRequest::new(family, proto, states);
            req.ext = ext;
            req.bytecode = bc.as_deref();
            let mut failure: Option<String> = None;
            let r = diag.for_each_inet(&req, |s| {
                if failure.is_some() {
                    return;
                }
                if let Some(k) = killer.as_mut() {
                    match k.destroy(proto, s) {
                        Ok(()) => {}
                        Err(e) if matches!(e.errno(), Some(libc::EOPNOTSUPP) | Some(libc::ENOENT)) => return,
                        Err(e) => {
                            failure = Some(format!("SOCK_DESTROY answers: {e}"));
                            return;
                        }
                    }
                }
                ss.inet(s, proto);
            });
            if let Some(f) = failure {
                die(f);
            }
            match r {
                Ok(()) => {}
                // MPTCP may be absent (ENOENT/EINVAL from an old kernel): ss stays quiet.
                Err(_) if proto == Proto::Mptcp => {}
                // No raw_diag in this kernel: ss falls back to /proc/net/raw;
                // say so instead of guessing.
                Err(e) if proto == Proto::Raw && e.errno() == Some(libc::ENOENT) => {
                    eprintln!("ss: raw sockets not shown: this kernel has no raw_diag (ENOENT)");
                    break;
                }
                Err(e) => die(e),
            }
        }
    }
    let _ = &ss.expr;
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
        assert_eq!(fmt_g(0.031, 6), "0.031");
        assert_eq!(fmt_g(204.0, 6), "204");
        assert_eq!(fmt_g(1234567.0, 6), "1.23457e+06");
        assert_eq!(fmt_g(0.00001, 6), "1e-05");
        assert_eq!(fmt_g(9.9999999, 3), "10");
        assert_eq!(fmt_g(13.3333, 3), "13.3");
        assert_eq!(print_ms_timer(7_200_000), "120min");
        assert_eq!(print_ms_timer(59_876), "59sec");
        assert_eq!(print_ms_timer(1_234), "1.234ms");
    }
}
