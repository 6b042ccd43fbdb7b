//! RTM_NEWLINK messages: `struct ifinfomsg` plus IFLA_* attributes
//! (include/uapi/linux/rtnetlink.h, include/uapi/linux/if_link.h).

use crate::error::DecodeError;
use crate::nlattr::{field, AttrIndex, Attrs};
use crate::nlmsg::{NlMsg, NLMSG_HDRLEN};

// enum IFLA_*, include/uapi/linux/if_link.h (numbers beyond the 6.1
// headers are those of the 6.18 kernel this was built against).
/// Hardware address.
pub const IFLA_ADDRESS: u16 = 1;
/// Broadcast (or point-to-point peer) hardware address.
pub const IFLA_BROADCAST: u16 = 2;
/// Interface name.
pub const IFLA_IFNAME: u16 = 3;
/// MTU.
pub const IFLA_MTU: u16 = 4;
/// Index of the lower/peer link (veth peer, vlan parent).
pub const IFLA_LINK: u16 = 5;
/// Root qdisc kind.
pub const IFLA_QDISC: u16 = 6;
/// `struct rtnl_link_stats` (32-bit counters).
pub const IFLA_STATS: u16 = 7;
/// Index of the master device (bridge, bond, vrf).
pub const IFLA_MASTER: u16 = 10;
/// Transmit queue length.
pub const IFLA_TXQLEN: u16 = 13;
/// Operational state (RFC 2863, IF_OPER_*).
pub const IFLA_OPERSTATE: u16 = 16;
/// Link mode (IF_LINK_MODE_*).
pub const IFLA_LINKMODE: u16 = 17;
/// Nested link kind information (IFLA_INFO_*).
pub const IFLA_LINKINFO: u16 = 18;
/// Interface alias.
pub const IFLA_IFALIAS: u16 = 20;
/// Number of SR-IOV virtual functions.
pub const IFLA_NUM_VF: u16 = 21;
/// Nested VF information.
pub const IFLA_VFINFO_LIST: u16 = 22;
/// `struct rtnl_link_stats64`.
pub const IFLA_STATS64: u16 = 23;
/// Nested per-address-family data.
pub const IFLA_AF_SPEC: u16 = 26;
/// Device group.
pub const IFLA_GROUP: u16 = 27;
/// Request attribute: RTEXT_FILTER_* mask.
pub const IFLA_EXT_MASK: u16 = 29;
/// Promiscuity count.
pub const IFLA_PROMISCUITY: u16 = 30;
/// Number of transmit queues.
pub const IFLA_NUM_TX_QUEUES: u16 = 31;
/// Number of receive queues.
pub const IFLA_NUM_RX_QUEUES: u16 = 32;
/// Carrier state.
pub const IFLA_CARRIER: u16 = 33;
/// Number of carrier changes.
pub const IFLA_CARRIER_CHANGES: u16 = 35;
/// Namespace id of the peer/lower link's namespace.
pub const IFLA_LINK_NETNSID: u16 = 37;
/// Protocol down flag.
pub const IFLA_PROTO_DOWN: u16 = 39;
/// Maximum GSO segments.
pub const IFLA_GSO_MAX_SEGS: u16 = 40;
/// Maximum GSO size.
pub const IFLA_GSO_MAX_SIZE: u16 = 41;
/// Nested XDP state (IFLA_XDP_*).
pub const IFLA_XDP: u16 = 43;
/// Link event (IFLA_EVENT_*), in notifications.
pub const IFLA_EVENT: u16 = 44;
/// New namespace id (in RTM_DELLINK when a link moves).
pub const IFLA_NEW_NETNSID: u16 = 45;
/// Carrier up transitions.
pub const IFLA_CARRIER_UP_COUNT: u16 = 47;
/// Carrier down transitions.
pub const IFLA_CARRIER_DOWN_COUNT: u16 = 48;
/// New ifindex (in RTM_DELLINK when a link moves).
pub const IFLA_NEW_IFINDEX: u16 = 49;
/// Minimum MTU.
pub const IFLA_MIN_MTU: u16 = 50;
/// Maximum MTU.
pub const IFLA_MAX_MTU: u16 = 51;
/// Nested property list (alternative names).
pub const IFLA_PROP_LIST: u16 = 52;
/// One alternative name, inside IFLA_PROP_LIST.
pub const IFLA_ALT_IFNAME: u16 = 53;
/// Permanent hardware address.
pub const IFLA_PERM_ADDRESS: u16 = 54;
/// Nested protocol-down reasons.
pub const IFLA_PROTO_DOWN_REASON: u16 = 55;
/// Parent device name.
pub const IFLA_PARENT_DEV_NAME: u16 = 56;
/// Parent device bus name.
pub const IFLA_PARENT_DEV_BUS_NAME: u16 = 57;
/// Maximum GRO size.
pub const IFLA_GRO_MAX_SIZE: u16 = 58;
/// Maximum TSO size.
pub const IFLA_TSO_MAX_SIZE: u16 = 59;
/// Maximum TSO segments.
pub const IFLA_TSO_MAX_SEGS: u16 = 60;
/// Allmulti count.
pub const IFLA_ALLMULTI: u16 = 61;
/// Highest IFLA_* type indexed by [`Link`]; later ones stay reachable by
/// [`Link::attrs`].
pub const IFLA_INDEXED: usize = 72;

