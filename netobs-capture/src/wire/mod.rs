//! Zero-copy views of packet headers (Ethernet/802.1Q/QinQ, ARP, IPv4,
//! IPv6, TCP, UDP, ICMP/ICMPv6, VXLAN, GRE), in the style of smoltcp's `wire`.
//!
//! Each view borrows its buffer, checks the fixed header length once in
//! `parse`, and then reads fields with infallible accessors. A length field
//! that points past the buffer (a truncated capture) is clamped, never
//! trusted: `payload()` returns what is really there.

mod arp;
mod ethernet;
mod fields;
mod icmp;
mod ipv4;
mod ipv6;
mod tcp;
mod tunnel;
mod udp;
mod walk;

pub use arp::ArpPacket;
pub use ethernet::{build_frame, EthernetFrame, MacAddr, VlanTag, ETH_HLEN};
pub use fields::FrameFields;
pub use icmp::{IcmpMessage, Icmpv4Packet, Icmpv6Packet};
pub use ipv4::Ipv4Packet;
pub use ipv6::{Ipv6Fragment, Ipv6Packet, Ipv6Upper};
pub use tcp::{TcpFlags, TcpSegment};
pub use tunnel::{GrePacket, VxlanPacket, VXLAN_PORT};
pub use udp::UdpDatagram;
pub use walk::{walk_ethernet, Layers};

use crate::error::WireError;

/// EtherType values used by the views (include/uapi/linux/if_ether.h).
pub mod ethertype {
    /// IPv4 (ETH_P_IP).
    pub const IPV4: u16 = 0x0800;
    /// ARP (ETH_P_ARP).
    pub const ARP: u16 = 0x0806;
    /// Reverse ARP (ETH_P_RARP).
    pub const RARP: u16 = 0x8035;
    /// 802.1Q VLAN tag (ETH_P_8021Q).
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (ETH_P_8021AD).
    pub const QINQ: u16 = 0x88a8;
    /// IPv6 (ETH_P_IPV6).
    pub const IPV6: u16 = 0x86dd;
}

/// IP protocol numbers (include/uapi/linux/in.h, in6.h).
pub mod ipproto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// GRE.
    pub const GRE: u8 = 47;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

pub(crate) fn need(what: &'static str, buf: &[u8], n: usize) -> Result<(), WireError> {
    if buf.len() < n {
        Err(WireError::Truncated {
            what,
            need: n,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
