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

/// A unix socket's bound name, shown as ss shows it (misc/ss.c
/// `unix_show_sock`): an abstract name (its first byte NUL) with every
/// NUL written as `@`, so `\0a\0b` is `@a@b`; a path name up to its
/// first NUL. Display writes bytes that are not UTF-8 as U+FFFD, as
/// `String::from_utf8_lossy` does (ss writes them raw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnixName<'a>(&'a [u8]);

impl<'a> UnixName<'a> {
    /// The name of the bytes [`UnixSock::name`] gives.
    pub fn new(raw: &'a [u8]) -> Self {
        UnixName(raw)
    }

    /// The bytes as the kernel sent them (a path without its NUL).
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }

    /// Whether the name is in the abstract namespace.
    pub fn is_abstract(&self) -> bool {
        self.0.first() == Some(&0)
    }

    /// The bytes ss prints: NULs of an abstract name as `@`.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let at = self.is_abstract();
        self.0.iter().map(move |&b| if at && b == 0 { b'@' } else { b })
    }

    /// Whether ss's `autobound` holds for the name as it prints it: `@`
    /// and five lowercase hex digits, the names the kernel gives sockets
    /// bound without one (net/unix/af_unix.c `unix_autobind`).
    pub fn is_autobound(&self) -> bool {
        let b = self.0;
        b.len() == 6 && matches!(b[0], 0 | b'@') && b[1..].iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    }
}

impl std::fmt::Display for UnixName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.is_abstract();
        for chunk in self.0.utf8_chunks() {
            let mut valid = chunk.valid();
            while let Some(z) = valid.find('\0').filter(|_| at) {
                f.write_str(&valid[..z])?;
                f.write_str("@")?;
                valid = &valid[z + 1..];
            }
            f.write_str(valid)?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_print_as_ss_prints_them() {
        let show = |raw: &[u8]| UnixName::new(raw).to_string();
        assert_eq!(show(b"\0a\0b"), "@a@b");
        assert_eq!(show(b"\0netobs\0inner\0"), "@netobs@inner@");
        assert_eq!(show(b"/run/x.sock"), "/run/x.sock");
        assert_eq!(show(b"\0caf\xc3\xa9-\xff-x"), "@caf\u{e9}-\u{fffd}-x");
        assert_eq!(show(b"\0\xff\0"), "@\u{fffd}@");
        assert_eq!(UnixName::new(b"\0a\0b").bytes().collect::<Vec<_>>(), b"@a@b");
        assert!(UnixName::new(b"\x000001f").is_autobound());
        assert!(UnixName::new(b"@0001f").is_autobound(), "ss tests the printed name");
        assert!(!UnixName::new(b"\x000001F").is_autobound());
        assert!(!UnixName::new(b"\0netobs").is_autobound());
    }
}
