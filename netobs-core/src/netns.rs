//! Network namespaces (`ip netns`, setns(2), /run/netns).
//!
//! A socket belongs to the network namespace of the thread that created it,
//! for its whole life. So netobs opens a socket "inside" a namespace by
//! creating it on a short-lived helper thread that has joined the namespace
//! with setns(2); the caller's own thread never moves.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys;

/// Where `ip netns add NAME` bind-mounts its namespaces (iproute2's NETNS_RUN_DIR).
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// A network namespace to work in.
#[derive(Debug, Default)]
pub enum Netns {
    /// The caller's own namespace.
    #[default]
    Current,
    /// A namespace file: `/run/netns/NAME`, `/proc/PID/ns/net`, ...
    Path(PathBuf),
    /// An open namespace descriptor.
    Fd(OwnedFd),
}

impl Netns {
    /// The namespace `ip netns add NAME` created (`/run/netns/NAME`), as
    /// `ip -n NAME` finds it.
    pub fn named(name: &str) -> Self {
        Netns::Path(Path::new(NETNS_RUN_DIR).join(name))
    }

    /// A namespace given by the path of its file.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Netns::Path(path.into())
    }

    /// The namespace of process `pid` (`/proc/PID/ns/net`).
    pub fn of_pid(pid: u32) -> Self {
        Netns::Path(PathBuf::from(format!("/proc/{pid}/ns/net")))
    }

    /// Whether this is the caller's own namespace.
    pub fn is_current(&self) -> bool {
        matches!(self, Netns::Current)
    }

    /// Opens the namespace file (None for the current namespace).
    pub fn open(&self) -> Result<Option<OwnedFd>> {
        match self {
            Netns::Current => Ok(None),
            Netns::Path(p) => File::open(p).map(|f| Some(f.into())).map_err(|source| Error::Netns {
                name: p.display().to_string(),
                source,
            }),
            Netns::Fd(fd) => fd.try_clone().map(Some).map_err(|e| Error::io("dup netns fd", e)),
        }
    }

    /// Runs `f` on a helper thread that has joined this namespace and returns
    /// its result; for [`Netns::Current`] `f` runs on the caller's thread.
    /// Sockets that `f` creates belong to the namespace for their lifetime.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        let Some(fd) = self.open()? else {
            return Ok(f());
        };
        std::thread::scope(|s| {
            s.spawn(move || {
                sys::setns_net(fd.as_fd()).map_err(|e| match e.raw_os_error() {
                    Some(libc::EPERM) => Error::Permission {
                        cap: "CAP_SYS_ADMIN",
                        what: "enter a network namespace",
                    },
                    _ => Error::io("setns(CLONE_NEWNET)", e),
                })?;
                Ok(f())
            })
            .join()
            .map_err(|_| Error::Protocol("namespace helper thread panicked"))?
        })
    }
}

impl From<&str> for Netns {
    /// A bare name means `/run/netns/NAME`; anything with a `/` is a path.
    fn from(s: &str) -> Self {
        if s.contains('/') {
            Netns::path(s)
        } else {
            Netns::named(s)
        }
    }
}
