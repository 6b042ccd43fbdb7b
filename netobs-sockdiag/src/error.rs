//! Error type of netobs-sockdiag.

use std::io;

use netobs_core::{ErrorInfo, ErrorKind};

/// Everything that can go wrong asking the kernel about sockets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Netlink failed (socket, kernel error with its extended-ack text,
    /// decode), or a /proc file was not in the kernel's layout.
    #[error(transparent)]
    Netlink(#[from] netobs_core::Error),
    /// An ss filter expression that does not parse; `column` counts from 1
    /// in the expression joined with single spaces.
    #[error("filter: {message} at column {column}")]
    Filter {
        /// 1-based column of the offending token.
        column: usize,
        /// What was expected or what is wrong.
        message: String,
    },
    /// A state name ss does not know.
    #[error("unknown socket state \"{0}\" (expected e.g. established, syn-sent, listening, all, connected)")]
    UnknownState(String),
    /// Reading a /proc file failed.
    #[error("{path}: {source}")]
    Proc {
        /// The file or directory.
        path: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Listing one table failed ("listing raw sockets over IPv6: ..."):
    /// the table named, the cause kept (errno, kind and kernel text are
    /// its).
    #[error("listing {table}: {source}")]
    Listing {
        /// The table: "tcp sockets over IPv4", "unix sockets", ...
        table: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// The errno behind this error, if it came from the kernel or a syscall.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Netlink(e) => e.errno(),
            Error::Proc { source, .. } => source.raw_os_error(),
            Error::Listing { source, .. } => source.errno(),
            _ => None,
        }
    }

    pub(crate) fn proc(path: impl Into<String>, source: io::Error) -> Self {
        Error::Proc {
            path: path.into(),
            source,
        }
    }
}

impl ErrorInfo for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Netlink(e) => e.kind(),
            Error::Filter { .. } | Error::UnknownState(_) => ErrorKind::InvalidInput,
            Error::Proc { source, .. } => source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            Error::Listing { source, .. } => source.kind(),
        }
    }

    fn errno(&self) -> Option<i32> {
        Error::errno(self)
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Netlink(e) => e.capability(),
            Error::Listing { source, .. } => source.capability(),
            _ => None,
        }
    }

    fn kernel_message(&self) -> Option<&str> {
        match self {
            Error::Netlink(e) => e.kernel_message(),
            Error::Listing { source, .. } => source.kernel_message(),
            _ => None,
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::Netlink(e) => e.subject(),
            Error::Proc { path, .. } => Some(path.clone()),
            Error::Listing { source, .. } => source.subject(),
            _ => None,
        }
    }

    fn column(&self) -> Option<usize> {
        match self {
            Error::Filter { column, .. } => Some(*column),
            _ => None,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