// IFLA_INFO_*, include/uapi/linux/if_link.h
/// Link kind (`"veth"`, `"bridge"`, ...), inside IFLA_LINKINFO.
pub const IFLA_INFO_KIND: u16 = 1;
/// Kind-specific data, inside IFLA_LINKINFO.
pub const IFLA_INFO_DATA: u16 = 2;
/// Kind-specific extended statistics, inside IFLA_LINKINFO.
pub const IFLA_INFO_XSTATS: u16 = 3;
/// Kind of the master's port (`"bridge"` for a bridge port).
pub const IFLA_INFO_SLAVE_KIND: u16 = 4;
/// Port-specific data.
pub const IFLA_INFO_SLAVE_DATA: u16 = 5;

/// IFLA_XDP_ATTACHED, inside IFLA_XDP: XDP_ATTACHED_* mode, 0 = none.
pub const IFLA_XDP_ATTACHED: u16 = 2;

/// Size of `struct ifinfomsg`.
pub const IFINFOMSG_LEN: usize = 16;

/// `struct ifinfomsg`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfInfoMsg {
    /// Address family (AF_UNSPEC for links).
    pub family: u8,
    /// Device type (ARPHRD_*).
    pub link_type: u16,
    /// Interface index.
    pub index: i32,
    /// IFF_* flags.
    pub flags: u32,
    /// Change mask.
    pub change: u32,
}

impl IfInfoMsg {
    /// Decodes the first 16 bytes of `b`.
    pub fn parse(b: &[u8]) -> Result<Self, DecodeError> {
        let h: [u8; IFINFOMSG_LEN] = field(b, 0).ok_or(DecodeError::Truncated {
            what: "ifinfomsg",
            offset: NLMSG_HDRLEN,
            need: IFINFOMSG_LEN,
            have: b.len(),
        })?;
        Ok(IfInfoMsg {
            family: h[0],
            link_type: u16::from_ne_bytes([h[2], h[3]]),
            index: i32::from_ne_bytes([h[4], h[5], h[6], h[7]]),
            flags: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            change: u32::from_ne_bytes([h[12], h[13], h[14], h[15]]),
        })
    }

