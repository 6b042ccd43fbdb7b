//! `geneve [VNI]`: UDP to port 6081 carrying a Geneve header (RFC 8926)
//! with version 0, optionally with this 24-bit virtual network
//! identifier, over IPv4 or IPv6 (libpcap 1.10's gen_geneve).
//!
//! Everything after `geneve` is matched in the encapsulated packet, as
//! libpcap does. That packet starts after the variable-length options
//! and is either an Ethernet frame (protocol type 0x6558, transparent
//! Ethernet bridging) or a network-layer packet whose EtherType is the
//! Geneve protocol type. The program computes at run time where its
//! type field and its network-layer header are and keeps them in two
//! memory slots; later loads are made relative to them
//! (`ldx M[n]; ld [x + k]`).
//!
//! To reuse the code generators unchanged, the layout after `geneve`
//! puts the type field and the network header at two far sentinel
//! offsets; [`Parser::inside_geneve`] then rewrites each load from
//! those ranges into a load relative to the slot. Loads elsewhere
//! (MAC addresses, `vlan`, `mpls`, `pppoes`, arithmetic on packet bytes)
//! are refused after `geneve` with a clear error.

use super::codegen::Pred;
use super::lexer::Tok;
use super::{cmp, Encap, Layout, Parser};
use crate::bpf::{op, Insn};
use crate::file::linktype;
use crate::FilterError;

/// The IANA UDP port of Geneve.
const GENEVE_PORT: u32 = 6081;
const IPPROTO_UDP: u32 = 17;
/// Geneve protocol type of an inner Ethernet frame (ETH_P_TEB).
const ETHERTYPE_TEB: u32 = 0x6558;

/// Sentinel offsets of the inner type field and network header in the
/// layout after `geneve`; a load at `BASE + k` means "k bytes after".
const INNER_TYPE: u32 = 0x4000_0000;
const INNER_NETWORK: u32 = 0x6000_0000;
/// How far past a sentinel a load may be (far below the next one).
const SPAN: u32 = 0x1000_0000;

/// Refusal when a primitive can be reached without the Geneve match
/// (after `not geneve` or `geneve or ...`): it would read offset slots
/// that were never written, which the kernel refuses.
pub(super) const UNSET_OFFSETS: &str = "a primitive after 'geneve' is reached when the packet is not Geneve \
     (not, or): its inner offsets are unset and the kernel refuses such programs";

/// The memory slots of the inner packet's offsets.
#[derive(Debug, Clone, Copy)]
pub(super) struct InnerOffsets {
    /// Absolute offset of the inner type field (EtherType).
    type_field: u32,
    /// Absolute offset of the inner network-layer header.
    network: u32,
}

impl Parser {
    pub(super) fn geneve(&mut self) -> Result<Pred, FilterError> {
        if self.layout.encap != Encap::Link {
            return Err(self.error("'geneve' inside MPLS or PPPoE is not supported"));
        }
        if self.layout.var.is_some() {
            // Live code after `vlan`: the outer offsets are only known at
            // run time; the inner-offset code here assumes fixed ones.
            return Err(self.error("'geneve' after 'vlan' is not supported in live Linux code"));
        }
        let vni = match *self.peek() {
            Tok::Num(vni) if vni > 0xff_ffff => return Err(self.error("Geneve VNI must be 0..16777215")),
            Tok::Num(vni) => {
                self.pos += 1;
                Some(vni)
            }
            _ => None,
        };
        let slots = InnerOffsets {
            type_field: self.slot()?,
            network: self.slot()?,
        };
        let inner_start = self.slot()?;
        let v4 = self
            .geneve_ipv4(vni)
            .and(inner_offsets(self.geneve_start_ipv4(), slots, inner_start));
        let v6 = self
            .geneve_ipv6(vni)
            .and(inner_offsets(self.geneve_start_ipv6(), slots, inner_start));
        self.geneve = Some(slots);
        // libpcap reads the inner packet as Ethernet whatever the link.
        self.layout = Layout {
            link: linktype::ETHERNET,
            off_type: Some(INNER_TYPE),
            off_nl: INNER_NETWORK,
            encap: Encap::Link,
            var: None,
        };
        Ok(v4.or(v6))
    }

    /// The Geneve checks of a UDP header at `X + udp` (IPv4: X holds the
    /// IP header length, reloaded before each test as libpcap does) or
    /// at `udp` (IPv6, X unused).
    fn geneve_header(&self, mode: u16, udp: u32, vni: Option<u32>) -> Pred {
        let reload_x = |stmts: Vec<Insn>| -> Vec<Insn> {
            let mut v = Vec::new();
            if mode == op::IND {
                v.push(Insn::stmt(op::LDX | op::B | op::MSH, self.layout.off_nl));
            }
            v.extend(stmts);
            v
        };
        // Version (top two bits of the first byte) is 0.
        let version = Pred::Test {
            stmts: reload_x(vec![
                Insn::stmt(op::LD | op::B | mode, udp + 8),
                Insn::stmt(op::ALU | op::AND | op::K, 0xc0),
            ]),
            jump: op::JMP | op::JEQ | op::K,
            k: 0,
        };
        let vni = vni.map(|v| Pred::Test {
            stmts: reload_x(vec![
                Insn::stmt(op::LD | op::W | mode, udp + 12),
                Insn::stmt(op::ALU | op::AND | op::K, 0xffff_ff00),
            ]),
            jump: op::JMP | op::JEQ | op::K,
            k: v << 8,
        });
        version.and(vni.unwrap_or(Pred::Const(true)))
    }

