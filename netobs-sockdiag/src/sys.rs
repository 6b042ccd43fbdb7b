//! What std does not offer: readlinkat(2), so the links of /proc/PID/fd/N
//! are read relative to an open directory instead of resolving the whole
//! path for each descriptor; and the C library's fnmatch(3), whose patterns
//! ss's unix name filters use.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Reads the target of the symlink `name` in directory `dir` into `buf`,
/// returning its length (the target is cut to `buf.len()`).
pub(crate) fn readlinkat(dir: BorrowedFd<'_>, name: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `name` is a NUL-terminated string that outlives the call,
    // `buf` is a valid writable region of `buf.len()` bytes, and the kernel
    // writes at most that many bytes into it; `dir` is an open descriptor.
    let n = unsafe { libc::readlinkat(dir.as_raw_fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// fnmatch(3) with FNM_CASEFOLD and no other flag (misc/ss.c `unix_match`):
/// `*` and `?` also match `/`.
pub(crate) fn fnmatch_casefold(pattern: &CStr, text: &CStr) -> bool {
    // SAFETY: both are NUL-terminated strings that outlive the call;
    // fnmatch only reads them.
    unsafe { libc::fnmatch(pattern.as_ptr(), text.as_ptr(), libc::FNM_CASEFOLD) == 0 }
}
