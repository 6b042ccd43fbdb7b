//! A pure-Rust compiler from pcap-filter expressions (pcap-filter(7)) to
//! classic BPF, for the Ethernet, Linux cooked (SLL, SLL2) and raw-IP
//! link types, in one of libpcap's two code modes ([`CodeMode`]):
//!
//! - **offline** ([`compile`]): what `tcpdump -d` prints for a file; every
//!   field, VLAN tags included, is read from the packet bytes.
//! - **live Linux** ([`compile_with`] and [`CodeMode::LinuxLive`]): what
//!   libpcap 1.10 generates for a live AF_PACKET socket. The kernel has
//!   moved the outermost VLAN tag of a received frame into skb metadata
//!   before the socket filter runs (net/core/dev.c, skb_vlan_untag), so
//!   the first `vlan` tests the ancillary loads SKF_AD_VLAN_TAG_PRESENT
//!   and SKF_AD_VLAN_TAG (include/uapi/linux/filter.h) and, when no tag is
//!   in the metadata, a tag in the packet bytes (sent frames keep theirs).
//!   Which of the two it was is only known at run time, so the offsets of
//!   everything after it live in two scratch memory words (0 or 4), as in
//!   libpcap's gen_vlan_bpf_extensions. `inbound`, `outbound` and
//!   `ifindex N` read SKF_AD_PKTTYPE and SKF_AD_IFINDEX.
//!
//! The programs return the same verdicts as libpcap's.
//!
//! Grammar: `and`/`&&` and `or`/`||` have equal precedence and associate
//! to the left; `not`/`!` binds tightest. A bare value after `or`/`and`
//! reuses the previous primitive's qualifiers (`port 80 or 443`). `vlan`,
//! `mpls` and `pppoes` shift the offsets of everything after them, as in
//! libpcap.
//!
//! Refused with a clear error: host and network names (no name
//! resolution), `gateway`, `protochain`, `ip broadcast` (needs the
//! netmask), `inbound`/`outbound`/`ifindex` in offline code on links
//! without a direction or interface field (Ethernet, raw IP: the metadata
//! is not in a file, as libpcap refuses them when reading savefiles), link
//! layers outside the scope (802.11, FDDI, Token Ring, ...), and, after
//! `geneve`, what needs link-layer offsets in the inner packet (MAC
//! addresses, `vlan`, `mpls`, `pppoes`) or packet arithmetic; `geneve`
//! after `vlan` in live Linux code.
//!
//! 802.2 LLC and what rides on it (`llc`, the OSI and IS-IS keywords,
//! `stp`, `ipx`, `netbeui`, AppleTalk, the DEC protocols with `decnet
//! host AREA.NODE`) are in `llc.rs`; `geneve [VNI]` in `geneve.rs`.

mod codegen;
mod geneve;
mod lexer;
mod llc;

use std::net::Ipv6Addr;

use codegen::Pred;
use lexer::{Tok, Token};

use crate::bpf::{op, skf, Insn, Program};
use crate::file::linktype;
use crate::wire::MacAddr;
use netobs_core::names::{ethertype, ipproto, Services};

/// Bytes of an 802.1Q tag.
const VLAN_TAG_LEN: u32 = 4;
use crate::FilterError;

/// The two kinds of code libpcap generates for an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeMode {
    /// For a savefile (`tcpdump -r`, `tcpdump -y EN10MB -d`): fields are
    /// read from the packet bytes only.
    #[default]
    Offline,
    /// For a live Linux packet socket (`tcpdump -i IF -d`): VLAN tags,
    /// direction and interface index come from the kernel's ancillary
    /// loads where libpcap uses them.
    LinuxLive,
}

/// Compiles `expr` for a link type (`file::linktype::*`) in offline mode;
/// the program returns `snaplen` for a matching packet and 0 otherwise.
/// An empty expression accepts everything.
pub fn compile(expr: &str, link: u16, snaplen: u32) -> Result<Program, FilterError> {
    compile_with(expr, link, snaplen, CodeMode::Offline)
}

/// Compiles `expr` like [`compile`], in the given code mode: use
/// [`CodeMode::LinuxLive`] for a program attached to a live AF_PACKET
/// socket (it needs the packet's skb metadata, see [`crate::bpf::Metadata`]).
pub fn compile_with(expr: &str, link: u16, snaplen: u32, mode: CodeMode) -> Result<Program, FilterError> {
    let layout = Layout::for_link(link).ok_or_else(|| FilterError {
        column: 1,
        message: format!("link type {link} is not supported (Ethernet, LINUX_SLL, LINUX_SLL2 and RAW are)"),
    })?;
    let tokens = lexer::tokenize(expr)?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        layout,
        last: None,
        mem: 0,
        mode,
        refused: std::cell::Cell::new(None),
        geneve: None,
    };
    let pred = if p.peek() == &Tok::End {
        Pred::Const(true)
    } else {
        let e = p.expr()?;
        if p.peek() != &Tok::End {
            return Err(p.error("expected 'and', 'or' or the end of the expression"));
        }
        if let Some((column, message)) = p.refused.get() {
            return Err(FilterError {
                column,
                message: message.into(),
            });
        }
        e
    };
    // The VLAN offset words start at 0; stores into a word nothing reads
    // are dropped (libpcap's optimizer drops them too).
    let mut prologue = Vec::new();
    let stable: Vec<u32> = p.layout.var.map_or(vec![], |v| vec![v.payload, v.linktype]);
    let pred = match p.layout.var {
        Some(var) => {
            let used: Vec<u32> = [var.payload, var.linktype]
                .into_iter()
                .filter(|&r| pred.reads_mem(r))
                .collect();
            if !used.is_empty() {
                prologue.push(Insn::stmt(op::LD | op::W | op::IMM, 0));
                prologue.extend(used.iter().map(|&r| Insn::stmt(op::ST, r)));
            }
            pred.drop_stores(&[var.payload, var.linktype], &used)
        }
        None => pred,
    };
    let prog = codegen::generate(&prologue, &pred, snaplen, &stable)?;
    crate::bpf::check(&prog).map_err(|e| FilterError {
        column: 1,
        message: match p.geneve {
            Some(_) if e.to_string().contains("read before it is written") => geneve::UNSET_OFFSETS.to_string(),
            _ => format!("internal error, generated program fails the checker: {e}"),
        },
    })?;
    Ok(prog)
}

/// What the "link type" of the next protocol check is: the EtherType of
/// the link (or tag), the bottom of an MPLS label stack, or the PPP
/// protocol inside a PPPoE session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encap {
    Link,
    Mpls,
    Ppp,
}

/// Where the link-layer type and the network header are, for the link
/// type and after any `vlan`, `mpls` and `pppoes` keywords seen so far.
#[derive(Debug, Clone, Copy)]
struct Layout {
    link: u16,
    /// Offset of the 16-bit EtherType (or PPP protocol); None for raw IP.
    off_type: Option<u32>,
    /// Offset of the network-layer header.
    off_nl: u32,
    encap: Encap,
    /// Live Linux code after the first `vlan`: the scratch memory words
    /// holding the run-time part (0 or 4) of the two offsets above.
    var: Option<VarOffsets>,
}

/// Scratch memory words holding the variable parts of the link-payload
/// and link-type offsets (libpcap's off_linkpl.reg and off_linktype.reg).
/// Both always hold the same value.
#[derive(Debug, Clone, Copy)]
struct VarOffsets {
    payload: u32,
    linktype: u32,
}

/// What an offset is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// The link-layer type field ([`Layout::off_type`]).
    LinkType,
    /// The network-layer header ([`Layout::off_nl`]).
    Payload,
}

impl Layout {
    fn for_link(link: u16) -> Option<Layout> {
        let (off_type, off_nl) = match link {
            linktype::ETHERNET => (Some(12), 14),
            linktype::LINUX_SLL => (Some(14), 16),
            linktype::LINUX_SLL2 => (Some(0), 20),
            linktype::RAW => (None, 0),
            _ => return None,
        };
        Some(Layout {
            link,
            off_type,
            off_nl,
            encap: Encap::Link,
            var: None,
        })
    }
}

