//! Error types of netobs-core, and the one error vocabulary every netobs
//! crate speaks: [`ErrorKind`] and [`ErrorInfo`].

use std::io;

/// What kind of failure an error is, in the same words for every netobs
/// crate, so a tool or a binding maps errors without matching each crate's
/// variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such interface, namespace, event, field or file (ENOENT, ENODEV).
    NotFound,
    /// A privilege is missing (EPERM, EACCES): [`ErrorInfo::capability`]
    /// names the capability when it is known.
    Permission,
    /// The running kernel or the driver does not offer this (EOPNOTSUPP, a
    /// missing generic-netlink family, event field or tracer).
    Unsupported,
    /// The kernel refused the request; the Display text carries its errno
    /// and extended-ack message.
    Kernel,
    /// Malformed bytes from the kernel or from a file.
    Decode,
    /// The answer was interrupted or lost messages (NLM_F_DUMP_INTR,
    /// ENOBUFS, EINTR): asking again may succeed.
    Interrupted,
    /// The caller's input is invalid: a filter that does not parse, an
    /// unknown name, a configuration the kernel cannot take.
    InvalidInput,
    /// Any other system call failure.
    Io,
}

impl ErrorKind {
    /// The kind an errno alone says.
    pub fn from_errno(errno: i32) -> ErrorKind {
        match errno {
            libc::EPERM | libc::EACCES => ErrorKind::Permission,
            libc::ENOENT | libc::ENODEV | libc::ENXIO | libc::ESRCH => ErrorKind::NotFound,
            libc::EOPNOTSUPP | libc::EPROTONOSUPPORT | libc::EAFNOSUPPORT | libc::ENOSYS => ErrorKind::Unsupported,
            libc::EINTR | libc::ENOBUFS | libc::EAGAIN => ErrorKind::Interrupted,
            libc::EINVAL | libc::ERANGE | libc::E2BIG => ErrorKind::InvalidInput,
            _ => ErrorKind::Io,
        }
    }

    /// A short lower-case name (`"not_found"`, `"permission"`, ...), for
    /// bindings and logs.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Permission => "permission",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Kernel => "kernel",
            ErrorKind::Decode => "decode",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Io => "io",
        }
    }
}

/// What every netobs crate's error tells beyond its Display text.
pub trait ErrorInfo: std::error::Error {
    /// The kind of failure.
    fn kind(&self) -> ErrorKind;
    /// The OS errno behind it, when there is one.
    fn errno(&self) -> Option<i32>;
    /// For [`ErrorKind::Permission`]: the capability that would allow it
    /// (`"CAP_NET_ADMIN"`), when known.
    fn capability(&self) -> Option<&'static str> {
        None
    }
    /// The kernel's own explanation (netlink extended ack, tracefs
    /// error_log), when it sent one.
    fn kernel_message(&self) -> Option<&str> {
        None
    }
    /// The byte offset in the request of the attribute the kernel's
    /// extended ack points at, when it sent one.
    fn kernel_offset(&self) -> Option<u32> {
        None
    }
    /// The file or object involved (a namespace path, an interface name).
    fn subject(&self) -> Option<String> {
        None
    }
    /// For a filter expression that does not parse: its 1-based column.
    fn column(&self) -> Option<usize> {
        None
    }
}

/// strerror(3)'s text of `errno` (`"Permission denied"`), without the
/// ` (os error N)` that Rust's io::Error Display appends: what iproute2,
/// ethtool and ss print after their own words.
pub fn strerror(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

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
    /// A network namespace that cannot be opened: absent (ENOENT), or not
    /// ours to open (EACCES/EPERM: another user's /proc/PID/ns/net).
    #[error("cannot open network namespace \"{name}\": {}{}", strerror(source.raw_os_error().unwrap_or(0)), netns_hint(source))]
    Netns {
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
    /// A /proc file that does not have the layout the kernel writes.
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

fn netns_hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => " (need root, or CAP_SYS_ADMIN and ptrace access to the process)",
        _ => "",
    }
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
            Error::Io { source, .. } | Error::Netns { source, .. } => source.raw_os_error(),
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

impl ErrorInfo for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { source, .. } | Error::Netns { source, .. } => {
                source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno)
            }
            Error::Kernel { errno, .. } => match ErrorKind::from_errno(*errno) {
                k @ (ErrorKind::Permission | ErrorKind::NotFound | ErrorKind::Unsupported) => k,
                _ => ErrorKind::Kernel,
            },
            Error::Decode(_) | Error::Protocol(_) | Error::Truncated { .. } | Error::ProcFormat { .. } => {
                ErrorKind::Decode
            }
            Error::DumpInterrupted | Error::Overrun => ErrorKind::Interrupted,
            Error::NoSuchInterface(_) => ErrorKind::NotFound,
            Error::Permission { .. } => ErrorKind::Permission,
            Error::NoSuchFamily(_) => ErrorKind::Unsupported,
        }
    }

    fn errno(&self) -> Option<i32> {
        Error::errno(self)
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Permission { cap, .. } => Some(cap),
            Error::Netns { .. } if self.kind() == ErrorKind::Permission => Some("CAP_SYS_ADMIN"),
            // Netlink requests that change or reveal privileged state.
            Error::Kernel { errno: libc::EPERM, .. } => Some("CAP_NET_ADMIN"),
            _ => None,
        }
    }

    fn kernel_message(&self) -> Option<&str> {
        match self {
            Error::Kernel { msg, .. } => msg.as_deref(),
            _ => None,
        }
    }

    fn kernel_offset(&self) -> Option<u32> {
        match self {
            Error::Kernel { offset, .. } => *offset,
            _ => None,
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::Netns { name, .. } => Some(name.clone()),
            Error::NoSuchInterface(name) => Some(name.clone()),
            Error::NoSuchFamily(name) => Some(name.clone()),
            Error::ProcFormat { path, .. } => Some(path.clone()),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
