//! The few raw system calls netobs-core needs that std and netlink-sys do
//! not wrap. Every `unsafe` block of the crate lives here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

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
