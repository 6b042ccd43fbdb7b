//! The one place where Rust errors become Python exceptions.
//!
//! Every binding converts its crate's error with [`IntoPyErr`], one
//! implementation for all crates over [`ErrorInfo`]; the exception classes
//! live in Python (`netobs/errors.py`), where `_from_errno(errno, message,
//! kernel_message, filename, kind, column)` picks the class from the kind:
//! permission gives `NetobsPermissionError` (a `PermissionError`),
//! unsupported `NotSupportedError`, not found `InterfaceNotFoundError`
//! (ENODEV) or `NotFoundError` (a `FileNotFoundError`), invalid input
//! `FilterError` (a `ValueError`), anything else `NetobsError`. All are
//! `OSError`s built with `(errno, message)`, so `.errno` and `.strerror`
//! are set.

use netobs_core::ErrorInfo;
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
    /// The error's kind ([`netobs_core::ErrorKind::name`]), which picks
    /// the class.
    pub kind: Option<&'static str>,
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
            kind: None,
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
                self.kind,
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

/// Conversion of a netobs crate's error into a Python exception: one
/// conversion for every crate, through the errors' common vocabulary
/// ([`ErrorInfo`]: kind, errno, kernel text, subject, column).
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

impl<E: ErrorInfo> IntoPyErr for E {
    fn parts(&self) -> ErrorParts {
        ErrorParts {
            errno: self.errno(),
            message: self.to_string(),
            kernel_message: self.kernel_message().map(str::to_owned),
            filename: self.subject(),
            kind: Some(self.kind().name()),
            column: self.column(),
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