/// Protocol qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Link,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
    Pim,
    Vrrp,
    Ah,
    Esp,
    Igrp,
    /// Protocols on 802.2 LLC / SNAP and their Ethernet II forms
    /// (filter/llc.rs).
    Atalk,
    Aarp,
    Decnet,
    Lat,
    Sca,
    Moprc,
    Mopdl,
    Iso,
    Esis,
    Isis,
    Clnp,
    IsisL1,
    IsisL2,
    IsisIih,
    IsisLsp,
    IsisSnp,
    IsisCsnp,
    IsisPsnp,
    Ipx,
    Netbeui,
}

fn proto_keyword(w: &str) -> Option<Proto> {
    Some(match w {
        // Other link layers' names are plain link-layer loads on the
        // link types we compile (libpcap accepts fddi[5] on Ethernet).
        "ether" | "link" | "ppp" | "wlan" | "tr" | "fddi" | "slip" => Proto::Link,
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "arp" => Proto::Arp,
        "rarp" => Proto::Rarp,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        "igmp" => Proto::Igmp,
        "pim" => Proto::Pim,
        "vrrp" | "carp" => Proto::Vrrp,
        "ah" => Proto::Ah,
        "esp" => Proto::Esp,
        "igrp" => Proto::Igrp,
        w => return llc::proto_keyword(w),
    })
}

/// Keywords of link layers and protocols we do not compile.
const UNSUPPORTED: [&str; 22] = [
    "wlan",
    "tr",
    "fddi",
    "ppp",
    "slip",
    "loopback",
    "radio",
    "type",
    "subtype",
    "dir",
    "ifname",
    "on",
    "rnr",
    "rulenum",
    "reason",
    "rset",
    "srnr",
    "subrulenum",
    "action",
    "vxlan",
    "ui",
    "arcnet",
];

/// Direction qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Src,
    Dst,
    SrcOrDst,
    SrcAndDst,
}

/// Type qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    PortRange,
    Proto,
}

/// The qualifiers of a primitive, kept for carry-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quals {
    proto: Option<Proto>,
    dir: Option<Dir>,
    kind: Option<Kind>,
}

