//! The `netns=` argument every call takes, as `ip -n` and `ss -N` do.
//!
//! - `None`: the caller's own namespace;
//! - a `str` without `/`: a name from `ip netns add` (`/run/netns/NAME`);
//! - a `str` with `/` or an `os.PathLike`: a namespace file
//!   (`/proc/PID/ns/net`, a bind mount);
//! - an `int`: an open namespace file descriptor (it is duplicated, the
//!   caller keeps theirs).

use std::path::PathBuf;

use netobs_core::Netns;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// Converts the `netns=` argument.
pub fn netns_arg(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Netns> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(Netns::Current);
    };
    if let Ok(s) = arg.extract::<String>() {
        if s.is_empty() {
            return Err(PyValueError::new_err("netns: empty namespace name"));
        }
        return Ok(Netns::from(s.as_str()));
    }
    if arg.is_instance_of::<pyo3::types::PyInt>() {
        let fd: i32 = arg.extract()?;
        if fd < 0 {
            return Err(PyValueError::new_err(format!("netns: bad file descriptor {fd}")));
        }
        // Opening /proc/self/fd/N opens the namespace file again, so the
        // caller keeps its own descriptor and no unsafe borrow is needed.
        return Ok(Netns::Path(PathBuf::from(format!("/proc/self/fd/{fd}"))));
    }
    if let Ok(p) = arg.extract::<PathBuf>() {
        return Ok(Netns::Path(p));
    }
    Err(PyTypeError::new_err(format!(
        "netns: expected None, a namespace name or path, or a file descriptor, not {}",
        arg.get_type().name()?
    )))
}
