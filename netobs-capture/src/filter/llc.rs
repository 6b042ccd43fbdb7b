//! IEEE 802.2 LLC and the protocols libpcap matches through it: `llc`
//! and its frame types, the OSI family (`iso`, `esis`, `isis` and the
//! IS-IS PDU types, `clnp`), `stp`, `ipx`, `netbeui`, AppleTalk (`atalk`,
//! `aarp`, SNAP-encapsulated on 802.3) and the DEC protocols (`decnet`
//! with its host addresses, `lat`, `sca`, `moprc`, `mopdl`).
//!
//! On Ethernet a type/length field of at most 1500 (ETHERMTU) is an
//! 802.3 length and an 802.2 LLC header follows (DSAP, SSAP, control);
//! SNAP adds a 3-byte OUI and a 2-byte EtherType after DSAP = SSAP =
//! 0xaa, control = 0x03 (UI). A Linux cooked (SLL) header says the same
//! with its protocol field: 0x0004 (ETH_P_802_2, an LLC header follows)
//! or 0x0001 (ETH_P_802_3, Novell raw 802.3), see linux/if_ether.h.
//! The code shapes follow libpcap 1.10's gencode.c (gen_ether_linktype,
//! gen_linux_sll_linktype, gen_snap, gen_llc*, gen_dnhostop), so the
//! programs give the same verdicts, including which loads run first.

use super::codegen::Pred;
use super::lexer::Tok;
use super::{by_dir, is_keyword, test, Base, Dir, Encap, Parser, Proto};
use crate::bpf::op;
use crate::file::linktype;
use crate::FilterError;

/// Largest 802.3 length; a larger type/length field is an EtherType.
const ETHERMTU: u32 = 1500;

pub(super) const ETHERTYPE_MOPDL: u32 = 0x6001;
pub(super) const ETHERTYPE_MOPRC: u32 = 0x6002;
pub(super) const ETHERTYPE_DN: u32 = 0x6003;
pub(super) const ETHERTYPE_LAT: u32 = 0x6004;
pub(super) const ETHERTYPE_SCA: u32 = 0x6007;
pub(super) const ETHERTYPE_ATALK: u32 = 0x809b;
pub(super) const ETHERTYPE_AARP: u32 = 0x80f3;
const ETHERTYPE_IPX: u32 = 0x8137;
const ETHERTYPE_NS: u32 = 0x0600;

/// LLC service access points (IEEE 802.2 assigned SAPs).
const LLCSAP_IP: u32 = 0x06;
pub(super) const LLCSAP_8021D: u32 = 0x42;
const LLCSAP_SNAP: u32 = 0xaa;
pub(super) const LLCSAP_IPX: u32 = 0xe0;
pub(super) const LLCSAP_NETBEUI: u32 = 0xf0;
pub(super) const LLCSAP_ISONS: u32 = 0xfe;

/// Linux cooked header protocols for non-Ethernet-II frames
/// (ETH_P_802_3, ETH_P_802_2 in linux/if_ether.h).
const LINUX_SLL_P_802_3: u32 = 0x0001;
const LINUX_SLL_P_802_2: u32 = 0x0004;

/// OSI network-layer protocol identifiers (ISO/IEC TR 9577).
const ISO8473_CLNP: u32 = 0x81;
const ISO9542_ESIS: u32 = 0x82;
const ISO10589_ISIS: u32 = 0x83;

/// IS-IS PDU types (ISO 10589), the byte 4 bytes into the IS-IS header.
const ISIS_L1_LAN_IIH: u32 = 15;
const ISIS_L2_LAN_IIH: u32 = 16;
const ISIS_PTP_IIH: u32 = 17;
const ISIS_L1_LSP: u32 = 18;
const ISIS_L2_LSP: u32 = 20;
const ISIS_L1_CSNP: u32 = 24;
const ISIS_L2_CSNP: u32 = 25;
const ISIS_L1_PSNP: u32 = 26;
const ISIS_L2_PSNP: u32 = 27;

