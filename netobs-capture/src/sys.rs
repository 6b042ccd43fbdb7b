//! The unsafe edge of the crate: AF_PACKET system calls and the mmap'ed
//! TPACKET_V3 ring. Everything else is safe code over what this module
//! returns. References: include/uapi/linux/if_packet.h,
//! net/packet/af_packet.c, Documentation/networking/packet_mmap.rst.

use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::bpf::{Insn, Program};

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// socket(AF_PACKET, SOCK_RAW or, `cooked`, SOCK_DGRAM, protocol). With protocol 0 the socket
/// receives nothing until it is bound with a protocol, which lets the
/// caller attach a filter first (as libpcap does).
pub(crate) fn packet_socket(protocol: u16, cooked: bool) -> io::Result<OwnedFd> {
    // SOCK_DGRAM: the kernel removes the link-layer header (cooked mode).
    let kind = if cooked { libc::SOCK_DGRAM } else { libc::SOCK_RAW };
    // SAFETY: socket(2) takes no pointers; a non-negative result is a new
    // descriptor that nothing else owns.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_PACKET,
            kind | libc::SOCK_CLOEXEC,
            protocol.to_be() as libc::c_int,
        )
    })?;
    // SAFETY: fd was just returned by socket(2) and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// setsockopt(fd, level, name, &value, sizeof value).
pub(crate) fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: value points to a live T of size_of::<T>() bytes for the call;
    // the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Types the kernel may fill byte by byte: every bit pattern of their size
/// is a valid value (integers and arrays of them; no bool, enum, reference
/// or padding).
///
/// # Safety
/// Implement only for types with no invalid bit patterns and no padding.
pub(crate) unsafe trait Plain: Copy + Default {}
// SAFETY: integers accept every bit pattern and have no padding.
unsafe impl Plain for libc::c_int {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: an array of Plain elements has no padding and no invalid value.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] where [T; N]: Default {}

/// getsockopt(fd, level, name) into a plain-data T. The kernel writes at
/// most `size_of::<T>()` bytes; a shorter answer leaves the rest at its
/// default (zero).
pub(crate) fn getsockopt<T: Plain>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int) -> io::Result<T> {
    let mut value = T::default();
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: value is a writable T of len bytes; the kernel writes at most
    // len bytes (it clamps to the optlen we pass) and updates len; T: Plain
    // makes any bytes it writes a valid T.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &mut value as *mut T as *mut libc::c_void,
            &mut len,
        )
    })?;
    Ok(value)
}

/// SO_ATTACH_FILTER with a classic BPF program (not checked here).
pub(crate) fn attach_filter(fd: &OwnedFd, prog: &Program) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: prog.insns.len() as u16,
        // Insn is #[repr(C)] with the layout of struct sock_filter.
        filter: prog.insns.as_ptr() as *mut libc::sock_filter,
    };
    const _: () = assert!(size_of::<Insn>() == size_of::<libc::sock_filter>());
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

