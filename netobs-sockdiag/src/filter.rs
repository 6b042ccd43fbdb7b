//! ss's filter language (iproute2 misc/ssfilter.y), parsed into an
//! expression tree that compiles to inet_diag bytecode
//! ([`crate::bytecode`]) and can also be evaluated in user space.
//!
//! ```text
//! EXPR  := TERM { [and|&|&&|or|||||] TERM }        (left to right, as ss)
//! TERM  := ( EXPR ) | not TERM | ! TERM
//!        | src [=] HOST | dst [=] HOST
//!        | sport OP PORT | dport OP PORT            OP: = == eq != ne neq > gt < lt >= ge geq <= le leq
//!        | dev [=|!=] NAME|INDEX | fwmark [=|!=] MARK[/MASK]
//!        | cgroup [=|!=] PATH | autobound
//! HOST  := ADDR[/LEN][:PORT] | [ADDR6][/LEN][:PORT] | *:PORT | :PORT
//!        | unix:PATTERN                            (a shell pattern, as fnmatch(3))
//! ```
//!
//! `unix:` conditions match unix sockets by name in user space
//! ([`Expr::matches`] on a [`SocketKey::unix`]), as ss does; with [`ParseOptions::unix`] (ss
//! `-x`) every address is such a pattern.
//!
//! As in ss, `and` and `or` have the same precedence and group from the
//! left (`a or b and c` is `(a or b) and c`); juxtaposition means `and`.
//! Ports may be numbers or service names from /etc/services. Host names
//! are refused: give addresses (ss would resolve them through DNS).

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};
use crate::unix_diag::UnixName;

/// Which end of the connection a condition looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The local end (`src`, `sport`).
    Src,
    /// The remote end (`dst`, `dport`).
    Dst,
}

/// An address prefix and/or port, as in `dst 10.0.0.0/8:443`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCond {
    /// Address and prefix length in bits; `None` matches any address.
    pub prefix: Option<(IpAddr, u8)>,
    /// Port; `None` matches any port.
    pub port: Option<u16>,
}

/// A filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// Does not hold.
    Not(Box<Expr>),
    /// Address prefix and/or port of one end.
    Host(End, HostCond),
    /// Port of one end is at least this.
    PortGe(End, u16),
    /// Port of one end is at most this.
    PortLe(End, u16),
    /// Bound to this interface index (SO_BINDTODEVICE).
    Dev(u32),
    /// `(mark & mask) == value`.
    Mark {
        /// Value after masking.
        value: u32,
        /// Mask.
        mask: u32,
    },
    /// In the cgroup v2 with this id.
    Cgroup(u64),
    /// Local port was chosen by the kernel (not bound explicitly).
    AutoBound,
    /// A unix socket's name (`Src`: its own, `@` for the abstract
    /// namespace; `Dst`: its peer's, which unix_diag does not give, so ss
    /// matches it against "") fits this shell pattern, case-insensitively
    /// (misc/ss.c `unix_match`: fnmatch with FNM_CASEFOLD).
    UnixName(End, String),
}

/// A socket of any family as ss's filter sees it. misc/ss.c normalizes
/// every family into one `struct sockstat` and `run_ssfilter` reads these
/// fields of it, so one evaluator ([`Expr::matches`]) serves inet, unix,
/// packet and netlink sockets; [`crate::query::SocketRecord::filter_key`]
/// builds the key of any socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketKey<'a> {
    /// The local address (`src` conditions).
    pub local: KeyAddr<'a>,
    /// The remote address (`dst` conditions).
    pub remote: KeyAddr<'a>,
    /// ss's `lport`: the local port (inet), the inode (unix), the bound
    /// interface index (packet) or the port id (netlink, negative when the
    /// kernel chose it).
    pub lport: i64,
    /// ss's `rport`: the remote port (inet), the peer's inode (unix, 0
    /// when none), 0 (packet) or -1 (netlink).
    pub rport: i64,
    /// Bound interface index (inet, packet), 0 otherwise.
    pub iface: u32,
    /// SO_MARK (inet), 0 otherwise.
    pub mark: u32,
    /// cgroup v2 id (inet), 0 otherwise.
    pub cgroup: u64,
    /// What `autobound` tests: for inet the kernel's SOCK_BINDPORT_LOCK bit
    /// (not in a sock_diag answer: false here), for unix an unbound socket
    /// or a kernel-chosen `@xxxxx` name, for packet an unbound socket of
    /// protocol 0, for netlink a kernel-chosen (negative) port id.
    pub autobound: bool,
}