/// The LLC frame types named after `llc`: (name, control-byte mask,
/// value). S frames compare the low 4 bits, U frames all but the P/F bit.
const LLC_SUBTYPES: [(&str, u32, u32); 11] = [
    ("rr", 0x0f, 0x01),
    ("rnr", 0x0f, 0x05),
    ("rej", 0x0f, 0x09),
    ("ui", 0xef, 0x03),
    ("ua", 0xef, 0x63),
    ("disc", 0xef, 0x43),
    ("dm", 0xef, 0x0f),
    ("sabme", 0xef, 0x6f),
    ("test", 0xef, 0xe3),
    ("xid", 0xef, 0xaf),
    ("frmr", 0xef, 0x87),
];

/// The protocol keywords of this module.
pub(super) fn proto_keyword(w: &str) -> Option<Proto> {
    Some(match w {
        "atalk" => Proto::Atalk,
        "aarp" => Proto::Aarp,
        "decnet" => Proto::Decnet,
        "lat" => Proto::Lat,
        "sca" => Proto::Sca,
        "moprc" => Proto::Moprc,
        "mopdl" => Proto::Mopdl,
        "iso" => Proto::Iso,
        "esis" | "es-is" => Proto::Esis,
        "isis" | "is-is" => Proto::Isis,
        "clnp" => Proto::Clnp,
        "l1" => Proto::IsisL1,
        "l2" => Proto::IsisL2,
        "iih" => Proto::IsisIih,
        "lsp" => Proto::IsisLsp,
        "snp" => Proto::IsisSnp,
        "csnp" => Proto::IsisCsnp,
        "psnp" => Proto::IsisPsnp,
        "ipx" => Proto::Ipx,
        "netbeui" => Proto::Netbeui,
        _ => return None,
    })
}

/// Whether `p` is one of this module's protocols.
pub(super) fn is_llc_family(p: Proto) -> bool {
    matches!(
        p,
        Proto::Atalk
            | Proto::Aarp
            | Proto::Decnet
            | Proto::Lat
            | Proto::Sca
            | Proto::Moprc
            | Proto::Mopdl
            | Proto::Iso
            | Proto::Esis
            | Proto::Isis
            | Proto::Clnp
            | Proto::IsisL1
            | Proto::IsisL2
            | Proto::IsisIih
            | Proto::IsisLsp
            | Proto::IsisSnp
            | Proto::IsisCsnp
            | Proto::IsisPsnp
            | Proto::Ipx
            | Proto::Netbeui
    )
}

/// Names after `iso proto` (libpcap's lookup_proto for Q_ISO).
pub(super) fn iso_proto_name(w: &str) -> Option<u32> {
    Some(match w {
        "clnp" => ISO8473_CLNP,
        "esis" => ISO9542_ESIS,
        "isis" => ISO10589_ISIS,
        _ => return None,
    })
}

/// The PPP protocol number for an EtherType or SAP, as libpcap maps
/// them inside a PPPoE session (ethertype_to_ppptype; PPP numbers from
/// RFC 1661's registry); other values are compared unchanged.
pub(super) fn ethertype_to_ppp(ethertype: u32) -> u32 {
    match ethertype {
        0x0800 => 0x0021,
        0x86dd => 0x0057,
        ETHERTYPE_DN => 0x0027,
        ETHERTYPE_ATALK => 0x0029,
        ETHERTYPE_NS => 0x0025,
        LLCSAP_ISONS => 0x0023,
        LLCSAP_8021D => 0x0031,
        LLCSAP_IPX => 0x002b,
        other => other,
    }
}

/// A DECnet phase IV address: `AREA.NODE` (area 6 bits, node 10 bits,
/// read like libpcap's `sscanf("%d.%d")`) or a plain 16-bit number.
pub(super) fn decnet_address(tok: &Tok) -> Option<u32> {
    let leading_number = |s: &str| -> Option<u32> {
        let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse::<u64>().ok().map(|n| n as u32)
    };
    match tok {
        Tok::Num(n) => Some(*n),
        Tok::Word(w) => {
            let (area, node) = w.split_once('.')?;
            if area.is_empty() || !area.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (area, node) = (leading_number(area)?, leading_number(node)?);
            Some(((area << 10) & 0xfc00) | (node & 0x03ff))
        }
        _ => None,
    }
}

