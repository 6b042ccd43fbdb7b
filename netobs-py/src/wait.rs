//! Blocking calls that Ctrl-C ends at once, through Python's own signal
//! machinery and without time slices.
//!
//! CPython's C-level signal handler only sets a flag; the Python handler
//! (KeyboardInterrupt) runs when the main thread is back in the
//! interpreter. So that a wait in Rust ends at once, [`blocking`] points
//! `signal.set_wakeup_fd` at the write end of the call's [`Stop`] while the
//! wait runs without the GIL: the C handler writes the signal number
//! there, which wakes the poll(2) the libraries block in. Then the Python
//! handlers run (`PyErr_CheckSignals`), and a KeyboardInterrupt propagates.
//! The previous wakeup fd (asyncio's, for one) is restored and handed the
//! bytes it missed. Off the main thread Python runs no signal handlers, and
//! `set_wakeup_fd` refuses; the call then simply waits.

use std::os::fd::AsRawFd;

use netobs_core::stop::Stop;
use pyo3::exceptions::PyValueError;
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// Runs `f` without the GIL with signals waking `stop`, then runs Python's
/// signal handlers (which may raise KeyboardInterrupt). `f` must give
/// `stop` to the calls it blocks in (`set_stop`) and return when they do.
pub(crate) fn blocking<T, F>(py: Python<'_>, stop: &Stop, f: F) -> PyResult<T>
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    let signal = py.import("signal")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("warn_on_full_buffer", false)?;
    let previous: Option<i32> = match signal.call_method("set_wakeup_fd", (stop.wake_fd().as_raw_fd(),), Some(&kwargs))
    {
        Ok(old) => Some(old.extract()?),
        // "set_wakeup_fd only works in main thread of the main interpreter"
        Err(e) if e.is_instance_of::<PyValueError>(py) => None,
        Err(e) => return Err(e),
    };
    let out = py.detach(f);
    if let Some(old) = previous {
        signal.call_method1("set_wakeup_fd", (old,))?;
        let missed = stop.reset();
        if old >= 0 && !missed.is_empty() {
            // Best effort, as CPython's own handler does: a full or closed
            // descriptor loses the wakeup, not the signal.
            let _ = py.import("os")?.call_method1("write", (old, PyBytes::new(py, &missed)));
        }
    }
    py.check_signals()?;
    Ok(out)
}

/// A new stop handle, the OSError of pipe2(2) as a Python error.
pub(crate) fn new_stop() -> PyResult<Stop> {
    Stop::new().map_err(PyErr::from)
}