    /// Encodes the struct for a request.
    pub fn to_bytes(&self) -> [u8; IFINFOMSG_LEN] {
        let mut b = [0u8; IFINFOMSG_LEN];
        b[0] = self.family;
        b[2..4].copy_from_slice(&self.link_type.to_ne_bytes());
        b[4..8].copy_from_slice(&self.index.to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[12..16].copy_from_slice(&self.change.to_ne_bytes());
        b
    }
}

bitflags::bitflags! {
    /// Interface flags (IFF_*, include/uapi/linux/if.h).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct LinkFlags: u32 {
        /// Administratively up.
        const UP = 0x1;
        /// Broadcast address valid.
        const BROADCAST = 0x2;
        /// Debugging.
        const DEBUG = 0x4;
        /// Loopback device.
        const LOOPBACK = 0x8;
        /// Point-to-point link.
        const POINTOPOINT = 0x10;
        /// Avoid trailers.
        const NOTRAILERS = 0x20;
        /// Operationally running (RFC 2863 OPER_UP).
        const RUNNING = 0x40;
        /// No ARP.
        const NOARP = 0x80;
        /// Receive all packets.
        const PROMISC = 0x100;
        /// Receive all multicast.
        const ALLMULTI = 0x200;
        /// Master of a load balancer.
        const MASTER = 0x400;
        /// Slave of a load balancer.
        const SLAVE = 0x800;
        /// Supports multicast.
        const MULTICAST = 0x1000;
        /// Can set media type.
        const PORTSEL = 0x2000;
        /// Auto media select active.
        const AUTOMEDIA = 0x4000;
        /// Dialup device with changing addresses.
        const DYNAMIC = 0x8000;
        /// Driver signals L1 up.
        const LOWER_UP = 0x10000;
        /// Driver signals dormant.
        const DORMANT = 0x20000;
        /// Echo sent packets.
        const ECHO = 0x40000;
        /// Flags this crate does not know yet stay visible.
        const _ = !0;
    }
}

/// RFC 2863 operational state (IF_OPER_*, include/uapi/linux/if.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    /// IF_OPER_UNKNOWN.
    Unknown,
    /// IF_OPER_NOTPRESENT.
    NotPresent,
    /// IF_OPER_DOWN.
    Down,
    /// IF_OPER_LOWERLAYERDOWN.
    LowerLayerDown,
    /// IF_OPER_TESTING.
    Testing,
    /// IF_OPER_DORMANT.
    Dormant,
    /// IF_OPER_UP.
    Up,
    /// A value this crate does not know.
    Other(u8),
}

impl OperState {
    /// From the IFLA_OPERSTATE byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => OperState::Unknown,
            1 => OperState::NotPresent,
            2 => OperState::Down,
            3 => OperState::LowerLayerDown,
            4 => OperState::Testing,
            5 => OperState::Dormant,
            6 => OperState::Up,
            o => OperState::Other(o),
        }
    }

    /// The name iproute2 prints (`UP`, `LOWERLAYERDOWN`, ...); `None` for
    /// unknown values.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            OperState::Unknown => "UNKNOWN",
            OperState::NotPresent => "NOTPRESENT",
            OperState::Down => "DOWN",
            OperState::LowerLayerDown => "LOWERLAYERDOWN",
            OperState::Testing => "TESTING",
            OperState::Dormant => "DORMANT",
            OperState::Up => "UP",
            OperState::Other(_) => return None,
        })
    }
}