impl Parser {
    /// The frame carries `proto` (an EtherType above 1500, an LLC SAP at
    /// or below) given the type field at `off`, for the link type. An
    /// LLC header would be where the network header is (libpcap's
    /// OR_LLC, the link-layer payload).
    pub(super) fn link_protocol(&self, off: u32, proto: u32) -> Pred {
        let llc = self.layout.off_nl;
        match self.layout.link {
            linktype::ETHERNET => self.ether_protocol(off, llc, proto),
            linktype::LINUX_SLL => self.sll_protocol(off, llc, proto),
            // libpcap 1.10 has no LLC case for LINUX_SLL2: it compares the
            // protocol field with the value as it is.
            _ => self.eq(Base::LinkType, op::H, off, proto),
        }
    }

    /// Offset of what follows a plain 802.2 header (DSAP, SSAP, control)
    /// on Ethernet, or of the payload on the other link types: where an
    /// OSI PDU starts (libpcap's OR_LINKPL_NOSNAP).
    fn nl_nosnap(&self) -> u32 {
        match (self.layout.link, self.layout.encap) {
            (linktype::ETHERNET, Encap::Link) => self.layout.off_nl + 3,
            _ => self.layout.off_nl,
        }
    }

    /// `iso proto N`: an OSI PDU whose first byte (the network layer
    /// protocol identifier) is N.
    pub(super) fn iso_proto(&self, n: u32) -> Pred {
        self.linktype(LLCSAP_ISONS)
            .and(self.eq(Base::Payload, op::B, self.nl_nosnap(), n))
    }

    /// `isis proto N`: an IS-IS PDU of type N.
    pub(super) fn isis_proto(&self, n: u32) -> Pred {
        self.isis_any(&[n])
    }

    /// An IS-IS PDU whose type is one of `types`.
    fn isis_any(&self, types: &[u32]) -> Pred {
        let at = self.nl_nosnap() + 4;
        let any = types.iter().fold(Pred::Const(false), |acc, &t| {
            acc.or(self.eq(Base::Payload, op::B, at, t))
        });
        self.iso_proto(ISO10589_ISIS).and(any)
    }

    /// One of this module's protocol keywords on its own.
    pub(super) fn llc_proto_alone(&self, p: Proto) -> Pred {
        match p {
            Proto::Atalk => self.linktype(ETHERTYPE_ATALK),
            Proto::Aarp => self.linktype(ETHERTYPE_AARP),
            Proto::Decnet => self.linktype(ETHERTYPE_DN),
            Proto::Lat => self.linktype(ETHERTYPE_LAT),
            Proto::Sca => self.linktype(ETHERTYPE_SCA),
            Proto::Moprc => self.linktype(ETHERTYPE_MOPRC),
            Proto::Mopdl => self.linktype(ETHERTYPE_MOPDL),
            Proto::Iso => self.linktype(LLCSAP_ISONS),
            Proto::Esis => self.iso_proto(ISO9542_ESIS),
            Proto::Isis => self.iso_proto(ISO10589_ISIS),
            Proto::Clnp => self.iso_proto(ISO8473_CLNP),
            Proto::IsisL1 => self.isis_any(&[ISIS_L1_PSNP, ISIS_L1_CSNP, ISIS_L1_LSP, ISIS_L1_LAN_IIH, ISIS_PTP_IIH]),
            Proto::IsisL2 => self.isis_any(&[ISIS_L2_PSNP, ISIS_L2_CSNP, ISIS_L2_LSP, ISIS_L2_LAN_IIH, ISIS_PTP_IIH]),
            Proto::IsisIih => self.isis_any(&[ISIS_PTP_IIH, ISIS_L1_LAN_IIH, ISIS_L2_LAN_IIH]),
            Proto::IsisLsp => self.isis_any(&[ISIS_L1_LSP, ISIS_L2_LSP]),
            Proto::IsisSnp => self.isis_any(&[ISIS_L2_PSNP, ISIS_L1_PSNP, ISIS_L1_CSNP, ISIS_L2_CSNP]),
            Proto::IsisCsnp => self.isis_any(&[ISIS_L1_CSNP, ISIS_L2_CSNP]),
            Proto::IsisPsnp => self.isis_any(&[ISIS_L1_PSNP, ISIS_L2_PSNP]),
            Proto::Ipx => self.linktype(LLCSAP_IPX),
            Proto::Netbeui => self.linktype(LLCSAP_NETBEUI),
            _ => Pred::Const(false),
        }
    }

