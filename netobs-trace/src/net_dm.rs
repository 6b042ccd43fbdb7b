//! The NET_DM generic netlink family (include/uapi/linux/net_dropmon.h,
//! net/core/drop_monitor.c): the kernel's own drop monitor, which the real
//! dropwatch uses. Kernels built without CONFIG_NET_DROP_MONITOR (this
//! machine's) do not register the family; [`NetDm::open`] then fails with
//! `generic netlink family "NET_DM" is not available in this kernel`.
//!
//! Two alert formats arrive on the family's "events" multicast group:
//! - summary mode (NET_DM_CMD_ALERT): one attribute of type 0 (NLA_UNSPEC)
//!   holding `struct net_dm_alert_msg { u32 entries; struct net_dm_drop_point
//!   { u8 pc[8]; u32 count; } points[]; }`, host order, `pc` the address that
//!   freed the skb (drop_monitor.c reserves the attribute for the header and
//!   grows it by one point per new location);
//! - packet mode (NET_DM_CMD_PACKET_ALERT): one message per dropped packet
//!   with NET_DM_ATTR_* attributes.

use std::time::Duration;

use netobs_core::genl::{GenlSocket, GENL_HDRLEN};
use netobs_core::nlattr::{AttrIndex, Attrs};
use netobs_core::nlmsg::decode_status;
use netobs_core::stop::Stop;
use netobs_core::DecodeError;

use crate::error::{Error, Result};

/// The family name the kernel registers.
pub const FAMILY: &str = "NET_DM";
/// Its multicast group (NET_DM_GRP_ALERT).
pub const GROUP: &str = "events";

// Commands, include/uapi/linux/net_dropmon.h.
/// A summary alert.
pub const CMD_ALERT: u8 = 1;
/// Set the alert mode, truncation and queue length.
pub const CMD_CONFIG: u8 = 2;
/// Start monitoring.
pub const CMD_START: u8 = 3;
/// Stop monitoring.
pub const CMD_STOP: u8 = 4;
/// A packet-mode alert.
pub const CMD_PACKET_ALERT: u8 = 5;
/// Ask for the current configuration (5.4 and later).
pub const CMD_CONFIG_GET: u8 = 6;
/// The answer to NET_DM_CMD_CONFIG_GET.
pub const CMD_CONFIG_NEW: u8 = 7;
/// Ask for the kernel's own loss counters.
pub const CMD_STATS_GET: u8 = 8;
/// The answer to NET_DM_CMD_STATS_GET.
pub const CMD_STATS_NEW: u8 = 9;

// enum net_dm_attr.
const ATTR_ALERT_MODE: u16 = 1; // u8
const ATTR_PC: u16 = 2; // u64
const ATTR_SYMBOL: u16 = 3; // string
const ATTR_IN_PORT: u16 = 4; // nested
const ATTR_TIMESTAMP: u16 = 5; // u64
const ATTR_PROTO: u16 = 6; // u16
const ATTR_PAYLOAD: u16 = 7; // binary
const ATTR_TRUNC_LEN: u16 = 9; // u32
const ATTR_ORIG_LEN: u16 = 10; // u32
const ATTR_QUEUE_LEN: u16 = 11; // u32
const ATTR_STATS: u16 = 12; // nested
const ATTR_HW_STATS: u16 = 13; // nested
const ATTR_ORIGIN: u16 = 14; // u16
const ATTR_SW_DROPS: u16 = 20; // flag
const ATTR_FLOW_ACTION_COOKIE: u16 = 22; // binary
const ATTR_REASON: u16 = 23; // string, 6.0+

// Nested in NET_DM_ATTR_IN_PORT.
const ATTR_PORT_NETDEV_IFINDEX: u16 = 0; // u32
const ATTR_PORT_NETDEV_NAME: u16 = 1; // string

// Nested in NET_DM_ATTR_STATS and NET_DM_ATTR_HW_STATS.
const ATTR_STATS_DROPPED: u16 = 0; // u64

/// enum net_dm_alert_mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertMode {
    /// Per-location counts, sent every interval (NET_DM_ALERT_MODE_SUMMARY).
    Summary = 0,
    /// Every dropped packet with metadata (NET_DM_ALERT_MODE_PACKET).
    Packet = 1,
}

/// Size of `struct net_dm_drop_point`.
pub const DROP_POINT_LEN: usize = 12;