/// An arithmetic expression: code leaving the value in A, the protocol
/// checks its loads need, and whether it is a constant.
#[derive(Debug, Clone)]
struct Arith {
    code: Vec<Insn>,
    guard: Pred,
    constant: Option<u32>,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    layout: Layout,
    last: Option<Quals>,
    mem: u32,
    mode: CodeMode,
    /// A refusal found where no error can be returned (column, reason).
    refused: std::cell::Cell<Option<(usize, &'static str)>>,
    /// The memory slots holding the inner packet's offsets once a
    /// `geneve` keyword has been read (filter/geneve.rs).
    geneve: Option<geneve::InnerOffsets>,
}

fn cmp(size: u16, off: u32, k: u32) -> Pred {
    Pred::Test {
        stmts: vec![Insn::stmt(op::LD | size | op::ABS, off)],
        jump: op::JMP | op::JEQ | op::K,
        k,
    }
}

fn cmp_masked(size: u16, off: u32, mask: u32, k: u32) -> Pred {
    Pred::Test {
        stmts: vec![
            Insn::stmt(op::LD | size | op::ABS, off),
            Insn::stmt(op::ALU | op::AND | op::K, mask),
        ],
        jump: op::JMP | op::JEQ | op::K,
        k,
    }
}

fn test(stmts: Vec<Insn>, jump: u16, k: u32) -> Pred {
    Pred::Test {
        stmts,
        jump: op::JMP | jump | op::K,
        k,
    }
}

/// Combines a source and a destination test by direction.
fn by_dir(dir: Dir, src: Pred, dst: Pred) -> Pred {
    match dir {
        Dir::Src => src,
        Dir::Dst => dst,
        Dir::SrcOrDst => src.or(dst),
        Dir::SrcAndDst => src.and(dst),
    }
}

/// Well-known EtherType names for `ether proto \NAME` (libpcap's
/// eproto_db), then the LLC SAP names (its llc_db).
fn ethertype_name(w: &str) -> Option<u32> {
    if let Some(t) = ethertype::pcap_keyword(w) {
        return Some(u32::from(t));
    }
    Some(match w {
        "aarp" => llc::ETHERTYPE_AARP,
        "atalk" => llc::ETHERTYPE_ATALK,
        "decnet" => llc::ETHERTYPE_DN,
        "lat" => llc::ETHERTYPE_LAT,
        "mopdl" => llc::ETHERTYPE_MOPDL,
        "moprc" => llc::ETHERTYPE_MOPRC,
        "sca" => llc::ETHERTYPE_SCA,
        "stp" => llc::LLCSAP_8021D,
        "iso" => llc::LLCSAP_ISONS,
        "ipx" => llc::LLCSAP_IPX,
        "netbeui" => llc::LLCSAP_NETBEUI,
        _ => return None,
    })
}

/// IP protocol names for `ip proto \NAME`.
fn ipproto_name(w: &str) -> Option<u32> {
    ipproto::number(w).map(u32::from)
}

/// Names usable as values in arithmetic (pcap-filter(7)).
fn named_value(w: &str) -> Option<u32> {
    Some(match w {
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        "icmp6-routerrenum" => 138,
        "icmp6-nodeinformationquery" => 139,
        "icmp6-nodeinformationresponse" => 140,
        "icmp6-ineighbordiscoverysolicit" => 141,
        "icmp6-ineighbordiscoveryadvert" => 142,
        "icmp6-multicastlistenerreportv2" => 143,
        "icmp6-homeagentdiscoveryrequest" => 144,
        "icmp6-homeagentdiscoveryreply" => 145,
        "icmp6-mobileprefixsolicit" => 146,
        "icmp6-mobileprefixadvert" => 147,
        "icmp6-certpathsolicit" => 148,
        "icmp6-certpathadvert" => 149,
        "icmp6-multicastrouteradvert" => 151,
        "icmp6-multicastroutersolicit" => 152,
        "icmp6-multicastrouterterm" => 153,
        _ => return None,
    })
}

/// A service name from /etc/services (what libpcap's getservbyname
/// lookup reads): (tcp port, udp port). Not a network lookup.
fn service(name: &str) -> Option<(Option<u16>, Option<u16>)> {
    let db = Services::system();
    let (tcp, udp) = (db.port(name, "tcp"), db.port(name, "udp"));
    (tcp.is_some() || udp.is_some()).then_some((tcp, udp))
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].kind
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].kind
    }

    fn column(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].column
    }

    fn error(&self, message: impl Into<String>) -> FilterError {
        let found = match self.peek() {
            Tok::End => "the end".to_string(),
            Tok::Num(n) => format!("{n}"),
            Tok::Word(w) => format!("\"{w}\""),
            Tok::Op(o) => format!("'{o}'"),
        };
        FilterError {
            column: self.column(),
            message: format!("{}, found {found}", message.into()),
        }
    }

    /// The current token, advancing past it (past the end too, so a
    /// caller can step back with `pos -= 1`).
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    fn is_op(&self, o: &str) -> bool {
        matches!(self.peek(), Tok::Op(x) if *x == o)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_op(&mut self, o: &str) -> bool {
        if self.is_op(o) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, o: &str) -> Result<(), FilterError> {
        if self.eat_op(o) {
            Ok(())
        } else {
            Err(self.error(format!("expected '{o}'")))
        }
    }

    /// Loads `size` bytes at `off`, an offset relative to `base`: an
    /// absolute load, or in live code after the first `vlan` the variable
    /// part into X and an indexed load (libpcap's gen_abs_offset_varpart).
    fn load(&self, base: Base, size: u16, off: u32) -> Vec<Insn> {
        match self.layout.var {
            None => vec![Insn::stmt(op::LD | size | op::ABS, off)],
            Some(var) => {
                let word = match base {
                    Base::Payload => var.payload,
                    Base::LinkType => var.linktype,
                };
                vec![
                    Insn::stmt(op::LDX | op::MEM, word),
                    Insn::stmt(op::LD | size | op::IND, off),
                ]
            }
        }
    }

    /// The field at `off` (relative to `base`) equals `k`.
    fn eq(&self, base: Base, size: u16, off: u32, k: u32) -> Pred {
        test(self.load(base, size, off), op::JEQ, k)
    }

    /// The field at `off` (relative to `base`) masked with `mask` equals `k`.
    fn eq_masked(&self, base: Base, size: u16, off: u32, mask: u32, k: u32) -> Pred {
        let mut stmts = self.load(base, size, off);
        stmts.push(Insn::stmt(op::ALU | op::AND | op::K, mask));
        test(stmts, op::JEQ, k)
    }

    /// Code leaving in X what to add to `off_nl` to reach the transport
    /// header: the IPv4 header length (`ldx 4*([nl]&0xf)`), plus in live
    /// code after `vlan` the variable part, computed in A because the MSH
    /// load has no indexed form (libpcap's gen_loadx_iphdrlen).
    fn ip_header_len_x(&self) -> Vec<Insn> {
        let nl = self.layout.off_nl;
        match self.layout.var {
            None => vec![Insn::stmt(op::LDX | op::B | op::MSH, nl)],
            Some(var) => vec![
                Insn::stmt(op::LDX | op::MEM, var.payload),
                Insn::stmt(op::LD | op::B | op::IND, nl),
                Insn::stmt(op::ALU | op::AND | op::K, 0xf),
                Insn::stmt(op::ALU | op::LSH | op::K, 2),
                Insn::stmt(op::ALU | op::ADD | op::X, 0),
                Insn::stmt(op::MISC | op::TAX, 0),
            ],
        }
    }

    /// expr := term { (and | or) term }, left to right, equal precedence.
    fn expr(&mut self) -> Result<Pred, FilterError> {
        let mut left = self.term()?;
        loop {
            if self.eat_word("and") || self.eat_op("&&") {
                let right = self.term()?;
                left = left.and(right);
            } else if self.eat_word("or") || self.eat_op("||") {
                let right = self.term()?;
                left = left.or(right);
            } else {
                return Ok(left);
            }
        }
    }

    /// term := not term | ( expr ) | relation | primitive
    fn term(&mut self) -> Result<Pred, FilterError> {
        self.check_after_geneve()?;
        // After `geneve`, what this term loads is relative to the inner
        // packet, at the offsets held in these slots.
        let inner = self.geneve;
        if self.eat_word("not") || self.eat_op("!") {
            return Ok(self.term()?.not());
        }
        // A relation (arithmetic comparison) is tried first; if it does not
        // parse, the same tokens are read as a boolean term.
        let start = (self.pos, self.mem, self.layout);
        // Tokens that can only start arithmetic: a number, `len`, unary
        // minus, proto[...]. Then the relation's error is the one to report.
        let arithmetic = match (self.peek(), self.peek_at(1)) {
            (Tok::Num(_), _) | (Tok::Op("-"), _) => true,
            (Tok::Word(w), Tok::Op("[")) => proto_keyword(w).is_some(),
            (Tok::Word(w), _) => w == "len",
            _ => false,
        };
        let rel_err = match self.relation() {
            Ok(p) => return self.relation_after_geneve(p, inner),
            // (A bare number after a primitive is a carried-over value.)
            Err(e) if arithmetic && !(self.last.is_some() && matches!(self.toks[start.0].kind, Tok::Num(_))) => {
                return Err(e)
            }
            Err(e) => e,
        };
        let rel_pos = self.pos;
        (self.pos, self.mem, self.layout) = start;
        if self.eat_op("(") {
            let e = self.expr();
            return match e {
                Ok(e) => {
                    self.expect_op(")")?;
                    Ok(e)
                }
                // Report whichever reading got further.
                Err(_) if rel_pos > self.pos => Err(rel_err),
                Err(e) => Err(e),
            };
        }
        match self.primitive() {
            Ok(p) => self.inside_geneve(p, inner),
            Err(e) if rel_pos > self.pos && rel_err.column > e.column => Err(rel_err),
            Err(e) => Err(e),
        }
    }

    fn relation(&mut self) -> Result<Pred, FilterError> {
        let lhs = self.arith()?;
        let (jump, negate) = match self.bump() {
            Tok::Op(">") => (op::JGT, false),
            Tok::Op(">=") => (op::JGE, false),
            Tok::Op("=") | Tok::Op("==") => (op::JEQ, false),
            Tok::Op("!=") => (op::JEQ, true),
            Tok::Op("<") => (op::JGE, true),
            Tok::Op("<=") => (op::JGT, true),
            _ => {
                self.pos -= 1;
                return Err(self.error("expected a comparison (=, !=, <, <=, >, >=)"));
            }
        };
        let rhs = self.arith()?;
        let guard = lhs.guard.clone().and(rhs.guard.clone());
        let t = if let (Some(a), Some(b)) = (lhs.constant, rhs.constant) {
            // Both sides constant: the answer is known (libpcap folds it).
            Pred::Const(match jump {
                op::JGT => a > b,
                op::JGE => a >= b,
                _ => a == b,
            })
        } else if let Some(k) = rhs.constant {
            test(lhs.code, jump, k)
        } else {
            // lhs -> M[n]; rhs -> X; A = M[n]; jump against X.
            let slot = self.slot()?;
            let mut code = lhs.code;
            code.push(Insn::stmt(op::ST, slot));
            code.extend(rhs.code);
            code.push(Insn::stmt(op::MISC | op::TAX, 0));
            code.push(Insn::stmt(op::LD | op::MEM, slot));
            Pred::Test {
                stmts: code,
                jump: op::JMP | jump | op::X,
                k: 0,
            }
        };
        let t = if negate { t.not() } else { t };
        Ok(guard.and(t))
    }

    fn slot(&mut self) -> Result<u32, FilterError> {
        if self.mem >= crate::bpf::MEMWORDS as u32 {
            return Err(self.error("expression too complex: more than 16 scratch memory slots"));
        }
        self.mem += 1;
        Ok(self.mem - 1)
    }

    /// Arithmetic with libpcap 1.10's grammar: `|` < `&` < shifts < `+ -` <
    /// `* /` < unary minus, all left-associative. `%` and `^` have no
    /// declared precedence there, so bison shifts: their left operand is
    /// the operand just before them and their right operand is the rest
    /// of the expression (`a / b % c + d` is `a / (b % (c + d))`).
    fn arith(&mut self) -> Result<Arith, FilterError> {
        self.arith_level(0)
    }

    fn arith_level(&mut self, level: usize) -> Result<Arith, FilterError> {
        const LEVELS: [&[(&str, u16)]; 5] = [
            &[("|", op::OR)],
            &[("&", op::AND)],
            &[("<<", op::LSH), (">>", op::RSH)],
            &[("+", op::ADD), ("-", op::SUB)],
            &[("*", op::MUL), ("/", op::DIV)],
        ];
        if level == LEVELS.len() {
            let left = self.arith_unary()?;
            for (sym, alu) in [("%", op::MOD), ("^", op::XOR)] {
                if self.is_op(sym) {
                    let column = self.column();
                    self.pos += 1;
                    let right = self.arith()?;
                    return self.binary(left, alu, right, column);
                }
            }
            return Ok(left);
        }
        let mut left = self.arith_level(level + 1)?;
        'outer: loop {
            for (sym, alu) in LEVELS[level] {
                if self.is_op(sym) {
                    let column = self.column();
                    self.pos += 1;
                    let right = self.arith_level(level + 1)?;
                    left = self.binary(left, *alu, right, column)?;
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn binary(&mut self, l: Arith, alu: u16, r: Arith, column: usize) -> Result<Arith, FilterError> {
        if matches!(alu, op::DIV | op::MOD) && r.constant == Some(0) {
            return Err(FilterError {
                column,
                message: "division by zero".into(),
            });
        }
        if matches!(alu, op::LSH | op::RSH) && r.constant.is_some_and(|k| k >= 32) {
            return Err(FilterError {
                column,
                message: "shift by 32 or more".into(),
            });
        }
        let constant = match (l.constant, r.constant) {
            (Some(a), Some(b)) => Some(match alu {
                op::OR => a | b,
                op::XOR => a ^ b,
                op::AND => a & b,
                op::LSH => a << b,
                op::RSH => a >> b,
                op::ADD => a.wrapping_add(b),
                op::SUB => a.wrapping_sub(b),
                op::MUL => a.wrapping_mul(b),
                op::DIV => a / b,
                _ => a % b,
            }),
            _ => None,
        };
        // libpcap's gen_arth keeps only the left operand's protocol checks
        // (a1->b is dropped); we do the same so verdicts match.
        let guard = l.guard;
        if let Some(k) = constant {
            return Ok(Arith {
                code: vec![Insn::stmt(op::LD | op::IMM, k)],
                guard,
                constant: Some(k),
            });
        }
        let mut code = l.code;
        if let Some(k) = r.constant {
            code.push(Insn::stmt(op::ALU | alu | op::K, k));
        } else {
            let slot = self.slot()?;
            code.push(Insn::stmt(op::ST, slot));
            code.extend(r.code);
            code.push(Insn::stmt(op::MISC | op::TAX, 0));
            code.push(Insn::stmt(op::LD | op::MEM, slot));
            code.push(Insn::stmt(op::ALU | alu | op::X, 0));
        }
        Ok(Arith {
            code,
            guard,
            constant: None,
        })
    }

    fn arith_unary(&mut self) -> Result<Arith, FilterError> {
        if self.eat_op("-") {
            let mut a = self.arith_unary()?;
            if let Some(k) = a.constant {
                let k = k.wrapping_neg();
                return Ok(Arith {
                    code: vec![Insn::stmt(op::LD | op::IMM, k)],
                    guard: a.guard,
                    constant: Some(k),
                });
            }
            a.code.push(Insn::stmt(op::ALU | op::NEG, 0));
            return Ok(a);
        }
        if self.eat_op("(") {
            let a = self.arith()?;
            self.expect_op(")")?;
            return Ok(a);
        }
        let constant = |k: u32| Arith {
            code: vec![Insn::stmt(op::LD | op::IMM, k)],
            guard: Pred::Const(true),
            constant: Some(k),
        };
        match self.peek().clone() {
            Tok::Num(n) => {
                self.pos += 1;
                Ok(constant(n))
            }
            Tok::Word(w) if w == "len" => {
                self.pos += 1;
                Ok(Arith {
                    code: vec![Insn::stmt(op::LD | op::W | op::LEN, 0)],
                    guard: Pred::Const(true),
                    constant: None,
                })
            }
            Tok::Word(w) if named_value(&w).is_some() => {
                self.pos += 1;
                Ok(constant(named_value(&w).unwrap_or(0)))
            }
            Tok::Word(w) if proto_keyword(&w).is_some() && self.peek_at(1) == &Tok::Op("[") => {
                self.pos += 2;
                let proto = proto_keyword(&w).unwrap_or(Proto::Link);
                self.packet_load(proto)
            }
            _ => Err(self.error("expected a number, 'len' or proto[offset]")),
        }
    }

    /// proto[expr] / proto[expr:size] after the '['.
    fn packet_load(&mut self, proto: Proto) -> Result<Arith, FilterError> {
        let index = self.arith()?;
        let size = if self.eat_op(":") {
            match self.bump() {
                Tok::Num(1) => op::B,
                Tok::Num(2) => op::H,
                Tok::Num(4) => op::W,
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected a size of 1, 2 or 4"));
                }
            }
        } else {
            op::B
        };
        self.expect_op("]")?;
        let nl = self.layout.off_nl;
        // (base offset, needs the IPv4 header length in X, guard)
        let (base, transport, guard) = match proto {
            Proto::Link => (0, false, Pred::Const(true)),
            Proto::Ip => (nl, false, self.linktype(0x0800)),
            Proto::Ip6 => (nl, false, self.linktype(0x86dd)),
            Proto::Arp => (nl, false, self.linktype(0x0806)),
            Proto::Rarp => (nl, false, self.linktype(0x8035)),
            // Only a directly following ICMPv6 header (libpcap's
            // gen_load_internal for Q_ICMPV6), not one behind a fragment header.
            Proto::Icmp6 => (
                nl + 40,
                false,
                self.linktype(0x86dd).and(self.eq(Base::Payload, op::B, nl + 6, 58)),
            ),
            p if llc::is_llc_family(p) => (nl, false, self.llc_load_guard(p)?),
            p => {
                let n = transport_number(p);
                (nl, true, self.ip_proto(n).and(self.not_fragment()))
            }
        };
        let mut code = Vec::new();
        // Link-layer loads (ether[...]) are relative to the frame start,
        // which never moves; the others follow the network header.
        let var = self.layout.var.filter(|_| proto != Proto::Link);
        match (index.constant, transport) {
            (Some(k), false) if proto == Proto::Link => {
                code.push(Insn::stmt(op::LD | size | op::ABS, base.wrapping_add(k)))
            }
            (Some(k), false) => code.extend(self.load(Base::Payload, size, base.wrapping_add(k))),
            (Some(k), true) => {
                code.extend(self.ip_header_len_x());
                code.push(Insn::stmt(op::LD | size | op::IND, base.wrapping_add(k)));
            }
            (None, false) => {
                code.extend(index.code);
                if let Some(var) = var {
                    code.push(Insn::stmt(op::LDX | op::MEM, var.payload));
                    code.push(Insn::stmt(op::ALU | op::ADD | op::X, 0));
                }
                code.push(Insn::stmt(op::MISC | op::TAX, 0));
                code.push(Insn::stmt(op::LD | size | op::IND, base));
            }
            (None, true) => {
                let slot = self.slot()?;
                code.extend(index.code);
                code.push(Insn::stmt(op::ST, slot));
                code.extend(self.ip_header_len_x());
                code.push(Insn::stmt(op::LD | op::MEM, slot));
                code.push(Insn::stmt(op::ALU | op::ADD | op::X, 0));
                code.push(Insn::stmt(op::MISC | op::TAX, 0));
                code.push(Insn::stmt(op::LD | size | op::IND, base));
            }
        }
        Ok(Arith {
            code,
            guard: index.guard.and(guard),
            constant: None,
        })
    }

    /// The frame carries this EtherType (or IP version on raw links;
    /// below an MPLS stack: bottom of stack and IP version; inside PPPoE:
    /// the PPP protocol number).
    fn linktype(&self, ethertype: u32) -> Pred {
        let nl = self.layout.off_nl;
        match (self.layout.encap, self.layout.off_type) {
            (Encap::Mpls, _) => {
                let bottom = self.eq_masked(Base::Payload, op::B, nl - 2, 1, 1);
                return match ethertype {
                    0x0800 => bottom.and(self.eq_masked(Base::Payload, op::B, nl, 0xf0, 0x40)),
                    0x86dd => bottom.and(self.eq_masked(Base::Payload, op::B, nl, 0xf0, 0x60)),
                    _ => {
                        self.refused.set(Some((
                            self.column(),
                            "only ip and ip6 can be matched below an MPLS label stack",
                        )));
                        Pred::Const(false)
                    }
                };
            }
            (Encap::Ppp, Some(off)) => {
                return self.eq(Base::LinkType, op::H, off, llc::ethertype_to_ppp(ethertype));
            }
            _ => {}
        }
        match self.layout.off_type {
            // Ethernet II, 802.3 + 802.2 and SNAP forms (filter/llc.rs).
            Some(off) => self.link_protocol(off, ethertype),
            None => match ethertype {
                0x0800 => cmp_masked(op::B, 0, 0xf0, 0x40),
                0x86dd => cmp_masked(op::B, 0, 0xf0, 0x60),
                _ => Pred::Const(false),
            },
        }
    }

    fn ip_proto(&self, n: u32) -> Pred {
        self.linktype(0x0800)
            .and(self.eq(Base::Payload, op::B, self.layout.off_nl + 9, n))
    }

    /// IPv6 next header, also behind one fragment header (as libpcap).
    fn ip6_proto(&self, n: u32) -> Pred {
        let nl = self.layout.off_nl;
        let direct = self.eq(Base::Payload, op::B, nl + 6, n);
        let fragment = self
            .eq(Base::Payload, op::B, nl + 6, 44)
            .and(self.eq(Base::Payload, op::B, nl + 40, n));
        self.linktype(0x86dd).and(direct.or(fragment))
    }

    fn not_fragment(&self) -> Pred {
        test(
            self.load(Base::Payload, op::H, self.layout.off_nl + 6),
            op::JSET,
            0x1fff,
        )
        .not()
    }

    /// A protocol keyword on its own (`tcp`, `ip6`, `arp`...).
    fn proto_alone(&self, p: Proto) -> Result<Pred, FilterError> {
        Ok(match p {
            Proto::Link => return Err(self.error("'ether'/'link' needs a qualifier (host, src, dst, proto...)")),
            Proto::Ip => self.linktype(0x0800),
            Proto::Ip6 => self.linktype(0x86dd),
            Proto::Arp => self.linktype(0x0806),
            Proto::Rarp => self.linktype(0x8035),
            Proto::Icmp | Proto::Igmp | Proto::Igrp | Proto::Vrrp => self.ip_proto(transport_number(p)),
            Proto::Icmp6 => self.ip6_proto(58),
            p if llc::is_llc_family(p) => self.llc_proto_alone(p),
            _ => {
                let n = transport_number(p);
                self.ip_proto(n).or(self.ip6_proto(n))
            }
        })
    }

    fn primitive(&mut self) -> Result<Pred, FilterError> {
        let column = self.column();
        let word = match self.peek().clone() {
            Tok::Word(w) => w,
            Tok::Num(_) => return self.carried_value(),
            _ => return Err(self.error("expected a primitive (host, port, tcp, ...) or '('")),
        };
        let refuse = |what: String| Err(FilterError { column, message: what });
        match word.as_str() {
            "gateway" => return refuse("'gateway' needs host name resolution, which netobs refuses".into()),
            "protochain" => return refuse("'protochain' is not supported".into()),
            "inbound" | "outbound" => {
                let p = self.direction_test(&word)?;
                self.pos += 1;
                return Ok(p);
            }
            "ifindex" => {
                self.pos += 1;
                return self.ifindex();
            }
            w if UNSUPPORTED.contains(&w) => return refuse(format!("'{w}' is not supported")),
            w if !is_keyword(w) => return self.carried_value(),
            "vlan" => {
                self.pos += 1;
                return self.vlan();
            }
            "stp" => {
                self.pos += 1;
                return Ok(self.linktype(0x42));
            }
            "mpls" => {
                self.pos += 1;
                return self.mpls();
            }
            "pppoes" => {
                self.pos += 1;
                return self.pppoes();
            }
            "pppoed" => {
                self.pos += 1;
                return self.encap_link("pppoed").map(|_| self.linktype(0x8863));
            }
            "llc" => {
                self.pos += 1;
                return self.llc();
            }
            "geneve" => {
                self.pos += 1;
                return self.geneve();
            }
            "less" | "greater" => {
                self.pos += 1;
                let Tok::Num(n) = self.bump() else {
                    self.pos -= 1;
                    return Err(self.error(format!("expected a length after '{word}'")));
                };
                let len = vec![Insn::stmt(op::LD | op::W | op::LEN, 0)];
                return Ok(if word == "less" {
                    test(len, op::JGT, n).not()
                } else {
                    test(len, op::JGE, n)
                });
            }
            "broadcast" | "multicast" => {
                self.pos += 1;
                return self.cast(Proto::Link, &word);
            }
            _ => {}
        }
        // [proto] [dir] [kind] value
        let mut q = Quals {
            proto: None,
            dir: None,
            kind: None,
        };
        if let Some(p) = proto_keyword(&word) {
            self.pos += 1;
            q.proto = Some(p);
            match self.peek().clone() {
                Tok::Word(w) if w == "broadcast" || w == "multicast" => {
                    self.pos += 1;
                    return self.cast(p, &w);
                }
                Tok::Word(w)
                    if w == "proto" && matches!(p, Proto::Link | Proto::Ip | Proto::Ip6 | Proto::Iso | Proto::Isis) => {
                }
                Tok::Word(w) if is_dir(&w) || is_kind(&w) => {}
                _ => return self.proto_alone(p),
            }
        }
        if let Some(d) = self.direction()? {
            q.dir = Some(d);
        }
        if let Tok::Word(w) = self.peek().clone() {
            if let Some(k) = kind_keyword(&w) {
                self.pos += 1;
                q.kind = Some(k);
            } else if w == "gateway" || w == "protochain" {
                return Err(self.error(format!("'{w}' is not supported")));
            }
        }
        if q.dir.is_none() && q.kind.is_none() {
            return Err(self.error("expected a direction or type (src, dst, host, net, port, portrange, proto)"));
        }
        self.last = Some(q);
        self.value(q)
    }

    /// A bare value: uses the qualifiers of the previous primitive.
    fn carried_value(&mut self) -> Result<Pred, FilterError> {
        let q = self.last.unwrap_or(Quals {
            proto: None,
            dir: None,
            kind: Some(Kind::Host),
        });
        self.value(q)
    }

    fn direction(&mut self) -> Result<Option<Dir>, FilterError> {
        let first = if self.eat_word("src") {
            Dir::Src
        } else if self.eat_word("dst") {
            Dir::Dst
        } else {
            return Ok(None);
        };
        for (conj, both) in [("or", Dir::SrcOrDst), ("and", Dir::SrcAndDst)] {
            if self.is_word(conj) {
                let other = if first == Dir::Src { "dst" } else { "src" };
                if matches!(self.peek_at(1), Tok::Word(w) if w == other) {
                    self.pos += 2;
                    return Ok(Some(both));
                }
            }
        }
        Ok(Some(first))
    }

    /// The EtherType offset, for keywords that need a plain Ethernet
    /// encapsulation at this point.
    fn encap_link(&self, what: &str) -> Result<u32, FilterError> {
        match (self.layout.off_type, self.layout.link, self.layout.encap) {
            (Some(off), linktype::ETHERNET, Encap::Link) => Ok(off),
            _ => Err(self.error(format!("'{what}' needs an Ethernet link, not inside MPLS or PPPoE"))),
        }
    }

    /// `mpls [label]`: an MPLS unicast frame (or, after another `mpls`, a
    /// label that is not the bottom of the stack), then offsets move past
    /// the label (libpcap's gen_mpls).
    fn mpls(&mut self) -> Result<Pred, FilterError> {
        let nl = self.layout.off_nl;
        let mut p = match (self.layout.encap, self.layout.off_type) {
            (Encap::Mpls, _) => test(self.load(Base::Payload, op::B, nl - 2), op::JSET, 1).not(),
            // MPLS unicast inside PPP (PPP_MPLS_UCAST).
            (Encap::Ppp, Some(off)) => self.eq(Base::LinkType, op::H, off, 0x0281),
            _ => {
                self.encap_link("mpls")?;
                self.linktype(0x8847)
            }
        };
        if let Tok::Num(label) = *self.peek() {
            if label > 0xfffff {
                return Err(self.error("MPLS label must be 0..1048575"));
            }
            self.pos += 1;
            p = p.and(self.eq_masked(Base::Payload, op::W, nl, 0xffff_f000, label << 12));
        }
        self.layout.off_nl = nl + 4;
        self.layout.encap = Encap::Mpls;
        Ok(p)
    }

    /// `pppoes [session]`: a PPPoE session frame; what follows is matched
    /// on the PPP protocol after the 6-byte PPPoE header.
    fn pppoes(&mut self) -> Result<Pred, FilterError> {
        self.encap_link("pppoes")?;
        let nl = self.layout.off_nl;
        let mut p = self.linktype(0x8864);
        if let Tok::Num(id) = *self.peek() {
            if id > 0xffff {
                return Err(self.error("PPPoE session id must be 0..65535"));
            }
            self.pos += 1;
            p = p.and(self.eq_masked(Base::Payload, op::W, nl, 0xffff, id));
        }
        self.layout.off_type = Some(nl + 6);
        self.layout.off_nl = nl + 8;
        self.layout.encap = Encap::Ppp;
        Ok(p)
    }

    fn vlan(&mut self) -> Result<Pred, FilterError> {
        let off = self.encap_link("vlan")?;
        let nl = self.layout.off_nl;
        let id = match *self.peek() {
            Tok::Num(id) if id > 4095 => return Err(self.error("VLAN id must be 0..4095")),
            Tok::Num(id) => {
                self.pos += 1;
                Some(id)
            }
            _ => None,
        };
        if self.mode == CodeMode::LinuxLive && self.layout.var.is_none() {
            return self.first_vlan_live(off, id);
        }
        let tagged = self
            .eq(Base::LinkType, op::H, off, 0x8100)
            .or(self.eq(Base::LinkType, op::H, off, 0x88a8))
            .or(self.eq(Base::LinkType, op::H, off, 0x9100));
        let p = match id {
            Some(id) => tagged.and(self.eq_masked(Base::Payload, op::H, nl, 0x0fff, id)),
            None => tagged,
        };
        // Everything after `vlan` looks one tag further in.
        self.layout.off_type = Some(nl + 2);
        self.layout.off_nl = nl + 4;
        Ok(p)
    }

    /// The first `vlan` in live Linux code (libpcap 1.10's
    /// gen_vlan_bpf_extensions). A received frame's outermost tag is in
    /// the skb metadata (SKF_AD_VLAN_TAG_PRESENT); a sent frame keeps its
    /// tag in the bytes. So: a tag in the metadata, or else a TPID in the
    /// packet, in which case everything after this keyword is 4 bytes
    /// further in, which only the run time knows: the two offset words
    /// become 4 (before the TPID test, as in libpcap, so also for `not
    /// vlan` and `vlan or ...`). The VLAN id comes from SKF_AD_VLAN_TAG or
    /// from the packet accordingly.
    fn first_vlan_live(&mut self, off: u32, id: Option<u32>) -> Result<Pred, FilterError> {
        let var = VarOffsets {
            payload: self.slot()?,
            linktype: self.slot()?,
        };
        let present = skf::AD_OFF + skf::AD_VLAN_TAG_PRESENT;
        let in_metadata = cmp(op::B, present, 1);
        let shift = [
            Insn::stmt(op::LD | op::W | op::IMM, VLAN_TAG_LEN),
            Insn::stmt(op::ST, var.payload),
            Insn::stmt(op::ST, var.linktype),
        ];
        let in_packet = prepend(cmp(op::H, off, 0x8100), &shift)
            .or(cmp(op::H, off, 0x88a8))
            .or(cmp(op::H, off, 0x9100));
        let mut p = in_metadata.or(in_packet);
        if let Some(id) = id {
            let tci = vec![
                Insn::stmt(op::LD | op::B | op::ABS, present),
                // present: the metadata TCI; else the packet's.
                Insn::jump(op::JMP | op::JEQ | op::K, 1, 0, 2),
                Insn::stmt(op::LD | op::B | op::ABS, skf::AD_OFF + skf::AD_VLAN_TAG),
                Insn::stmt(op::JMP | op::JA, 1),
                Insn::stmt(op::LD | op::H | op::ABS, self.layout.off_nl),
                Insn::stmt(op::ALU | op::AND | op::K, 0x0fff),
            ];
            p = p.and(test(tci, op::JEQ, id));
        }
        self.layout.var = Some(var);
        Ok(p)
    }

    /// `inbound` / `outbound`: the packet type is PACKET_OUTGOING, read
    /// from the cooked header on SLL/SLL2 and from SKF_AD_PKTTYPE on a
    /// live socket (libpcap's gen_inbound).
    fn direction_test(&self, word: &str) -> Result<Pred, FilterError> {
        const PACKET_OUTGOING: u32 = 4;
        if self.geneve.is_some() {
            return Err(self.error(format!("'{word}' after 'geneve' is not supported")));
        }
        let outgoing = match (self.layout.link, self.mode) {
            (linktype::LINUX_SLL, _) => cmp(op::H, 0, PACKET_OUTGOING),
            (linktype::LINUX_SLL2, _) => cmp(op::B, 10, PACKET_OUTGOING),
            (_, CodeMode::LinuxLive) => cmp(op::H, skf::AD_OFF + skf::AD_PKTTYPE, PACKET_OUTGOING),
            (link, CodeMode::Offline) => return Err(self.metadata_refused(word, link)),
        };
        Ok(if word == "inbound" { outgoing.not() } else { outgoing })
    }

    /// `ifindex N`: from the SLL2 header, or SKF_AD_IFINDEX on a live socket.
    fn ifindex(&mut self) -> Result<Pred, FilterError> {
        let Tok::Num(n) = *self.peek() else {
            return Err(self.error("expected an interface index after 'ifindex'"));
        };
        if self.geneve.is_some() {
            return Err(self.error("'ifindex' after 'geneve' is not supported"));
        }
        let p = match (self.layout.link, self.mode) {
            (linktype::LINUX_SLL2, _) => cmp(op::W, 4, n),
            (_, CodeMode::LinuxLive) => cmp(op::W, skf::AD_OFF + skf::AD_IFINDEX, n),
            (link, CodeMode::Offline) => {
                self.pos -= 1;
                return Err(self.metadata_refused("ifindex", link));
            }
        };
        self.pos += 1;
        Ok(p)
    }

    fn metadata_refused(&self, word: &str, link: u16) -> FilterError {
        let name = if link == linktype::RAW { "raw IP" } else { "Ethernet" };
        FilterError {
            column: self.column(),
            message: format!(
                "'{word}' needs the kernel's packet metadata: not supported on {name} in offline code \
                 (as libpcap when reading savefiles); compile with CodeMode::LinuxLive for a live capture"
            ),
        }
    }

    fn cast(&self, p: Proto, which: &str) -> Result<Pred, FilterError> {
        let nl = self.layout.off_nl;
        match (p, which) {
            (Proto::Link, "broadcast") => {
                self.need_ethernet("broadcast")?;
                Ok(cmp(op::W, 2, 0xffff_ffff).and(cmp(op::H, 0, 0xffff)))
            }
            (Proto::Link, _) => {
                self.need_ethernet("multicast")?;
                Ok(test(vec![Insn::stmt(op::LD | op::B | op::ABS, 0)], op::JSET, 1))
            }
            (Proto::Ip, "multicast") => {
                Ok(self
                    .linktype(0x0800)
                    .and(test(self.load(Base::Payload, op::B, nl + 16), op::JGE, 224)))
            }
            (Proto::Ip6, "multicast") => Ok(self.linktype(0x86dd).and(self.eq(Base::Payload, op::B, nl + 24, 0xff))),
            (Proto::Ip, _) => Err(self.error("'ip broadcast' needs the netmask, which is unknown offline")),
            _ => Err(self.error(format!("'{which}' applies to ether, ip or ip6 only"))),
        }
    }

    fn need_ethernet(&self, what: &str) -> Result<(), FilterError> {
        if self.layout.link != linktype::ETHERNET {
            return Err(self.error(format!("'{what}' on MAC addresses needs an Ethernet link")));
        }
        Ok(())
    }

    fn value(&mut self, q: Quals) -> Result<Pred, FilterError> {
        let column = self.column();
        let kind = q.kind.unwrap_or(Kind::Host);
        let dir = q.dir.unwrap_or(Dir::SrcOrDst);
        let raw = match self.bump() {
            Tok::Num(n) => Token {
                kind: Tok::Num(n),
                column,
            },
            Tok::Word(w) => Token {
                kind: Tok::Word(w),
                column,
            },
            _ => {
                self.pos -= 1;
                return Err(self.error("expected an address, number or name"));
            }
        };
        let refuse = |m: String| FilterError { column, message: m };
        match kind {
            Kind::Proto => {
                let n = match &raw.kind {
                    Tok::Num(n) => *n,
                    Tok::Word(w) => match q.proto {
                        Some(Proto::Link) => ethertype_name(w),
                        Some(Proto::Iso) => llc::iso_proto_name(w),
                        _ => ipproto_name(w),
                    }
                    .ok_or_else(|| refuse(format!("unknown or unsupported protocol name \"{w}\"")))?,
                    _ => 0,
                };
                match q.proto {
                    Some(Proto::Link) => Ok(self.linktype(n)),
                    Some(Proto::Ip) => Ok(self.ip_proto(n)),
                    Some(Proto::Ip6) => Ok(self.ip6_proto(n)),
                    None => Ok(self.ip_proto(n).or(self.ip6_proto(n))),
                    Some(Proto::Iso) => Ok(self.iso_proto(n)),
                    Some(Proto::Isis) => Ok(self.isis_proto(n)),
                    _ => Err(refuse("'proto' applies to ether, ip, ip6, iso or isis".into())),
                }
            }
            Kind::Port | Kind::PortRange => {
                let (lo, hi, only) = self.port_value(&raw, kind == Kind::PortRange, q.proto)?;
                let range = kind == Kind::PortRange;
                self.ports(q.proto.or(only), dir, (lo, hi, range), column)
            }
            Kind::Host | Kind::Net if q.proto == Some(Proto::Decnet) => {
                let addr = llc::decnet_address(&raw.kind)
                    .ok_or_else(|| refuse("expected a DECnet address AREA.NODE".into()))?;
                Ok(self.decnet_host(dir, addr))
            }
            Kind::Host | Kind::Net => {
                let Tok::Word(w) = &raw.kind else {
                    // A bare number as host: libpcap reads it as an IPv4
                    // address in host order (10 = 0.0.0.10) for host, and as
                    // a network prefix for net.
                    let Tok::Num(n) = raw.kind else { unreachable!() };
                    return self.ipv4(q, dir, kind, &n.to_string(), column);
                };
                if q.proto == Some(Proto::Link) {
                    let mac: MacAddr = w.parse().map_err(|e: String| refuse(e))?;
                    self.need_ethernet("ether host")?;
                    return Ok(self.ether_host(dir, mac));
                }
                if w.contains(':') {
                    return self.ipv6(q, dir, kind, w, column);
                }
                if w.split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                {
                    return self.ipv4(q, dir, kind, w, column);
                }
                Err(refuse(format!(
                    "\"{w}\" is a name; netobs does not resolve host or network names"
                )))
            }
        }
    }

    fn port_value(
        &mut self,
        raw: &Token,
        range: bool,
        proto: Option<Proto>,
    ) -> Result<(u16, u16, Option<Proto>), FilterError> {
        let column = raw.column;
        let refuse = |m: String| FilterError { column, message: m };
        let one = |s: &str| -> Result<(u16, Option<Proto>), FilterError> {
            if let Some(n) = lexer::parse_number(s) {
                return u16::try_from(n)
                    .map(|p| (p, None))
                    .map_err(|_| refuse(format!("port {n} is not 0..65535")));
            }
            let (tcp, udp) = service(s).ok_or_else(|| refuse(format!("unknown port name \"{s}\"")))?;
            match (tcp, udp, proto) {
                (Some(t), Some(u), _) if t == u => Ok((t, None)),
                (Some(t), _, Some(Proto::Tcp)) | (Some(t), None, _) => Ok((t, Some(Proto::Tcp))),
                (_, Some(u), Some(Proto::Udp)) | (None, Some(u), _) => Ok((u, Some(Proto::Udp))),
                _ => Err(refuse(format!("port name \"{s}\" has different tcp and udp numbers"))),
            }
        };
        let text = match &raw.kind {
            Tok::Num(n) => n.to_string(),
            Tok::Word(w) => w.clone(),
            _ => String::new(),
        };
        if !range {
            let (p, only) = one(&text)?;
            return Ok((p, p, only));
        }
        // portrange LO-HI: "7-9" lexes as 7 '-' 9; "domain-smtp" as one word.
        let (lo, hi) = if let Some((a, b)) = text.split_once('-').filter(|_| service(&text).is_none()) {
            (a.to_string(), b.to_string())
        } else if self.eat_op("-") {
            let hi = match self.bump() {
                Tok::Num(n) => n.to_string(),
                Tok::Word(w) => w,
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected the end of the port range"));
                }
            };
            (text, hi)
        } else {
            (text.clone(), text)
        };
        let (a, pa) = one(&lo)?;
        let (b, pb) = one(&hi)?;
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        Ok((a, b, pa.or(pb)))
    }

    /// `port` (`(p, p, false)`) or `portrange` (`(lo, hi, true)`).
    fn ports(
        &self,
        proto: Option<Proto>,
        dir: Dir,
        ports: (u16, u16, bool),
        column: usize,
    ) -> Result<Pred, FilterError> {
        let (lo, hi, range) = ports;
        let protos: Vec<u32> = match proto {
            None | Some(Proto::Ip) | Some(Proto::Ip6) => vec![132, 6, 17],
            Some(p @ (Proto::Tcp | Proto::Udp | Proto::Sctp)) => vec![transport_number(p)],
            Some(_) => {
                return Err(FilterError {
                    column,
                    message: "'port' applies to tcp, udp, sctp, ip or ip6".into(),
                })
            }
        };
        let nl = self.layout.off_nl;
        // A one-port range keeps both comparisons, as libpcap's gen_portrange.
        let in_range = |load: Vec<Insn>| -> Pred {
            if !range {
                test(load, op::JEQ, lo as u32)
            } else {
                test(load.clone(), op::JGE, lo as u32).and(test(load, op::JGT, hi as u32).not())
            }
        };
        let any_of = |f: &dyn Fn(u32) -> Pred| protos.iter().fold(Pred::Const(false), |acc, &n| acc.or(f(n)));
        let v4 = {
            let proto = any_of(&|n| self.eq(Base::Payload, op::B, nl + 9, n));
            let load = |off: u32| Insn::stmt(op::LD | op::H | op::IND, nl + off);
            let ports = if self.layout.var.is_none() {
                // X = IPv4 header length, loaded before the first port test.
                let port_at = |off: u32| in_range(vec![load(off)]);
                prepend(by_dir(dir, port_at(0), port_at(2)), &self.ip_header_len_x())
            } else {
                // X computed again for each port (as libpcap does).
                let port_at = |off: u32| in_range([self.ip_header_len_x(), vec![load(off)]].concat());
                by_dir(dir, port_at(0), port_at(2))
            };
            self.linktype(0x0800).and(proto).and(self.not_fragment()).and(ports)
        };
        let v6 = {
            let proto = any_of(&|n| self.eq(Base::Payload, op::B, nl + 6, n));
            let port_at = |off: u32| in_range(self.load(Base::Payload, op::H, nl + 40 + off));
            self.linktype(0x86dd)
                .and(proto)
                .and(by_dir(dir, port_at(0), port_at(2)))
        };
        Ok(match proto {
            Some(Proto::Ip) => v4,
            Some(Proto::Ip6) => v6,
            _ => v6.or(v4),
        })
    }

    fn ether_host(&self, dir: Dir, mac: MacAddr) -> Pred {
        let m = mac.0;
        let at = |off: u32| {
            cmp(op::W, off + 2, u32::from_be_bytes([m[2], m[3], m[4], m[5]])).and(cmp(
                op::H,
                off,
                u16::from_be_bytes([m[0], m[1]]) as u32,
            ))
        };
        by_dir(dir, at(6), at(0))
    }

    fn ipv4(&mut self, q: Quals, dir: Dir, kind: Kind, text: &str, column: usize) -> Result<Pred, FilterError> {
        let (addr, mut mask) = self.ipv4_net(text, kind)?;
        if kind == Kind::Net {
            if self.eat_op("/") {
                match self.bump() {
                    // (A shift by 32 would overflow: /32 is the full mask.)
                    Tok::Num(n) if n <= 32 => mask = !0xffff_ffffu32.checked_shr(n).unwrap_or(0),
                    _ => {
                        self.pos -= 1;
                        return Err(self.error("expected a prefix length 0..32"));
                    }
                }
            } else if self.eat_word("mask") {
                // An abbreviated mask is left-aligned: 255.255 = 255.255.0.0.
                mask = match self.bump() {
                    Tok::Word(m) => self.ipv4_net(&m, Kind::Net)?.0,
                    Tok::Num(m) => self.ipv4_net(&m.to_string(), Kind::Net)?.0,
                    _ => {
                        self.pos -= 1;
                        return Err(self.error("expected a dotted netmask after 'mask'"));
                    }
                };
            }
            if addr & !mask != 0 {
                return Err(FilterError {
                    column,
                    message: format!("non-network bits set in \"{text}\""),
                });
            }
        }
        self.ipv4_match(q, dir, addr, mask)
    }

    /// Parses a dotted address: a full one for host, possibly abbreviated
    /// for net (10 -> 10.0.0.0/8, 10.1 -> 10.1.0.0/16).
    fn ipv4_net(&self, text: &str, kind: Kind) -> Result<(u32, u32), FilterError> {
        let parts: Vec<&str> = text.split('.').collect();
        let bad = || self.error(format!("\"{text}\" is not an IPv4 address"));
        if parts.len() > 4 {
            return Err(bad());
        }
        let mut v = 0u32;
        for p in &parts {
            let n: u8 = p.parse().map_err(|_| bad())?;
            v = (v << 8) | n as u32;
        }
        if kind == Kind::Host {
            if parts.len() != 4 {
                // libpcap reads "host 10" as 0.0.0.10; be explicit instead.
                if parts.len() == 1 {
                    return Ok((v, 0xffff_ffff));
                }
                return Err(bad());
            }
            return Ok((v, 0xffff_ffff));
        }
        let bits = 8 * parts.len() as u32;
        let v = v << (32 - bits);
        let mask = if bits == 32 {
            0xffff_ffff
        } else {
            !(0xffff_ffffu32 >> bits)
        };
        Ok((v, mask))
    }

    fn ipv4_match(&self, q: Quals, dir: Dir, addr: u32, mask: u32) -> Result<Pred, FilterError> {
        let nl = self.layout.off_nl;
        let m = |off: u32| {
            if mask == 0xffff_ffff {
                self.eq(Base::Payload, op::W, off, addr)
            } else if mask == 0 {
                // A /0 network matches any address; libpcap's optimizer
                // drops the load, so a short packet is not rejected by it.
                Pred::Const(true)
            } else {
                self.eq_masked(Base::Payload, op::W, off, mask, addr & mask)
            }
        };
        let ip = self.linktype(0x0800).and(by_dir(dir, m(nl + 12), m(nl + 16)));
        let arp = |t: u32| self.linktype(t).and(by_dir(dir, m(nl + 14), m(nl + 24)));
        Ok(match q.proto {
            None => ip.or(arp(0x0806).or(arp(0x8035))),
            Some(Proto::Ip) => ip,
            Some(Proto::Arp) => arp(0x0806),
            Some(Proto::Rarp) => arp(0x8035),
            Some(_) => return Err(self.error("an IPv4 host or net applies to ip, arp or rarp")),
        })
    }

    fn ipv6(&mut self, q: Quals, dir: Dir, kind: Kind, text: &str, column: usize) -> Result<Pred, FilterError> {
        let addr: Ipv6Addr = text.parse().map_err(|_| FilterError {
            column,
            message: format!("\"{text}\" is not an IPv6 address"),
        })?;
        let mut bits = 128u32;
        if kind == Kind::Net && self.eat_op("/") {
            match self.bump() {
                Tok::Num(n) if n <= 128 => bits = n,
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected a prefix length 0..128"));
                }
            }
        }
        if !matches!(q.proto, None | Some(Proto::Ip6)) {
            return Err(FilterError {
                column,
                message: "an IPv6 address applies to ip6 only".into(),
            });
        }
        let nl = self.layout.off_nl;
        let words: Vec<u32> = addr
            .octets()
            .chunks(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let m = |off: u32| {
            let mut p = Pred::Const(true);
            for (i, w) in words.iter().enumerate() {
                let used = bits.saturating_sub(32 * i as u32).min(32);
                if used == 0 {
                    break;
                }
                let mask = if used == 32 {
                    0xffff_ffff
                } else {
                    !(0xffff_ffffu32 >> used)
                };
                let c = if mask == 0xffff_ffff {
                    self.eq(Base::Payload, op::W, off + 4 * i as u32, *w)
                } else {
                    self.eq_masked(Base::Payload, op::W, off + 4 * i as u32, mask, w & mask)
                };
                p = p.and(c);
            }
            p
        };
        Ok(self.linktype(0x86dd).and(by_dir(dir, m(nl + 8), m(nl + 24))))
    }
}

/// Words that start a primitive; any other word is a value.
fn is_keyword(w: &str) -> bool {
    proto_keyword(w).is_some()
        || is_dir(w)
        || is_kind(w)
        || matches!(
            w,
            "vlan"
                | "inbound"
                | "outbound"
                | "ifindex"
                | "mpls"
                | "pppoes"
                | "pppoed"
                | "llc"
                | "geneve"
                | "stp"
                | "less"
                | "greater"
                | "broadcast"
                | "multicast"
                | "len"
                | "and"
                | "or"
                | "not"
                | "gateway"
                | "protochain"
        )
        || named_value(w).is_some()
}

fn is_dir(w: &str) -> bool {
    w == "src" || w == "dst"
}

fn kind_keyword(w: &str) -> Option<Kind> {
    Some(match w {
        "host" => Kind::Host,
        "net" => Kind::Net,
        "port" => Kind::Port,
        "portrange" => Kind::PortRange,
        "proto" => Kind::Proto,
        _ => return None,
    })
}

fn is_kind(w: &str) -> bool {
    kind_keyword(w).is_some()
}

fn transport_number(p: Proto) -> u32 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Sctp => 132,
        Proto::Icmp => 1,
        Proto::Icmp6 => 58,
        Proto::Igmp => 2,
        Proto::Pim => 103,
        Proto::Vrrp => 112,
        Proto::Ah => 51,
        Proto::Esp => 50,
        Proto::Igrp => 9,
        _ => 0,
    }
}

/// Puts `code` before the first test that `p` evaluates.
fn prepend(p: Pred, code: &[Insn]) -> Pred {
    match p {
        Pred::Test { stmts, jump, k } => Pred::Test {
            stmts: code.iter().chain(&stmts).copied().collect(),
            jump,
            k,
        },
        Pred::And(a, b) => Pred::And(Box::new(prepend(*a, code)), b),
        Pred::Or(a, b) => Pred::Or(Box::new(prepend(*a, code)), b),
        Pred::Not(a) => Pred::Not(Box::new(prepend(*a, code))),
        c @ Pred::Const(_) => c,
    }
}
