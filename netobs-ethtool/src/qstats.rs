//! Per-queue statistics from the "netdev" generic-netlink family
//! (NETDEV_CMD_QSTATS_GET, net/core/netdev-genl.c), where the driver
//! implements `netdev_stat_ops` (kernel 6.10+).
//!
//! The 6.1 uapi headers installed here predate the family, so its numbers
//! are defined below from include/uapi/linux/netdev.h of the running 6.18
//! kernel's era. QSTATS_GET is a dump: without a scope it answers one
//! message per device with the sums; with NETDEV_QSTATS_SCOPE_QUEUE one per
//! queue. A device whose driver has no queue statistics is left out of a
//! dump, and asked for by ifindex it answers EOPNOTSUPP.

use netobs_core::genl::GenlSocket;
use netobs_core::nlattr::AttrIndex;
use netobs_core::{DecodeError, Netns};

use crate::{Error, Result};

/// Family name (NETDEV_FAMILY_NAME, include/uapi/linux/netdev.h).
pub const NETDEV_FAMILY_NAME: &str = "netdev";
/// NETDEV_FAMILY_VERSION.
pub const NETDEV_FAMILY_VERSION: u8 = 1;
/// NETDEV_CMD_QSTATS_GET (enum netdev_cmd: DEV_GET = 1, ..., QUEUE_GET 10,
/// NAPI_GET 11, QSTATS_GET 12).
pub const NETDEV_CMD_QSTATS_GET: u8 = 12;
/// NETDEV_A_QSTATS_IFINDEX (u32).
pub const NETDEV_A_QSTATS_IFINDEX: u16 = 1;
/// NETDEV_A_QSTATS_QUEUE_TYPE (u32, enum netdev_queue_type: RX 0, TX 1).
pub const NETDEV_A_QSTATS_QUEUE_TYPE: u16 = 2;
/// NETDEV_A_QSTATS_QUEUE_ID (u32).
pub const NETDEV_A_QSTATS_QUEUE_ID: u16 = 3;
/// NETDEV_A_QSTATS_SCOPE (uint, enum netdev_qstats_scope bit mask).
pub const NETDEV_A_QSTATS_SCOPE: u16 = 4;
/// NETDEV_QSTATS_SCOPE_QUEUE: one answer per queue instead of per device.
pub const NETDEV_QSTATS_SCOPE_QUEUE: u32 = 1;

/// Counter attributes (NETDEV_A_QSTATS_RX_PACKETS = 8 onwards) and their
/// names in the family's spec (Documentation/netlink/specs/netdev.yaml).
pub const COUNTERS: [(u16, &str); 27] = [
    (8, "rx-packets"),
    (9, "rx-bytes"),
    (10, "tx-packets"),
    (11, "tx-bytes"),
    (12, "rx-alloc-fail"),
    (13, "rx-hw-drops"),
    (14, "rx-hw-drop-overruns"),
    (15, "rx-csum-complete"),
    (16, "rx-csum-unnecessary"),
    (17, "rx-csum-none"),
    (18, "rx-csum-bad"),
    (19, "rx-hw-gro-packets"),
    (20, "rx-hw-gro-bytes"),
    (21, "rx-hw-gro-wire-packets"),
    (22, "rx-hw-gro-wire-bytes"),
    (23, "rx-hw-drop-ratelimits"),
    (24, "tx-hw-drops"),
    (25, "tx-hw-drop-errors"),
    (26, "tx-csum-none"),
    (27, "tx-needs-csum"),
    (28, "tx-hw-gso-packets"),
    (29, "tx-hw-gso-bytes"),
    (30, "tx-hw-gso-wire-packets"),
    (31, "tx-hw-gso-wire-bytes"),
    (32, "tx-hw-drop-ratelimits"),
    (33, "tx-stop"),
    (34, "tx-wake"),
];

/// The name of counter attribute `kind`, if this crate knows it.
pub fn counter_name(kind: u16) -> Option<&'static str> {
    COUNTERS.iter().find(|(k, _)| *k == kind).map(|(_, n)| *n)
}

/// Which queue an answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Receive queue `n`.
    Rx(u32),
    /// Transmit queue `n`.
    Tx(u32),
    /// Another queue type (newer kernels), with its number.
    Other(u32, u32),
}

/// One QSTATS answer: a device's sums, or one queue's counters.
#[derive(Debug, Clone)]
pub struct QStats<'a> {
    /// Device index.
    pub ifindex: u32,
    /// The queue, for per-queue answers.
    pub queue: Option<Queue>,
    attrs: AttrIndex<'a, 8>,
}

