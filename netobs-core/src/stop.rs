//! A wakeable stop handle for blocking calls, and the one poll(2) wait that
//! every netobs crate blocks in.
//!
//! Libraries never install signal handlers: a program decides what Ctrl-C
//! means. Instead each blocking call (a capture's next block, a trace
//! reader, a NET_DM socket) can be given a [`Stop`]; [`wait`] puts the
//! stop's pipe into the same poll(2) set as the descriptors it waits on, so
//! [`Stop::stop`] (from another thread, or from a signal handler: it is
//! async-signal-safe) wakes the wait at once rather than after a time
//! slice.
//!
//! The handle is a non-blocking pipe plus a flag, not an eventfd, so that
//! its write end can also be given to Python's `signal.set_wakeup_fd`,
//! which writes one byte per signal (an eventfd accepts only 8-byte
//! writes).
//!
//! ```no_run
//! use netobs_core::stop::{wait, Stop, Wake};
//! use std::os::fd::AsFd;
//! use std::time::Duration;
//!
//! let stop = Stop::new()?;
//! let other = stop.clone();
//! std::thread::spawn(move || other.stop());
//! let (r, _w) = std::os::unix::net::UnixStream::pair()?;
//! let mut revents = Vec::new();
//! let woken = wait(&[r.as_fd()], Some(Duration::from_secs(60)), Some(&stop), &mut revents)?;
//! assert_eq!(woken, Wake::Stopped);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::sys;

/// A stop request shared by the blocking calls that were given it (clone
/// it freely: clones are the same handle).
#[derive(Clone)]
pub struct Stop(Arc<Inner>);

struct Inner {
    stopped: AtomicBool,
    read: OwnedFd,
    write: OwnedFd,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop").field("stopped", &self.is_stopped()).finish()
    }
}

impl Stop {
    /// A new, untripped handle (one pipe, close-on-exec, non-blocking).
    pub fn new() -> io::Result<Stop> {
        let (read, write) = sys::pipe_nonblocking()?;
        Ok(Stop(Arc::new(Inner {
            stopped: AtomicBool::new(false),
            read,
            write,
        })))
    }

    /// Trips the handle: every [`wait`] given it returns
    /// [`Wake::Stopped`] at once, now and until [`reset`](Self::reset).
    ///
    /// Async-signal-safe (an atomic store and one write(2), no allocation,
    /// no lock), so a program's SIGINT handler may call it.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        // Byte 0: no signal has number 0, so reset() can tell it from what
        // Python's wakeup writes.
        sys::write_nonblocking(self.0.write.as_fd(), &[0]);
    }

    /// Whether [`stop`](Self::stop) was called (since the last reset).
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Whether the handle was tripped or woken through its
    /// [`wake_fd`](Self::wake_fd) (Python's signal wakeup writes there
    /// without setting the flag): what a loop between waits checks.
    pub fn woken(&self) -> bool {
        self.is_stopped()
            || matches!(
                wait(&[], Some(Duration::ZERO), Some(self), &mut Vec::new()),
                Ok(Wake::Stopped)
            )
    }

    /// Clears the flag and drains the pipe, so waits block again. Returns
    /// the non-zero bytes that others wrote to the [`wake_fd`](Self::wake_fd)
    /// (Python writes each signal's number there), at most 64.
    pub fn reset(&self) -> Vec<u8> {
        self.0.stopped.store(false, Ordering::SeqCst);
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = sys::read_nonblocking(self.0.read.as_fd(), &mut buf);
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                if b != 0 && out.len() < 64 {
                    out.push(b);
                }
            }
        }
        out
    }

    /// The pipe's write end (non-blocking). Writing any byte wakes the
    /// waits as [`stop`](Self::stop) does, without setting the flag: this
    /// is the descriptor for Python's `signal.set_wakeup_fd`.
    pub fn wake_fd(&self) -> BorrowedFd<'_> {
        self.0.write.as_fd()
    }

    /// The pipe's read end, readable once the handle is tripped or woken:
    /// for programs that run their own poll loop.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.read.as_fd()
    }
}

