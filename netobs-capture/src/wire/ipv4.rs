//! IPv4 headers (RFC 791, include/uapi/linux/ip.h).

use std::net::Ipv4Addr;

use super::{be16, need};
use crate::error::WireError;

/// An IPv4 packet, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Ipv4Packet<'a> {
    /// Checks version 4, a header length of at least 20 bytes and that the
    /// whole header (with options) is in the buffer.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("ipv4", buf, 20)?;
        if buf[0] >> 4 != 4 {
            return Err(WireError::Invalid {
                what: "ipv4 version",
                value: (buf[0] >> 4) as u32,
            });
        }
        let hl = (buf[0] & 0x0f) as usize * 4;
        if hl < 20 {
            return Err(WireError::Invalid {
                what: "ipv4 header length",
                value: hl as u32,
            });
        }
        need("ipv4 options", buf, hl)?;
        Ok(Ipv4Packet { buf })
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        (self.buf[0] & 0x0f) as usize * 4
    }

    /// The type-of-service / DSCP+ECN byte.
    pub fn tos(&self) -> u8 {
        self.buf[1]
    }

    /// The total length field.
    pub fn total_len(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(self.buf, 4)
    }

    /// Don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.buf[6] & 0x40 != 0
    }

    /// More-fragments flag.
    pub fn more_frags(&self) -> bool {
        self.buf[6] & 0x20 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buf, 6) & 0x1fff) * 8
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buf[8]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.buf[9]
    }

    /// Header checksum.
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 10)
    }

    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.buf[12], self.buf[13], self.buf[14], self.buf[15])
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.buf[16], self.buf[17], self.buf[18], self.buf[19])
    }

    /// The payload: from the end of the header to the total length, clamped
    /// to what the buffer holds.
    pub fn payload(&self) -> &'a [u8] {
        let end = (self.total_len() as usize).clamp(self.header_len(), self.buf.len());
        &self.buf[self.header_len()..end]
    }
}
