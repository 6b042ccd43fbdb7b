//! unix_diag: AF_UNIX sockets (include/uapi/linux/unix_diag.h,
//! net/unix/diag.c).

use netobs_core::nlattr::AttrIndex;
use netobs_core::{DecodeError, MsgBuf, NlMsg};

use crate::inet_diag::{SkMemInfo, SOCK_DIAG_BY_FAMILY};
use crate::wire::{split_msg, u32_at, u32s};

/// Attribute types of a unix_diag answer (they start at 0: there is no NONE).
pub mod attr {
    /// Bound name (sun_path bytes; abstract names start with NUL).
    pub const NAME: u16 = 0;
    /// struct unix_diag_vfs: inode and device of a filesystem name.
    pub const VFS: u16 = 1;
    /// u32 inode of the peer socket.
    pub const PEER: u16 = 2;
    /// u32[] inodes of connections waiting in a listener's queue.
    pub const ICONS: u16 = 3;
    /// struct unix_diag_rqlen.
    pub const RQLEN: u16 = 4;
    /// u32 sk_meminfo[].
    pub const MEMINFO: u16 = 5;
    /// u8 shutdown mask.
    pub const SHUTDOWN: u16 = 6;
    /// u32 owner uid.
    pub const UID: u16 = 7;
    /// One past the highest attribute indexed.
    pub const MAX: usize = 9;
}

bitflags::bitflags! {
    /// `udiag_show`: which attributes to send (UDIAG_SHOW_*).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct UnixShow: u32 {
        /// UNIX_DIAG_NAME.
        const NAME = 0x01;
        /// UNIX_DIAG_VFS.
        const VFS = 0x02;
        /// UNIX_DIAG_PEER.
        const PEER = 0x04;
        /// UNIX_DIAG_ICONS.
        const ICONS = 0x08;
        /// UNIX_DIAG_RQLEN.
        const RQLEN = 0x10;
        /// UNIX_DIAG_MEMINFO.
        const MEMINFO = 0x20;
        /// UNIX_DIAG_UID.
        const UID = 0x40;
    }
}

/// Size of `struct unix_diag_req`.
const REQ_LEN: usize = 24;
/// Size of `struct unix_diag_msg`.
const MSG_LEN: usize = 16;

/// Writes a unix_diag dump request for sockets in `states` (TCP state
/// numbers: ESTABLISHED, LISTEN, CLOSE, ...).
pub fn write_request(buf: &mut MsgBuf, states: u32, show: UnixShow) {
    buf.begin(SOCK_DIAG_BY_FAMILY, 0);
    let mut r = [0u8; REQ_LEN];
    r[0] = libc::AF_UNIX as u8;
    r[4..8].copy_from_slice(&states.to_ne_bytes());
    r[12..16].copy_from_slice(&show.bits().to_ne_bytes());
    buf.push(&r);
}

/// One AF_UNIX socket, borrowed from the receive buffer.
#[derive(Clone, Debug)]
pub struct UnixSock<'a> {
    payload: &'a [u8],
    hdr: &'a [u8],
    attrs: AttrIndex<'a, { attr::MAX }>,
}

impl<'a> UnixSock<'a> {
    /// Parses one answer message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.payload())
    }

    /// Parses the payload of an answer (a `unix_diag_msg` and attributes).
    pub fn parse_payload(p: &'a [u8]) -> Result<Self, DecodeError> {
        let (hdr, attrs) = split_msg(
            p,
            "unix_diag_msg",
            MSG_LEN,
            &[
                (attr::VFS, 8),
                (attr::PEER, 4),
                (attr::RQLEN, 8),
                (attr::SHUTDOWN, 1),
                (attr::UID, 4),
            ],
        )?;
        Ok(UnixSock { payload: p, hdr, attrs })
    }

    /// The message payload this view reads; see [`UnixSock::parse_payload`].
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    pub fn kind(&self) -> u8 {
        self.hdr[1]
    }
    /// State (TCP numbering: ESTABLISHED, LISTEN, CLOSE).
    pub fn state(&self) -> u8 {
        self.hdr[2]
    }
    /// Socket inode.
    pub fn inode(&self) -> u32 {
        u32_at(self.hdr, 4)
    }
    /// Socket cookie.
    pub fn cookie(&self) -> u64 {
        u32_at(self.hdr, 8) as u64 | (u32_at(self.hdr, 12) as u64) << 32
    }
    /// Bound name as bytes: a path (without the NUL terminator the kernel
    /// copies when the binder included it in its address length), or an
    /// abstract name, which starts with NUL and is kept whole.
    pub fn name(&self) -> Option<&'a [u8]> {
        let n = self.attrs.bytes_of(attr::NAME)?;
        if n.first() == Some(&0) {
            return Some(n);
        }
        Some(n.iter().position(|&b| b == 0).map_or(n, |z| &n[..z]))
    }
    /// `(inode, device)` of a filesystem-bound socket's file.
    pub fn vfs(&self) -> Option<(u32, u32)> {
        let [ino, dev] = u32s(self.attrs.bytes_of(attr::VFS)?)?;
        Some((ino, dev))
    }
    /// Inode of the peer socket.
    pub fn peer(&self) -> Option<u32> {
        self.attrs.u32(attr::PEER)
    }
    /// Inodes of connections waiting to be accepted (listeners).
    pub fn pending(&self) -> Option<impl Iterator<Item = u32> + 'a> {
        let b = self.attrs.bytes_of(attr::ICONS)?;
        Some(b.chunks_exact(4).map(|c| u32_at(c, 0)))
    }
    /// `(rqueue, wqueue)`: for listeners, the accept queue and its limit;
    /// otherwise unread bytes (stream) or queued datagrams, and bytes in flight.
    pub fn rqlen(&self) -> Option<(u32, u32)> {
        let [rq, wq] = u32s(self.attrs.bytes_of(attr::RQLEN)?)?;
        Some((rq, wq))
    }
    /// sk_meminfo.
    pub fn meminfo(&self) -> Option<SkMemInfo> {
        self.attrs.bytes_of(attr::MEMINFO).and_then(SkMemInfo::parse)
    }
    /// Shutdown mask.
    pub fn shutdown(&self) -> Option<u8> {
        self.attrs.u8(attr::SHUTDOWN)
    }
    /// Owner uid.
    pub fn uid(&self) -> Option<u32> {
        self.attrs.u32(attr::UID)
    }
    /// The raw attribute index.
    pub fn attrs(&self) -> &AttrIndex<'a, { attr::MAX }> {
        &self.attrs
    }
}