/// An address in a [`SocketKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAddr<'a> {
    /// An inet address: prefixes match with the kernel's semantics (a v4
    /// prefix also matches v4-mapped IPv6 addresses).
    Inet(IpAddr),
    /// A unix socket's name (None when unbound, and always for the peer,
    /// whose name unix_diag does not give): `unix:` patterns match it as
    /// ss prints it; an inet prefix never matches it.
    Unix(Option<UnixName<'a>>),
    /// What ss keeps as the address of a packet or netlink socket: the
    /// protocol number as the first word, then zeros (the remote end: all
    /// zeros). Inet prefixes are compared with these bytes, as ss's
    /// `inet2_addr_match` does.
    Bytes([u8; 16]),
}

/// The fields of a socket a filter looks at, for user-space evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockKey {
    /// Local address.
    pub src: IpAddr,
    /// Remote address.
    pub dst: IpAddr,
    /// Local port.
    pub sport: u16,
    /// Remote port.
    pub dport: u16,
    /// Bound interface index.
    pub ifindex: u32,
    /// SO_MARK.
    pub mark: u32,
    /// cgroup v2 id.
    pub cgroup: u64,
    /// Whether the local port was chosen by the kernel.
    pub autobound: bool,
}

fn prefix_match(addr: &[u8], prefix: &[u8], bits: u8) -> bool {
    let bits = bits as usize;
    let full = bits / 8;
    if addr.len() < full || prefix.len() < full || addr[..full] != prefix[..full] {
        return false;
    }
    let rem = bits % 8;
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    match (addr.get(full), prefix.get(full)) {
        (Some(a), Some(p)) => a & mask == p & mask,
        _ => false,
    }
}

impl HostCond {
    /// Evaluates like the kernel's INET_DIAG_BC_S_COND/D_COND
    /// (net/ipv4/inet_diag.c `inet_diag_bc_run`): a v4 prefix also matches
    /// v4-mapped IPv6 addresses, other family mismatches never match.
    pub fn matches(&self, addr: IpAddr, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let Some((prefix, bits)) = self.prefix else {
            return true;
        };
        match (prefix, addr) {
            (IpAddr::V4(p), IpAddr::V4(a)) => prefix_match(&a.octets(), &p.octets(), bits),
            (IpAddr::V6(p), IpAddr::V6(a)) => prefix_match(&a.octets(), &p.octets(), bits),
            (IpAddr::V4(p), IpAddr::V6(a)) => {
                let o = a.octets();
                o[..10] == [0; 10] && o[10..12] == [0xff, 0xff] && prefix_match(&o[12..], &p.octets(), bits)
            }
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// `bytes` NUL-terminated, in `stack` when they fit (unix names are at
/// most 108 bytes), else in `heap`; None if they hold a NUL themselves.
fn nul_terminated<'b>(
    bytes: impl Iterator<Item = u8>,
    stack: &'b mut [u8; 256],
    heap: &'b mut Vec<u8>,
) -> Option<&'b CStr> {
    let mut n = 0;
    for b in bytes {
        if n < stack.len() - 1 {
            stack[n] = b;
        } else {
            if n == stack.len() - 1 {
                heap.extend_from_slice(&stack[..n]);
            }
            heap.push(b);
        }
        n += 1;
    }
    let buf: &[u8] = if n < stack.len() {
        stack[n] = 0;
        &stack[..=n]
    } else {
        heap.push(0);
        heap
    };
    CStr::from_bytes_with_nul(buf).ok()
}

/// Whether a unix socket's name (as ss prints it; "" when unbound) fits a
/// shell pattern, case-insensitively (misc/ss.c `unix_match`: fnmatch
/// with FNM_CASEFOLD). A pattern with a NUL matches nothing.
fn unix_match(pattern: &str, name: Option<&UnixName<'_>>) -> bool {
    let (mut p_stack, mut p_heap) = ([0u8; 256], Vec::new());
    let (mut t_stack, mut t_heap) = ([0u8; 256], Vec::new());
    let text = name.into_iter().flat_map(|n| n.bytes());
    match (
        nul_terminated(pattern.bytes(), &mut p_stack, &mut p_heap),
        nul_terminated(text, &mut t_stack, &mut t_heap),
    ) {
        (Some(p), Some(t)) => crate::sys::fnmatch_casefold(p, t),
        _ => false,
    }
}

impl<'a> SocketKey<'a> {
    /// A unix socket (misc/ss.c `unix_show_sock`): its name as the local
    /// address, its inode and its peer's (0: none) as the ports;
    /// `autobound` for an unbound socket or a name the kernel chose
    /// (`@` and five hex digits, net/unix/af_unix.c `unix_autobind`).
    pub fn unix(name: Option<UnixName<'a>>, inode: u32, peer: u32) -> Self {
        SocketKey {
            local: KeyAddr::Unix(name),
            remote: KeyAddr::Unix(None),
            lport: i64::from(inode),
            rport: i64::from(peer),
            iface: 0,
            mark: 0,
            cgroup: 0,
            autobound: name.is_none_or(|n| n.is_autobound()),
        }
    }

