//! What ss prints, as `Display` adapters over the records of
//! [`crate::query`]: the address and port fields of its columns
//! ([`Address`], [`Port`]), what follows them ([`extras`]: `-p` users, `-o`
//! timers, `-e` details, `-m` memory, `-i` TCP and MPTCP internals, packet
//! and netlink details), its numbers (`%g` in [`G`], rates in
//! [`Bandwidth`], [`Millis`], the queues in [`Queue`]) and the `-s` summary
//! ([`Summary`]). Each writes straight into the caller's buffer; none
//! allocates (but for the first lookup of a name in [`Names`], and a
//! netlink socket's process name, read from /proc as ss reads it).
//!
//! The text follows iproute2 6.1's misc/ss.c; each adapter names the
//! function it follows.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::fmt::{self, Display, Formatter, Write};
use std::net::IpAddr;

use netobs_core::{NetlinkSocket, Netns, Protocol};

use crate::counters::{Counters, SockStat};
use crate::inet_diag::{InetSock, Proto, SkMemInfo, TcpState, UlpInfo};
use crate::netlink_diag::{self, NetlinkSock};
use crate::owners::{Owner, Owners};
use crate::packet_diag::PacketSock;
use crate::query::{Endpoint, Socket, SocketRecord, Table};
use crate::tcp_info;
use crate::unix_diag::UnixSock;
use crate::{InetSource, Result};

/// ss's output options that change what a socket's text holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-n`: numbers instead of service, protocol and process names.
    pub numeric: bool,
    /// `-o`: timers, and TCP's negotiated options with `-i`.
    pub timers: bool,
    /// `-e`: uid, inode, cookie and the family's details.
    pub details: bool,
    /// `-m`: socket memory.
    pub memory: bool,
    /// `-i`: TCP and MPTCP internals.
    pub info: bool,
    /// `-O`: everything on one line.
    pub oneline: bool,
}

// ---------------------------------------------------------------- numbers

/// A fixed buffer for formatting without touching the heap.
struct StackBuf<const N: usize> {
    b: [u8; N],
    n: usize,
}

impl<const N: usize> StackBuf<N> {
    fn new() -> Self {
        StackBuf { b: [0; N], n: 0 }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.b[..self.n]).unwrap_or("")
    }
}

impl<const N: usize> Write for StackBuf<N> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let (n, end) = (self.n, self.n + s.len());
        if end > self.b.len() {
            return Err(fmt::Error);
        }
        // Most pieces are a few bytes (digits, separators): stored in
        // place rather than by a call to memmove.
        match *s.as_bytes() {
            [a] => self.b[n] = a,
            [a, b] => (self.b[n], self.b[n + 1]) = (a, b),
            [a, b, c] => (self.b[n], self.b[n + 1], self.b[n + 2]) = (a, b, c),
            _ => self.b[n..end].copy_from_slice(s.as_bytes()),
        }
        self.n = end;
        Ok(())
    }
}

/// Writes `v` in decimal, one `write_char` a digit: into a `String` that
/// is a push, not a call to memmove.
fn dec(w: &mut impl Write, mut v: u64) -> fmt::Result {
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
    digits(w, &tmp[i..])
}

/// Writes ASCII digits.
fn digits(w: &mut impl Write, ds: &[u8]) -> fmt::Result {
    ds.iter().try_for_each(|&d| w.write_char(char::from(d)))
}

/// C's `%.*g`: `G(value, precision)` prints `value` with `precision`
/// significant digits (at least 1). Rust's exact float formatting rounds
/// the binary value correctly, half to even, as glibc's printf does; the
/// digits are formatted once and laid out as `%g` lays them out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct G(pub f64, pub usize);

impl Display for G {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        g(f, self.0, self.1)
    }
}

/// [`G`] into `w`.
fn g(w: &mut impl Write, x: f64, precision: usize) -> fmt::Result {
    if x == 0.0 {
        return w.write_str("0");
    }
    let p = precision.max(1);
    let mut t = StackBuf::<64>::new();
    // Round first: rounding can change the exponent (9.9999 -> 1.00e1).
    write!(t, "{:.*e}", p - 1, x.abs())?;
    let (mant, e) = t.as_str().split_once('e').unwrap_or((t.as_str(), "0"));
    let exp = e.parse::<i32>().unwrap_or(0);
    let mut ds = [0u8; 24];
    let mut n = 0;
    for &c in mant.as_bytes().iter().filter(|c| c.is_ascii_digit()).take(ds.len()) {
        ds[n] = c;
        n += 1;
    }
    if x < 0.0 {
        w.write_str("-")?;
    }
    g_layout(w, &ds[..n], exp)
}

/// Lays out significant `ds` (value d0.d1d2... x 10^exp) the way `%g`
/// does with precision `ds.len()`: exponent form below 1e-4 or from
/// 10^precision on, fixed otherwise, trailing zeros removed.
fn g_layout(w: &mut impl Write, ds: &[u8], exp: i32) -> fmt::Result {
    let p = ds.len() as i32;
    let last = ds.iter().rposition(|&d| d != b'0').unwrap_or(0);
    let sig = ds.get(..=last).unwrap_or(ds);
    if exp < -4 || exp >= p {
        digits(w, &sig[..sig.len().min(1)])?;
        if sig.len() > 1 {
            w.write_str(".")?;
            digits(w, &sig[1..])?;
        }
        w.write_str(if exp < 0 { "e-" } else { "e+" })?;
        if exp.abs() < 10 {
            w.write_str("0")?;
        }
        dec(w, u64::from(exp.unsigned_abs()))
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        for i in 0..int_len {
            w.write_char(*ds.get(i).unwrap_or(&b'0') as char)?;
        }
        if sig.len() > int_len {
            w.write_str(".")?;
            digits(w, &sig[int_len..])?;
        }
        Ok(())
    } else {
        w.write_str("0.")?;
        for _ in 0..(-exp - 1) {
            w.write_str("0")?;
        }
        digits(w, sig)
    }
}

