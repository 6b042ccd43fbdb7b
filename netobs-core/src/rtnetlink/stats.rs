//! RTM_GETSTATS: `struct if_stats_msg` plus IFLA_STATS_* attributes
//! (include/uapi/linux/if_link.h, net/core/rtnetlink.c rtnl_fill_statsinfo).

use super::{LinkStats64, RTM_GETSTATS};
use crate::error::{DecodeError, Error, Result};
use crate::nlattr::{field, Attr, AttrIndex};
use crate::nlmsg::{MsgBuf, NlMsg, NLMSG_HDRLEN};
use crate::socket::NetlinkSocket;

/// `struct rtnl_link_stats64`, 64-bit counters.
pub const IFLA_STATS_LINK_64: u16 = 1;
/// Kind-specific extended stats (bridge, bond), nested.
pub const IFLA_STATS_LINK_XSTATS: u16 = 2;
/// The master kind's per-port extended stats, nested.
pub const IFLA_STATS_LINK_XSTATS_SLAVE: u16 = 3;
/// Offload (hardware/CPU) stats, nested IFLA_OFFLOAD_XSTATS_*.
pub const IFLA_STATS_LINK_OFFLOAD_XSTATS: u16 = 4;
/// Per address family stats (e.g. MPLS), nested.
pub const IFLA_STATS_AF_SPEC: u16 = 5;
/// Packets that the CPU handled on a switchdev port (`rtnl_link_stats64`).
pub const IFLA_OFFLOAD_XSTATS_CPU_HIT: u16 = 1;
/// Hardware stats info nest.
pub const IFLA_OFFLOAD_XSTATS_HW_S_INFO: u16 = 2;
/// L3 hardware stats (`struct rtnl_hw_stats64`).
pub const IFLA_OFFLOAD_XSTATS_L3_STATS: u16 = 3;

/// `IFLA_STATS_FILTER_BIT(ATTR)`: the filter_mask bit asking for `ATTR`.
pub const fn stats_filter_bit(attr: u16) -> u32 {
    1 << (attr - 1)
}

/// Every group netobs asks for by default: 64-bit counters, extended
/// stats of the link and of its master, offload stats and per-family stats.
pub const STATS_ALL_GROUPS: u32 = stats_filter_bit(IFLA_STATS_LINK_64)
    | stats_filter_bit(IFLA_STATS_LINK_XSTATS)
    | stats_filter_bit(IFLA_STATS_LINK_XSTATS_SLAVE)
    | stats_filter_bit(IFLA_STATS_LINK_OFFLOAD_XSTATS)
    | stats_filter_bit(IFLA_STATS_AF_SPEC);

/// Size of `struct if_stats_msg`.
pub const IF_STATS_MSG_LEN: usize = 12;

/// Builds an RTM_GETSTATS request for `ifindex` (0 with a dump: all links)
/// asking for the groups in `filter_mask`.
pub fn stats_request(buf: &mut MsgBuf, ifindex: u32, filter_mask: u32) {
    let mut h = [0u8; IF_STATS_MSG_LEN];
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h[8..12].copy_from_slice(&filter_mask.to_ne_bytes());
    buf.begin(RTM_GETSTATS, 0).push(&h);
}

/// `struct rtnl_hw_stats64`: L3 counters kept by hardware.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HwStats64 {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Receive drops.
    pub rx_dropped: u64,
    /// Transmit drops.
    pub tx_dropped: u64,
    /// Multicast received.
    pub multicast: u64,
}

impl HwStats64 {
    fn decode(b: &[u8]) -> Option<Self> {
        let r = |i: usize| field::<8>(b, i * 8).map(u64::from_ne_bytes);
        Some(HwStats64 {
            rx_packets: r(0)?,
            tx_packets: r(1)?,
            rx_bytes: r(2)?,
            tx_bytes: r(3)?,
            rx_errors: r(4)?,
            tx_errors: r(5)?,
            rx_dropped: r(6)?,
            tx_dropped: r(7)?,
            multicast: r(8)?,
        })
    }
}

/// One RTM_NEWSTATS message, borrowed from the receive buffer.
#[derive(Clone, Debug)]
pub struct LinkStatsMsg<'a> {
    ifindex: u32,
    filter_mask: u32,
    attrs: AttrIndex<'a, 8>,
}

