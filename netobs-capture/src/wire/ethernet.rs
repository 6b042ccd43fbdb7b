//! Ethernet II frames with 802.1Q / 802.1ad (QinQ) tags.

use std::fmt;

use super::{be16, ethertype, need};
use crate::error::WireError;

/// Length of an untagged Ethernet header (ETH_HLEN).
pub const ETH_HLEN: usize = 14;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group bit (least significant bit of the first octet) is set.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl std::str::FromStr for MacAddr {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` (also with `-` separators),
    /// `aabb.ccdd.eeff` and `aabbccddeeff`, as libpcap accepts them.
    fn from_str(s: &str) -> Result<Self, String> {
        let hex: String = s.chars().filter(|c| *c != '.').collect();
        let dotted = s.split('.').count() == 3 && s.split('.').all(|p| p.len() == 4);
        if (dotted || !s.contains([':', '-', '.'])) && hex.len() == 12 {
            let mut m = [0u8; 6];
            for (i, o) in m.iter_mut().enumerate() {
                *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("x"), 16)
                    .map_err(|_| format!("\"{s}\" is not a MAC address"))?;
            }
            return Ok(MacAddr(m));
        }
        let parts: Vec<&str> = s.split([':', '-', '.']).collect();
        if parts.len() != 6 {
            return Err(format!("\"{s}\" is not a MAC address (want six hex octets)"));
        }
        let mut m = [0u8; 6];
        for (o, p) in m.iter_mut().zip(&parts) {
            *o = u8::from_str_radix(p, 16).map_err(|_| format!("\"{s}\" is not a MAC address: bad octet \"{p}\""))?;
        }
        Ok(MacAddr(m))
    }
}

/// One 802.1Q / 802.1ad tag: the TPID that announced it and the TCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// The tag protocol identifier (0x8100 or 0x88a8).
    pub tpid: u16,
    /// Tag control information: PCP (3 bits), DEI (1), VLAN id (12).
    pub tci: u16,
}

impl VlanTag {
    /// The 12-bit VLAN id.
    pub fn id(&self) -> u16 {
        self.tci & 0x0fff
    }

    /// The 3-bit priority code point.
    pub fn priority(&self) -> u8 {
        (self.tci >> 13) as u8
    }

    /// The drop eligible indicator (formerly CFI).
    pub fn dei(&self) -> bool {
        self.tci & 0x1000 != 0
    }
}

/// An Ethernet II frame, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<'a> {
    buf: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    /// Checks that the 14-byte header is present.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("ethernet", buf, ETH_HLEN)?;
        Ok(EthernetFrame { buf })
    }

    /// Destination MAC.
    pub fn dst(&self) -> MacAddr {
        MacAddr(self.buf[0..6].try_into().unwrap_or_default())
    }

    /// Source MAC.
    pub fn src(&self) -> MacAddr {
        MacAddr(self.buf[6..12].try_into().unwrap_or_default())
    }

    /// The outer EtherType (0x8100 for a tagged frame).
    pub fn ethertype(&self) -> u16 {
        be16(self.buf, 12)
    }

    /// The VLAN tags, outermost first (802.1Q and 802.1ad, any depth the
    /// buffer holds).
    pub fn vlan_tags(&self) -> impl Iterator<Item = VlanTag> + 'a {
        let buf = self.buf;
        let mut at = 12;
        std::iter::from_fn(move || {
            if buf.len() < at + 6 {
                return None;
            }
            let tpid = be16(buf, at);
            if tpid != ethertype::VLAN && tpid != ethertype::QINQ {
                return None;
            }
            let tag = VlanTag {
                tpid,
                tci: be16(buf, at + 2),
            };
            at += 4;
            Some(tag)
        })
    }

    /// Offset of the inner EtherType field after all VLAN tags.
    fn inner_type_offset(&self) -> usize {
        12 + 4 * self.vlan_tags().count()
    }

    /// The EtherType after all VLAN tags.
    pub fn inner_ethertype(&self) -> u16 {
        be16(self.buf, self.inner_type_offset())
    }

    /// Length of the header including VLAN tags.
    pub fn header_len(&self) -> usize {
        self.inner_type_offset() + 2
    }

    /// The bytes after the Ethernet header and all VLAN tags.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len()..]
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Builds an Ethernet frame: header then payload.
pub fn build_frame(dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETH_HLEN + payload.len());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}