/// `%.{p}g` of `n / 10^scale` for an integer `n`, in exact decimal
/// arithmetic, into `w`; `false` (nothing written) on an exact tie, where
/// printf's answer depends on the binary value of the quotient.
fn int_g(w: &mut impl Write, n: u64, scale: i32, p: usize) -> Result<bool, fmt::Error> {
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
    let p = p.clamp(1, d.len());
    let keep = p.min(len);
    d[..keep].copy_from_slice(&all[..keep]);
    if len > p {
        let rest = &all[p..len];
        let up = match rest[0] {
            b'6'..=b'9' => true,
            b'5' if rest[1..].iter().any(|&c| c != b'0') => true,
            b'5' => return Ok(false),
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
    g_layout(w, &d[..p], exp)?;
    Ok(true)
}

/// A rate in bits per second as ss prints it (misc/ss.c `sprint_bw`):
/// `%.3g` with a k/M/G/T suffix, or `%.0f` with `-n`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bandwidth {
    /// Bits per second.
    pub bps: f64,
    /// `-n`.
    pub numeric: bool,
}

impl Display for Bandwidth {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        bandwidth(f, self.bps, self.numeric)
    }
}

/// [`Bandwidth`] into `w`.
fn bandwidth(w: &mut impl Write, bw: f64, numeric: bool) -> fmt::Result {
    let integral = (0.0..9.0e15).contains(&bw) && bw.fract() == 0.0;
    if numeric {
        return if integral {
            dec(w, bw as u64)
        } else {
            write!(w, "{bw:.0}")
        };
    }
    for (scale, exp10, suffix) in [(1e12, 12, "T"), (1e9, 9, "G"), (1e6, 6, "M"), (1e3, 3, "k")] {
        if bw >= scale {
            if !(integral && int_g(w, bw as u64, exp10, 3)?) {
                g(w, bw / scale, 3)?;
            }
            return w.write_str(suffix);
        }
    }
    if !(integral && int_g(w, bw as u64, 0, 6)?) {
        g(w, bw, 6)?;
    }
    Ok(())
}

/// A microsecond field of tcp_info in milliseconds, `%g` (ss divides by
/// 1000.0): exact digits while they fit `%g`'s six significant digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Millis(pub u32);

impl Display for Millis {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        millis(f, self.0)
    }
}

/// [`Millis`] into `w`.
fn millis(w: &mut impl Write, us: u32) -> fmt::Result {
    if us >= 1_000_000 {
        return g(w, f64::from(us) / 1000.0, 6);
    }
    dec(w, u64::from(us / 1000))?;
    let frac = us % 1000;
    if frac != 0 {
        let d = [frac / 100, frac / 10 % 10, frac % 10].map(|v| b'0' + v as u8);
        let keep = if d[2] != b'0' {
            3
        } else if d[1] != b'0' {
            2
        } else {
            1
        };
        w.write_str(".")?;
        digits(w, &d[..keep])?;
    }
    Ok(())
}

/// A timer's time left in milliseconds as ss prints it (misc/ss.c
/// `print_ms_timer`): `1min`, `12sec`, `1.234ms`, ...
fn ms_timer(w: &mut impl Write, timeout: u32) -> fmt::Result {
    let mut secs = timeout / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = timeout % 1000;
    if minutes > 0 {
        msecs = 0;
        write!(w, "{minutes}min")?;
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        write!(w, "{secs}{}", if msecs > 0 { "." } else { "sec" })?;
    }
    if msecs > 0 {
        write!(w, "{msecs:03}ms")?;
    }
    Ok(())
}

/// A Recv-Q or Send-Q field: the number left-aligned in six columns, as
/// ss prints it (misc/ss.c `sock_state_print`: `%-6d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queue(pub u32);

impl Display for Queue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Queue {
    /// What [`Display`] writes, into any writer (see [`Extra::write_to`]).
    pub fn write_to(&self, w: &mut impl Write) -> fmt::Result {
        dec(w, u64::from(self.0))?;
        let len = self.0.checked_ilog10().map_or(1, |l| l + 1);
        (len..6).try_for_each(|_| w.write_char(' '))
    }
}

// ---------------------------------------------------------------- names

/// The names ss looks up while printing, looked up once each and kept:
/// interface names (rtnetlink, in the namespace listed), service names
/// (/etc/services), cgroup paths.
#[derive(Debug)]
pub struct Names {
    netns: Netns,
    route: RefCell<Option<NetlinkSocket>>,
    interfaces: RefCell<HashMap<u32, String>>,
    services: OnceCell<Services>,
    cgroups: OnceCell<HashMap<u64, String>>,
}

/// Port names as ss prints them: /etc/services, but never for a port of
/// the ephemeral range (misc/ss.c `resolve_service`).
#[derive(Debug)]
struct Services {
    ephemeral: (u16, u16),
    db: &'static netobs_core::names::Services,
}

/// net.ipv4.ip_local_port_range of the namespace the calling thread is in
/// (the kernel's default when it cannot be read).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut w = s.split_whitespace().map(|v| v.parse::<u16>());
            Some((w.next()?.ok()?, w.next()?.ok()?))
        })
        .unwrap_or((1024, 4999))
}

impl Names {
    /// Names for the sockets of `netns`.
    pub fn new(netns: &Netns) -> Result<Names> {
        let netns = match netns.open()? {
            Some(fd) => Netns::Fd(fd),
            None => Netns::Current,
        };
        Ok(Names {
            netns,
            route: RefCell::new(None),
            interfaces: RefCell::new(HashMap::new()),
            services: OnceCell::new(),
            cgroups: OnceCell::new(),
        })
    }

    /// Uses `paths` (by cgroup id) instead of walking the cgroup2 mount.
    pub fn with_cgroup_paths(self, paths: HashMap<u64, String>) -> Names {
        let _ = self.cgroups.set(paths);
        self
    }

    /// Writes the name of interface `index` (`ifINDEX` if it has none).
    fn write_interface(&self, w: &mut impl Write, index: u32) -> fmt::Result {
        if let Some(n) = self.interfaces.borrow().get(&index) {
            return w.write_str(n);
        }
        let mut route = self.route.borrow_mut();
        if route.is_none() {
            *route = NetlinkSocket::open_in(Protocol::Route, &self.netns).ok();
        }
        let name = route
            .as_mut()
            .and_then(|r| r.link_by_index(index).ok().and_then(|l| l.name().map(str::to_string)))
            .unwrap_or_else(|| format!("if{index}"));
        w.write_str(&name)?;
        self.interfaces.borrow_mut().insert(index, name);
        Ok(())
    }

    /// The name of interface `index`, as ss prints it.
    pub fn interface(&self, index: u32) -> String {
        let mut s = String::new();
        let _ = self.write_interface(&mut s, index);
        s
    }

