//! IPv6 headers and extension headers (RFC 8200, include/uapi/linux/ipv6.h).

use std::net::Ipv6Addr;

use super::{be16, be32, ipproto, need};
use crate::error::WireError;

/// An IPv6 packet, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<'a> {
    buf: &'a [u8],
}

/// The fragment header's fields (RFC 8200 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Fragment {
    /// Fragment offset in bytes.
    pub offset: u16,
    /// More-fragments flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// Where the upper-layer header starts after the extension headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Upper<'a> {
    /// Next-header value of the upper layer (6 TCP, 17 UDP, 58 ICMPv6...).
    pub protocol: u8,
    /// The fragment header, when one was crossed.
    pub fragment: Option<Ipv6Fragment>,
    /// The bytes after the last extension header.
    pub payload: &'a [u8],
}

impl<'a> Ipv6Packet<'a> {
    /// Checks version 6 and the 40-byte fixed header.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("ipv6", buf, 40)?;
        if buf[0] >> 4 != 6 {
            return Err(WireError::Invalid {
                what: "ipv6 version",
                value: (buf[0] >> 4) as u32,
            });
        }
        Ok(Ipv6Packet { buf })
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((be16(self.buf, 0) >> 4) & 0xff) as u8
    }

    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        be32(self.buf, 0) & 0x000f_ffff
    }

    /// Payload length field.
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, 4)
    }

    /// Next header of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.buf[6]
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buf[7]
    }

    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        let a: [u8; 16] = self.buf[8..24].try_into().unwrap_or_default();
        Ipv6Addr::from(a)
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        let a: [u8; 16] = self.buf[24..40].try_into().unwrap_or_default();
        Ipv6Addr::from(a)
    }

    /// Bytes after the fixed header, up to the payload length, clamped to
    /// the buffer.
    pub fn payload(&self) -> &'a [u8] {
        let end = (40 + self.payload_len() as usize).min(self.buf.len());
        &self.buf[40..end]
    }

    /// Walks hop-by-hop, routing, destination-options and fragment headers
    /// to the upper layer. A non-first fragment stops the walk (its payload
    /// is not an upper-layer header). Truncated extension headers stop the
    /// walk with the bytes that are there.
    pub fn upper_layer(&self) -> Ipv6Upper<'a> {
        let mut nh = self.next_header();
        let mut rest = self.payload();
        let mut fragment = None;
        loop {
            match nh {
                // Hop-by-hop (0), routing (43), destination options (60):
                // length in 8-octet units, not counting the first 8.
                0 | 43 | 60 if rest.len() >= 8 => {
                    let len = (rest[1] as usize + 1) * 8;
                    if rest.len() < len {
                        break;
                    }
                    nh = rest[0];
                    rest = &rest[len..];
                }
                ipproto::FRAGMENT if rest.len() >= 8 => {
                    let f = Ipv6Fragment {
                        offset: be16(rest, 2) & 0xfff8,
                        more: rest[3] & 1 == 1,
                        ident: be32(rest, 4),
                    };
                    nh = rest[0];
                    rest = &rest[8..];
                    fragment = Some(f);
                    if f.offset != 0 {
                        break;
                    }
                }
                _ => break,
            }
        }
        Ipv6Upper {
            protocol: nh,
            fragment,
            payload: rest,
        }
    }
}
