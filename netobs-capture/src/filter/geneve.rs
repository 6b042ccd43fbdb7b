//! `geneve [VNI]`: UDP to port 6081 carrying a Geneve header (RFC 8926)
//! with version 0, optionally with this 24-bit virtual network
//! identifier, over IPv4 or IPv6 (libpcap 1.10's gen_geneve).
//!
//! libpcap then moves every later offset into the encapsulated packet,
//! which starts after the variable-length options and is either an
//! Ethernet frame (protocol type 0x6558, transparent Ethernet bridging)
//! or a network-layer packet whose EtherType is the Geneve protocol
//! type. Those variable offsets are not implemented here: a primitive
//! after `geneve` is refused with a clear error.

use super::codegen::Pred;
use super::lexer::Tok;
use super::{cmp, Encap, Parser};
use crate::bpf::{op, Insn};
use crate::FilterError;

/// The IANA UDP port of Geneve.
const GENEVE_PORT: u32 = 6081;
const IPPROTO_UDP: u32 = 17;

impl Parser {
    pub(super) fn geneve(&mut self) -> Result<Pred, FilterError> {
        if self.layout.encap != Encap::Link {
            return Err(self.error("'geneve' inside MPLS or PPPoE is not supported"));
        }
        let vni = match *self.peek() {
            Tok::Num(vni) if vni > 0xff_ffff => return Err(self.error("Geneve VNI must be 0..16777215")),
            Tok::Num(vni) => {
                self.pos += 1;
                Some(vni)
            }
            _ => None,
        };
        let p = self.geneve_ipv4(vni).or(self.geneve_ipv6(vni));
        self.geneve_seen = Some(self.column());
        Ok(p)
    }

    /// The Geneve checks of a UDP header at `X + udp` (IPv4: X holds the
    /// IP header length, reloaded before each test as libpcap does) or
    /// at `udp` (IPv6, X unused).
    fn geneve_header(&self, mode: u16, udp: u32, vni: Option<u32>) -> Pred {
        let reload_x = |stmts: Vec<Insn>| -> Vec<Insn> {
            if mode == op::IND {
                let mut v = vec![Insn::stmt(op::LDX | op::B | op::MSH, self.layout.off_nl)];
                v.extend(stmts);
                v
            } else {
                stmts
            }
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
        // libpcap then computes the inner offsets; of that code only the
        // load of the protocol type (Geneve bytes 2-3) can fail, which
        // ends the program with 0 on a truncated packet. Kept for that.
        let inner = Pred::Test {
            stmts: reload_x(vec![
                Insn::stmt(op::LD | op::H | mode, udp + 8 + 2),
                Insn::stmt(op::LD | op::IMM, 0),
            ]),
            jump: op::JMP | op::JEQ | op::K,
            k: 0,
        };
        version.and(vni.unwrap_or(Pred::Const(true))).and(inner)
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

    /// Refuses a primitive that follows `geneve`: libpcap reads it in the
    /// encapsulated packet, at offsets we do not compute.
    pub(super) fn refuse_after_geneve(&self) -> Result<(), FilterError> {
        match self.geneve_seen {
            Some(_) => Err(self.error(
                "a primitive after 'geneve' is not supported (libpcap matches it inside the encapsulated packet)",
            )),
            None => Ok(()),
        }
    }
}