    /// The service name of `port` for `proto` (`tcp`, `udp`), unless the
    /// port is in the namespace's ephemeral range.
    pub fn service(&self, port: u16, proto: &str) -> Option<&str> {
        let s = self.services.get_or_init(|| Services {
            // ss -N reads it inside the namespace, as its own.
            ephemeral: self.netns.run(ephemeral_range).unwrap_or((1024, 4999)),
            db: netobs_core::names::Services::system(),
        });
        let (lo, hi) = s.ephemeral;
        if (lo..=hi).contains(&port) {
            return None;
        }
        s.db.name(port, proto)
    }

    /// The path of cgroup `id` relative to the cgroup2 mount.
    pub fn cgroup(&self, id: u64) -> Option<&str> {
        self.cgroups
            .get_or_init(crate::cgroup::paths)
            .get(&id)
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------- columns

/// An inet address as ss prints it: dotted IPv4, `*` for the IPv6
/// wildcard of a socket that is not IPV6_V6ONLY, bracketed IPv6 otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetAddr {
    /// The address.
    pub addr: IpAddr,
    /// IPV6_V6ONLY.
    pub v6only: bool,
}

impl Display for InetAddr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut b = StackBuf::<64>::new();
        self.write(&mut b)?;
        f.write_str(b.as_str())
    }
}

impl InetAddr {
    fn write(&self, w: &mut impl Write) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => {
                for (i, o) in a.octets().iter().enumerate() {
                    if i > 0 {
                        w.write_char('.')?;
                    }
                    dec(w, u64::from(*o))?;
                }
                Ok(())
            }
            IpAddr::V6(a) if !self.v6only && a.is_unspecified() => w.write_str("*"),
            IpAddr::V6(a) => write!(w, "[{a}]"),
        }
    }
}

/// The Address field of one end of a socket, with the delimiter ss puts
/// before the Port field (misc/ss.c `sock_addr_print`): `ADDR%IFACE:` for
/// inet, `NAME ` for unix, `PROTOCOL:` for packet and netlink, `GROUP:` for
/// a connected netlink peer, `*` for no end.
#[derive(Clone, Copy, Debug)]
pub struct Address<'a> {
    end: &'a Endpoint<'a>,
    names: &'a Names,
    numeric: bool,
}

impl<'a> Address<'a> {
    /// The field of `end` (the record's `local` or `remote`).
    pub fn new(end: &'a Endpoint<'a>, names: &'a Names, opts: &Options) -> Self {
        Address {
            end,
            names,
            numeric: opts.numeric,
        }
    }
}

impl Display for Address<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Address<'_> {
    /// What [`Display`] writes, into any writer (see [`Extra::write_to`]).
    pub fn write_to(&self, f: &mut impl Write) -> fmt::Result {
        match *self.end {
            Endpoint::Inet {
                addr,
                interface,
                v6only,
                ..
            } => {
                InetAddr { addr, v6only }.write(f)?;
                if interface != 0 {
                    f.write_char('%')?;
                    self.names.write_interface(f, interface)?;
                }
                f.write_char(':')
            }
            Endpoint::Unix { name, .. } => {
                match name {
                    Some(n) => write!(f, "{n}")?,
                    None => f.write_str("*")?,
                }
                f.write_str(" ")
            }
            // misc/ss.c `packet_show_sock`: `*` for ETH_P_ALL, else the
            // EtherType's name or `[NUMBER]`.
            Endpoint::Packet { protocol, .. } => {
                if protocol == libc::ETH_P_ALL as u16 {
                    f.write_str("*")?;
                } else {
                    match netobs_core::names::ethertype::iproute2_name(protocol).filter(|_| !self.numeric) {
                        Some(n) => f.write_str(n)?,
                        None => write!(f, "[{protocol}]")?,
                    }
                }
                f.write_str(":")
            }
            Endpoint::Netlink { protocol, .. } => {
                match netlink_diag::protocol_name(protocol).filter(|_| !self.numeric) {
                    Some(n) => f.write_str(n)?,
                    None => dec(f, u64::from(protocol))?,
                }
                f.write_str(":")
            }
            Endpoint::NetlinkPeer { group, .. } => {
                dec(f, u64::from(group))?;
                f.write_str(":")
            }
            Endpoint::None => f.write_str("*"),
        }
    }
}

/// The Port field of one end of a socket: an inet port (`*` for 0, a
/// service name without `-n`; raw sockets' "ports" are IP protocols, which
/// ss names with `inet_proto_n2a` and netobs prints as numbers), a unix
/// inode, a packet socket's interface (`*` for all), a netlink socket's
/// process (misc/ss.c `netlink_show_one`: `kernel` for port 0, `COMMAND/PID`
/// for a live process's port, the number with `-n` or otherwise).
#[derive(Clone, Copy, Debug)]
pub struct Port<'a> {
    table: Table,
    end: &'a Endpoint<'a>,
    names: &'a Names,
    numeric: bool,
}

impl<'a> Port<'a> {
    /// The field of `end` (the `local` or `remote` of record `r`); None
    /// where ss leaves the field empty (the remote end of packet and
    /// unconnected netlink sockets).
    pub fn new(r: &SocketRecord<'_>, end: &'a Endpoint<'a>, names: &'a Names, opts: &Options) -> Option<Self> {
        (*end != Endpoint::None).then_some(Port {
            table: r.table,
            end,
            names,
            numeric: opts.numeric,
        })
    }
}

