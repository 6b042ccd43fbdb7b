//! ICMP (RFC 792) and ICMPv6 (RFC 4443) messages: both start with type,
//! code and checksum, so one view serves both.

use super::{be16, need};
use crate::error::WireError;

/// An ICMP or ICMPv6 message, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct IcmpMessage<'a> {
    buf: &'a [u8],
}

/// An ICMP (IPv4) message.
pub type Icmpv4Packet<'a> = IcmpMessage<'a>;
/// An ICMPv6 message.
pub type Icmpv6Packet<'a> = IcmpMessage<'a>;

impl<'a> IcmpMessage<'a> {
    /// Checks the 4-byte type/code/checksum header.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("icmp", buf, 4)?;
        Ok(IcmpMessage { buf })
    }

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buf[0]
    }

    /// Message code.
    pub fn code(&self) -> u8 {
        self.buf[1]
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Identifier of an echo request/reply (0 when absent).
    pub fn echo_ident(&self) -> u16 {
        if self.buf.len() >= 6 {
            be16(self.buf, 4)
        } else {
            0
        }
    }

    /// Sequence number of an echo request/reply (0 when absent).
    pub fn echo_seq(&self) -> u16 {
        if self.buf.len() >= 8 {
            be16(self.buf, 6)
        } else {
            0
        }
    }

    /// Bytes after the 4-byte header.
    pub fn body(&self) -> &'a [u8] {
        &self.buf[4..]
    }
}