impl<'a> LinkStatsMsg<'a> {
    /// Parses an RTM_NEWSTATS message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        let p = msg.payload();
        let h: [u8; IF_STATS_MSG_LEN] = field(p, 0).ok_or(DecodeError::Truncated {
            what: "if_stats_msg",
            offset: NLMSG_HDRLEN,
            need: IF_STATS_MSG_LEN,
            have: p.len(),
        })?;
        let attrs = AttrIndex::parse(&p[IF_STATS_MSG_LEN..])?;
        if let Some(a) = attrs.get(IFLA_STATS_LINK_64) {
            if a.payload().len() < 23 * 8 {
                return Err(DecodeError::AttrSize {
                    kind: IFLA_STATS_LINK_64,
                    len: a.payload().len(),
                    expected: 200,
                });
            }
        }
        Ok(LinkStatsMsg {
            ifindex: u32::from_ne_bytes([h[4], h[5], h[6], h[7]]),
            filter_mask: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            attrs,
        })
    }

    /// Interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
    /// The groups the kernel was asked for.
    pub fn filter_mask(&self) -> u32 {
        self.filter_mask
    }
    /// IFLA_STATS_LINK_64.
    pub fn stats64(&self) -> Option<LinkStats64> {
        LinkStats64::decode(self.attrs.get(IFLA_STATS_LINK_64)?.payload(), 8)
    }
    /// IFLA_STATS_LINK_XSTATS (nested, kind-specific), raw.
    pub fn xstats(&self) -> Option<Attr<'a>> {
        self.attrs.get(IFLA_STATS_LINK_XSTATS)
    }
    /// IFLA_STATS_LINK_XSTATS_SLAVE (nested, master-kind specific), raw.
    pub fn xstats_slave(&self) -> Option<Attr<'a>> {
        self.attrs.get(IFLA_STATS_LINK_XSTATS_SLAVE)
    }
    /// IFLA_STATS_AF_SPEC (nested per family), raw.
    pub fn af_spec(&self) -> Option<Attr<'a>> {
        self.attrs.get(IFLA_STATS_AF_SPEC)
    }
    /// IFLA_STATS_LINK_OFFLOAD_XSTATS (nested), raw.
    pub fn offload_xstats(&self) -> Option<Attr<'a>> {
        self.attrs.get(IFLA_STATS_LINK_OFFLOAD_XSTATS)
    }
    fn offload(&self, kind: u16) -> Option<Attr<'a>> {
        self.offload_xstats()?
            .nested()
            .find_map(|a| a.ok().filter(|a| a.kind() == kind))
    }
    /// Offload CPU-hit counters (switchdev ports).
    pub fn offload_cpu_hit(&self) -> Option<LinkStats64> {
        LinkStats64::decode(self.offload(IFLA_OFFLOAD_XSTATS_CPU_HIT)?.payload(), 8)
    }
    /// Offload L3 hardware counters, when enabled on the device.
    pub fn offload_l3_stats(&self) -> Option<HwStats64> {
        HwStats64::decode(self.offload(IFLA_OFFLOAD_XSTATS_L3_STATS)?.payload())
    }
    /// Every top-level attribute, known or not.
    pub fn attrs(&self) -> crate::nlattr::Attrs<'a> {
        self.attrs.iter()
    }
}

impl NetlinkSocket {
    /// Dumps RTM_GETSTATS for every link with the groups in `filter_mask`,
    /// handing each borrowed message to `f`.
    pub fn for_each_link_stats(&mut self, filter_mask: u32, mut f: impl FnMut(&LinkStatsMsg<'_>)) -> Result<()> {
        let mut req = MsgBuf::new();
        stats_request(&mut req, 0, filter_mask);
        let mut dump = self.dump(&mut req)?;
        while let Some(m) = dump.next()? {
            match LinkStatsMsg::parse(&m) {
                Ok(s) => f(&s),
                Err(e) => {
                    let _ = dump.drain();
                    return Err(Error::from(e));
                }
            }
        }
        Ok(())
    }

    /// RTM_GETSTATS for one link.
    pub fn link_stats(&mut self, ifindex: u32, filter_mask: u32) -> Result<LinkStatsMsg<'_>> {
        let mut req = MsgBuf::new();
        stats_request(&mut req, ifindex, filter_mask);
        match self.request(&mut req) {
            Ok(m) => Ok(LinkStatsMsg::parse(&m)?),
            Err(e) if e.errno() == Some(libc::ENODEV) => Err(Error::NoSuchInterface(format!("if{ifindex}"))),
            Err(e) => Err(e),
        }
    }
}
