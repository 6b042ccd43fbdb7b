//! TCP headers (RFC 9293, include/uapi/linux/tcp.h).

use super::{be16, be32, need};
use crate::error::WireError;

/// TCP flag bits of byte 13 (plus NS in byte 12 is not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;

    /// Whether all bits of `mask` are set.
    pub fn has(&self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// The flags as tcpdump prints them inside `Flags [...]` (print-tcp.c
    /// `tcp_flag_values`): F S R P . U E W in that order, "none" for none.
    pub fn tcpdump_letters(&self) -> String {
        let mut s: String = [
            (Self::FIN, 'F'),
            (Self::SYN, 'S'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::ACK, '.'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
        ]
        .into_iter()
        .filter(|&(bit, _)| self.0 & bit != 0)
        .map(|(_, c)| c)
        .collect();
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }
}

/// A TCP segment, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    buf: &'a [u8],
}

impl<'a> TcpSegment<'a> {
    /// Checks the 20-byte header, a data offset of at least 5 words and
    /// that the options fit in the buffer.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("tcp", buf, 20)?;
        let hl = (buf[12] >> 4) as usize * 4;
        if hl < 20 {
            return Err(WireError::Invalid {
                what: "tcp data offset",
                value: hl as u32,
            });
        }
        need("tcp options", buf, hl)?;
        Ok(TcpSegment { buf })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        be32(self.buf, 4)
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        be32(self.buf, 8)
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        (self.buf[12] >> 4) as usize * 4
    }

    /// Flags byte.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buf[13])
    }

    /// Window.
    pub fn window(&self) -> u16 {
        be16(self.buf, 14)
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 16)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        be16(self.buf, 18)
    }

    /// Option bytes.
    pub fn options(&self) -> &'a [u8] {
        &self.buf[20..self.header_len()]
    }

    /// Data after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len()..]
    }
}