    /// A packet socket (misc/ss.c `packet_stats_print`): the protocol
    /// (EtherType, host order) as the first word of the local address, the
    /// bound interface (0: all) as the local port and the interface, 0 as
    /// the remote port; `autobound` when unbound with protocol 0.
    pub fn packet(protocol: u16, iface: u32) -> Self {
        SocketKey {
            local: KeyAddr::Bytes(protocol_bytes(u32::from(protocol))),
            remote: KeyAddr::Bytes([0; 16]),
            lport: i64::from(iface as i32),
            rport: 0,
            iface,
            mark: 0,
            cgroup: 0,
            autobound: iface == 0 && protocol == 0,
        }
    }

    /// A netlink socket (misc/ss.c `netlink_show_one`): the protocol as the
    /// first word of the local address, the port id (an int: negative when
    /// the kernel chose it, which `autobound` tests) as the local port, -1
    /// as the remote port.
    pub fn netlink(protocol: u8, portid: i32) -> Self {
        SocketKey {
            local: KeyAddr::Bytes(protocol_bytes(u32::from(protocol))),
            remote: KeyAddr::Bytes([0; 16]),
            lport: i64::from(portid),
            rport: -1,
            iface: 0,
            mark: 0,
            cgroup: 0,
            autobound: portid < 0,
        }
    }
}

/// ss's address bytes of a packet or netlink socket: the protocol as a
/// native-endian first word, then zeros.
fn protocol_bytes(protocol: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&protocol.to_ne_bytes());
    b
}

impl SockKey {
    /// What the kernel's bytecode reads of an inet socket: its addresses
    /// and ports, interface, mark and cgroup (0 where the answer has none);
    /// `autobound` is not in an answer and is false.
    pub fn of(s: &crate::InetSock<'_>) -> SockKey {
        SockKey {
            src: s.src(),
            dst: s.dst(),
            sport: s.sport(),
            dport: s.dport(),
            ifindex: s.interface(),
            mark: s.mark().unwrap_or(0),
            cgroup: s.cgroup_id().unwrap_or(0),
            autobound: false,
        }
    }
}

impl From<SockKey> for SocketKey<'static> {
    /// An inet socket's key: its addresses and ports, interface, mark,
    /// cgroup and autobound bit.
    fn from(s: SockKey) -> Self {
        SocketKey {
            local: KeyAddr::Inet(s.src),
            remote: KeyAddr::Inet(s.dst),
            lport: i64::from(s.sport),
            rport: i64::from(s.dport),
            iface: s.ifindex,
            mark: s.mark,
            cgroup: s.cgroup,
            autobound: s.autobound,
        }
    }
}

impl Expr {
    /// Evaluates the expression on one socket of any family with ss's
    /// semantics (misc/ss.c `run_ssfilter`); on inet sockets these are the
    /// kernel's (`inet_diag_bc_run`), so the result equals what the
    /// compiled bytecode decides.
    pub fn matches(&self, s: &SocketKey<'_>) -> bool {
        let addr = |end: &End| if *end == End::Src { &s.local } else { &s.remote };
        let port = |end: &End| if *end == End::Src { s.lport } else { s.rport };
        match self {
            Expr::And(a, b) => a.matches(s) && b.matches(s),
            Expr::Or(a, b) => a.matches(s) || b.matches(s),
            Expr::Not(a) => !a.matches(s),
            Expr::Host(end, c) => {
                let (addr, port) = (addr(end), port(end));
                if c.port.is_some_and(|p| i64::from(p) != port) {
                    return false;
                }
                let Some((prefix, bits)) = c.prefix else {
                    return true;
                };
                match addr {
                    KeyAddr::Inet(a) => c.matches(*a, port as u16),
                    // ss compares the port and then the prefix with the
                    // name's pointer bytes: never an inet prefix.
                    KeyAddr::Unix(_) => false,
                    KeyAddr::Bytes(data) => match prefix {
                        IpAddr::V4(p) => prefix_match(data, &p.octets(), bits),
                        IpAddr::V6(p) => prefix_match(data, &p.octets(), bits),
                    },
                }
            }
            Expr::PortGe(end, p) => port(end) >= i64::from(*p),
            Expr::PortLe(end, p) => port(end) <= i64::from(*p),
            Expr::Dev(i) => s.iface == *i,
            Expr::Mark { value, mask } => s.mark & mask == *value,
            Expr::Cgroup(id) => s.cgroup == *id,
            Expr::AutoBound => s.autobound,
            // A name pattern matches unix sockets only: the socket's own
            // name, or "" for the peer (misc/ss.c `unix_match`).
            Expr::UnixName(end, pattern) => match addr(end) {
                KeyAddr::Unix(name) => unix_match(pattern, name.as_ref()),
                _ => false,
            },
        }
    }