macro_rules! link_stats {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident),* $(,)? } optional { $($(#[$om:meta])* $o:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $f: u64,)*
            $($(#[$om])* pub $o: Option<u64>,)*
        }

        impl $name {
            /// Number of fields in the full struct of the newest kernel known.
            pub const FIELDS: usize = [$(stringify!($f),)* $(stringify!($o),)*].len();

            /// Decodes a counter struct whose fields are `width` bytes wide
            /// (8 for rtnl_link_stats64, 4 for rtnl_link_stats). Missing
            /// mandatory fields are an error; missing later fields are None.
            #[allow(unused_assignments)] // the macro advances the index once more than read
            pub fn decode(b: &[u8], width: usize) -> Option<Self> {
                let rd = |i: usize| -> Option<u64> {
                    let off = i * width;
                    match width {
                        8 => field::<8>(b, off).map(u64::from_ne_bytes),
                        4 => field::<4>(b, off).map(|v| u32::from_ne_bytes(v) as u64),
                        _ => None,
                    }
                };
                let mut i = 0;
                Some($name {
                    $($f: { let v = rd(i)?; i += 1; v },)*
                    $($o: { let v = rd(i); i += 1; v },)*
                })
            }

            /// Field names and values in kernel order; absent optional
            /// fields are skipped.
            pub fn fields(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$((stringify!($f), Some(self.$f)),)* $((stringify!($o), self.$o),)*]
                    .into_iter()
                    .filter_map(|(n, v)| v.map(|v| (n, v)))
            }

            /// `self - earlier`, field by field. A counter that went
            /// backwards was reset (device re-created, driver reloaded), so
            /// its delta is its current value.
            pub fn delta(&self, earlier: &Self) -> Self {
                let d = |now: u64, then: u64| if now >= then { now - then } else { now };
                $name {
                    $($f: d(self.$f, earlier.$f),)*
                    $($o: match (self.$o, earlier.$o) { (Some(a), Some(b)) => Some(d(a, b)), (a, _) => a },)*
                }
            }
        }
    };
}

link_stats! {
    /// `struct rtnl_link_stats64` (include/uapi/linux/if_link.h), every field
    /// the kernel sends. `rx_nohandler` (4.6) and `rx_otherhost_dropped`
    /// (5.19) are `None` when an older kernel's shorter struct lacks them.
    LinkStats64 {
        /// Packets received.
        rx_packets,
        /// Packets transmitted.
        tx_packets,
        /// Bytes received.
        rx_bytes,
        /// Bytes transmitted.
        tx_bytes,
        /// Bad packets received.
        rx_errors,
        /// Packet transmit problems.
        tx_errors,
        /// Packets received but dropped (no buffer, filtered, ...).
        rx_dropped,
        /// Packets dropped on transmit.
        tx_dropped,
        /// Multicast packets received.
        multicast,
        /// Collisions.
        collisions,
        /// Length errors.
        rx_length_errors,
        /// Receiver ring buffer overflow.
        rx_over_errors,
        /// CRC errors.
        rx_crc_errors,
        /// Frame alignment errors.
        rx_frame_errors,
        /// Receiver FIFO overrun.
        rx_fifo_errors,
        /// Missed by the host (NIC ran out of buffers).
        rx_missed_errors,
        /// Transmit aborted.
        tx_aborted_errors,
        /// Carrier lost on transmit.
        tx_carrier_errors,
        /// Transmit FIFO errors.
        tx_fifo_errors,
        /// Heartbeat errors.
        tx_heartbeat_errors,
        /// Late collisions.
        tx_window_errors,
        /// Compressed packets received.
        rx_compressed,
        /// Compressed packets transmitted.
        tx_compressed,
    } optional {
        /// Dropped because no protocol handler wanted them.
        rx_nohandler,
        /// Dropped because addressed to another host (PACKET_OTHERHOST).
        rx_otherhost_dropped,
    }
}

/// Attribute payload sizes checked once in [`Link::parse`].
const LINK_SIZES: &[(u16, usize)] = &[
    (IFLA_MTU, 4),
    (IFLA_LINK, 4),
    (IFLA_MASTER, 4),
    (IFLA_TXQLEN, 4),
    (IFLA_OPERSTATE, 1),
    (IFLA_LINKMODE, 1),
    (IFLA_NUM_VF, 4),
    (IFLA_GROUP, 4),
    (IFLA_PROMISCUITY, 4),
    (IFLA_ALLMULTI, 4),
    (IFLA_NUM_TX_QUEUES, 4),
    (IFLA_NUM_RX_QUEUES, 4),
    (IFLA_CARRIER, 1),
    (IFLA_CARRIER_CHANGES, 4),
    (IFLA_CARRIER_UP_COUNT, 4),
    (IFLA_CARRIER_DOWN_COUNT, 4),
    (IFLA_LINK_NETNSID, 4),
    (IFLA_NEW_NETNSID, 4),
    (IFLA_NEW_IFINDEX, 4),
    (IFLA_PROTO_DOWN, 1),
    (IFLA_EVENT, 4),
    (IFLA_MIN_MTU, 4),
    (IFLA_MAX_MTU, 4),
    (IFLA_GSO_MAX_SEGS, 4),
    (IFLA_GSO_MAX_SIZE, 4),
    (IFLA_GRO_MAX_SIZE, 4),
    (IFLA_TSO_MAX_SIZE, 4),
    (IFLA_TSO_MAX_SEGS, 4),
];

/// Size of the 23 mandatory u64 fields of `rtnl_link_stats64`.
const STATS64_MIN: usize = 23 * 8;
/// Size of the 23 mandatory u32 fields of `rtnl_link_stats`.
const STATS32_MIN: usize = 23 * 4;

/// One link (RTM_NEWLINK / RTM_DELLINK), borrowed from the receive buffer.
///
/// [`Link::parse`] checks every attribute once; the accessors after it do
/// not fail and allocate nothing.
#[derive(Clone, Debug)]
pub struct Link<'a> {
    kind: u16,
    payload: &'a [u8],
    hdr: IfInfoMsg,
    attrs: AttrIndex<'a, IFLA_INDEXED>,
}

