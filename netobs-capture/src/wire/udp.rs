//! UDP headers (RFC 768, include/uapi/linux/udp.h).

use super::{be16, need};
use crate::error::WireError;

/// A UDP datagram, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    buf: &'a [u8],
}

impl<'a> UdpDatagram<'a> {
    /// Checks the 8-byte header.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("udp", buf, 8)?;
        Ok(UdpDatagram { buf })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Length field (header + data).
    pub fn len(&self) -> u16 {
        be16(self.buf, 4)
    }

    /// Whether the length field says there is no data.
    pub fn is_empty(&self) -> bool {
        self.len() <= 8
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 6)
    }

    /// Data, up to the length field, clamped to the buffer.
    pub fn payload(&self) -> &'a [u8] {
        let end = (self.len() as usize).clamp(8, self.buf.len());
        &self.buf[8..end]
    }
}