    /// Whether the expression names unix sockets (`unix:` patterns): ss
    /// then lists only unix sockets.
    pub fn names_unix(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.names_unix() || b.names_unix(),
            Expr::Not(a) => a.names_unix(),
            Expr::UnixName(..) => true,
            _ => false,
        }
    }

    /// Whether the expression uses a condition whose user-space value is
    /// not visible in a sock_diag answer (autobound needs the kernel's
    /// SOCK_BINDPORT_LOCK bit).
    pub fn needs_kernel(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.needs_kernel() || b.needs_kernel(),
            Expr::Not(a) => a.needs_kernel(),
            Expr::AutoBound => true,
            _ => false,
        }
    }
}

/// Resolves names met while parsing: interfaces for `dev`, services for
/// ports. The default resolves nothing but numbers and /etc/services.
pub trait Resolver {
    /// The index of interface `name`, if it exists.
    fn interface(&self, name: &str) -> Option<u32>;
}

/// A resolver that knows no interface names (only numeric `dev` works).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl Resolver for NoNames {
    fn interface(&self, _name: &str) -> Option<u32> {
        None
    }
}

impl<F: Fn(&str) -> Option<u32>> Resolver for F {
    fn interface(&self, name: &str) -> Option<u32> {
        self(name)
    }
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    column: usize,
}

fn tokenize(expr: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        // ss needs spaces around parentheses; accept them glued to words too
        // (a leading backslash, as in `\(` typed for the shell, is dropped).
        let mut word = &expr[start..i];
        let mut col = start + 1;
        loop {
            let w = word.strip_prefix('\\').unwrap_or(word);
            let skipped = word.len() - w.len();
            if w.len() > 1 && w.starts_with('(') {
                out.push(Token {
                    text: "(",
                    column: col + skipped,
                });
                word = &w[1..];
                col += skipped + 1;
                continue;
            }
            word = w;
            col += skipped;
            break;
        }
        let mut closers = Vec::new();
        loop {
            let w = word.strip_suffix(')').map(|w| w.strip_suffix('\\').unwrap_or(w));
            match w {
                Some(w) if !w.is_empty() && !w.ends_with('(') => {
                    closers.push(col + word.len() - 1);
                    word = w;
                }
                _ => break,
            }
        }
        out.push(Token {
            text: word,
            column: col,
        });
        for c in closers.into_iter().rev() {
            out.push(Token { text: ")", column: c });
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

fn cmp_word(w: &str) -> Option<Cmp> {
    Some(match w {
        "=" | "==" | "eq" => Cmp::Eq,
        "!=" | "ne" | "neq" => Cmp::Ne,
        ">" | "gt" => Cmp::Gt,
        "<" | "lt" => Cmp::Lt,
        ">=" | "ge" | "geq" => Cmp::Ge,
        "<=" | "le" | "leq" => Cmp::Le,
        _ => return None,
    })
}

struct Parser<'a, R> {
    toks: Vec<Token<'a>>,
    pos: usize,
    end_col: usize,
    resolver: &'a R,
    depth: usize,
    conditions: usize,
    options: ParseOptions,
}

/// How addresses without a family prefix are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Read them as unix name patterns, as ss does when `-x` was its last
    /// family option (its `preferred_family` is AF_UNIX).
    pub unix: bool,
}

/// Most nested parentheses and `not`s accepted.
pub const MAX_DEPTH: usize = 100;
/// Most conditions in one expression: with at most 32 bytes of bytecode
/// each (a 28-byte IPv6 host condition and a 4-byte jump), the program
/// stays below the 65535 bytes a netlink attribute and a 16-bit jump reach.
pub const MAX_CONDITIONS: usize = 1000;

fn err(column: usize, message: impl Into<String>) -> Error {
    Error::Filter {
        column,
        message: message.into(),
    }
}

