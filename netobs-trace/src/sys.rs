//! The raw system calls netobs-trace needs beyond std and netobs-core:
//! mount(2) for tracefs, clock_gettime(2) for the `mono` trace clock.
//! Every `unsafe` block of the crate lives here.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `mount -t tracefs nodev PATH`.
pub(crate) fn mount_tracefs(path: &Path) -> io::Result<()> {
    let target = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let fstype = c"tracefs";
    let source = c"nodev";
    // SAFETY: all three pointers are NUL-terminated strings that outlive the
    // call; data is NULL, which mount(2) accepts for tracefs.
    let rc = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, std::ptr::null()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `clock` now, in ns (0 if the call fails, which it cannot for the
/// clocks named here).
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid, writable timespec owned by this frame;
    // CLOCK_MONOTONIC and CLOCK_REALTIME always exist on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc < 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// CLOCK_MONOTONIC now, in ns: the base of the `mono` trace clock
/// (ktime_get_mono_fast_ns), so ring time stamps compare with it.
pub(crate) fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// CLOCK_REALTIME now, in ns since the Unix epoch.
pub(crate) fn realtime_ns() -> u64 {
    clock_ns(libc::CLOCK_REALTIME)
}