impl<'a> Link<'a> {
    /// Parses an RTM_NEWLINK/RTM_DELLINK message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.kind(), msg.payload())
    }

    /// Parses the payload (ifinfomsg + attributes) of a link message of
    /// type `kind`.
    pub fn parse_payload(kind: u16, payload: &'a [u8]) -> Result<Self, DecodeError> {
        let hdr = IfInfoMsg::parse(payload)?;
        let attrs = AttrIndex::parse(&payload[IFINFOMSG_LEN..])?;
        attrs.check_sizes(LINK_SIZES)?;
        for (k, min) in [(IFLA_STATS64, STATS64_MIN), (IFLA_STATS, STATS32_MIN)] {
            if let Some(a) = attrs.get(k) {
                if a.payload().len() < min {
                    return Err(DecodeError::AttrSize {
                        kind: k,
                        len: a.payload().len(),
                        expected: min,
                    });
                }
            }
        }
        Ok(Link {
            kind,
            payload,
            hdr,
            attrs,
        })
    }

    /// The netlink message type (RTM_NEWLINK or RTM_DELLINK).
    pub fn msg_kind(&self) -> u16 {
        self.kind
    }
    /// The message payload (ifinfomsg and attributes), e.g. to keep a copy
    /// and parse it again later with [`Link::parse_payload`].
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The `ifinfomsg` header.
    pub fn header(&self) -> &IfInfoMsg {
        &self.hdr
    }
    /// Interface index.
    pub fn index(&self) -> u32 {
        self.hdr.index as u32
    }
    /// Device type (ARPHRD_ETHER, ARPHRD_LOOPBACK, ...).
    pub fn link_type(&self) -> u16 {
        self.hdr.link_type
    }
    /// IFF_* flags.
    pub fn flags(&self) -> LinkFlags {
        LinkFlags::from_bits_retain(self.hdr.flags)
    }
    /// Interface name; `None` if absent or not UTF-8 (see [`name_bytes`](Self::name_bytes)).
    pub fn name(&self) -> Option<&'a str> {
        self.attrs.str(IFLA_IFNAME)
    }
    /// Interface name bytes up to the NUL.
    pub fn name_bytes(&self) -> Option<&'a [u8]> {
        self.attrs.get(IFLA_IFNAME).map(|a| a.cstr_bytes())
    }
    /// Interface name for printing: bytes that are not UTF-8 become U+FFFD,
    /// an absent name is empty.
    pub fn name_lossy(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.name_bytes().unwrap_or_default())
    }
    /// MTU.
    pub fn mtu(&self) -> Option<u32> {
        self.attrs.u32(IFLA_MTU)
    }
    /// Minimum MTU.
    pub fn min_mtu(&self) -> Option<u32> {
        self.attrs.u32(IFLA_MIN_MTU)
    }
    /// Maximum MTU.
    pub fn max_mtu(&self) -> Option<u32> {
        self.attrs.u32(IFLA_MAX_MTU)
    }
    /// Root qdisc kind (`"noqueue"`, `"fq_codel"`, ...).
    pub fn qdisc(&self) -> Option<&'a str> {
        self.attrs.str(IFLA_QDISC)
    }
    /// Operational state.
    pub fn operstate(&self) -> Option<OperState> {
        self.attrs.u8(IFLA_OPERSTATE).map(OperState::from_u8)
    }
    /// Link mode (0 default, 1 dormant).
    pub fn link_mode(&self) -> Option<u8> {
        self.attrs.u8(IFLA_LINKMODE)
    }
    /// Hardware address.
    pub fn address(&self) -> Option<&'a [u8]> {
        self.attrs.bytes_of(IFLA_ADDRESS)
    }
    /// Broadcast address (the peer on point-to-point links).
    pub fn broadcast(&self) -> Option<&'a [u8]> {
        self.attrs.bytes_of(IFLA_BROADCAST)
    }
    /// Permanent hardware address.
    pub fn perm_address(&self) -> Option<&'a [u8]> {
        self.attrs.bytes_of(IFLA_PERM_ADDRESS)
    }
    /// Index of the master device.
    pub fn master(&self) -> Option<u32> {
        self.attrs.u32(IFLA_MASTER)
    }
    /// Index of the lower or peer link (IFLA_LINK); 0 means none.
    pub fn link(&self) -> Option<u32> {
        self.attrs.u32(IFLA_LINK)
    }
    /// Namespace id of the namespace that holds the peer/lower link.
    pub fn link_netnsid(&self) -> Option<i32> {
        self.attrs.i32(IFLA_LINK_NETNSID)
    }
    /// Interface alias.
    pub fn alias(&self) -> Option<&'a str> {
        self.attrs.str(IFLA_IFALIAS)
    }
    /// Alternative names (IFLA_PROP_LIST / IFLA_ALT_IFNAME).
    pub fn altnames(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.attrs
            .get(IFLA_PROP_LIST)
            .map(|a| a.nested())
            .unwrap_or_else(|| Attrs::new(&[]))
            .filter_map(|a| a.ok())
            .filter(|a| a.kind() == IFLA_ALT_IFNAME)
            .filter_map(|a| a.str().ok())
    }
    /// Transmit queue length.
    pub fn txqlen(&self) -> Option<u32> {
        self.attrs.u32(IFLA_TXQLEN)
    }
    /// Device group.
    pub fn group(&self) -> Option<u32> {
        self.attrs.u32(IFLA_GROUP)
    }
    /// Promiscuity count.
    pub fn promiscuity(&self) -> Option<u32> {
        self.attrs.u32(IFLA_PROMISCUITY)
    }
    /// Allmulti count: above 0 the device receives all multicast.
    pub fn allmulti(&self) -> Option<u32> {
        self.attrs.u32(IFLA_ALLMULTI)
    }
    /// Largest GSO packet the device accepts, in bytes.
    pub fn gso_max_size(&self) -> Option<u32> {
        self.attrs.u32(IFLA_GSO_MAX_SIZE)
    }
    /// Most segments in one GSO packet.
    pub fn gso_max_segs(&self) -> Option<u32> {
        self.attrs.u32(IFLA_GSO_MAX_SEGS)
    }
    /// Largest GRO packet the stack builds, in bytes.
    pub fn gro_max_size(&self) -> Option<u32> {
        self.attrs.u32(IFLA_GRO_MAX_SIZE)
    }
    /// Largest TSO packet the device supports, in bytes.
    pub fn tso_max_size(&self) -> Option<u32> {
        self.attrs.u32(IFLA_TSO_MAX_SIZE)
    }
    /// Most segments in one TSO packet.
    pub fn tso_max_segs(&self) -> Option<u32> {
        self.attrs.u32(IFLA_TSO_MAX_SEGS)
    }
    /// Carrier changes since the device was created.
    pub fn carrier_changes(&self) -> Option<u32> {
        self.attrs.u32(IFLA_CARRIER_CHANGES)
    }
    /// Carrier state.
    pub fn carrier(&self) -> Option<bool> {
        self.attrs.u8(IFLA_CARRIER).map(|c| c != 0)
    }
    /// Number of transmit queues.
    pub fn num_tx_queues(&self) -> Option<u32> {
        self.attrs.u32(IFLA_NUM_TX_QUEUES)
    }
    /// Number of receive queues.
    pub fn num_rx_queues(&self) -> Option<u32> {
        self.attrs.u32(IFLA_NUM_RX_QUEUES)
    }
    /// Protocol-down flag.
    pub fn proto_down(&self) -> Option<bool> {
        self.attrs.u8(IFLA_PROTO_DOWN).map(|c| c != 0)
    }
    /// Link event (notifications only).
    pub fn event(&self) -> Option<u32> {
        self.attrs.u32(IFLA_EVENT)
    }
    /// The link kind from IFLA_LINKINFO (`"veth"`, `"bridge"`, `"vxlan"`).
    pub fn kind(&self) -> Option<&'a str> {
        self.linkinfo(IFLA_INFO_KIND).and_then(|a| a.str().ok())
    }
    /// The kind of the master this link is a port of (`"bridge"`).
    pub fn slave_kind(&self) -> Option<&'a str> {
        self.linkinfo(IFLA_INFO_SLAVE_KIND).and_then(|a| a.str().ok())
    }
    /// An attribute inside IFLA_LINKINFO (IFLA_INFO_DATA, IFLA_INFO_XSTATS, ...).
    pub fn linkinfo(&self, kind: u16) -> Option<crate::nlattr::Attr<'a>> {
        self.attrs
            .get(IFLA_LINKINFO)?
            .nested()
            .find_map(|a| a.ok().filter(|a| a.kind() == kind))
    }
    /// Whether an XDP program is attached (IFLA_XDP_ATTACHED != 0).
    pub fn xdp_attached(&self) -> Option<u8> {
        let x = self.attrs.get(IFLA_XDP)?;
        x.nested()
            .find_map(|a| a.ok().filter(|a| a.kind() == IFLA_XDP_ATTACHED))
            .and_then(|a| a.u8().ok())
    }

    /// Every counter of `rtnl_link_stats64` the kernel sent, or the 32-bit
    /// IFLA_STATS widened when the kernel sent no IFLA_STATS64.
    pub fn stats64(&self) -> Option<LinkStats64> {
        if let Some(a) = self.attrs.get(IFLA_STATS64) {
            return LinkStats64::decode(a.payload(), 8);
        }
        let a = self.attrs.get(IFLA_STATS)?;
        let mut s = LinkStats64::decode(a.payload(), 4)?;
        s.rx_otherhost_dropped = None; // not in struct rtnl_link_stats
        Some(s)
    }

    /// The raw IFLA_STATS64 payload: fields newer kernels add after the
    /// ones [`LinkStats64`] knows stay reachable here.
    pub fn stats64_raw(&self) -> Option<&'a [u8]> {
        self.attrs.bytes_of(IFLA_STATS64)
    }

    /// Any attribute by type (indexed types only; see [`attrs`](Self::attrs)).
    pub fn attr(&self, kind: u16) -> Option<crate::nlattr::Attr<'a>> {
        self.attrs.get(kind)
    }

    /// Every attribute in message order, known or not.
    pub fn attrs(&self) -> Attrs<'a> {
        self.attrs.iter()
    }

    /// An owned copy of the commonly used fields, for keeping beyond the
    /// receive buffer.
    pub fn to_owned(&self) -> LinkInfo {
        LinkInfo {
            index: self.index(),
            name: self.name_lossy().into_owned(),
            link_type: self.link_type(),
            flags: self.flags(),
            mtu: self.mtu(),
            qdisc: self.qdisc().map(str::to_owned),
            operstate: self.operstate(),
            link_mode: self.link_mode(),
            address: self.address().map(<[u8]>::to_vec),
            broadcast: self.broadcast().map(<[u8]>::to_vec),
            perm_address: self.perm_address().map(<[u8]>::to_vec),
            master: self.master(),
            link: self.link(),
            link_netnsid: self.link_netnsid(),
            alias: self.alias().map(str::to_owned),
            altnames: self.altnames().map(str::to_owned).collect(),
            txqlen: self.txqlen(),
            group: self.group(),
            kind: self.kind().map(str::to_owned),
            slave_kind: self.slave_kind().map(str::to_owned),
            carrier_changes: self.carrier_changes(),
            stats64: self.stats64(),
        }
    }
}

