//! ARP / RARP packets (RFC 826, include/uapi/linux/if_arp.h).

use super::{be16, need};
use crate::error::WireError;

/// An ARP packet, borrowed. Addresses are sized by the hlen/plen fields.
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// Checks the 8-byte fixed header and that the four addresses fit.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        need("arp", buf, 8)?;
        let n = 8 + 2 * (buf[4] as usize + buf[5] as usize);
        need("arp addresses", buf, n)?;
        Ok(ArpPacket { buf })
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        be16(self.buf, 0)
    }

    /// Protocol type (0x0800 = IPv4).
    pub fn protocol_type(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Operation: 1 request, 2 reply, 3/4 RARP request/reply.
    pub fn operation(&self) -> u16 {
        be16(self.buf, 6)
    }

    fn hlen(&self) -> usize {
        self.buf[4] as usize
    }

    fn plen(&self) -> usize {
        self.buf[5] as usize
    }

    /// Sender hardware address.
    pub fn sender_hw(&self) -> &'a [u8] {
        &self.buf[8..8 + self.hlen()]
    }

    /// Sender protocol address.
    pub fn sender_proto(&self) -> &'a [u8] {
        let at = 8 + self.hlen();
        &self.buf[at..at + self.plen()]
    }

    /// Target hardware address.
    pub fn target_hw(&self) -> &'a [u8] {
        let at = 8 + self.hlen() + self.plen();
        &self.buf[at..at + self.hlen()]
    }

    /// Target protocol address.
    pub fn target_proto(&self) -> &'a [u8] {
        let at = 8 + 2 * self.hlen() + self.plen();
        &self.buf[at..at + self.plen()]
    }
}