    /// The protocol check of `proto[offset]` for this module's protocols;
    /// libpcap indexes only the EtherType-based ones (from the network
    /// header).
    pub(super) fn llc_load_guard(&self, p: Proto) -> Result<Pred, FilterError> {
        match p {
            Proto::Atalk | Proto::Decnet | Proto::Lat | Proto::Sca | Proto::Moprc | Proto::Mopdl => {
                Ok(self.llc_proto_alone(p))
            }
            _ => Err(self.error("this protocol cannot be indexed (libpcap: unsupported index operation)")),
        }
    }

    /// `llc [i|s|u|TYPE]`: an 802.3 frame with an LLC header (not Novell
    /// raw 802.3, whose "DSAP and SSAP" read 0xffff), optionally of an
    /// I, S or U frame type or a named S/U command (libpcap's gen_llc*).
    pub(super) fn llc(&mut self) -> Result<Pred, FilterError> {
        let off = self.encap_link("llc")?;
        let llc = self.layout.off_nl;
        let frame = self.is_8023(off).and(self.eq(Base::Payload, op::H, llc, 0xffff).not());
        let name = match self.peek() {
            Tok::Word(w) if !is_keyword(w) => w.to_ascii_lowercase(),
            _ => return Ok(frame),
        };
        let control = llc + 2;
        let kind =
            match name.as_str() {
                // I frames: low bit of the control byte clear.
                "i" => test(self.load(Base::Payload, op::B, control), op::JSET, 0x01).not(),
                // S frames: low two bits 01; U frames: 11.
                "s" => self.eq_masked(Base::Payload, op::B, control, 0x03, 0x01),
                "u" => self.eq_masked(Base::Payload, op::B, control, 0x03, 0x03),
                other => match LLC_SUBTYPES.iter().find(|(n, _, _)| *n == other) {
                    Some(&(_, mask, value)) => self.eq_masked(Base::Payload, op::B, control, mask, value),
                    None => return Err(self.error(
                        "expected an LLC frame type (i, s, u, rr, rnr, rej, ui, ua, disc, dm, sabme, test, xid, frmr)",
                    )),
                },
            };
        self.pos += 1;
        Ok(frame.and(kind))
    }

    /// `decnet [src|dst] host AREA.NODE`: a DECnet routing header with
    /// this source or destination, in its short (flags & 7 == 2) or long
    /// (== 6) form, each with or without one pad byte (0x81) before the
    /// flags. The address is little-endian in the packet; libpcap
    /// byte-swaps the value (ntohs on this little-endian host) and
    /// compares it with a big-endian load, so the test below does too.
    pub(super) fn decnet_host(&self, dir: Dir, addr: u32) -> Pred {
        let value = (addr as u16).swap_bytes() as u32;
        let pl = self.layout.off_nl;
        // The payload starts with a 2-byte length, then the flags byte.
        let at = |short: u32, long: u32| {
            let short_hdr = self.eq_masked(Base::Payload, op::B, pl + 2, 0x07, 0x02).and(self.eq(
                Base::Payload,
                op::H,
                pl + 2 + short,
                value,
            ));
            let short_padded = self
                .eq_masked(Base::Payload, op::H, pl + 2, 0xff07, 0x8102)
                .and(self.eq(Base::Payload, op::H, pl + 3 + short, value));
            let long_hdr = self.eq_masked(Base::Payload, op::B, pl + 2, 0x07, 0x06).and(self.eq(
                Base::Payload,
                op::H,
                pl + 2 + long,
                value,
            ));
            let long_padded = self
                .eq_masked(Base::Payload, op::H, pl + 2, 0xff07, 0x8106)
                .and(self.eq(Base::Payload, op::H, pl + 3 + long, value));
            self.linktype(ETHERTYPE_DN)
                .and(short_hdr.or(short_padded).or(long_hdr).or(long_padded))
        };
        // Short header: flags, dst(2), src(2). Long header: flags,
        // d-area, d-subarea, d-id(6: HIORD + address), s-area, s-subarea,
        // s-id(6).
        by_dir(dir, at(3, 15), at(1, 7))
    }