impl<'a, R: Resolver> Parser<'a, R> {
    fn peek(&self) -> Option<Token<'a>> {
        self.toks.get(self.pos).copied()
    }
    fn col(&self) -> usize {
        self.peek().map_or(self.end_col, |t| t.column)
    }
    fn next(&mut self, what: &str) -> Result<Token<'a>> {
        let t = self
            .peek()
            .ok_or_else(|| err(self.end_col, format!("expected {what}")))?;
        self.pos += 1;
        Ok(t)
    }

    fn list(&mut self, nested: bool) -> Result<Expr> {
        let mut left = self.term()?;
        loop {
            let Some(t) = self.peek() else { return Ok(left) };
            match t.text {
                ")" if nested => return Ok(left),
                ")" => return Err(err(t.column, "unmatched ')'")),
                "|" | "||" | "or" => {
                    self.pos += 1;
                    let right = self.term()?;
                    left = Expr::Or(Box::new(left), Box::new(right));
                }
                "&" | "&&" | "and" => {
                    self.pos += 1;
                    let right = self.term()?;
                    left = Expr::And(Box::new(left), Box::new(right));
                }
                _ => {
                    let right = self.term()?;
                    left = Expr::And(Box::new(left), Box::new(right));
                }
            }
        }
    }

    fn term(&mut self) -> Result<Expr> {
        self.depth += 1;
        let r = self.term_inner();
        self.depth -= 1;
        r
    }

    fn term_inner(&mut self) -> Result<Expr> {
        if self.depth > MAX_DEPTH {
            return Err(err(self.col(), format!("expression nested deeper than {MAX_DEPTH}")));
        }
        if !matches!(self.peek().map(|t| t.text), Some("(" | "!" | "not")) {
            self.conditions += 1;
            if self.conditions > MAX_CONDITIONS {
                return Err(err(self.col(), format!("more than {MAX_CONDITIONS} conditions")));
            }
        }
        let t = self.next("a condition (src, dst, sport, dport, dev, fwmark, cgroup, autobound, not, '(')")?;
        match t.text {
            "(" => {
                let e = self.list(true)?;
                match self.peek() {
                    Some(c) if c.text == ")" => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(err(self.col(), "expected ')'")),
                }
            }
            "!" | "not" => Ok(Expr::Not(Box::new(self.term()?))),
            "src" | "dst" => {
                let end = if t.text == "src" { End::Src } else { End::Dst };
                self.optional_eq();
                let h = self.next("an address")?;
                let pattern = h.text.strip_prefix("unix:").or(self.options.unix.then_some(h.text));
                match pattern {
                    Some(p) => Ok(Expr::UnixName(end, p.to_owned())),
                    None => Ok(Expr::Host(end, parse_host(h.text, h.column, false)?)),
                }
            }
            "sport" | "dport" => {
                let end = if t.text == "sport" { End::Src } else { End::Dst };
                let cmp = match self.peek().and_then(|t| cmp_word(t.text)) {
                    Some(c) => {
                        self.pos += 1;
                        c
                    }
                    None => Cmp::Eq,
                };
                let h = self.next("a port")?;
                let cond = parse_host(h.text, h.column, true)?;
                let port = cond.port;
                let need = |p: Option<u16>| p.ok_or_else(|| err(h.column, "expected a port number, not '*'"));
                Ok(match cmp {
                    Cmp::Eq => Expr::Host(end, cond),
                    Cmp::Ne => Expr::Not(Box::new(Expr::Host(end, cond))),
                    Cmp::Ge => Expr::PortGe(end, need(port)?),
                    Cmp::Le => Expr::PortLe(end, need(port)?),
                    Cmp::Gt => Expr::Not(Box::new(Expr::PortLe(end, need(port)?))),
                    Cmp::Lt => Expr::Not(Box::new(Expr::PortGe(end, need(port)?))),
                })
            }
            "dev" => {
                let neg = self.eq_or_ne();
                let d = self.next("an interface name or index")?;
                let index = match self.resolver.interface(d.text) {
                    Some(i) => i,
                    None => parse_int(d.text)
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| err(d.column, format!("interface \"{}\" not found", d.text)))?,
                };
                Ok(negate(neg, Expr::Dev(index)))
            }
            "fwmark" => {
                let neg = self.eq_or_ne();
                let m = self.next("a mark (MARK or MARK/MASK)")?;
                let bad = || err(m.column, format!("expected MARK or MARK/MASK, got \"{}\"", m.text));
                let (value, mask) = match m.text.split_once('/') {
                    Some((v, k)) => (parse_u32(v).ok_or_else(bad)?, parse_u32(k).ok_or_else(bad)?),
                    None => (parse_u32(m.text).ok_or_else(bad)?, u32::MAX),
                };
                Ok(negate(neg, Expr::Mark { value, mask }))
            }
            "cgroup" => {
                let neg = self.eq_or_ne();
                let p = self.next("a cgroup path")?;
                Ok(negate(neg, Expr::Cgroup(cgroup_id(p.text, p.column)?)))
            }
            "autobound" => Ok(Expr::AutoBound),
            ")" => Err(err(t.column, "expected a condition before ')'")),
            other => Err(err(
                t.column,
                format!("unexpected \"{other}\", expected src, dst, sport, dport, dev, fwmark, cgroup, autobound, not or '('"),
            )),
        }
    }

    fn optional_eq(&mut self) {
        if self.peek().is_some_and(|t| matches!(t.text, "=" | "==" | "eq")) {
            self.pos += 1;
        }
    }

    /// `[= | !=]`: returns whether the condition is negated.
    fn eq_or_ne(&mut self) -> bool {
        match self.peek().and_then(|t| cmp_word(t.text)) {
            Some(Cmp::Eq) => {
                self.pos += 1;
                false
            }
            Some(Cmp::Ne) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
}

fn negate(neg: bool, e: Expr) -> Expr {
    if neg {
        Expr::Not(Box::new(e))
    } else {
        e
    }
}

/// Integer with C's base prefixes (0x hex, leading 0 octal), as ss's get_integer.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        i64::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_u32(s: &str) -> Option<u32> {
    parse_int(s).and_then(|v| u32::try_from(v).ok())
}

