//! Error types of netobs-capture.

use std::io;

use netobs_core::{ErrorInfo, ErrorKind};

/// Bytes that do not form the header a view expects.
///
/// Views never panic: a buffer too short for its fixed header, or a length
/// field smaller than the header it describes, yields this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends before the fixed header is complete.
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        /// The header being read (`"ethernet"`, `"ipv4"`, ...).
        what: &'static str,
        /// Bytes the header needs.
        need: usize,
        /// Bytes in the buffer.
        have: usize,
    },
    /// A header field has a value the protocol forbids.
    #[error("bad {what}: {value}")]
    Invalid {
        /// The field (`"ipv4 header length"`, `"tcp data offset"`).
        what: &'static str,
        /// The value found.
        value: u32,
    },
}

/// A pcap or pcapng file that cannot be read any further.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading the underlying file failed.
    #[error("reading capture file: {0}")]
    Io(#[from] io::Error),
    /// The file ends in the middle of a header or record.
    #[error("truncated {what} at offset {offset}: need {need} bytes, file has {have} more")]
    Truncated {
        /// What was being read (`"pcap record header"`, `"pcapng block"`).
        what: &'static str,
        /// Offset in the file where the item starts.
        offset: u64,
        /// Bytes the item needs.
        need: usize,
        /// Bytes left in the file.
        have: usize,
    },
    /// The file holds bytes that are not a valid pcap/pcapng structure.
    #[error("corrupt {what} at offset {offset}: {detail}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Offset in the file where the item starts.
        offset: u64,
        /// What is wrong with it.
        detail: String,
    },
}

/// A classic BPF program the kernel would refuse (net/core/filter.c,
/// `bpf_check_classic`), with the instruction at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid BPF program: instruction {pc}: {reason}")]
pub struct CheckError {
    /// Index of the offending instruction (or the program length for
    /// whole-program problems).
    pub pc: usize,
    /// What the kernel would object to.
    pub reason: String,
}

/// A pcap-filter expression that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: {message} at column {column}")]
pub struct FilterError {
    /// 1-based column in the expression where the problem starts.
    pub column: usize,
    /// What was expected or why the construct is refused.
    pub message: String,
}

/// Everything that can go wrong with a packet socket.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done (`"socket(AF_PACKET)"`, `"mmap ring"`).
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The caller lacks a capability.
    #[error("need {cap} to {what}")]
    Permission {
        /// The missing capability.
        cap: &'static str,
        /// What it was needed for.
        what: &'static str,
    },
    /// No interface of that name.
    #[error("interface \"{0}\" not found")]
    NoSuchInterface(String),
    /// The interface disappeared or went down during capture.
    #[error("interface went away or down during capture: {0}")]
    InterfaceDown(io::Error),
    /// A configuration value the kernel would refuse.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A filter program the kernel would refuse.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A filter expression that does not compile.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// An error of netobs-core: a namespace that could not be entered, a
    /// /proc file that could not be read or parsed.
    #[error(transparent)]
    Core(#[from] netobs_core::Error),
}

impl Error {
    /// Wraps an OS error, naming the capability when it is EPERM/EACCES.
    pub(crate) fn os(op: &'static str, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission {
                cap: "CAP_NET_RAW",
                what: match op {
                    "socket(AF_PACKET, SOCK_RAW)" | "socket(AF_PACKET, SOCK_DGRAM)" => "open a packet socket",
                    other => other,
                },
            },
            Some(libc::ENETDOWN) | Some(libc::ENXIO) | Some(libc::ENODEV) => Error::InterfaceDown(source),
            _ => Error::Io { op, source },
        }
    }
}

/// Result of socket operations.
pub type Result<T> = std::result::Result<T, Error>;

impl ErrorInfo for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { source, .. } => source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            Error::Permission { .. } => ErrorKind::Permission,
            Error::NoSuchInterface(_) | Error::InterfaceDown(_) => ErrorKind::NotFound,
            Error::Config(_) | Error::Check(_) | Error::Filter(_) => ErrorKind::InvalidInput,
            Error::Core(e) => e.kind(),
        }
    }

    fn errno(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } | Error::InterfaceDown(source) => source.raw_os_error(),
            Error::Permission { .. } => Some(libc::EPERM),
            Error::NoSuchInterface(_) => Some(libc::ENODEV),
            Error::Config(_) | Error::Check(_) => Some(libc::EINVAL),
            Error::Filter(_) => None,
            Error::Core(e) => e.errno(),
        }
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Permission { cap, .. } => Some(cap),
            Error::Core(e) => e.capability(),
            _ => None,
        }
    }

    fn kernel_message(&self) -> Option<&str> {
        match self {
            Error::Core(e) => e.kernel_message(),
            _ => None,
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::NoSuchInterface(name) => Some(name.clone()),
            Error::Core(e) => e.subject(),
            _ => None,
        }
    }

    fn column(&self) -> Option<usize> {
        match self {
            Error::Filter(f) => Some(f.column),
            _ => None,
        }
    }
}

impl Error {
    /// The errno behind the error, if any (as [`ErrorInfo::errno`]).
    pub fn errno(&self) -> Option<i32> {
        ErrorInfo::errno(self)
    }
}

impl ErrorInfo for FileError {
    fn kind(&self) -> ErrorKind {
        match self {
            FileError::Io(e) => e.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            FileError::Truncated { .. } | FileError::Corrupt { .. } => ErrorKind::Decode,
        }
    }

    fn errno(&self) -> Option<i32> {
        match self {
            FileError::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }
}