/// One `struct net_dm_drop_point`: a location and how often it dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropPoint {
    /// The kernel address that freed the skb (`pc`, host order).
    pub location: u64,
    /// Drops at it since the previous alert.
    pub count: u32,
}

/// A summary alert: a view over `struct net_dm_alert_msg`.
#[derive(Debug, Clone, Copy)]
pub struct SummaryAlert<'a> {
    points: &'a [u8],
}

impl<'a> SummaryAlert<'a> {
    /// Checks the `entries` count against the bytes present.
    pub fn parse(msg: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        let head = netobs_core::nlattr::field::<4>(msg, 0).ok_or(DecodeError::Truncated {
            what: "net_dm_alert_msg",
            offset: 0,
            need: 4,
            have: msg.len(),
        })?;
        let entries = u32::from_ne_bytes(head) as usize;
        let need = entries.saturating_mul(DROP_POINT_LEN);
        let points = msg[4..].get(..need).ok_or(DecodeError::Truncated {
            what: "net_dm_drop_point",
            offset: 4,
            need,
            have: msg.len() - 4,
        })?;
        Ok(SummaryAlert { points })
    }

    /// Number of drop points.
    pub fn len(&self) -> usize {
        self.points.len() / DROP_POINT_LEN
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The drop points, in the kernel's order.
    pub fn points(&self) -> impl Iterator<Item = DropPoint> + 'a {
        self.points.chunks_exact(DROP_POINT_LEN).map(|p| {
            let mut pc = [0u8; 8];
            pc.copy_from_slice(&p[..8]);
            let mut count = [0u8; 4];
            count.copy_from_slice(&p[8..12]);
            DropPoint {
                location: u64::from_ne_bytes(pc),
                count: u32::from_ne_bytes(count),
            }
        })
    }
}

/// A packet-mode alert: one dropped packet, every field optional as the
/// kernel adds them by version and origin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketAlert<'a> {
    /// NET_DM_ATTR_PC: the address that freed the skb.
    pub location: Option<u64>,
    /// NET_DM_ATTR_SYMBOL: the kernel's `%pS` of it.
    pub symbol: Option<&'a str>,
    /// NET_DM_ATTR_IN_PORT / PORT_NETDEV_IFINDEX.
    pub ifindex: Option<u32>,
    /// NET_DM_ATTR_IN_PORT / PORT_NETDEV_NAME.
    pub ifname: Option<&'a str>,
    /// NET_DM_ATTR_TIMESTAMP (ns, CLOCK_REALTIME).
    pub timestamp: Option<u64>,
    /// NET_DM_ATTR_PROTO: the EtherType, host order.
    pub protocol: Option<u16>,
    /// NET_DM_ATTR_PAYLOAD: the packet from the network header, truncated.
    pub payload: Option<&'a [u8]>,
    /// NET_DM_ATTR_ORIG_LEN: the packet's length before truncation.
    pub orig_len: Option<u32>,
    /// NET_DM_ATTR_ORIGIN: 0 software, 1 hardware.
    pub origin: Option<u16>,
    /// NET_DM_ATTR_REASON (6.0+): the drop reason's name (`NO_SOCKET`).
    pub reason: Option<&'a str>,
    /// NET_DM_ATTR_FLOW_ACTION_COOKIE (hardware drops).
    pub flow_action_cookie: Option<&'a [u8]>,
}

impl<'a> PacketAlert<'a> {
    /// Parses the attributes of a NET_DM_CMD_PACKET_ALERT.
    pub fn parse(attrs: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        let idx = AttrIndex::<24>::parse(attrs)?;
        idx.check_sizes(&[
            (ATTR_PC, 8),
            (ATTR_TIMESTAMP, 8),
            (ATTR_PROTO, 2),
            (ATTR_ORIG_LEN, 4),
            (ATTR_ORIGIN, 2),
        ])?;
        let string = |kind| idx.get(kind).map(|a| a.str()).transpose();
        let mut alert = PacketAlert {
            location: idx.u64(ATTR_PC),
            symbol: string(ATTR_SYMBOL)?,
            timestamp: idx.u64(ATTR_TIMESTAMP),
            protocol: idx.u16(ATTR_PROTO),
            payload: idx.bytes_of(ATTR_PAYLOAD),
            orig_len: idx.u32(ATTR_ORIG_LEN),
            origin: idx.u16(ATTR_ORIGIN),
            reason: string(ATTR_REASON)?,
            flow_action_cookie: idx.bytes_of(ATTR_FLOW_ACTION_COOKIE),
            ..Default::default()
        };
        if let Some(port) = idx.get(ATTR_IN_PORT) {
            for a in port.nested() {
                let a = a?;
                match a.kind() {
                    ATTR_PORT_NETDEV_IFINDEX => alert.ifindex = Some(a.u32()?),
                    ATTR_PORT_NETDEV_NAME => alert.ifname = Some(a.str()?),
                    _ => {}
                }
            }
        }
        Ok(alert)
    }
}

