//! packet_diag: AF_PACKET sockets (include/uapi/linux/packet_diag.h,
//! net/packet/diag.c).

use netobs_core::nlattr::{field, AttrIndex};
use netobs_core::{DecodeError, MsgBuf, NlMsg};

use crate::inet_diag::{SkMemInfo, SOCK_DIAG_BY_FAMILY};
use crate::wire::{split_msg, u32s};

/// Attribute types of a packet_diag answer (starting at 0).
pub mod attr {
    /// struct packet_diag_info.
    pub const INFO: u16 = 0;
    /// struct packet_diag_mclist[].
    pub const MCLIST: u16 = 1;
    /// struct packet_diag_ring of the RX ring.
    pub const RX_RING: u16 = 2;
    /// struct packet_diag_ring of the TX ring.
    pub const TX_RING: u16 = 3;
    /// u32 fanout: group id | type << 16.
    pub const FANOUT: u16 = 4;
    /// u32 owner uid.
    pub const UID: u16 = 5;
    /// u32 sk_meminfo[].
    pub const MEMINFO: u16 = 6;
    /// struct sock_filter[] of the attached classic BPF program.
    pub const FILTER: u16 = 7;
    /// One past the highest attribute indexed.
    pub const MAX: usize = 9;
}

bitflags::bitflags! {
    /// `pdiag_show` (PACKET_SHOW_*).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct PacketShow: u32 {
        /// PACKET_DIAG_INFO and UID.
        const INFO = 0x01;
        /// PACKET_DIAG_MCLIST.
        const MCLIST = 0x02;
        /// PACKET_DIAG_RX_RING / TX_RING.
        const RING_CFG = 0x04;
        /// PACKET_DIAG_FANOUT.
        const FANOUT = 0x08;
        /// PACKET_DIAG_MEMINFO.
        const MEMINFO = 0x10;
        /// PACKET_DIAG_FILTER.
        const FILTER = 0x20;
    }
}

const REQ_LEN: usize = 20;
const MSG_LEN: usize = 16;

/// Writes a packet_diag dump request.
pub fn write_request(buf: &mut MsgBuf, show: PacketShow) {
    buf.begin(SOCK_DIAG_BY_FAMILY, 0);
    let mut r = [0u8; REQ_LEN];
    r[0] = libc::AF_PACKET as u8;
    r[8..12].copy_from_slice(&show.bits().to_ne_bytes());
    buf.push(&r);
}

/// `struct packet_diag_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketInfo {
    /// Bound interface index (0: all).
    pub index: u32,
    /// TPACKET version.
    pub version: u32,
    /// Reserved headroom.
    pub reserve: u32,
    /// Copy threshold.
    pub copy_thresh: u32,
    /// SO_TIMESTAMPING flags.
    pub tstamp: u32,
    /// PDI_RUNNING 1, PDI_AUXDATA 2, PDI_ORIGDEV 4, PDI_VNETHDR 8, PDI_LOSS 16.
    pub flags: u32,
}

/// `struct packet_diag_ring`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct PacketRing {
    pub block_size: u32,
    pub block_nr: u32,
    pub frame_size: u32,
    pub frame_nr: u32,
    pub retire_tmo: u32,
    pub sizeof_priv: u32,
    pub features: u32,
}

/// One AF_PACKET socket.
#[derive(Clone, Debug)]
pub struct PacketSock<'a> {
    payload: &'a [u8],
    hdr: &'a [u8],
    attrs: AttrIndex<'a, { attr::MAX }>,
}

impl<'a> PacketSock<'a> {
    /// Parses one answer message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.payload())
    }

    /// Parses the payload of an answer (a `packet_diag_msg` and attributes).
    pub fn parse_payload(p: &'a [u8]) -> Result<Self, DecodeError> {
        let (hdr, attrs) = split_msg(p, "packet_diag_msg", MSG_LEN, &[(attr::FANOUT, 4), (attr::UID, 4)])?;
        Ok(PacketSock { payload: p, hdr, attrs })
    }

    /// The message payload this view reads; see [`PacketSock::parse_payload`].
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// SOCK_RAW or SOCK_DGRAM.
    pub fn kind(&self) -> u8 {
        self.hdr[1]
    }
    /// Ethernet protocol the socket is bound to (0x0003 = ETH_P_ALL). The
    /// kernel converts it to host order (`ntohs(po->num)`, net/packet/diag.c).
    pub fn protocol(&self) -> u16 {
        u16::from_ne_bytes([self.hdr[2], self.hdr[3]])
    }
    /// Socket inode.
    pub fn inode(&self) -> u32 {
        u32::from_ne_bytes([self.hdr[4], self.hdr[5], self.hdr[6], self.hdr[7]])
    }
    /// Socket cookie.
    pub fn cookie(&self) -> u64 {
        u64::from_ne_bytes(field(self.hdr, 8).unwrap_or([0; 8]))
    }
    /// Bound interface, version and flags.
    pub fn info(&self) -> Option<PacketInfo> {
        let [index, version, reserve, copy_thresh, tstamp, flags] = u32s::<6>(self.attrs.bytes_of(attr::INFO)?)?;
        Some(PacketInfo {
            index,
            version,
            reserve,
            copy_thresh,
            tstamp,
            flags,
        })
    }
    fn ring(&self, kind: u16) -> Option<PacketRing> {
        let [block_size, block_nr, frame_size, frame_nr, retire_tmo, sizeof_priv, features] =
            u32s::<7>(self.attrs.bytes_of(kind)?)?;
        Some(PacketRing {
            block_size,
            block_nr,
            frame_size,
            frame_nr,
            retire_tmo,
            sizeof_priv,
            features,
        })
    }
    /// RX ring configuration (PACKET_RX_RING).
    pub fn rx_ring(&self) -> Option<PacketRing> {
        self.ring(attr::RX_RING)
    }
    /// TX ring configuration (PACKET_TX_RING).
    pub fn tx_ring(&self) -> Option<PacketRing> {
        self.ring(attr::TX_RING)
    }
    /// `(group id, fanout type and flags)`.
    pub fn fanout(&self) -> Option<(u16, u16)> {
        self.attrs.u32(attr::FANOUT).map(|v| (v as u16, (v >> 16) as u16))
    }
    /// Owner uid.
    pub fn uid(&self) -> Option<u32> {
        self.attrs.u32(attr::UID)
    }
    /// Multicast memberships: `(ifindex, count, type, address bytes)`.
    pub fn mclist(&self) -> Option<impl Iterator<Item = (u32, u32, u16, &'a [u8])>> {
        let b = self.attrs.bytes_of(attr::MCLIST)?;
        Some(b.chunks_exact(44).map(|c| {
            let alen = (u16::from_ne_bytes([c[10], c[11]]) as usize).min(32);
            (
                u32::from_ne_bytes([c[0], c[1], c[2], c[3]]),
                u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
                u16::from_ne_bytes([c[8], c[9]]),
                &c[12..12 + alen],
            )
        }))
    }
    /// Number of classic BPF instructions of the attached filter.
    pub fn filter_len(&self) -> Option<usize> {
        self.attrs.bytes_of(attr::FILTER).map(|b| b.len() / 8)
    }
    /// The attached filter's raw `struct sock_filter` array.
    pub fn filter(&self) -> Option<&'a [u8]> {
        self.attrs.bytes_of(attr::FILTER)
    }
    /// sk_meminfo.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attrs.bytes_of(attr::MEMINFO).and_then(SkMemInfo::parse)
    }
}