impl Display for Port<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Port<'_> {
    /// What [`Display`] writes, into any writer (see [`Extra::write_to`]).
    pub fn write_to(&self, f: &mut impl Write) -> fmt::Result {
        match *self.end {
            Endpoint::Inet { port: 0, .. } => f.write_str("*"),
            Endpoint::Inet { port, .. } => {
                let proto = match self.table {
                    Table::Inet(Proto::Raw) => return dec(f, u64::from(port)),
                    Table::Inet(Proto::Udp) => "udp",
                    _ => "tcp",
                };
                match (!self.numeric).then(|| self.names.service(port, proto)).flatten() {
                    Some(n) => f.write_str(n),
                    None => dec(f, u64::from(port)),
                }
            }
            Endpoint::Unix { inode, .. } => dec(f, u64::from(inode)),
            Endpoint::Packet { interface: 0, .. } => f.write_str("*"),
            Endpoint::Packet { interface, .. } => self.names.write_interface(f, interface),
            Endpoint::Netlink { portid: 0, .. } if !self.numeric => f.write_str("kernel"),
            Endpoint::Netlink { portid, .. } if portid > 0 && !self.numeric => {
                match crate::owners::command_of(portid as u32) {
                    Some(c) => write!(f, "{c}/{portid}"),
                    None => write!(f, "{portid}"),
                }
            }
            Endpoint::Netlink { portid, .. } | Endpoint::NetlinkPeer { portid, .. } => write!(f, "{portid}"),
            Endpoint::None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- extras

/// One piece of what ss prints after a socket's address columns, in the
/// order [`extras`] gives them; ss writes each with its own `out()` call.
#[derive(Clone, Copy, Debug)]
pub enum Extra<'a> {
    /// `-p`: ` users:(("COMMAND",pid=P,fd=F),...)` (nothing without owners).
    Users(Users<'a>),
    /// `-o`: ` timer:(NAME,TIME,RETRANSMITS)`.
    Timer(Timer),
    /// `-e` of an inet socket read from sock_diag: uid, inode, cookie,
    /// mark, cgroup, v6only, shutdown.
    InetDetails(&'a InetSock<'a>, &'a Names),
    /// `-m` or `-i` of an inet socket: a new line (but with `-O`), then
    /// memory and tcp_info, or MPTCP's info.
    InetInfo(&'a SocketRecord<'a>, Options),
    /// `-e` of a netlink socket: ` sk=0 cb=0 groups=0x%08x`.
    NetlinkDetails(&'a NetlinkSock<'a>),
    /// `-m` of a netlink socket: a tab, then its memory.
    NetlinkMemory(SkMemInfo),
    /// `-e` of a packet socket: uid, inode, cookie, version and flags,
    /// rings, fanout.
    PacketDetails(&'a PacketSock<'a>, bool),
    /// `-m` of a unix or packet socket: ` skmem:(...)`.
    SkMem(SkMem),
    /// `-e` of a unix socket: shutdown, its file, pending connections.
    UnixDetails(&'a UnixSock<'a>),
}

/// What ss prints after the address columns of socket `r` with `opts`, in
/// its order for the family (misc/ss.c `inet_stats_print` and
/// `tcp_show_info`, `unix_stats_print`, `packet_show_sock`,
/// `netlink_show_one`); `owners` for `-p` (netlink sockets show none).
pub fn extras<'a>(
    r: &'a SocketRecord<'a>,
    opts: &Options,
    names: &'a Names,
    owners: Option<&'a Owners>,
) -> impl Iterator<Item = Extra<'a>> {
    let users = owners.map(|owners| Extra::Users(Users { owners, inode: r.inode }));
    let skmem = if opts.memory { r.skmem() } else { None };
    let pieces: [Option<Extra<'a>>; 4] = match &r.sock {
        Socket::Inet { sock, source } => [
            users,
            (opts.timers && sock.timer() != 0).then(|| {
                Extra::Timer(Timer {
                    timer: sock.timer(),
                    expires: sock.expires(),
                    retrans: sock.retrans(),
                })
            }),
            // The /proc/net tables carry no details.
            (opts.details && *source == InetSource::SockDiag).then_some(Extra::InetDetails(sock, names)),
            (opts.memory || (opts.info && r.table != Table::Inet(Proto::Udp))).then_some(Extra::InetInfo(r, *opts)),
        ],
        Socket::Netlink(s) => [
            opts.details.then_some(Extra::NetlinkDetails(s)),
            skmem.map(Extra::NetlinkMemory),
            None,
            None,
        ],
        Socket::Packet(s) => [
            users,
            opts.details.then_some(Extra::PacketDetails(s, opts.oneline)),
            skmem.map(|m| Extra::SkMem(SkMem(m))),
            None,
        ],
        Socket::Unix(s) => [
            users,
            skmem.map(|m| Extra::SkMem(SkMem(m))),
            opts.details.then_some(Extra::UnixDetails(s)),
            None,
        ],
    };
    pieces.into_iter().flatten()
}

impl Display for Extra<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Extra<'_> {
    /// What [`Display`] writes, into any writer: called with the caller's
    /// own buffer (a `String`), the many small writes of a long field are
    /// direct calls rather than calls through the formatter.
    pub fn write_to(&self, w: &mut impl Write) -> fmt::Result {
        match *self {
            Extra::Users(u) => u.write(w)?,
            Extra::Timer(t) => t.write(w)?,
            Extra::InetDetails(s, names) => inet_details(w, s, names)?,
            Extra::InetInfo(r, opts) => {
                if !opts.oneline {
                    w.write_str("\n\t")?;
                }
                match &r.sock {
                    Socket::Inet { sock, .. } if r.table == Table::Inet(Proto::Mptcp) => mptcp_show_info(w, sock)?,
                    Socket::Inet { sock, .. } => tcp_show_info(w, sock, &opts)?,
                    _ => {}
                }
            }
            Extra::NetlinkDetails(s) => {
                // The first 32 groups as one word, as ss reads the bitmap.
                let groups = s.groups().filter(|g| *g <= 32).fold(0u32, |w, g| w | 1 << (g - 1));
                write!(w, " sk=0 cb=0 groups=0x{groups:08x}")?;
            }
            Extra::NetlinkMemory(m) => {
                w.write_str("\t")?;
                skmem(w, &m)?;
            }
            Extra::PacketDetails(s, oneline) => packet_details(w, s, oneline)?,
            Extra::SkMem(m) => skmem(w, &m.0)?,
            Extra::UnixDetails(s) => unix_details(w, s)?,
        }
        Ok(())
    }
}

/// ` users:(("COMMAND",pid=P,fd=F),...)`, the owners of a socket by its
/// inode (misc/ss.c `find_entry`: ss prepends each owner to its hash
/// chain, so the last one found prints first); nothing for inode 0 or a
/// socket no process holds.
#[derive(Clone, Copy, Debug)]
pub struct Users<'a> {
    /// The owners scanned from /proc.
    pub owners: &'a Owners,
    /// The socket's inode.
    pub inode: u32,
}