/// Why a [`wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// At least one descriptor has an event (see the revents).
    Ready,
    /// The timeout passed with nothing ready.
    Timeout,
    /// The [`Stop`] was tripped or its wake fd written.
    Stopped,
    /// A signal interrupted poll(2) (EINTR): the program's own handler ran.
    Interrupted,
}

/// Waits until one of `fds` is readable (POLLIN, or POLLHUP/POLLERR), the
/// timeout passes (`None`: forever) or `stop` is tripped. `revents` gets
/// one entry per descriptor of `fds` (all 0 unless [`Wake::Ready`]).
pub fn wait(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
    stop: Option<&Stop>,
    revents: &mut Vec<i16>,
) -> io::Result<Wake> {
    use std::os::fd::AsRawFd;
    // One poll set per wait: on the stack for the usual few descriptors
    // (a capture socket, one trace file per CPU of a small machine).
    const ON_STACK: usize = 16;
    let blank = libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut stack = [blank; ON_STACK];
    let mut heap = Vec::new();
    let n = fds.len() + usize::from(stop.is_some());
    let pfds: &mut [libc::pollfd] = if n <= ON_STACK {
        &mut stack[..n]
    } else {
        heap.resize(n, blank);
        &mut heap
    };
    for (p, fd) in pfds.iter_mut().zip(
        fds.iter()
            .map(|fd| fd.as_raw_fd())
            .chain(stop.map(|s| s.0.read.as_raw_fd())),
    ) {
        p.fd = fd;
    }
    let ms = match timeout {
        None => -1,
        // Round up so a sub-millisecond wait does not spin at 0 ms.
        Some(d) => d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
    };
    revents.clear();
    revents.resize(fds.len(), 0);
    let n = match sys::poll(pfds, ms) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(Wake::Interrupted),
        Err(e) => return Err(e),
    };
    if stop.is_some() && pfds[fds.len()].revents != 0 {
        return Ok(Wake::Stopped);
    }
    if n == 0 {
        return Ok(Wake::Timeout);
    }
    for (r, p) in revents.iter_mut().zip(pfds.iter()) {
        *r = p.revents;
    }
    Ok(Wake::Ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    #[test]
    fn stop_from_another_thread_wakes_a_long_wait_at_once() {
        let (r, _w) = std::os::unix::net::UnixStream::pair().unwrap();
        let stop = Stop::new().unwrap();
        let other = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.stop();
        });
        let start = Instant::now();
        let mut rev = Vec::new();
        let w = wait(&[r.as_fd()], Some(Duration::from_secs(30)), Some(&stop), &mut rev).unwrap();
        t.join().unwrap();
        assert_eq!(w, Wake::Stopped);
        assert!(stop.is_stopped());
        assert!(start.elapsed() < Duration::from_secs(29));
        // Tripped stays tripped: the next wait returns at once too.
        assert_eq!(wait(&[r.as_fd()], None, Some(&stop), &mut rev).unwrap(), Wake::Stopped);
        assert!(stop.reset().is_empty());
        assert!(!stop.is_stopped());
        assert_eq!(
            wait(&[r.as_fd()], Some(Duration::from_millis(1)), Some(&stop), &mut rev).unwrap(),
            Wake::Timeout
        );
    }

    #[test]
    fn ready_descriptor_and_wake_fd_bytes() {
        let (r, mut w) = std::os::unix::net::UnixStream::pair().unwrap();
        let stop = Stop::new().unwrap();
        w.write_all(b"x").unwrap();
        let mut rev = Vec::new();
        assert_eq!(wait(&[r.as_fd()], None, Some(&stop), &mut rev).unwrap(), Wake::Ready);
        assert_eq!(rev.len(), 1);
        assert_ne!(rev[0] & libc::POLLIN, 0);
        // A byte on the wake fd (as Python's signal wakeup writes) wakes
        // without setting the flag, and reset hands the byte back.
        sys::write_nonblocking(stop.wake_fd(), &[2]);
        assert_eq!(wait(&[r.as_fd()], None, Some(&stop), &mut rev).unwrap(), Wake::Stopped);
        assert!(!stop.is_stopped());
        assert_eq!(stop.reset(), vec![2]);
    }
}