    /// IPv4, UDP, not a later fragment, to port 6081 (gen_port), then the
    /// Geneve header.
    fn geneve_ipv4(&self, vni: Option<u32>) -> Pred {
        let nl = self.layout.off_nl;
        let port = Pred::Test {
            stmts: vec![
                Insn::stmt(op::LDX | op::B | op::MSH, nl),
                Insn::stmt(op::LD | op::H | op::IND, nl + 2),
            ],
            jump: op::JMP | op::JEQ | op::K,
            k: GENEVE_PORT,
        };
        self.linktype(0x0800)
            .and(cmp(op::B, nl + 9, IPPROTO_UDP))
            .and(self.not_fragment())
            .and(port)
            .and(self.geneve_header(op::IND, nl, vni))
    }

    /// IPv6 with UDP as the next header, to port 6081 (gen_port6), then
    /// the Geneve header.
    fn geneve_ipv6(&self, vni: Option<u32>) -> Pred {
        let nl = self.layout.off_nl;
        self.linktype(0x86dd)
            .and(cmp(op::B, nl + 6, IPPROTO_UDP))
            .and(cmp(op::H, nl + 40 + 2, GENEVE_PORT))
            .and(self.geneve_header(op::ABS, nl + 40, vni))
    }

    /// A = absolute offset of the Geneve header after IPv4: network
    /// header + IP header length + 8 (UDP). Inside another Geneve packet
    /// the rewritten `ldxb` already adds the network header's offset.
    fn geneve_start_ipv4(&self) -> Vec<Insn> {
        let base = if self.geneve.is_some() { 0 } else { self.layout.off_nl };
        vec![
            Insn::stmt(op::LDX | op::B | op::MSH, self.layout.off_nl),
            Insn::stmt(op::MISC | op::TXA, 0),
            Insn::stmt(op::ALU | op::ADD | op::K, base + 8),
        ]
    }

    /// A = absolute offset of the Geneve header after IPv6 (40 + 8 bytes
    /// past the network header).
    fn geneve_start_ipv6(&self) -> Vec<Insn> {
        match self.geneve {
            Some(outer) => vec![
                Insn::stmt(op::LDX | op::MEM, outer.network),
                Insn::stmt(op::LD | op::IMM, 48),
                Insn::stmt(op::ALU | op::ADD | op::X, 0),
            ],
            None => vec![Insn::stmt(op::LD | op::IMM, self.layout.off_nl + 48)],
        }
    }

    /// Refuses what cannot follow `geneve`: another link-layer
    /// encapsulation, whose offsets libpcap moves in ways not done here.
    pub(super) fn check_after_geneve(&self) -> Result<(), FilterError> {
        if self.geneve.is_none() {
            return Ok(());
        }
        match self.peek() {
            Tok::Word(w) if matches!(w.as_str(), "vlan" | "mpls" | "pppoes") => {
                Err(self.error("'vlan', 'mpls' and 'pppoes' after 'geneve' are not supported"))
            }
            _ => Ok(()),
        }
    }

    /// A relation after `geneve`: only those without packet loads (`len`).
    pub(super) fn relation_after_geneve(&self, p: Pred, inner: Option<InnerOffsets>) -> Result<Pred, FilterError> {
        if inner.is_some() && loads_packet(&p) {
            return Err(self.error("arithmetic on packet bytes after 'geneve' is not supported"));
        }
        Ok(p)
    }

    /// Rewrites the loads of a primitive read after `geneve` (with the
    /// slots in effect then) into loads relative to the inner packet.
    pub(super) fn inside_geneve(&self, p: Pred, inner: Option<InnerOffsets>) -> Result<Pred, FilterError> {
        let Some(slots) = inner else {
            return Ok(p);
        };
        relative(p, slots).map_err(|()| {
            self.error("this primitive after 'geneve' needs link-layer offsets in the inner packet, not supported")
        })
    }
}

