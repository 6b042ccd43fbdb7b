//! Error type of netobs-sockdiag.

use std::io;

/// Everything that can go wrong asking the kernel about sockets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Netlink failed (socket, kernel error with its extended-ack text, decode).
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
    /// A /proc file whose content is not in the expected format.
    #[error("{path}: malformed line {line}: {reason}")]
    ProcFormat {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// The errno behind this error, if it came from the kernel or a syscall.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Netlink(e) => e.errno(),
            Error::Proc { source, .. } => source.raw_os_error(),
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

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