    /// The type/length field at `off` is an 802.3 length.
    fn is_8023(&self, off: u32) -> Pred {
        test(self.load(Base::LinkType, op::H, off), op::JGT, ETHERMTU).not()
    }

    /// An LLC + SNAP header at `llc` with this OUI and protocol: the 8 bytes
    /// compared as two words, the second one first (libpcap's gen_bcmp).
    fn snap(&self, llc: u32, oui: u32, ptype: u32) -> Pred {
        let head = (LLCSAP_SNAP << 24) | (LLCSAP_SNAP << 16) | (0x03 << 8) | (oui >> 16);
        let tail = ((oui & 0xffff) << 16) | ptype;
        self.eq(Base::Payload, op::W, llc + 4, tail)
            .and(self.eq(Base::Payload, op::W, llc, head))
    }

    /// gen_ether_linktype: Ethernet II, 802.3 + 802.2 and SNAP forms.
    fn ether_protocol(&self, off: u32, llc: u32, proto: u32) -> Pred {
        match proto {
            // OSI, IP-over-LLC and NetBEUI: 802.2 only, DSAP and SSAP equal.
            LLCSAP_ISONS | LLCSAP_IP | LLCSAP_NETBEUI => {
                self.is_8023(off)
                    .and(self.eq(Base::Payload, op::H, llc, (proto << 8) | proto))
            }
            // IPX: Ethernet II, or on 802.3 SNAP, 802.2 or Novell raw 802.3
            // (0xffff where DSAP and SSAP would be).
            LLCSAP_IPX => self
                .eq(Base::LinkType, op::H, off, ETHERTYPE_IPX)
                .or(self.is_8023(off).and(
                    self.snap(llc, 0x000000, ETHERTYPE_IPX)
                        .or(self.eq(Base::Payload, op::B, llc, LLCSAP_IPX))
                        .or(self.eq(Base::Payload, op::H, llc, 0xffff)),
                )),
            // AppleTalk: Ethernet II, or SNAP with Apple's OUI (AARP: OUI 0).
            ETHERTYPE_ATALK | ETHERTYPE_AARP => {
                let oui = if proto == ETHERTYPE_ATALK { 0x080007 } else { 0 };
                self.eq(Base::LinkType, op::H, off, proto)
                    .or(self.is_8023(off).and(self.snap(llc, oui, proto)))
            }
            // Another SAP: an 802.3 length, then the DSAP (read 2 bytes after
            // the type field, even where OR_LLC differs: inside Geneve).
            p if p <= ETHERMTU => self.is_8023(off).and(self.eq(Base::LinkType, op::B, off + 2, p)),
            p => self.eq(Base::LinkType, op::H, off, p),
        }
    }

    /// gen_linux_sll_linktype: the SLL protocol field says 802.2 or raw 802.3.
    fn sll_protocol(&self, off: u32, llc: u32, proto: u32) -> Pred {
        let is_8022 = || self.eq(Base::LinkType, op::H, off, LINUX_SLL_P_802_2);
        match proto {
            LLCSAP_ISONS | LLCSAP_IP | LLCSAP_NETBEUI => {
                is_8022().and(self.eq(Base::Payload, op::H, llc, (proto << 8) | proto))
            }
            LLCSAP_IPX => self
                .eq(Base::LinkType, op::H, off, ETHERTYPE_IPX)
                .or(self.eq(Base::LinkType, op::H, off, LINUX_SLL_P_802_3))
                .or(
                    is_8022().and(self.eq(Base::Payload, op::B, llc, LLCSAP_IPX).or(self.snap(
                        llc,
                        0x000000,
                        ETHERTYPE_IPX,
                    ))),
                ),
            ETHERTYPE_ATALK | ETHERTYPE_AARP => {
                let oui = if proto == ETHERTYPE_ATALK { 0x080007 } else { 0 };
                self.eq(Base::LinkType, op::H, off, proto)
                    .or(is_8022().and(self.snap(llc, oui, proto)))
            }
            p if p <= ETHERMTU => is_8022().and(self.eq(Base::Payload, op::B, llc, p)),
            p => self.eq(Base::LinkType, op::H, off, p),
        }
    }
}