fn parse_port(s: &str, column: usize) -> Result<u16> {
    if let Some(v) = parse_int(s) {
        return u16::try_from(v).map_err(|_| err(column, format!("port {v} is out of range 0-65535")));
    }
    let tcp = service_port(s, "tcp");
    let udp = service_port(s, "udp");
    match (tcp, udp) {
        (Some(t), Some(u)) if t != u => Err(err(column, format!("ambiguous port \"{s}\""))),
        (Some(p), _) | (None, Some(p)) => Ok(p),
        (None, None) => Err(err(column, format!("\"{s}\" does not look like a port"))),
    }
}

/// Looks `name` up in /etc/services for `proto`, as getservbyname does.
pub fn service_port(name: &str, proto: &str) -> Option<u16> {
    netobs_core::names::Services::system().port(name, proto)
}

fn parse_prefix(s: &str, column: usize) -> Result<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        IpAddr::V6(v6)
    } else if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        IpAddr::V4(v4)
    } else if addr.chars().all(|c| c.is_ascii_digit() || c == '.') && !addr.is_empty() {
        // inet_aton-style short forms ss accepts ("10", "10.1"): missing
        // trailing bytes are zero, as iproute2's get_addr_ipv4.
        let mut o = [0u8; 4];
        for (i, part) in addr.split('.').enumerate() {
            let v: u8 = part
                .parse()
                .ok()
                .filter(|_| i < 4)
                .ok_or_else(|| err(column, format!("an inet prefix is expected rather than \"{s}\"")))?;
            o[i] = v;
        }
        IpAddr::V4(Ipv4Addr::from(o))
    } else {
        return Err(err(
            column,
            format!("an inet prefix is expected rather than \"{s}\" (host names are not resolved)"),
        ));
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match len {
        None => max,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|&b| b <= max)
            .ok_or_else(|| err(column, format!("bad prefix length \"{l}\" (0-{max})")))?,
    };
    Ok((ip, bits))
}

/// Parses ss's HOSTCOND. With `is_port`, the text is only a port (`:80`, `80`, `*`).
fn parse_host(text: &str, column: usize, is_port: bool) -> Result<HostCond> {
    let mut s = text;
    let mut family_v6 = None;
    if let Some(r) = s.strip_prefix("inet6:") {
        s = r;
        family_v6 = Some(true);
    } else if let Some(r) = s.strip_prefix("inet:") {
        s = r;
        family_v6 = Some(false);
    }
    for p in ["unix:", "link:", "netlink:", "vsock:"]
        .into_iter()
        .filter(|p| !is_port || *p != "unix:")
    {
        if s.starts_with(p) {
            return Err(err(column, format!("{p} addresses are not supported in filters yet")));
        }
    }
    if is_port {
        let p = s.strip_prefix(':').unwrap_or(s);
        if p.is_empty() || p == "*" {
            return Ok(HostCond {
                prefix: None,
                port: None,
            });
        }
        return Ok(HostCond {
            prefix: None,
            port: Some(parse_port(p, column + (s.len() - p.len()))?),
        });
    }
    // Split ADDR and :PORT the way ss does: brackets, `*`, or the last ':'
    // after any '/'; a bare IPv6 address or prefix is taken whole.
    let (addr, port): (&str, Option<&str>) = if let Some(rest) = s.strip_prefix('[') {
        let (a, after) = rest
            .split_once(']')
            .ok_or_else(|| err(column, format!("missing ']' in \"{text}\"")))?;
        let after_prefix = match after.strip_prefix('/') {
            Some(_) => {
                // [ADDR]/LEN:PORT
                let (l, p) = match after[1..].split_once(':') {
                    Some((l, p)) => (l, Some(p)),
                    None => (&after[1..], None),
                };
                return finish_host(&format!("{a}/{l}"), p, column, family_v6);
            }
            None => after,
        };
        (a, after_prefix.strip_prefix(':'))
    } else if let Some(rest) = s.strip_prefix('*') {
        ("", Some(rest.strip_prefix(':').unwrap_or(rest)))
    } else if s.parse::<Ipv6Addr>().is_ok() || (s.contains("::") && parse_prefix(s, column).is_ok()) {
        (s, None)
    } else {
        let search_from = s.find('/').unwrap_or(0);
        match s[search_from..].rfind(':') {
            Some(i) => (&s[..search_from + i], Some(&s[search_from + i + 1..])),
            None => (s, None),
        }
    };
    finish_host(addr, port, column, family_v6)
}

