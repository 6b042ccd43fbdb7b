//! Tunnel headers: VXLAN (RFC 7348) and GRE (RFC 2784, key and sequence
//! number extensions of RFC 2890).

use super::{be16, be32, need};
use crate::error::WireError;

/// The IANA UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;

/// A VXLAN header and the Ethernet frame it carries, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct VxlanPacket<'a> {
    buf: &'a [u8],
}

impl<'a> VxlanPacket<'a> {
    /// Checks the 8-byte header.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("vxlan", buf, 8)?;
        Ok(VxlanPacket { buf })
    }

    /// The flags byte (0x08: the VNI is valid).
    pub fn flags(&self) -> u8 {
        self.buf[0]
    }

    /// The 24-bit VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.buf, 4) >> 8
    }

    /// The inner Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[8..]
    }
}

/// A GRE header, borrowed; optional fields are located from the flags.
#[derive(Debug, Clone, Copy)]
pub struct GrePacket<'a> {
    buf: &'a [u8],
}

const GRE_CSUM: u16 = 0x8000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQ: u16 = 0x1000;

impl<'a> GrePacket<'a> {
    /// Checks the 4-byte base header and that the optional checksum, key
    /// and sequence fields the flags announce are present.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("gre", buf, 4)?;
        let g = GrePacket { buf };
        need("gre options", buf, g.header_len())?;
        Ok(g)
    }

    fn flags(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// The GRE version (0 for plain GRE, 1 for PPTP's enhanced GRE).
    pub fn version(&self) -> u8 {
        (self.flags() & 0x7) as u8
    }

    /// The EtherType of the payload (0x6558 for bridged Ethernet).
    pub fn protocol(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Header length including the optional fields.
    pub fn header_len(&self) -> usize {
        let f = self.flags();
        4 + [GRE_CSUM, GRE_KEY, GRE_SEQ].iter().filter(|&&b| f & b != 0).count() * 4
    }

    fn optional(&self, bit: u16) -> Option<u32> {
        let f = self.flags();
        if f & bit == 0 {
            return None;
        }
        let before = [GRE_CSUM, GRE_KEY, GRE_SEQ]
            .iter()
            .take_while(|&&b| b != bit)
            .filter(|&&b| f & b != 0)
            .count();
        Some(be32(self.buf, 4 + 4 * before))
    }

    /// The checksum, when present.
    pub fn checksum(&self) -> Option<u16> {
        self.optional(GRE_CSUM).map(|v| (v >> 16) as u16)
    }

    /// The key, when present.
    pub fn key(&self) -> Option<u32> {
        self.optional(GRE_KEY)
    }

    /// The sequence number, when present.
    pub fn sequence(&self) -> Option<u32> {
        self.optional(GRE_SEQ)
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len()..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_with_key_and_sequence() {
        let g = [0x30, 0x00, 0x08, 0x00, 0, 0, 0, 42, 0, 0, 1, 0, 0x45];
        let p = GrePacket::parse(&g).unwrap();
        assert_eq!(
            (p.protocol(), p.key(), p.sequence(), p.checksum()),
            (0x0800, Some(42), Some(256), None)
        );
        assert_eq!(p.payload(), &[0x45]);
        assert!(GrePacket::parse(&g[..10]).is_err());
    }

    #[test]
    fn vxlan_vni() {
        let v = [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0, 0xff];
        let p = VxlanPacket::parse(&v).unwrap();
        assert_eq!((p.flags(), p.vni(), p.payload()), (0x08, 0x123456, &[0xff][..]));
    }
}