/// bind(2) to an interface (0 = all) and an EtherType (host order).
pub(crate) fn bind_packet(fd: &OwnedFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain integers; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: sll is a valid sockaddr_ll of the length given.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// if_nametoindex(3); None when there is no such interface.
pub(crate) fn if_nametoindex(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: c is a NUL-terminated string alive for the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

/// poll(2) one descriptor for writing (TX ring slots freed); returns revents.
pub(crate) fn poll_out(fd: RawFd, timeout_ms: i32) -> io::Result<i16> {
    poll(fd, libc::POLLOUT | libc::POLLERR, timeout_ms)
}

fn poll(fd: RawFd, events: i16, timeout_ms: i32) -> io::Result<i16> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: p is one valid pollfd for the call.
    match cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) }) {
        Ok(_) => Ok(p.revents),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

/// send(2) with no data: asks the kernel to transmit every TX ring frame
/// marked TP_STATUS_SEND_REQUEST; returns the bytes sent.
pub(crate) fn flush_tx_ring(fd: &OwnedFd) -> io::Result<usize> {
    // SAFETY: a NULL buffer of length 0 is what PACKET_TX_RING's send
    // expects (net/packet/af_packet.c: tpacket_snd ignores msg data).
    let n = unsafe { libc::send(fd.as_raw_fd(), std::ptr::null(), 0, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// send(2) a whole frame on a bound packet socket.
pub(crate) fn send(fd: &OwnedFd, frame: &[u8]) -> io::Result<usize> {
    // SAFETY: frame is a readable buffer of frame.len() bytes for the call.
    let n = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr() as *const libc::c_void, frame.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// A TPACKET_V3 receive ring mapped into our address space: `count`
/// blocks of `size` bytes. The kernel owns a block while its
/// `block_status` is TP_STATUS_KERNEL; we own it from TP_STATUS_USER until
/// we store TP_STATUS_KERNEL again.
#[derive(Debug)]
pub(crate) struct RingMap {
    base: NonNull<u8>,
    size: usize,
    count: usize,
}

// SAFETY: the mapping is plain memory shared with the kernel; access to a
// block is handed over through its atomic status word, and RingMap gives
// out block slices only to the single owner of the Capture (&mut).
unsafe impl Send for RingMap {}

/// Offset of `hdr.bh1.block_status` in `struct tpacket_block_desc`.
const BLOCK_STATUS: usize = 8;

impl RingMap {
    /// mmap(2)s the ring the kernel created with PACKET_RX_RING.
    pub(crate) fn map(fd: &OwnedFd, size: usize, count: usize) -> io::Result<RingMap> {
        let len = size * count;
        // SAFETY: a fresh shared mapping of the packet socket's ring; the
        // kernel checks len against the ring it allocated.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        let p = if p == libc::MAP_FAILED {
            // MAP_LOCKED fails without CAP_IPC_LOCK headroom: retry unlocked.
            // SAFETY: as above.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd.as_raw_fd(),
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            p
        } else {
            p
        };
        Ok(RingMap {
            base: NonNull::new(p as *mut u8).ok_or_else(|| io::Error::other("mmap returned NULL"))?,
            size,
            count,
        })
    }

    fn status(&self, block: usize) -> &AtomicU32 {
        assert!(block < self.count);
        self.word(block * self.size + BLOCK_STATUS)
    }

    /// The 32-bit word at byte `offset` of the ring, shared with the kernel.
    pub(crate) fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(offset % 4 == 0 && offset + 4 <= self.size * self.count);
        // SAFETY: the word lies inside the mapping (checked above), is
        // 4-aligned (the mapping is page-aligned, offset % 4 == 0) and
        // lives as long as self; the kernel accesses it atomically.
        unsafe { &*(self.base.as_ptr().add(offset) as *const AtomicU32) }
    }

    /// `len` bytes at `offset` that user space owns (a TX frame whose
    /// status is TP_STATUS_AVAILABLE, or an RX block in TP_STATUS_USER).
    pub(crate) fn bytes_mut(&mut self, offset: usize, len: usize) -> &mut [u8] {
        assert!(offset + len <= self.size * self.count);
        // SAFETY: in range (checked above); the kernel does not touch a
        // slot user space owns, and &mut self excludes other slices.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(offset), len) }
    }

    /// Whether the kernel has handed `block` to user space.
    pub(crate) fn is_user(&self, block: usize) -> bool {
        self.status(block).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// The bytes of a block we own (after `is_user` returned true).
    pub(crate) fn block_mut(&mut self, block: usize) -> &mut [u8] {
        assert!(block < self.count);
        // SAFETY: block < count so the range is inside the mapping; the
        // kernel does not touch a block in TP_STATUS_USER, and &mut self
        // ensures no other slice of the ring is alive.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(block * self.size), self.size) }
    }
}

/// Gives an RX block back to the kernel through its own bytes (the
/// `block_status` word of its `tpacket_block_desc`), so the `&mut` slice
/// that [`RingMap::block_mut`] handed out stays the only path to them.
pub(crate) fn release_block(block: &mut [u8]) {
    assert!(block.len() >= BLOCK_STATUS + 4);
    // SAFETY: the word is inside `block` (checked above) and 4-aligned
    // (blocks start on page boundaries, BLOCK_STATUS % 4 == 0); the pointer
    // comes from the exclusive slice, and the kernel reads the word
    // atomically, as an AtomicU32 writes it.
    let status = unsafe { AtomicU32::from_ptr(block.as_mut_ptr().add(BLOCK_STATUS) as *mut u32) };
    status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
}

impl Drop for RingMap {
    fn drop(&mut self) {
        // SAFETY: base/size*count is exactly the mapping created in map().
        unsafe {
            libc::munmap(self.base.as_ptr() as *mut libc::c_void, self.size * self.count);
        }
    }
}