fn finish_host(addr: &str, port: Option<&str>, column: usize, family_v6: Option<bool>) -> Result<HostCond> {
    let port = match port {
        None | Some("") | Some("*") => None,
        Some(p) => Some(parse_port(p, column)?),
    };
    let prefix = if addr.is_empty() || addr == "*" {
        None
    } else {
        let p = parse_prefix(addr, column)?;
        if let Some(v6) = family_v6 {
            if v6 != p.0.is_ipv6() {
                return Err(err(
                    column,
                    format!("\"{addr}\" is not an address of the family asked for"),
                ));
            }
        }
        Some(p)
    };
    Ok(HostCond { prefix, port })
}

fn cgroup_id(path: &str, column: usize) -> Result<u64> {
    crate::cgroup::id_of(path).map_err(|e| err(column, format!("cgroup \"{path}\": {e}")))
}

/// Parses an ss filter expression (the words after the state selection,
/// joined with spaces). Interface names are resolved by `resolver`.
pub fn parse_with(expr: &str, resolver: &impl Resolver) -> Result<Option<Expr>> {
    parse_with_options(expr, resolver, ParseOptions::default())
}

/// Parses an ss filter expression with `options` (see [`ParseOptions`]).
pub fn parse_with_options(expr: &str, resolver: &impl Resolver, options: ParseOptions) -> Result<Option<Expr>> {
    let toks = tokenize(expr);
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end_col: expr.len() + 1,
        resolver,
        depth: 0,
        conditions: 0,
        options,
    };
    let e = p.list(false)?;
    Ok(Some(e))
}

