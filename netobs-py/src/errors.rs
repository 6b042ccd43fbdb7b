//! The one place where Rust errors become Python exceptions.
//!
//! Every binding converts its crate's error with [`IntoPyErr`]; the
//! exception classes live in Python (`netobs/errors.py`), where
//! `_from_errno(errno, message, kernel_message, filename)` picks the class
//! from the errno: EPERM/EACCES give `NetobsPermissionError` (a
//! `PermissionError`), EOPNOTSUPP `NotSupportedError`, ENODEV
//! `InterfaceNotFoundError`, ENOENT `NotFoundError` (a `FileNotFoundError`),
//! anything else `NetobsError`; an error that is the caller's input (a bad
//! filter, an unknown state) names `FilterError`, also a `ValueError`. All
//! are `OSError`s built with `(errno, message)`, so `.errno` and
//! `.strerror` are set.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// What an error says, in the terms `netobs.errors._from_errno` takes.
pub struct ErrorParts {
    /// The errno behind the error, if there is one.
    pub errno: Option<i32>,
    /// The full message: what failed and what to do.
    pub message: String,
    /// The kernel's extended-ack text, when it sent one.
    pub kernel_message: Option<String>,
    /// The file involved (a namespace path), for `OSError.filename`.
    pub filename: Option<String>,
    /// A class chosen by kind rather than errno (`"FilterError"`).
    pub class: Option<&'static str>,
    /// The 1-based column of a bad filter expression.
    pub column: Option<usize>,
}

impl ErrorParts {
    /// An error with only an errno and a message.
    pub fn new(errno: Option<i32>, message: String) -> Self {
        ErrorParts {
            errno,
            message,
            kernel_message: None,
            filename: None,
            class: None,
            column: None,
        }
    }
}

impl ErrorParts {
    /// The Python exception for these parts.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        static FROM_ERRNO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let make = FROM_ERRNO.import(py, "netobs.errors", "_from_errno");
        let made = make.and_then(|f| {
            f.call1((
                self.errno,
                &self.message,
                self.kernel_message,
                self.filename,
                self.class,
                self.column,
            ))
        });
        match made {
            Ok(exc) => PyErr::from_value(exc),
            // The package layer is missing (module imported on its own):
            // still raise an OSError with the errno.
            Err(_) => match self.errno {
                Some(e) => pyo3::exceptions::PyOSError::new_err((e, self.message)),
                None => pyo3::exceptions::PyOSError::new_err(self.message),
            },
        }
    }
}

/// Conversion of a netobs crate's error into a Python exception.
pub trait IntoPyErr {
    /// The parts of the error (errno, message, kernel text, file).
    fn parts(&self) -> ErrorParts;

    /// The Python exception.
    fn into_pyerr(self, py: Python<'_>) -> PyErr
    where
        Self: Sized,
    {
        self.parts().into_pyerr(py)
    }
}

impl IntoPyErr for netobs_core::Error {
    fn parts(&self) -> ErrorParts {
        use netobs_core::Error;
        let kernel_message = match self {
            Error::Kernel { msg, .. } => msg.clone(),
            _ => None,
        };
        let filename = match self {
            Error::NoSuchNetns { name, .. } => Some(name.clone()),
            _ => None,
        };
        ErrorParts {
            kernel_message,
            filename,
            ..ErrorParts::new(self.errno(), self.to_string())
        }
    }
}

impl IntoPyErr for netobs_ethtool::Error {
    fn parts(&self) -> ErrorParts {
        match self {
            netobs_ethtool::Error::Core(e) => e.parts(),
            _ => ErrorParts::new(self.errno(), self.to_string()),
        }
    }
}

impl IntoPyErr for netobs_sockdiag::Error {
    fn parts(&self) -> ErrorParts {
        use netobs_sockdiag::Error;
        match self {
            Error::Netlink(e) => e.parts(),
            Error::Filter { column, .. } => ErrorParts {
                class: Some("FilterError"),
                column: Some(*column),
                ..ErrorParts::new(None, self.to_string())
            },
            Error::UnknownState(_) => ErrorParts {
                class: Some("FilterError"),
                ..ErrorParts::new(None, self.to_string())
            },
            _ => ErrorParts::new(self.errno(), self.to_string()),
        }
    }
}

impl IntoPyErr for netobs_trace::Error {
    fn parts(&self) -> ErrorParts {
        use netobs_trace::Error;
        match self {
            Error::Netlink(e) => e.parts(),
            // The kernel's error_log text says where the expression is wrong.
            Error::Filter { log, .. } => ErrorParts {
                class: Some("FilterError"),
                kernel_message: Some(log.clone()),
                ..ErrorParts::new(self.errno(), self.to_string())
            },
            Error::NoSuchEvent { .. } => ErrorParts::new(Some(libc::ENOENT), self.to_string()),
            Error::Permission { path, .. } => ErrorParts {
                filename: Some(path.display().to_string()),
                ..ErrorParts::new(self.errno(), self.to_string())
            },
            // /proc/kallsyms shows zeros to non-root: a permission problem.
            Error::KallsymsHidden => ErrorParts::new(Some(libc::EPERM), self.to_string()),
            _ => ErrorParts::new(self.errno(), self.to_string()),
        }
    }
}

impl IntoPyErr for netobs_capture::FileError {
    fn parts(&self) -> ErrorParts {
        match self {
            netobs_capture::FileError::Io(e) => ErrorParts::new(e.raw_os_error(), self.to_string()),
            // Truncated or corrupt: NetobsError with the offset in the text.
            _ => ErrorParts::new(None, self.to_string()),
        }
    }
}

impl IntoPyErr for netobs_capture::Error {
    fn parts(&self) -> ErrorParts {
        use netobs_capture::Error;
        match self {
            Error::Netns(e) => e.parts(),
            Error::Filter(f) => ErrorParts {
                class: Some("FilterError"),
                column: Some(f.column),
                ..ErrorParts::new(None, self.to_string())
            },
            Error::Check(_) => ErrorParts {
                class: Some("FilterError"),
                ..ErrorParts::new(Some(libc::EINVAL), self.to_string())
            },
            Error::Io { source, .. } | Error::InterfaceDown(source) => {
                ErrorParts::new(source.raw_os_error(), self.to_string())
            }
            Error::Permission { .. } => ErrorParts::new(Some(libc::EPERM), self.to_string()),
            Error::NoSuchInterface(name) => ErrorParts {
                filename: Some(name.clone()),
                ..ErrorParts::new(Some(libc::ENODEV), self.to_string())
            },
            Error::Config(_) => ErrorParts::new(Some(libc::EINVAL), self.to_string()),
        }
    }
}

/// `result.map_err(|e| e.into_pyerr(py))` in one call.
pub trait PyResultExt<T> {
    /// Converts the error into its Python exception.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T, E: IntoPyErr> PyResultExt<T> for Result<T, E> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| e.into_pyerr(py))
    }
}