/// The kernel's own loss counters (NET_DM_CMD_STATS_NEW): packet alerts
/// it could not queue because the per-CPU queue (`queue_len`) was full.
/// net/core/drop_monitor.c counts them only in packet mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetDmStats {
    /// NET_DM_ATTR_STATS / NET_DM_ATTR_STATS_DROPPED: software drops not reported.
    pub sw_dropped: Option<u64>,
    /// NET_DM_ATTR_HW_STATS / NET_DM_ATTR_STATS_DROPPED: hardware drops not reported.
    pub hw_dropped: Option<u64>,
}

impl NetDmStats {
    /// Parses the attributes of a NET_DM_CMD_STATS_NEW.
    pub fn parse(attrs: &[u8]) -> std::result::Result<Self, DecodeError> {
        let idx = AttrIndex::<24>::parse(attrs)?;
        let dropped = |kind| -> std::result::Result<Option<u64>, DecodeError> {
            let Some(nest) = idx.get(kind) else {
                return Ok(None);
            };
            let mut n = None;
            for a in nest.nested() {
                let a = a?;
                // NET_DM_ATTR_PAD (8) may sit before the u64 for alignment.
                if a.kind() == ATTR_STATS_DROPPED {
                    n = Some(a.u64()?);
                }
            }
            Ok(n)
        };
        Ok(NetDmStats {
            sw_dropped: dropped(ATTR_STATS)?,
            hw_dropped: dropped(ATTR_HW_STATS)?,
        })
    }
}

/// One NET_DM message.
#[derive(Debug, Clone, Copy)]
pub enum Alert<'a> {
    /// NET_DM_CMD_ALERT.
    Summary(SummaryAlert<'a>),
    /// NET_DM_CMD_PACKET_ALERT.
    Packet(PacketAlert<'a>),
    /// NET_DM_CMD_STATS_NEW.
    Stats(NetDmStats),
    /// Another command (a config answer): its number.
    Other(u8),
}

/// The attributes after a NET_DM message's genlmsghdr.
fn genl_attributes(payload: &[u8]) -> std::result::Result<&[u8], DecodeError> {
    payload.get(GENL_HDRLEN..).ok_or(DecodeError::Truncated {
        what: "genlmsghdr",
        offset: 0,
        need: GENL_HDRLEN,
        have: payload.len(),
    })
}

/// Parses the payload of a NET_DM message (`genlmsghdr`, then attributes;
/// the family has no header of its own).
pub fn parse_alert(payload: &[u8]) -> std::result::Result<Alert<'_>, DecodeError> {
    let attrs = genl_attributes(payload)?;
    match payload[0] {
        CMD_ALERT => {
            // The one NLA_UNSPEC attribute holding net_dm_alert_msg.
            let attr = Attrs::new(attrs).next().ok_or(DecodeError::Truncated {
                what: "net_dm_alert_msg attribute",
                offset: GENL_HDRLEN,
                need: 4,
                have: 0,
            })??;
            Ok(Alert::Summary(SummaryAlert::parse(attr.payload())?))
        }
        CMD_PACKET_ALERT => Ok(Alert::Packet(PacketAlert::parse(attrs)?)),
        CMD_STATS_NEW => Ok(Alert::Stats(NetDmStats::parse(attrs)?)),
        other => Ok(Alert::Other(other)),
    }
}

/// Monitoring settings sent with NET_DM_CMD_CONFIG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetDmConfig {
    /// Summary or packet alerts.
    pub mode: AlertMode,
    /// Packet mode: bytes of payload per alert (0: the kernel's default, whole packet).
    pub trunc_len: u32,
    /// Packet mode: packets queued per CPU before the kernel drops alerts
    /// (the kernel's default is 1000).
    pub queue_len: u32,
}