/// Parses an ss filter expression; `dev` accepts only interface indexes.
/// See [`parse_with`] to resolve interface names.
pub fn parse(expr: &str) -> Result<Option<Expr>> {
    parse_with(expr, &NoNames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap().unwrap()
    }

    #[test]
    fn ports_and_precedence() {
        let e = p("( dport = :443 or sport = :22 )");
        let h = |end, port| {
            Expr::Host(
                end,
                HostCond {
                    prefix: None,
                    port: Some(port),
                },
            )
        };
        assert_eq!(e, Expr::Or(Box::new(h(End::Dst, 443)), Box::new(h(End::Src, 22))));
        // Left to right, like ss: (a or b) and c.
        let e = p("sport = :1 or sport = :2 and dport = :3");
        assert!(matches!(e, Expr::And(ref a, _) if matches!(**a, Expr::Or(..))));
        assert_eq!(p("sport > :1024"), Expr::Not(Box::new(Expr::PortLe(End::Src, 1024))));
        assert_eq!(p("(sport >= :10)"), Expr::PortGe(End::Src, 10));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            p("dst 10.0.0.0/8"),
            Expr::Host(
                End::Dst,
                HostCond {
                    prefix: Some(("10.0.0.0".parse().unwrap(), 8)),
                    port: None
                }
            )
        );
        assert_eq!(
            p("src [::1]:22"),
            Expr::Host(
                End::Src,
                HostCond {
                    prefix: Some(("::1".parse().unwrap(), 128)),
                    port: Some(22)
                }
            )
        );
        assert_eq!(
            p("src ::1"),
            Expr::Host(
                End::Src,
                HostCond {
                    prefix: Some(("::1".parse().unwrap(), 128)),
                    port: None
                }
            )
        );
        assert_eq!(
            p("dst 192.168.1.1:80"),
            Expr::Host(
                End::Dst,
                HostCond {
                    prefix: Some(("192.168.1.1".parse().unwrap(), 32)),
                    port: Some(80)
                }
            )
        );
        assert_eq!(
            p("dst *:80"),
            Expr::Host(
                End::Dst,
                HostCond {
                    prefix: None,
                    port: Some(80)
                }
            )
        );
    }

    #[test]
    fn errors_have_columns() {
        let e = parse("sport = :22 or bogus").unwrap_err();
        assert!(matches!(e, Error::Filter { column: 16, .. }), "{e}");
        let e = parse("( sport = :22").unwrap_err();
        assert!(matches!(e, Error::Filter { column: 14, .. }), "{e}");
        let e = parse("dst example.com").unwrap_err();
        assert!(e.to_string().contains("column 5"), "{e}");
        let e = parse("sport = :99999").unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = parse("dport >").unwrap_err();
        assert!(e.to_string().contains("expected a port"), "{e}");
        assert!(parse("dev nosuchdev0").unwrap_err().to_string().contains("not found"));
        assert!(parse("sport = :1 )").is_err());
        let deep = format!("{}sport = :1{}", "( ".repeat(200), " )".repeat(200));
        assert!(parse(&deep).unwrap_err().to_string().contains("nested"));
        let many = vec!["sport = :1"; 1001].join(" or ");
        assert!(parse(&many).unwrap_err().to_string().contains("conditions"));
    }

    #[test]
    fn unix_names() {
        let key = |name: Option<&'static [u8]>, inode, peer| SocketKey::unix(name.map(UnixName::new), inode, peer);
        let e = p("src unix:/run/*.sock");
        assert_eq!(e, Expr::UnixName(End::Src, "/run/*.sock".into()));
        assert!(e.names_unix());
        assert!(e.matches(&key(Some(b"/run/a.sock"), 1, 0)));
        assert!(e.matches(&key(Some(b"/RUN/A.SOCK"), 1, 0)), "case-insensitive like ss");
        assert!(!e.matches(&key(Some(b"/run/a.sck"), 1, 0)));
        assert!(!e.matches(&key(None, 1, 0)));
        // The peer's name is unknown to ss (""): only `*` matches it.
        assert!(p("dst unix:*").matches(&key(None, 1, 2)));
        assert!(!p("dst unix:@x").matches(&key(Some(b"\0x"), 1, 2)));
        // Ports are inodes.
        assert!(p("sport = :7").matches(&key(None, 7, 0)));
        assert!(p("dport > :2").matches(&key(None, 7, 3)));
        assert!(p("autobound").matches(&key(Some(b"\x000001f"), 1, 0)));
        assert!(p("autobound").matches(&key(None, 1, 0)));
        assert!(!p("autobound").matches(&key(Some(b"\0netobs"), 1, 0)));
        // Abstract names match as ss prints them: every NUL an `@`.
        assert!(p("src unix:@a@b").matches(&key(Some(b"\0a\0b"), 1, 0)));
        assert!(!p("src unix:@a").matches(&key(Some(b"\0a\0b"), 1, 0)));
        // With ss -x, plain addresses are patterns too.
        let o = ParseOptions { unix: true };
        let e = parse_with_options("src @netobs*", &NoNames, o).unwrap().unwrap();
        assert!(e.matches(&key(Some(b"\0netobs-test"), 1, 0)));
        assert!(!p("sport = :22").names_unix());
        // A long name is matched whole (it does not fit the stack buffer).
        let long = [b'x'; 300];
        assert!(p("src unix:x*x").matches(&SocketKey::unix(Some(UnixName::new(&long)), 1, 0)));
        // On inet sockets a name pattern is false: see the bytecode tests.
    }

    #[test]
    fn packet_and_netlink_keys() {
        let packet = SocketKey::packet(0x0003, 2);
        assert!(p("sport = :2").matches(&packet));
        assert!(!p("sport = :22").matches(&packet));
        assert!(p("dev 2 and dport = :0").matches(&packet));
        assert!(!p("autobound").matches(&packet));
        let netlink = SocketKey::netlink(0, -4100);
        assert!(p("autobound").matches(&netlink));
        assert!(p("sport < :0").matches(&netlink));
        // The local "address" is the protocol number, then zeros.
        assert!(p("src 0.0.0.0/8").matches(&netlink));
        assert!(!p("src unix:*").matches(&netlink));
    }

    #[test]
    fn v4_mapped_matching() {
        let c = HostCond {
            prefix: Some(("10.0.0.0".parse().unwrap(), 8)),
            port: None,
        };
        assert!(c.matches("::ffff:10.1.2.3".parse().unwrap(), 0));
        assert!(c.matches("10.1.2.3".parse().unwrap(), 0));
        assert!(!c.matches("11.1.2.3".parse().unwrap(), 0));
        assert!(!c.matches("::1".parse().unwrap(), 0));
    }
}