impl Users<'_> {
    fn print<'o>(&self, w: &mut impl Write, list: impl Iterator<Item = &'o Owner>) -> fmt::Result {
        w.write_str(" users:(")?;
        for (i, o) in list.enumerate() {
            if i > 0 {
                w.write_str(",")?;
            }
            w.write_str("(\"")?;
            w.write_str(self.owners.command(o))?;
            w.write_str("\",pid=")?;
            dec(w, u64::from(o.pid))?;
            w.write_str(",fd=")?;
            dec(w, u64::from(o.fd))?;
            w.write_str(")")?;
        }
        w.write_str(")")
    }

    fn write(&self, w: &mut impl Write) -> fmt::Result {
        if self.inode == 0 {
            return Ok(());
        }
        // Most sockets have one owner: keep up to 8 on the stack.
        let mut few: [Option<&Owner>; 8] = [None; 8];
        let mut n = 0;
        for o in self.owners.of(self.inode).take(few.len()) {
            few[n] = Some(o);
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        if n == few.len() && self.owners.of(self.inode).nth(n).is_some() {
            let many: Vec<_> = self.owners.of(self.inode).collect();
            self.print(w, many.iter().rev().copied())
        } else {
            self.print(w, few[..n].iter().rev().flatten().copied())
        }
    }
}

impl Display for Users<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

/// ` timer:(NAME,TIME,RETRANSMITS)` of an inet socket (misc/ss.c
/// `inet_stats_print`); NAME from `idiag_timer`: on (retransmit),
/// keepalive, timewait, persist (zero-window probe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    /// `idiag_timer`.
    pub timer: u8,
    /// `idiag_expires`, milliseconds.
    pub expires: u32,
    /// `idiag_retrans`.
    pub retrans: u8,
}

impl Timer {
    fn write(&self, w: &mut impl Write) -> fmt::Result {
        let names = ["off", "on", "keepalive", "timewait", "persist", "unknown"];
        let name = names[usize::from(self.timer).min(5)];
        write!(w, " timer:({name},")?;
        ms_timer(w, self.expires)?;
        write!(w, ",{})", self.retrans)
    }
}

impl Display for Timer {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

/// ss's shutdown mask: ` <->` open, ` -->` receive side shut, ` <--` send
/// side shut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shutdown(pub u8);

impl Display for Shutdown {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.arrows())
    }
}

impl Shutdown {
    /// The text: bit 0 (RCV_SHUTDOWN) turns `<` into `-`, bit 1
    /// (SEND_SHUTDOWN) turns `>` into `-`.
    pub fn arrows(self) -> &'static str {
        match self.0 & 3 {
            0 => " <->",
            1 => " -->",
            2 => " <--",
            _ => " ---",
        }
    }
}

/// ` skmem:(r..,rb..,t..,tb..,f..,w..,o..[,bl..][,d..])` (misc/ss.c
/// `print_skmeminfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkMem(pub SkMemInfo);

impl Display for SkMem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        skmem(f, &self.0)
    }
}

/// [`SkMem`] into `w`.
fn skmem(w: &mut impl Write, m: &SkMemInfo) -> fmt::Result {
    write!(
        w,
        " skmem:(r{},rb{},t{},tb{},f{},w{},o{}",
        m.rmem_alloc, m.rcvbuf, m.wmem_alloc, m.sndbuf, m.fwd_alloc, m.wmem_queued, m.optmem
    )?;
    if let Some(b) = m.backlog {
        write!(w, ",bl{b}")?;
    }
    if let Some(d) = m.drops {
        write!(w, ",d{d}")?;
    }
    w.write_str(")")
}

/// `-e` of an inet socket (misc/ss.c `inet_stats_print` details).
fn inet_details(w: &mut impl Write, s: &InetSock<'_>, names: &Names) -> fmt::Result {
    if s.uid() != 0 {
        write!(w, " uid:{}", s.uid())?;
    }
    write!(w, " ino:{} sk:{:x}", s.inode(), s.cookie())?;
    if let Some(m) = s.mark().filter(|&m| m != 0) {
        write!(w, " fwmark:0x{m:x}")?;
    }
    if let Some(c) = s.cgroup_id().filter(|&c| c != 0) {
        match names.cgroup(c) {
            Some(path) => write!(w, " cgroup:{path}")?,
            None => write!(w, " cgroup:unreachable:{c:x}")?,
        }
    }
    if s.family() == libc::AF_INET6 as u8 {
        if let Some(v) = s.v6only() {
            write!(w, " v6only:{}", u8::from(v))?;
        }
    }
    if let Some(m) = s.shutdown() {
        w.write_str(Shutdown(m).arrows())?;
    }
    Ok(())
}

/// `-e` of a packet socket (misc/ss.c `packet_show_sock`): uid, inode,
/// cookie, then `ver:` and flags, the rings and the fanout, each on its own
/// line but with `-O`.
fn packet_details(w: &mut impl Write, s: &PacketSock<'_>, oneline: bool) -> fmt::Result {
    if let Some(uid) = s.uid().filter(|&u| u != 0) {
        write!(w, " uid:{uid}")?;
    }
    write!(w, " ino:{} sk:{:x}", s.inode(), s.cookie())?;
    let sep = if oneline { " " } else { "\n\t" };
    if let Some(i) = s.info() {
        write!(w, "{sep}ver:{} cpy_thresh:{} flags( ", i.version, i.copy_thresh)?;
        for (bit, name) in [
            (1, "running"),
            (2, " auxdata"),
            (4, " origdev"),
            (8, " vnethdr"),
            (16, " loss"),
        ] {
            if i.flags & bit != 0 {
                w.write_str(name)?;
            }
        }
        if i.flags == 0 {
            w.write_str("0")?;
        }
        w.write_str(" )")?;
    }
    for (ring, name) in [(s.rx_ring(), "ring_rx("), (s.tx_ring(), "ring_tx(")] {
        if let Some(r) = ring {
            write!(
                w,
                "{sep}{name}blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                r.block_size, r.block_nr, r.frame_size, r.frame_nr, r.retire_tmo, r.features
            )?;
        }
    }
    if let Some((id, kind)) = s.fanout() {
        write!(w, "{sep}fanout(id:{id},type:")?;
        match kind {
            0 => w.write_str("hash")?,
            1 => w.write_str("lb")?,
            2 => w.write_str("cpu")?,
            3 => w.write_str("roll")?,
            4 => w.write_str("random")?,
            5 => w.write_str("qm")?,
            k => write!(w, "0x{k:x}")?,
        }
        w.write_str(")")?;
    }
    Ok(())
}