impl NetDmConfig {
    /// Decodes a NET_DM_CMD_CONFIG_NEW answer (genlmsghdr first).
    pub fn parse(payload: &[u8]) -> std::result::Result<Self, DecodeError> {
        let idx = AttrIndex::<16>::parse(genl_attributes(payload)?)?;
        idx.check_sizes(&[(ATTR_ALERT_MODE, 1), (ATTR_TRUNC_LEN, 4), (ATTR_QUEUE_LEN, 4)])?;
        let d = NetDmConfig::default();
        Ok(NetDmConfig {
            mode: match idx.u8(ATTR_ALERT_MODE) {
                Some(1) => AlertMode::Packet,
                _ => AlertMode::Summary,
            },
            trunc_len: idx.u32(ATTR_TRUNC_LEN).unwrap_or(d.trunc_len),
            queue_len: idx.u32(ATTR_QUEUE_LEN).unwrap_or(d.queue_len),
        })
    }
}

impl Default for NetDmConfig {
    fn default() -> Self {
        NetDmConfig {
            mode: AlertMode::Summary,
            trunc_len: 0,
            queue_len: 1000,
        }
    }
}

/// A started NET_DM monitor joined to the "events" group; stopped on drop.
#[derive(Debug)]
pub struct NetDm {
    sock: GenlSocket,
    /// Requests (stats) go on their own socket: on the group's socket a
    /// reply would have to be fished out from among alerts.
    ctl: GenlSocket,
    stop: Option<Stop>,
    /// The configuration found at open, put back at drop: NET_DM keeps
    /// its mode across users, and the next one (the real dropwatch, which
    /// sets no mode unless asked) would otherwise inherit ours.
    previous: Option<NetDmConfig>,
}

impl NetDm {
    /// Resolves the family and its group, configures it, starts software
    /// drop monitoring (NET_DM_ATTR_SW_DROPS) and joins the group. On a
    /// kernel without the family: [`netobs_core::Error::NoSuchFamily`].
    pub fn open(config: &NetDmConfig) -> Result<Self> {
        let mut sock = GenlSocket::open(FAMILY)?;
        if sock.family().mcast_group(GROUP).is_none() {
            return Err(Error::Parse {
                what: "NET_DM family".into(),
                msg: format!(
                    "no {GROUP:?} multicast group (groups: {:?})",
                    sock.family().mcast_groups
                ),
            });
        }
        // Kernels before 5.4 cannot say their configuration: nothing to restore.
        sock.begin(CMD_CONFIG_GET, 2);
        let previous = match sock.request() {
            Ok(reply) => NetDmConfig::parse(reply.payload()).ok(),
            Err(_) => None,
        };
        send_config(&mut sock, config)?;
        sock.begin(CMD_START, 2).attr(ATTR_SW_DROPS, &[]);
        sock.ack()?;
        sock.join(GROUP)?;
        Ok(NetDm {
            sock,
            ctl: GenlSocket::open(FAMILY)?,
            stop: None,
            previous,
        })
    }

    /// Makes a waiting [`poll`](Self::poll) return at once when `stop` is
    /// tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.stop = Some(stop.clone());
    }

    /// Hands every alert available now to `f`, waiting up to `timeout`
    /// when none is (a tripped [`Stop`] or EINTR ends the wait). Returns
    /// the number of alerts.
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&Alert<'_>)) -> Result<usize> {
        let family = self.sock.family().id;
        let mut n = 0;
        self.sock.recv_events(timeout, self.stop.as_ref(), |msg| {
            if msg.kind() != family {
                return decode_status(msg);
            }
            f(&parse_alert(msg.payload())?);
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }
}

/// NET_DM_CMD_CONFIG with `config` (refused with EBUSY while monitoring).
fn send_config(sock: &mut GenlSocket, config: &NetDmConfig) -> Result<()> {
    let req = sock.begin(CMD_CONFIG, 2).attr_u8(ATTR_ALERT_MODE, config.mode as u8);
    if config.mode == AlertMode::Packet {
        req.attr_u32(ATTR_TRUNC_LEN, config.trunc_len)
            .attr_u32(ATTR_QUEUE_LEN, config.queue_len);
    }
    sock.ack()?;
    Ok(())
}