/// An owned link, for callers that keep data beyond the receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Device type (ARPHRD_*).
    pub link_type: u16,
    /// IFF_* flags.
    pub flags: LinkFlags,
    /// MTU.
    pub mtu: Option<u32>,
    /// Root qdisc.
    pub qdisc: Option<String>,
    /// Operational state.
    pub operstate: Option<OperState>,
    /// Link mode.
    pub link_mode: Option<u8>,
    /// Hardware address.
    pub address: Option<Vec<u8>>,
    /// Broadcast address.
    pub broadcast: Option<Vec<u8>>,
    /// Permanent hardware address.
    pub perm_address: Option<Vec<u8>>,
    /// Master index.
    pub master: Option<u32>,
    /// Lower/peer link index.
    pub link: Option<u32>,
    /// Peer namespace id.
    pub link_netnsid: Option<i32>,
    /// Alias.
    pub alias: Option<String>,
    /// Alternative names.
    pub altnames: Vec<String>,
    /// Transmit queue length.
    pub txqlen: Option<u32>,
    /// Device group.
    pub group: Option<u32>,
    /// Link kind.
    pub kind: Option<String>,
    /// Port kind.
    pub slave_kind: Option<String>,
    /// Carrier changes.
    pub carrier_changes: Option<u32>,
    /// Counters.
    pub stats64: Option<LinkStats64>,
}

