//! Errors of netobs-trace: each says what failed and what to do about it.

use std::io;
use std::path::PathBuf;

use netobs_core::{ErrorInfo, ErrorKind};

/// Everything that can go wrong controlling tracefs or decoding its data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No tracefs at the usual places.
    #[error(
        "tracefs is not mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing: \
         mount it with `mount -t tracefs nodev /sys/kernel/tracing` (or Tracefs::find_or_mount as root)"
    )]
    NotMounted,
    /// The caller lacks the privilege for a tracefs file.
    #[error("need root (CAP_SYS_ADMIN) to {what}: {path}: permission denied (EACCES)")]
    Permission {
        /// What was being done.
        what: String,
        /// The tracefs file.
        path: PathBuf,
    },
    /// The kernel refused a tracing feature; `errno` names the exact errno.
    #[error("kernel refused {what} ({errno}): {path}{}", hint_text(hint))]
    Refused {
        /// The feature (`"the function tracer"`, `"set_ftrace_filter"`, ...).
        what: String,
        /// Symbolic errno: `"EPERM"`, `"EINVAL"`, ...
        errno: &'static str,
        /// The tracefs file written.
        path: PathBuf,
        /// Why, when known (lockdown, missing config option, ...).
        hint: Option<String>,
    },
    /// A feature this kernel does not offer (a control file missing, a
    /// tracer not listed): `path` is the file that shows it.
    #[error("{what} is not available ({why}): {}", path.display())]
    Unsupported {
        /// The feature.
        what: String,
        /// The missing file.
        path: PathBuf,
        /// The kernel configuration that provides it.
        why: &'static str,
    },
    /// A tracepoint that does not exist in the running kernel.
    #[error("event {system}:{event} does not exist in this kernel (see {} for the list)", available.display())]
    NoSuchEvent {
        /// Event system (`skb`).
        system: String,
        /// Event name (`kfree_skb`).
        event: String,
        /// The available_events file.
        available: PathBuf,
    },
    /// The kernel rejected an event filter; `log` is its error_log entry.
    #[error("kernel rejected filter {filter:?} on {event} (EINVAL): {log}")]
    Filter {
        /// `system:event`.
        event: String,
        /// The filter text written.
        filter: String,
        /// The instance's error_log text for it.
        log: String,
    },
    /// A field the caller asked for is not in the event.
    #[error("event {event} has no field {field:?} (fields: {known})")]
    NoSuchField {
        /// Event name.
        event: String,
        /// Field asked for.
        field: String,
        /// The names that exist, comma separated.
        known: String,
    },
    /// A format file or tracefs text that does not parse.
    #[error("cannot parse {what}: {msg}")]
    Parse {
        /// What was parsed (`events/skb/kfree_skb/format`).
        what: String,
        /// What is wrong.
        msg: String,
    },
    /// A ring-buffer sub-buffer that does not parse.
    #[error("ring buffer page from cpu {cpu}: {source}")]
    Page {
        /// The CPU whose buffer gave the page.
        cpu: u32,
        /// What is wrong with it.
        #[source]
        source: crate::ring::PageError,
    },
    /// /proc/kallsyms shows zero addresses.
    #[error("/proc/kallsyms shows zero addresses: need root (kptr_restrict hides them from others)")]
    KallsymsHidden,
    /// Any other system call failure on a path.
    #[error("{what} {}: {}", path.display(), io_text(source))]
    Io {
        /// What was being done.
        what: String,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A netlink error from netobs-core (the NET_DM backend).
    #[error(transparent)]
    Netlink(#[from] netobs_core::Error),
    /// The TCP join's [`crate::SocketStates`] source failed (a sock_diag
    /// dump, for the facade's).
    #[error("look up socket states: {source}")]
    SocketStates {
        /// The OS errno behind it, when there is one.
        errno: Option<i32>,
        /// The source's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// An OS error as strerror text and errno name (`Permission denied
/// (EACCES)`), without Rust's " (os error N)".
fn io_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{} ({})", netobs_core::error::strerror(n), errno_name(n)),
        None => e.to_string(),
    }
}

fn hint_text(h: &Option<String>) -> String {
    match h {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The symbolic name of an errno value (`EPERM`), for error text that tests
/// and users can match exactly.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        _ => "errno",
    }
}

impl Error {
    /// An I/O error on `path`, mapped to [`Error::Permission`] for EACCES.
    pub(crate) fn io(what: impl Into<String>, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let what = what.into();
        let path = path.into();
        if source.raw_os_error() == Some(libc::EACCES) {
            return Error::Permission { what, path };
        }
        Error::Io { what, path, source }
    }

    /// The OS errno behind this error, when there is one (as
    /// [`ErrorInfo::errno`]).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            Error::Permission { .. } => Some(libc::EACCES),
            Error::Refused { errno, .. } => [
                libc::EPERM,
                libc::EINVAL,
                libc::EBUSY,
                libc::ENODEV,
                libc::ENOENT,
                libc::EROFS,
                libc::EACCES,
            ]
            .into_iter()
            .find(|e| errno_name(*e) == *errno),
            Error::Filter { .. } => Some(libc::EINVAL),
            // A feature the running kernel does not offer.
            Error::Unsupported { .. } => Some(libc::EOPNOTSUPP),
            Error::Netlink(e) => e.errno(),
            Error::SocketStates { errno, .. } => *errno,
            // /proc/kallsyms shows zeros to non-root: a permission problem.
            Error::KallsymsHidden => Some(libc::EPERM),
            Error::NoSuchEvent { .. } => Some(libc::ENOENT),
            _ => None,
        }
    }
}

impl ErrorInfo for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NotMounted | Error::Unsupported { .. } | Error::NoSuchField { .. } => ErrorKind::Unsupported,
            Error::Permission { .. } | Error::KallsymsHidden => ErrorKind::Permission,
            Error::Refused { .. } => match self.errno() {
                Some(e) => match ErrorKind::from_errno(e) {
                    k @ (ErrorKind::Permission | ErrorKind::NotFound | ErrorKind::Unsupported) => k,
                    _ => ErrorKind::Kernel,
                },
                None => ErrorKind::Kernel,
            },
            Error::NoSuchEvent { .. } => ErrorKind::NotFound,
            Error::Filter { .. } => ErrorKind::InvalidInput,
            Error::Parse { .. } | Error::Page { .. } => ErrorKind::Decode,
            Error::Io { source, .. } => source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            Error::Netlink(e) => e.kind(),
            Error::SocketStates { errno, .. } => errno.map_or(ErrorKind::Io, ErrorKind::from_errno),
        }
    }

    fn errno(&self) -> Option<i32> {
        Error::errno(self)
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Permission { .. } | Error::KallsymsHidden => Some("CAP_SYS_ADMIN"),
            Error::Netlink(e) => e.capability(),
            _ => None,
        }
    }

    fn kernel_message(&self) -> Option<&str> {
        match self {
            Error::Filter { log, .. } => Some(log),
            Error::Netlink(e) => e.kernel_message(),
            _ => None,
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::Permission { path, .. }
            | Error::Refused { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Io { path, .. } => Some(path.display().to_string()),
            Error::NoSuchEvent { system, event, .. } => Some(format!("{system}:{event}")),
            Error::Netlink(e) => e.subject(),
            _ => None,
        }
    }
}