/// After `start` leaves A = the Geneve header's offset: slot `type_field` = offset of
/// the inner type (Geneve bytes 2-3, or 12 bytes into an inner Ethernet
/// frame), slot `network` = offset of the inner network header (after
/// the options, or 14 bytes into the inner Ethernet frame). The same
/// statements as libpcap's gen_geneve_offsets, with its one internal
/// jump; the test after them is always true.
fn inner_offsets(start: Vec<Insn>, slots: InnerOffsets, inner_start: u32) -> Pred {
    let s = Insn::stmt;
    let mut stmts = start;
    stmts.extend([
        s(op::MISC | op::TAX, 0),
        s(op::ALU | op::ADD | op::K, 2),
        s(op::ST, slots.type_field),
        // Options length, in 4-byte words, in the low 6 bits of byte 0.
        s(op::LD | op::B | op::IND, 0),
        s(op::ALU | op::AND | op::K, 0x3f),
        s(op::ALU | op::MUL | op::K, 4),
        s(op::ALU | op::ADD | op::K, 8),
        s(op::ALU | op::ADD | op::X, 0),
        s(op::ST, inner_start),
        // The protocol type: an inner Ethernet frame moves both offsets.
        s(op::LD | op::H | op::IND, 2),
        s(op::LDX | op::MEM, inner_start),
        Insn::jump(op::JMP | op::JEQ | op::K, ETHERTYPE_TEB, 0, 5),
        s(op::MISC | op::TXA, 0),
        s(op::ALU | op::ADD | op::K, 12),
        s(op::ST, slots.type_field),
        s(op::ALU | op::ADD | op::K, 2),
        s(op::MISC | op::TAX, 0),
        s(op::STX, slots.network),
        s(op::LD | op::IMM, 0),
    ]);
    Pred::Test {
        stmts,
        jump: op::JMP | op::JEQ | op::K,
        k: 0,
    }
}

/// Whether a predicate loads packet bytes.
fn loads_packet(p: &Pred) -> bool {
    match p {
        Pred::Test { stmts, .. } => stmts.iter().any(|i| {
            let class = i.code & 0x07;
            (class == op::LD || class == op::LDX) && matches!(i.code & 0xe0, op::ABS | op::IND | op::MSH)
        }),
        Pred::And(a, b) | Pred::Or(a, b) => loads_packet(a) || loads_packet(b),
        Pred::Not(a) => loads_packet(a),
        Pred::Const(_) => false,
    }
}

/// The slot and distance of a sentinel offset.
fn inner_base(k: u32, slots: InnerOffsets) -> Option<(u32, u32)> {
    if (INNER_TYPE..INNER_TYPE + SPAN).contains(&k) {
        Some((slots.type_field, k - INNER_TYPE))
    } else if (INNER_NETWORK..INNER_NETWORK + SPAN).contains(&k) {
        Some((slots.network, k - INNER_NETWORK))
    } else {
        None
    }
}

/// Rewrites sentinel loads: `ld [BASE + k]` becomes `ldx M[slot]; ld
/// [x + k]`; `ldxb 4*([NET + k] & 0xf)` becomes the same computed from
/// the slot and added to it (libpcap's variable gen_loadx_iphdrlen), so
/// that the `ld [x + NET + k]` after it becomes `ld [x + k]`. Indexed
/// loads at small offsets are relative to an X computed in the same
/// statements (the Geneve offsets) and stay. Any other packet load is an
/// error.
fn relative(p: Pred, slots: InnerOffsets) -> Result<Pred, ()> {
    Ok(match p {
        Pred::Test { stmts, jump, k } => {
            let mut out = Vec::with_capacity(stmts.len() + 2);
            for i in stmts {
                let class = i.code & 0x07;
                let mode = i.code & 0xe0;
                let size = i.code & 0x18;
                match (class, mode) {
                    (op::LD, op::ABS) => {
                        let (slot, off) = inner_base(i.k, slots).ok_or(())?;
                        out.push(Insn::stmt(op::LDX | op::MEM, slot));
                        out.push(Insn::stmt(op::LD | size | op::IND, off));
                    }
                    (op::LD, op::IND) => match inner_base(i.k, slots) {
                        Some((slot, off)) if slot == slots.network => {
                            out.push(Insn::stmt(op::LD | size | op::IND, off))
                        }
                        Some(_) => return Err(()),
                        None => out.push(i),
                    },
                    (op::LDX, op::MSH) => match inner_base(i.k, slots) {
                        Some((slot, off)) if slot == slots.network => out.extend([
                            Insn::stmt(op::LDX | op::MEM, slot),
                            Insn::stmt(op::LD | op::B | op::IND, off),
                            Insn::stmt(op::ALU | op::AND | op::K, 0xf),
                            Insn::stmt(op::ALU | op::LSH | op::K, 2),
                            Insn::stmt(op::ALU | op::ADD | op::X, 0),
                            Insn::stmt(op::MISC | op::TAX, 0),
                        ]),
                        _ => return Err(()),
                    },
                    _ => out.push(i),
                }
            }
            Pred::Test { stmts: out, jump, k }
        }
        Pred::And(a, b) => relative(*a, slots)?.and(relative(*b, slots)?),
        Pred::Or(a, b) => relative(*a, slots)?.or(relative(*b, slots)?),
        Pred::Not(a) => relative(*a, slots)?.not(),
        c @ Pred::Const(_) => c,
    })
}
