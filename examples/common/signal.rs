//! SIGINT/SIGTERM for the examples (included with `#[path]`): the libraries
//! install no signal handler, so each tool installs this one, which trips a
//! [`Stop`] that its blocking calls were given. The handler is installed
//! with SA_RESETHAND: a second Ctrl-C kills a tool that does not stop.

use std::sync::OnceLock;

use netobs::core::stop::Stop;

static STOP: OnceLock<Stop> = OnceLock::new();

extern "C" fn on_signal(_sig: libc::c_int) {
    // OnceLock::get is an atomic load; Stop::stop is an atomic store and
    // one write(2): both async-signal-safe.
    if let Some(stop) = STOP.get() {
        stop.stop();
    }
}

/// A stop handle tripped by the first SIGINT or SIGTERM.
pub fn stop_on_signals() -> std::io::Result<Stop> {
    let new = Stop::new()?;
    let stop = STOP.get_or_init(|| new).clone();
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is valid (empty mask); the handler is
        // an extern "C" fn that does only async-signal-safe work; no
        // SA_RESTART, so a blocked poll returns as well.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(stop)
}
