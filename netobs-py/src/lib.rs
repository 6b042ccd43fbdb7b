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
mod errors;
mod ethtool;
mod links;
mod netns;
mod sockets;
mod stats;
mod table;
mod trace;

use pyo3::prelude::*;

#[pymodule]
fn _netobs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    links::register(m)?;
    stats::register(m)?;
    ethtool::register(m)?;
    sockets::register(m)?;
    trace::register(m)?;
    capture::register(m)?;
    Ok(())
}