/// The name iproute2 gives a device type (`ll_type_n2a`: `ether`,
/// `loopback`, `ipip`, ...), from the ARPHRD_* numbers of
/// include/uapi/linux/if_arp.h; `None` for types it has no name for.
pub fn link_type_name(link_type: u16) -> Option<&'static str> {
    const NAMES: &[(u16, &str)] = &[
        (0, "netrom"),
        (1, "ether"),
        (2, "eether"),
        (3, "ax25"),
        (4, "pronet"),
        (5, "chaos"),
        (6, "ieee802"),
        (7, "arcnet"),
        (8, "atalk"),
        (15, "dlci"),
        (19, "atm"),
        (23, "metricom"),
        (24, "ieee1394"),
        (32, "infiniband"),
        (256, "slip"),
        (257, "cslip"),
        (258, "slip6"),
        (259, "cslip6"),
        (260, "rsrvd"),
        (264, "adapt"),
        (270, "rose"),
        (271, "x25"),
        (272, "hwx25"),
        (280, "can"),
        (512, "ppp"),
        (513, "hdlc"),
        (516, "lapb"),
        (517, "ddcmp"),
        (518, "rawhdlc"),
        (768, "ipip"),
        (769, "tunnel6"),
        (770, "frad"),
        (771, "skip"),
        (772, "loopback"),
        (773, "ltalk"),
        (774, "fddi"),
        (775, "bif"),
        (776, "sit"),
        (777, "ip/ddp"),
        (778, "gre"),
        (779, "pimreg"),
        (780, "hippi"),
        (781, "ash"),
        (782, "econet"),
        (783, "irda"),
        (784, "fcpp"),
        (785, "fcal"),
        (786, "fcpl"),
        (787, "fcfb0"),
        (788, "fcfb1"),
        (789, "fcfb2"),
        (790, "fcfb3"),
        (791, "fcfb4"),
        (792, "fcfb5"),
        (793, "fcfb6"),
        (794, "fcfb7"),
        (795, "fcfb8"),
        (796, "fcfb9"),
        (797, "fcfb10"),
        (798, "fcfb11"),
        (799, "fcfb12"),
        (800, "tr"),
        (801, "ieee802.11"),
        (802, "ieee802.11/prism"),
        (803, "ieee802.11/radiotap"),
        (804, "ieee802.15.4"),
        (805, "ieee802.15.4/monitor"),
        (820, "phonet"),
        (821, "phonet_pipe"),
        (822, "caif"),
        (823, "gre6"),
        (824, "netlink"),
        (825, "6lowpan"),
        (0xfffe, "none"),
        (0xffff, "void"),
    ];
    NAMES.iter().find(|&&(t, _)| t == link_type).map(|&(_, n)| n)
}

/// A hardware address formatted as iproute2's `ll_addr_n2a` does:
/// colon-separated hex, or an IP address for IPv4/IPv6 tunnel devices.
#[derive(Debug, Clone, Copy)]
pub struct HwAddr<'a> {
    /// Address bytes.
    pub bytes: &'a [u8],
    /// Device type (ARPHRD_*).
    pub link_type: u16,
}

impl std::fmt::Display for HwAddr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const TUNNEL: u16 = 768;
        const SIT: u16 = 776;
        const IPGRE: u16 = 778;
        const TUNNEL6: u16 = 769;
        const IP6GRE: u16 = 823;
        let b = self.bytes;
        if let Ok(v4) = <[u8; 4]>::try_from(b) {
            if matches!(self.link_type, TUNNEL | SIT | IPGRE) {
                return write!(f, "{}", std::net::Ipv4Addr::from(v4));
            }
        }
        if let Ok(v6) = <[u8; 16]>::try_from(b) {
            if matches!(self.link_type, TUNNEL6 | IP6GRE) {
                return write!(f, "{}", std::net::Ipv6Addr::from(v6));
            }
        }
        for (i, byte) in b.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