/// `-e` of a unix socket (misc/ss.c `unix_stats_print`): shutdown, the
/// file's inode and device of a socket bound to a path, the inodes of
/// connections waiting to be accepted.
fn unix_details(w: &mut impl Write, s: &UnixSock<'_>) -> fmt::Result {
    if let Some(m) = s.shutdown() {
        w.write_str(Shutdown(m).arrows())?;
    }
    if let Some((ino, dev)) = s.vfs() {
        write!(w, " ino:{ino} dev:{}/{}", (dev >> 20) & 0xfff, dev & 0xfffff)?;
    }
    if let Some(p) = s.pending() {
        w.write_str(" peers:")?;
        for i in p {
            write!(w, " {i}")?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- -i

/// ` name:value`.
fn kv(w: &mut impl Write, name: &str, v: u64) -> fmt::Result {
    w.write_str(" ")?;
    w.write_str(name)?;
    w.write_str(":")?;
    dec(w, v)
}

/// ` name:value` of each field that is not 0.
fn kv_nonzero<T: Into<u64> + Copy>(w: &mut impl Write, fields: &[(T, &str)]) -> fmt::Result {
    for &(v, name) in fields {
        let v = v.into();
        if v != 0 {
            kv(w, name, v)?;
        }
    }
    Ok(())
}

/// misc/ss.c `tcp_show_info`: memory, `tcp_stats_print`, MD5 keys, ULP.
fn tcp_show_info(w: &mut impl Write, s: &InetSock<'_>, opts: &Options) -> fmt::Result {
    if let Some(m) = s.skmeminfo() {
        skmem(w, &m)?;
    } else if let Some(m) = s.meminfo() {
        write!(w, " mem:(r{},w{},f{},t{})", m.rmem, m.wmem, m.fmem, m.tmem)?;
    }
    tcp_stats(w, s, opts)?;
    if let Some(keys) = s.md5_keys() {
        // ss prints each key with printf, outside its column buffer; here
        // it stays in its place on the line.
        w.write_str(" md5keys:")?;
        for (n, k) in keys.enumerate() {
            if n > 0 {
                w.write_str(",")?;
            }
            write!(w, "{}/{}=", k.addr(), k.prefix_len())?;
            for &b in k.key() {
                if b.is_ascii_graphic() && b != b'\\' && b != b',' {
                    w.write_char(b as char)?;
                } else {
                    write!(w, "\\{b:03o}")?;
                }
            }
        }
    }
    if let Some(ulp) = s.ulp() {
        tcp_ulp(w, &ulp)?;
    }
    Ok(())
}

/// misc/ss.c `mptcp_show_info`: memory, then `struct mptcp_info`.
fn mptcp_show_info(w: &mut impl Write, s: &InetSock<'_>) -> fmt::Result {
    if let Some(m) = s.skmeminfo() {
        skmem(w, &m)?;
    }
    let Some(m) = s.mptcp_info() else { return Ok(()) };
    kv_nonzero(
        w,
        &[
            (m.subflows, "subflows"),
            (m.add_addr_signal, "add_addr_signal"),
            (m.add_addr_accepted, "add_addr_accepted"),
            (m.subflows_max, "subflows_max"),
            (m.add_addr_signal_max, "add_addr_signal_max"),
            (m.add_addr_accepted_max, "add_addr_accepted_max"),
        ],
    )?;
    if m.flags & 1 != 0 {
        w.write_str(" fallback")?;
    }
    if m.flags & 2 != 0 {
        w.write_str(" remote_key")?;
    }
    if m.token != 0 {
        write!(w, " token:{:x}", m.token)?;
    }
    for (v, name) in [
        (m.write_seq, "write_seq"),
        (m.snd_una, "snd_una"),
        (m.rcv_nxt, "rcv_nxt"),
    ] {
        if v != 0 {
            write!(w, " {name}:{v:x}")?;
        }
    }
    Ok(())
}

/// misc/ss.c: ` tcp-ulp-NAME` and the kTLS or MPTCP subflow details.
fn tcp_ulp(w: &mut impl Write, ulp: &UlpInfo<'_>) -> fmt::Result {
    if let Some(name) = ulp.name() {
        write!(w, " tcp-ulp-{name}")?;
    }
    if let Some(t) = ulp.tls() {
        match t.version {
            Some(0x0303) => w.write_str(" version: 1.2")?,
            Some(0x0304) => w.write_str(" version: 1.3")?,
            Some(v) => write!(w, " version: unknown({v})")?,
            None => {}
        }
        match t.cipher {
            Some(51) => w.write_str(" cipher: aes-gcm-128")?,
            Some(52) => w.write_str(" cipher: aes-gcm-256")?,
            _ => {}
        }
        for (name, conf) in [("rxconf", t.rxconf), ("txconf", t.txconf)] {
            let Some(c) = conf else { continue };
            match c {
                1 => write!(w, " {name}: none")?,
                2 => write!(w, " {name}: sw")?,
                3 => write!(w, " {name}: hw")?,
                4 => write!(w, " {name}: hw-record")?,
                c => write!(w, " {name}: unknown({c})")?,
            }
        }
        if t.zc_ro_tx {
            w.write_str(" zc_ro_tx")?;
        }
    }
    if let Some(m) = ulp.mptcp() {
        let flags = m.flags.unwrap_or(0);
        if flags != 0 {
            w.write_str(" flags:")?;
            for (bit, c) in "MmJjBbecv".chars().enumerate() {
                if flags & (1 << bit) != 0 {
                    w.write_char(c)?;
                }
            }
        }
        if let (Some(tr), Some(tl), Some(ir), Some(il)) = (m.token_rem, m.token_loc, m.id_rem, m.id_loc) {
            write!(w, " token:{tr:04x}(id:{ir})/{tl:04x}(id:{il})")?;
        }
        if let Some(v) = m.map_seq {
            write!(w, " seq:{v:x}")?;
        }
        if let Some(v) = m.map_sfseq {
            write!(w, " sfseq:{v:x}")?;
        }
        if let Some(v) = m.ssn_offset {
            write!(w, " ssnoff:{v:x}")?;
        }
        if let Some(v) = m.map_datalen {
            write!(w, " maplen:{v:x}")?;
        }
    }
    Ok(())
}

/// The tcp_info part of misc/ss.c `tcp_show_info` (`tcp_stats_print`).
/// ss zero-fills a short struct: missing fields read as 0.
fn tcp_stats(w: &mut impl Write, s: &InetSock<'_>, opts: &Options) -> fmt::Result {
    let Some(i) = s.tcp_info() else { return Ok(()) };
    let z32 = |v: Option<u32>| v.unwrap_or(0);
    let z64 = |v: Option<u64>| v.unwrap_or(0);
    let numeric = opts.numeric;
    if opts.timers {
        for (bit, name) in [
            (tcp_info::TCPI_OPT_TIMESTAMPS, " ts"),
            (tcp_info::TCPI_OPT_SACK, " sack"),
            (tcp_info::TCPI_OPT_ECN, " ecn"),
            (tcp_info::TCPI_OPT_ECN_SEEN, " ecnseen"),
            (tcp_info::TCPI_OPT_SYN_DATA, " fastopen"),
        ] {
            if i.has_option(bit) {
                w.write_str(name)?;
            }
        }
    }
    if let Some(c) = s.congestion().filter(|c| !c.is_empty()) {
        w.write_str(" ")?;
        w.write_str(c)?;
    }
    if i.has_option(tcp_info::TCPI_OPT_WSCALE) {
        write!(
            w,
            " wscale:{},{}",
            i.snd_wscale().unwrap_or(0),
            i.rcv_wscale().unwrap_or(0)
        )?;
    }
    let rto = z32(i.rto());
    if rto != 0 && rto != 3_000_000 {
        w.write_str(" rto:")?;
        millis(w, rto)?;
    }
    if let Some(b) = i.backoff().filter(|&b| b != 0) {
        kv(w, "backoff", u64::from(b))?;
    }
    let rtt = z32(i.rtt());
    if rtt != 0 {
        w.write_str(" rtt:")?;
        millis(w, rtt)?;
        w.write_str("/")?;
        millis(w, z32(i.rttvar()))?;
    }
    let ato = z32(i.ato());
    if ato != 0 {
        w.write_str(" ato:")?;
        millis(w, ato)?;
    }
    kv_nonzero(
        w,
        &[
            (z32(i.snd_mss()), "mss"),
            (z32(i.pmtu()), "pmtu"),
            (z32(i.rcv_mss()), "rcvmss"),
            (z32(i.advmss()), "advmss"),
            (z32(i.snd_cwnd()), "cwnd"),
        ],
    )?;
    let ssthresh = z32(i.snd_ssthresh());
    if ssthresh != 0 && ssthresh < 0xffff {
        kv(w, "ssthresh", u64::from(ssthresh))?;
    }
    kv_nonzero(
        w,
        &[
            (z64(i.bytes_sent()), "bytes_sent"),
            (z64(i.bytes_retrans()), "bytes_retrans"),
            (z64(i.bytes_acked()), "bytes_acked"),
            (z64(i.bytes_received()), "bytes_received"),
            (u64::from(z32(i.segs_out())), "segs_out"),
            (u64::from(z32(i.segs_in())), "segs_in"),
            (u64::from(z32(i.data_segs_out())), "data_segs_out"),
            (u64::from(z32(i.data_segs_in())), "data_segs_in"),
        ],
    )?;
    if let Some(d) = s.dctcp() {
        if d.enabled != 0 {
            write!(
                w,
                " dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                d.ce_state, d.alpha, d.ab_ecn, d.ab_tot
            )?;
        } else {
            w.write_str(" dctcp:fallback_mode")?;
        }
    }
    if let Some(bbr) = s.bbr() {
        w.write_str(" bbr:(bw:")?;
        bandwidth(w, bbr.bw as f64 * 8.0, numeric)?;
        w.write_str("bps,mrtt:")?;
        g(w, f64::from(bbr.min_rtt) / 1000.0, 6)?;
        if bbr.pacing_gain != 0 {
            w.write_str(",pacing_gain:")?;
            g(w, f64::from(bbr.pacing_gain) / 256.0, 6)?;
        }
        if bbr.cwnd_gain != 0 {
            w.write_str(",cwnd_gain:")?;
            g(w, f64::from(bbr.cwnd_gain) / 256.0, 6)?;
        }
        w.write_str(")")?;
    }
    let mut rtt_for_bw = f64::from(rtt);
    if let Some(v) = s.vegas() {
        if v.enabled != 0 && v.rtt != 0 && v.rtt != 0x7fff_ffff {
            rtt_for_bw = f64::from(v.rtt);
        }
    }
    let (mss, cwnd) = (z32(i.snd_mss()), z32(i.snd_cwnd()));
    if rtt_for_bw > 0.0 && mss != 0 && cwnd != 0 {
        let bps = f64::from(cwnd) * f64::from(mss) * 8_000_000.0 / rtt_for_bw;
        w.write_str(" send ")?;
        bandwidth(w, bps, numeric)?;
        w.write_str("bps")?;
    }
    kv_nonzero(
        w,
        &[
            (z32(i.last_data_sent()), "lastsnd"),
            (z32(i.last_data_recv()), "lastrcv"),
            (z32(i.last_ack_recv()), "lastack"),
        ],
    )?;
    let pacing = z64(i.pacing_rate());
    if pacing != 0 && pacing != u64::MAX {
        w.write_str(" pacing_rate ")?;
        bandwidth(w, pacing as f64 * 8.0, numeric)?;
        w.write_str("bps")?;
        let max = z64(i.max_pacing_rate());
        if max != 0 && max != u64::MAX {
            w.write_str("/")?;
            bandwidth(w, max as f64 * 8.0, numeric)?;
            w.write_str("bps")?;
        }
    }
    let dr = z64(i.delivery_rate());
    if dr != 0 {
        w.write_str(" delivery_rate ")?;
        bandwidth(w, dr as f64 * 8.0, numeric)?;
        w.write_str("bps")?;
    }
    if let Some(d) = i.delivered().filter(|&d| d != 0) {
        kv(w, "delivered", u64::from(d))?;
    }
    if let Some(d) = i.delivered_ce().filter(|&d| d != 0) {
        kv(w, "delivered_ce", u64::from(d))?;
    }
    if i.delivery_rate_app_limited() == Some(true) {
        w.write_str(" app_limited")?;
    }
    let busy = z64(i.busy_time());
    if busy != 0 {
        write!(w, " busy:{}ms", busy / 1000)?;
        for (v, name) in [
            (z64(i.rwnd_limited()), "rwnd_limited"),
            (z64(i.sndbuf_limited()), "sndbuf_limited"),
        ] {
            if v != 0 {
                write!(w, " {name}:{}ms({:.1}%)", v / 1000, 100.0 * v as f64 / busy as f64)?;
            }
        }
    }
    if let Some(u) = i.unacked().filter(|&u| u != 0) {
        kv(w, "unacked", u64::from(u))?;
    }
    let (re, ret) = (z32(i.retrans()), z32(i.total_retrans()));
    if re != 0 || ret != 0 {
        kv(w, "retrans", u64::from(re))?;
        w.write_str("/")?;
        dec(w, u64::from(ret))?;
    }
    if let Some(l) = i.lost().filter(|&l| l != 0) {
        kv(w, "lost", u64::from(l))?;
    }
    let sacked = z32(i.sacked());
    if sacked != 0 && s.state() != Some(TcpState::Listen) {
        kv(w, "sacked", u64::from(sacked))?;
    }
    if let Some(d) = i.dsack_dups().filter(|&d| d != 0) {
        kv(w, "dsack_dups", u64::from(d))?;
    }
    if let Some(x) = i.fackets().filter(|&x| x != 0) {
        kv(w, "fackets", u64::from(x))?;
    }
    let reord = z32(i.reordering());
    if reord != 3 {
        write!(w, " reordering:{}", reord as i32)?;
    }
    if let Some(r) = i.reord_seen().filter(|&r| r != 0) {
        write!(w, " reord_seen:{}", r as i32)?;
    }
    let rcv_rtt = z32(i.rcv_rtt());
    if rcv_rtt != 0 {
        w.write_str(" rcv_rtt:")?;
        millis(w, rcv_rtt)?;
    }
    if let Some(r) = i.rcv_space().filter(|&r| r != 0) {
        write!(w, " rcv_space:{}", r as i32)?;
    }
    if let Some(r) = i.rcv_ssthresh().filter(|&r| r != 0) {
        kv(w, "rcv_ssthresh", u64::from(r))?;
    }
    if let Some(n) = i.notsent_bytes().filter(|&n| n != 0) {
        kv(w, "notsent", u64::from(n))?;
    }
    let min_rtt = z32(i.min_rtt());
    if min_rtt != 0 && min_rtt != u32::MAX {
        w.write_str(" minrtt:")?;
        millis(w, min_rtt)?;
    }
    if let Some(r) = i.rcv_ooopack().filter(|&r| r != 0) {
        kv(w, "rcv_ooopack", u64::from(r))?;
    }
    if let Some(wnd) = i.snd_wnd().filter(|&v| v != 0) {
        kv(w, "snd_wnd", u64::from(wnd))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- -s

/// `ss -s` (misc/ss.c `print_summary`): the socket totals of
/// /proc/net/sockstat{,6} and TCP's established count from /proc/net/snmp.
#[derive(Clone, Copy, Debug)]
pub struct Summary<'a> {
    /// /proc/net/sockstat and sockstat6.
    pub sockstat: &'a SockStat,
    /// /proc/net/snmp (and the other counter files).
    pub counters: &'a Counters,
}

impl Display for Summary<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let g = |s: &str, k: &str| self.sockstat.get(s, k).unwrap_or(0) as i64;
        let (tcp_total, tws) = (g("TCP", "alloc"), g("TCP", "tw"));
        let (tcp4, tcp6) = (g("TCP", "inuse"), g("TCP6", "inuse"));
        let (udp4, udp6) = (g("UDP", "inuse"), g("UDP6", "inuse"));
        let (raw4, raw6) = (g("RAW", "inuse"), g("RAW6", "inuse"));
        let (frag4, frag6) = (g("FRAG", "inuse"), g("FRAG6", "inuse"));
        writeln!(f, "Total: {}", g("sockets", "used"))?;
        writeln!(
            f,
            "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
            tcp_total + tws,
            self.counters.get("TcpCurrEstab").unwrap_or(0) as i32,
            tcp_total - (tcp4 + tcp6 - tws),
            g("TCP", "orphan"),
            tws
        )?;
        f.write_str("\nTransport Total     IP        IPv6\n")?;
        for (n, a, b) in [
            ("RAW", raw4, raw6),
            ("UDP", udp4, udp6),
            ("TCP", tcp4, tcp6),
            ("INET", raw4 + udp4 + tcp4, raw6 + udp6 + tcp6),
            ("FRAG", frag4, frag6),
        ] {
            writeln!(f, "{n}\t  {:<9} {:<9} {:<9}", a + b, a, b)?;
        }
        f.write_str("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(value: f64, precision: usize) -> String {
        G(value, precision).to_string()
    }

    #[test]
    fn g_format() {
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
        assert_eq!(g(-2.5, 6), "-2.5");
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
                if int_g(&mut a, n, scale, p).unwrap() {
                    assert_eq!(a, g(n as f64 / 10f64.powi(scale), p), "{n} / 1e{scale} %.{p}g");
                }
            }
        }
        for us in [1, 10, 31, 204_000, 999_999, 1_234_567, 50] {
            assert_eq!(Millis(us).to_string(), g(f64::from(us) / 1000.0, 6), "{us}");
        }
        let timer = |expires| {
            Timer {
                timer: 1,
                expires,
                retrans: 0,
            }
            .to_string()
        };
        assert_eq!(timer(7_200_000), " timer:(on,120min,0)");
        assert_eq!(timer(59_876), " timer:(on,59sec,0)");
        assert_eq!(timer(1_234), " timer:(on,1.234ms,0)");
        assert_eq!(Queue(77).to_string(), "77    ");
        assert_eq!(Queue(1234567).to_string(), "1234567");
        assert_eq!(
            Bandwidth {
                bps: 1_234_567.0,
                numeric: false
            }
            .to_string(),
            "1.23M"
        );
        assert_eq!(
            Bandwidth {
                bps: 1_234_567.0,
                numeric: true
            }
            .to_string(),
            "1234567"
        );
        assert_eq!(Shutdown(1).to_string(), " -->");
        assert_eq!(Shutdown(0).to_string(), " <->");
        assert_eq!(Shutdown(2).to_string(), " <--");
    }
}