impl<'a> QStats<'a> {
    /// Decodes an answer's payload (genlmsghdr and attributes); counters are
    /// "uint" attributes of 4 or 8 bytes, checked here once.
    pub fn parse_payload(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let body = payload.get(4..).ok_or(DecodeError::Truncated {
            what: "genlmsghdr",
            offset: 0,
            need: 4,
            have: payload.len(),
        })?;
        let attrs = AttrIndex::<8>::parse(body)?;
        attrs.check_sizes(&[
            (NETDEV_A_QSTATS_IFINDEX, 4),
            (NETDEV_A_QSTATS_QUEUE_TYPE, 4),
            (NETDEV_A_QSTATS_QUEUE_ID, 4),
        ])?;
        for a in attrs.iter() {
            let a = a?;
            if a.kind() >= 8 && !matches!(a.payload().len(), 4 | 8) {
                return Err(DecodeError::AttrSize {
                    kind: a.kind(),
                    len: a.payload().len(),
                    expected: 8,
                });
            }
        }
        let queue = match (
            attrs.u32(NETDEV_A_QSTATS_QUEUE_TYPE),
            attrs.u32(NETDEV_A_QSTATS_QUEUE_ID),
        ) {
            (Some(0), Some(id)) => Some(Queue::Rx(id)),
            (Some(1), Some(id)) => Some(Queue::Tx(id)),
            (Some(t), Some(id)) => Some(Queue::Other(t, id)),
            _ => None,
        };
        Ok(QStats {
            ifindex: attrs.u32(NETDEV_A_QSTATS_IFINDEX).unwrap_or(0),
            queue,
            attrs,
        })
    }

    /// `(attribute number, value)` of every counter the driver reported,
    /// known to this crate or newer.
    pub fn counters(&self) -> impl Iterator<Item = (u16, u64)> + 'a {
        self.attrs.iter().filter_map(|a| {
            let a = a.ok()?;
            if a.kind() < 8 {
                return None;
            }
            let v = match a.payload().len() {
                4 => u64::from(a.u32().ok()?),
                _ => a.u64().ok()?,
            };
            Some((a.kind(), v))
        })
    }

    /// One counter by attribute number (e.g. 8 for rx-packets).
    pub fn get(&self, kind: u16) -> Option<u64> {
        self.counters().find(|(k, _)| *k == kind).map(|(_, v)| v)
    }
}

/// Owned copy of a [`QStats`] answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QStatsOwned {
    /// Device index.
    pub ifindex: u32,
    /// The queue, for per-queue answers.
    pub queue: Option<Queue>,
    /// `(attribute number, value)` in the kernel's order.
    pub counters: Vec<(u16, u64)>,
}

/// A NETLINK_GENERIC socket talking to the netdev family.
#[derive(Debug)]
pub struct NetdevNetlink {
    genl: GenlSocket,
}

impl NetdevNetlink {
    /// Opens the socket and resolves the family; a kernel without it
    /// answers [`Error::NoFamily`] (not supported by this kernel).
    pub fn open() -> Result<Self> {
        Ok(NetdevNetlink {
            genl: crate::open_family(NETDEV_FAMILY_NAME)?,
        })
    }

    /// Opens the socket inside `netns`.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::open)?
    }

    /// Dumps queue statistics: of one device (`ifindex`) or of every
    /// device that has them, summed per device or `per_queue`. A device
    /// whose driver keeps none answers [`Error::NotSupported`].
    pub fn qstats(&mut self, ifindex: Option<u32>, per_queue: bool) -> Result<Vec<QStatsOwned>> {
        let req = self.genl.begin(NETDEV_CMD_QSTATS_GET, NETDEV_FAMILY_VERSION);
        if let Some(i) = ifindex {
            req.attr_u32(NETDEV_A_QSTATS_IFINDEX, i);
        }
        if per_queue {
            req.attr_u32(NETDEV_A_QSTATS_SCOPE, NETDEV_QSTATS_SCOPE_QUEUE);
        }
        let ifname = ifindex.map(|i| format!("ifindex {i}")).unwrap_or_default();
        let map = |e| Error::from_netlink("get queue statistics", ifname.clone(), e);
        let mut out = Vec::new();
        let mut d = self.genl.dump().map_err(map)?;
        while let Some(m) = d.next().map_err(map)? {
            let q = QStats::parse_payload(m.payload())?;
            out.push(QStatsOwned {
                ifindex: q.ifindex,
                queue: q.queue,
                counters: q.counters().collect(),
            });
        }
        Ok(out)
    }
}
