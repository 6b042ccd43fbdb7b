//! netlink_diag: AF_NETLINK sockets (include/uapi/linux/netlink_diag.h,
//! net/netlink/diag.c).

use netobs_core::nlattr::AttrIndex;
use netobs_core::{DecodeError, MsgBuf, NlMsg};

use crate::inet_diag::{SkMemInfo, SOCK_DIAG_BY_FAMILY};
use crate::wire::{split_msg, u32_at};

/// Attribute types of a netlink_diag answer (starting at 0).
pub mod attr {
    /// u32 sk_meminfo[].
    pub const MEMINFO: u16 = 0;
    /// Bitmap of joined multicast groups (u32 words).
    pub const GROUPS: u16 = 1;
    /// RX ring (removed from the kernel in 4.x).
    pub const RX_RING: u16 = 2;
    /// TX ring (removed).
    pub const TX_RING: u16 = 3;
    /// u32 NDIAG_FLAG_* bits.
    pub const FLAGS: u16 = 4;
    /// One past the highest attribute indexed.
    pub const MAX: usize = 6;
}

bitflags::bitflags! {
    /// `ndiag_show` (NDIAG_SHOW_*).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct NetlinkShow: u32 {
        /// NETLINK_DIAG_MEMINFO.
        const MEMINFO = 0x01;
        /// NETLINK_DIAG_GROUPS.
        const GROUPS = 0x02;
        /// Ring configuration (no longer answered).
        const RING_CFG = 0x04;
        /// NETLINK_DIAG_FLAGS.
        const FLAGS = 0x08;
    }
}

/// The short name `ss` gives a netlink protocol (include/uapi/linux/netlink.h
/// numbers, iproute2's nl_proto_n2a names); None for numbers without one.
pub fn protocol_name(protocol: u8) -> Option<&'static str> {
    Some(match protocol {
        0 => "rtnl",
        1 => "unused",
        2 => "usersock",
        3 => "fw",
        4 => "tcpdiag",
        5 => "nflog",
        6 => "xfrm",
        7 => "selinux",
        8 => "iscsi",
        9 => "audit",
        10 => "fiblookup",
        11 => "connector",
        12 => "nft",
        13 => "ip6fw",
        14 => "dec-rt",
        15 => "uevent",
        16 => "genl",
        18 => "scsi-trans",
        19 => "ecryptfs",
        20 => "rdma",
        21 => "crypto",
        _ => return None,
    })
}

/// NDIAG_PROTO_ALL: every netlink protocol.
pub const NDIAG_PROTO_ALL: u8 = 255;
const REQ_LEN: usize = 20;
const MSG_LEN: usize = 28;

/// Writes a netlink_diag dump request for `protocol` (or [`NDIAG_PROTO_ALL`]).
pub fn write_request(buf: &mut MsgBuf, protocol: u8, show: NetlinkShow) {
    buf.begin(SOCK_DIAG_BY_FAMILY, 0);
    let mut r = [0u8; REQ_LEN];
    r[0] = libc::AF_NETLINK as u8;
    r[1] = protocol;
    r[8..12].copy_from_slice(&show.bits().to_ne_bytes());
    buf.push(&r);
}

/// One AF_NETLINK socket.
#[derive(Clone, Debug)]
pub struct NetlinkSock<'a> {
    payload: &'a [u8],
    hdr: &'a [u8],
    attrs: AttrIndex<'a, { attr::MAX }>,
}

impl<'a> NetlinkSock<'a> {
    /// Parses one answer message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.payload())
    }

    /// Parses the payload of an answer (a `netlink_diag_msg` and attributes).
    pub fn parse_payload(p: &'a [u8]) -> Result<Self, DecodeError> {
        let (hdr, attrs) = split_msg(p, "netlink_diag_msg", MSG_LEN, &[(attr::FLAGS, 4)])?;
        Ok(NetlinkSock { payload: p, hdr, attrs })
    }

    /// The message payload this view reads; see [`NetlinkSock::parse_payload`].
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// SOCK_RAW or SOCK_DGRAM.
    pub fn kind(&self) -> u8 {
        self.hdr[1]
    }
    /// Netlink protocol (NETLINK_ROUTE = 0, ...).
    pub fn protocol(&self) -> u8 {
        self.hdr[2]
    }
    /// State: NETLINK_UNCONNECTED 0 or NETLINK_CONNECTED 1.
    pub fn state(&self) -> u8 {
        self.hdr[3]
    }
    /// Own port id.
    pub fn portid(&self) -> u32 {
        u32_at(self.hdr, 4)
    }
    /// Connected peer's port id.
    pub fn dst_portid(&self) -> u32 {
        u32_at(self.hdr, 8)
    }
    /// Connected peer's group.
    pub fn dst_group(&self) -> u32 {
        u32_at(self.hdr, 12)
    }
    /// Socket inode.
    pub fn inode(&self) -> u32 {
        u32_at(self.hdr, 16)
    }
    /// Socket cookie.
    pub fn cookie(&self) -> u64 {
        u32_at(self.hdr, 20) as u64 | (u32_at(self.hdr, 24) as u64) << 32
    }
    /// Joined multicast groups (1-based group numbers).
    pub fn groups(&self) -> impl Iterator<Item = u32> + 'a {
        let b = self.attrs.bytes_of(attr::GROUPS).unwrap_or(&[]);
        b.chunks_exact(4).enumerate().flat_map(|(i, w)| {
            let w = u32_at(w, 0);
            (0..32)
                .filter(move |bit| w & (1 << bit) != 0)
                .map(move |bit| i as u32 * 32 + bit + 1)
        })
    }
    /// NDIAG_FLAG_* bits.
    pub fn flags(&self) -> Option<u32> {
        self.attrs.u32(attr::FLAGS)
    }
    /// sk_meminfo.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attrs.bytes_of(attr::MEMINFO).and_then(SkMemInfo::parse)
    }
}
