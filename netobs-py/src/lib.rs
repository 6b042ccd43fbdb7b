//! `netobs._netobs`, the compiled half of the `netobs` Python package.
//!
//! One Rust module per kernel interface binds it (`links` and `stats` for
//! netobs-core's rtnetlink, `ethtool` for netobs-ethtool, `sockets` for
//! netobs-sockdiag, `trace` for netobs-trace, `capture` for netobs-capture); they share the `netns=`
//! argument (`netns`), the error mapping (`errors`) and the column-wise
//! tables (`table`). The Python layer (python/netobs/) defines the row
//! types, the `Table` class and the exception classes, and re-exports
//! everything as `netobs.*`. Blocking kernel work runs without the GIL.
#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]

mod capture;
mod diagnose;
mod errors;
mod ethtool;
mod links;
mod netns;
mod sockets;
mod stats;
mod table;
mod trace;
mod wait;

use pyo3::prelude::*;

/// Python's `repr()` of an optional string (`'eth0'`, `None`), for the
/// classes' own reprs: Rust's `{:?}` quoting is not Python's.
pub(crate) fn py_repr(py: Python<'_>, s: Option<&str>) -> String {
    match s {
        None => "None".to_owned(),
        Some(s) => pyo3::types::PyString::new(py, s)
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| format!("'{s}'")),
    }
}

#[pymodule]
fn _netobs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    links::register(m)?;
    stats::register(m)?;
    ethtool::register(m)?;
    sockets::register(m)?;
    trace::register(m)?;
    capture::register(m)?;
    diagnose::register(m)?;
    Ok(())
}
