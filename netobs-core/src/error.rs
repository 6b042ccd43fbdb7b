//! Error types of netobs-core.

use std::io;

/// Bytes that do not form a valid netlink message or attribute.
///
/// Every parser of kernel bytes returns this instead of panicking; the
/// `offset` is relative to the buffer handed to the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer ends before a header or fixed-size struct is complete.
    #[error("truncated {what}: need {need} bytes at offset {offset}, have {have}")]
    Truncated {
        /// What was being read (`"nlmsghdr"`, `"ifinfomsg"`, ...).
        what: &'static str,
        /// Offset of the item in the buffer.
        offset: usize,
        /// Bytes the item needs.
        need: usize,
        /// Bytes left in the buffer.
        have: usize,
    },
    /// A length field is smaller than its own header or runs past the buffer.
    #[error("bad length {len} in {what} at offset {offset} (buffer has {avail} bytes)")]
    BadLength {
        /// What carried the length (`"nlattr"`, `"nlmsghdr"`).
        what: &'static str,
        /// Offset of the header in the buffer.
        offset: usize,
        /// The length field's value.
        len: usize,
        /// Bytes available from the header on.
        avail: usize,
    },
    /// An attribute payload has the wrong size for its type.
    #[error("attribute {kind} has {len} bytes, expected {expected}")]
    AttrSize {
        /// Attribute type.
        kind: u16,
        /// Payload length found.
        len: usize,
        /// Payload length expected.
        expected: usize,
    },
    /// A string attribute is not valid UTF-8 or lacks its NUL terminator.
    #[error("attribute {kind} is not a valid string")]
    BadString {
        /// Attribute type.
        kind: u16,
    },
}

/// Everything that can go wrong talking to the kernel over netlink.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done (`"open netlink socket"`, `"recv"`, ...).
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The kernel answered with NLMSG_ERROR (or an error in NLMSG_DONE).
    #[error("{}", kernel_error_text(*errno, msg.as_deref(), *offset))]
    Kernel {
        /// Positive errno (EPERM, ENODEV, ...).
        errno: i32,
        /// Extended-ack message text (NLMSGERR_ATTR_MSG), if the kernel sent one.
        msg: Option<String>,
        /// Extended-ack offset of the offending attribute in the request.
        offset: Option<u32>,
    },
    /// Malformed bytes from the kernel.
    #[error("malformed netlink data: {0}")]
    Decode(#[from] DecodeError),
    /// The dump was interrupted by a concurrent change (NLM_F_DUMP_INTR):
    /// its content may be inconsistent and the caller should dump again.
    #[error("dump interrupted by a concurrent change (NLM_F_DUMP_INTR); retry")]
    DumpInterrupted,
    /// The socket's receive queue overflowed (ENOBUFS): messages were lost.
    #[error("netlink receive buffer overrun (ENOBUFS): messages were lost")]
    Overrun,
    /// A datagram was larger than the receive buffer could hold.
    #[error("netlink datagram of {len} bytes truncated to {cap}")]
    Truncated {
        /// Real datagram length.
        len: usize,
        /// Buffer capacity.
        cap: usize,
    },
    /// No such interface.
    #[error("interface \"{0}\" not found")]
    NoSuchInterface(String),
    /// No such network namespace.
    #[error("network namespace \"{name}\" not found: {source}")]
    NoSuchNetns {
        /// Name or path given.
        name: String,
        /// The error from opening it.
        #[source]
        source: io::Error,
    },
    /// Missing privilege for an operation.
    #[error("need {cap} to {what}")]
    Permission {
        /// The capability that is missing (`"CAP_SYS_ADMIN"`).
        cap: &'static str,
        /// What was attempted.
        what: &'static str,
    },
    /// A generic netlink family is not registered in this kernel.
    #[error("generic netlink family \"{0}\" is not available in this kernel")]
    NoSuchFamily(String),
    /// The kernel sent something the protocol does not allow here.
    #[error("unexpected netlink reply: {0}")]
    Protocol(&'static str),
}

fn kernel_error_text(errno: i32, msg: Option<&str>, offset: Option<u32>) -> String {
    let os = io::Error::from_raw_os_error(errno);
    let mut s = format!("kernel error: {os}");
    if let Some(m) = msg {
        s.push_str(": ");
        s.push_str(m);
    }
    if let Some(o) = offset {
        s.push_str(&format!(" (at request offset {o})"));
    }
    s
}

impl Error {
    /// The errno behind this error, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } | Error::NoSuchNetns { source, .. } => source.raw_os_error(),
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Overrun => Some(libc::ENOBUFS),
            Error::NoSuchInterface(_) => Some(libc::ENODEV),
            Error::Permission { .. } => Some(libc::EPERM),
            Error::NoSuchFamily(_) => Some(libc::ENOENT),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str, source: io::Error) -> Self {
        Error::Io { op, source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