impl NetDm {
    /// The kernel's loss counters (NET_DM_CMD_STATS_GET).
    pub fn stats(&mut self) -> Result<NetDmStats> {
        self.ctl.begin(CMD_STATS_GET, 2);
        let reply = self.ctl.request()?;
        match parse_alert(reply.payload()).map_err(netobs_core::Error::from)? {
            Alert::Stats(s) => Ok(s),
            other => Err(Error::Parse {
                what: "NET_DM_CMD_STATS_GET answer".into(),
                msg: format!("expected NET_DM_CMD_STATS_NEW, got {other:?}"),
            }),
        }
    }
}

impl Drop for NetDm {
    fn drop(&mut self) {
        self.sock.begin(CMD_STOP, 2).attr(ATTR_SW_DROPS, &[]);
        let _ = self.sock.ack();
        if let Some(previous) = self.previous {
            let _ = send_config(&mut self.ctl, &previous);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_answer_parses_and_defaults() {
        let mut p = vec![CMD_CONFIG_NEW, 2, 0, 0];
        p.extend_from_slice(&[5, 0, 1, 0, 1, 0, 0, 0]);
        p.extend_from_slice(&[8, 0, 9, 0]);
        p.extend_from_slice(&100u32.to_ne_bytes());
        p.extend_from_slice(&[8, 0, 11, 0]);
        p.extend_from_slice(&50u32.to_ne_bytes());
        let c = NetDmConfig::parse(&p).unwrap();
        assert_eq!((c.mode, c.trunc_len, c.queue_len), (AlertMode::Packet, 100, 50));
        let c = NetDmConfig::parse(&[CMD_CONFIG_NEW, 2, 0, 0]).unwrap();
        assert_eq!(c, NetDmConfig::default());
        assert!(NetDmConfig::parse(&[CMD_CONFIG_NEW]).is_err());
        // A wrong-sized mode attribute is an error, not a guess.
        assert!(NetDmConfig::parse(&[CMD_CONFIG_NEW, 2, 0, 0, 8, 0, 1, 0, 1, 0, 0, 0]).is_err());
    }

    /// A NET_DM_CMD_ALERT payload as drop_monitor.c builds it.
    pub(crate) fn summary_bytes(points: &[(u64, u32)]) -> Vec<u8> {
        let mut msg = Vec::new();
        msg.extend_from_slice(&(points.len() as u32).to_ne_bytes());
        for (pc, count) in points {
            msg.extend_from_slice(&pc.to_ne_bytes());
            msg.extend_from_slice(&count.to_ne_bytes());
        }
        let mut p = vec![CMD_ALERT, 2, 0, 0];
        p.extend_from_slice(&((4 + msg.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&0u16.to_ne_bytes());
        p.extend_from_slice(&msg);
        p
    }

    fn attr(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }

    #[test]
    fn summary_alert_points() {
        let p = summary_bytes(&[(0xffff_ffff_8100_1234, 3), (0xffff_ffff_8200_0010, 1), (7, 0)]);
        let Alert::Summary(s) = parse_alert(&p).unwrap() else {
            panic!("not a summary")
        };
        assert_eq!(s.len(), 3);
        let pts: Vec<_> = s.points().collect();
        assert_eq!(
            pts[0],
            DropPoint {
                location: 0xffff_ffff_8100_1234,
                count: 3
            }
        );
        assert_eq!(pts[1].count, 1);
        assert_eq!(pts[2].location, 7);
    }

    #[test]
    fn packet_alert_nested() {
        let mut p = vec![CMD_PACKET_ALERT, 2, 0, 0];
        attr(&mut p, ATTR_PC, &0xffff_ffff_8123_0000u64.to_ne_bytes());
        attr(&mut p, ATTR_SYMBOL, b"tcp_v4_rcv+0x1a0/0x1000\0");
        let mut port = Vec::new();
        attr(&mut port, ATTR_PORT_NETDEV_IFINDEX, &7u32.to_ne_bytes());
        attr(&mut port, ATTR_PORT_NETDEV_NAME, b"veth0\0");
        attr(&mut p, ATTR_IN_PORT | 0x8000, &port);
        attr(&mut p, ATTR_TIMESTAMP, &123u64.to_ne_bytes());
        attr(&mut p, ATTR_PROTO, &0x0800u16.to_ne_bytes());
        attr(&mut p, ATTR_PAYLOAD, &[0x45, 0, 0, 20]);
        attr(&mut p, ATTR_ORIG_LEN, &60u32.to_ne_bytes());
        attr(&mut p, ATTR_ORIGIN, &0u16.to_ne_bytes());
        attr(&mut p, ATTR_REASON, b"NO_SOCKET\0");
        attr(&mut p, ATTR_FLOW_ACTION_COOKIE, &[1, 2, 3]);
        let Alert::Packet(a) = parse_alert(&p).unwrap() else {
            panic!("not a packet alert")
        };
        assert_eq!(a.location, Some(0xffff_ffff_8123_0000));
        assert_eq!(a.symbol, Some("tcp_v4_rcv+0x1a0/0x1000"));
        assert_eq!((a.ifindex, a.ifname), (Some(7), Some("veth0")));
        assert_eq!(a.timestamp, Some(123));
        assert_eq!(a.protocol, Some(0x0800));
        assert_eq!(a.payload, Some(&[0x45, 0, 0, 20][..]));
        assert_eq!(a.orig_len, Some(60));
        assert_eq!(a.origin, Some(0));
        assert_eq!(a.reason, Some("NO_SOCKET"));
        assert_eq!(a.flow_action_cookie, Some(&[1, 2, 3][..]));
    }

    #[test]
    fn stats_answer_with_pad() {
        // As net_dm_stats_put() builds it: a nest holding NET_DM_ATTR_PAD
        // and the u64 counter; the hardware nest the same way.
        let mut p = vec![CMD_STATS_NEW, 2, 0, 0];
        for (kind, n) in [(ATTR_STATS, 7u64), (ATTR_HW_STATS, 0)] {
            let mut nest = Vec::new();
            attr(&mut nest, 8, &[]);
            attr(&mut nest, ATTR_STATS_DROPPED, &n.to_ne_bytes());
            attr(&mut p, kind | 0x8000, &nest);
        }
        let Alert::Stats(s) = parse_alert(&p).unwrap() else {
            panic!("not a stats answer")
        };
        assert_eq!(
            s,
            NetDmStats {
                sw_dropped: Some(7),
                hw_dropped: Some(0)
            }
        );
        let mut p = vec![CMD_STATS_NEW, 2, 0, 0];
        let mut nest = Vec::new();
        attr(&mut nest, ATTR_STATS_DROPPED, &[1, 2]);
        attr(&mut p, ATTR_STATS | 0x8000, &nest);
        assert!(parse_alert(&p).is_err());
    }

    #[test]
    fn bad_input_is_decode_error() {
        // entries says 3, two points present.
        let mut p = summary_bytes(&[(1, 1), (2, 2), (3, 3)]);
        p.truncate(p.len() - DROP_POINT_LEN);
        let len = (p.len() - GENL_HDRLEN) as u16;
        p[GENL_HDRLEN..GENL_HDRLEN + 2].copy_from_slice(&len.to_ne_bytes());
        let e = parse_alert(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::Truncated {
                    what: "net_dm_drop_point",
                    need: 36,
                    have: 24,
                    ..
                }
            ),
            "{e}"
        );
        // Attribute length past the end.
        let mut p = summary_bytes(&[(1, 1)]);
        p.truncate(p.len() - 1);
        assert!(matches!(parse_alert(&p), Err(DecodeError::BadLength { .. })));
        // Shorter than genlmsghdr; a PC attribute of the wrong size.
        assert!(matches!(parse_alert(&[1, 2]), Err(DecodeError::Truncated { .. })));
        let mut p = vec![CMD_PACKET_ALERT, 2, 0, 0];
        attr(&mut p, ATTR_PC, &[1, 2, 3, 4]);
        assert!(matches!(parse_alert(&p), Err(DecodeError::AttrSize { kind: 2, .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
                        cut in 0usize..64, flip in proptest::prelude::any::<(usize, u8)>()) {
            let _ = parse_alert(&bytes);
            let mut p = summary_bytes(&[(1, 1), (2, 2), (3, 3), (4, 4)]);
            let i = flip.0 % p.len();
            p[i] ^= flip.1;
            p.truncate(p.len().saturating_sub(cut));
            if let Ok(Alert::Summary(s)) = parse_alert(&p) {
                proptest::prop_assert!(s.points().count() * DROP_POINT_LEN <= p.len());
            }
        }
    }
}
