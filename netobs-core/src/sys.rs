//! The few raw system calls netobs-core needs that std and netlink-sys do
//! not wrap. Every `unsafe` block of the crate lives here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `setns(fd, CLONE_NEWNET)`: moves the *calling thread* into the network
/// namespace behind `fd` (setns(2); a network namespace may be entered by
/// one thread of a multi-threaded process).
pub(crate) fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns only reads its two integer arguments; fd is a live
    // descriptor for the duration of the borrow.
    let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sets an integer socket option, returning the OS error.
pub(crate) fn setsockopt_int(fd: BorrowedFd<'_>, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the option value points at a live i32 whose size we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `pipe2(O_CLOEXEC | O_NONBLOCK)`: (read end, write end).
pub(crate) fn pipe_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: fds is a live array of two ints, as pipe2(2) writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are new descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// write(2) of `buf` on a non-blocking descriptor, with no allocation and
/// no error handling: async-signal-safe (signal-safety(7) lists write).
/// A full pipe (EAGAIN) is ignored: the reader has a wakeup pending anyway.
pub(crate) fn write_nonblocking(fd: BorrowedFd<'_>, buf: &[u8]) {
    // SAFETY: buf is a live slice of the length passed; write only reads it.
    let _ = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
}

/// read(2) into `buf` on a non-blocking descriptor; 0 when nothing is there.
pub(crate) fn read_nonblocking(fd: BorrowedFd<'_>, buf: &mut [u8]) -> usize {
    // SAFETY: buf is a live, writable slice of the length passed.
    let rc = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if rc > 0 {
        rc as usize
    } else {
        0
    }
}

/// poll(2) over `pfds`; `ms < 0` waits forever. Returns the number of
/// ready entries (0 on timeout); EINTR is returned as an error.
pub(crate) fn poll(pfds: &mut [libc::pollfd], ms: i32) -> io::Result<usize> {
    // SAFETY: pfds is a live, correctly sized array of pollfd for the call.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

/// sysconf(_SC_PAGESIZE), 4096 if it fails.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf takes an integer and returns one.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}
