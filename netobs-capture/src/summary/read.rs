//! Bounds-checked big-endian reads for the printers: None where the
//! capture ends first (the printers then end as tcpdump's `GET_*` macros
//! do, with `[|proto]` or `[bad opt]`).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::addr::Ip6Text;

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(super) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(super) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

pub(super) fn ipv4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(at..at + 4)?).ok()?))
}

/// An IPv6 address, to be printed as tcpdump prints it.
pub(super) fn ipv6_at(b: &[u8], at: usize) -> Option<Ip6Text> {
    Some(Ip6Text(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(at..at + 16)?).ok()?)))
}
