//! tracefs control: finding (or mounting) tracefs, private trace instances,
//! events, filters, triggers, buffer settings, tracers and dynamic events.
//!
//! Every change is made inside a private instance (`instances/NAME`,
//! Documentation/trace/ftrace.rst "Instances"): it has its own buffers,
//! event enables, filters, trace_clock and tracing_on, so global tracing
//! state and other users of tracefs are never touched. The instance
//! directory is removed when the last handle to it is dropped; readers hold
//! a handle, so it is removed only after every file in it is closed (rmdir
//! gives EBUSY while a file is open). An instance left by a killed process
//! (`netobs-PID-...` with PID gone) is removed by name on the next run.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::error::{errno_name, Error, Result};
use crate::format::EventFormat;
use crate::ring::PageLayout;

/// Places tracefs is found, in order.
pub const TRACEFS_PLACES: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// Prefix of every instance netobs creates: `netobs-PID-PURPOSE-N`.
pub const INSTANCE_PREFIX: &str = "netobs";

/// A mounted tracefs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracefs {
    root: PathBuf,
}

/// Reads a whole tracefs file with large reads. Small reads can lose data:
/// events/header_page answers std's 32-byte probe read and then reports
/// end of file at the wrong position, so never read these files in pieces
/// smaller than a page.
fn read_text(path: &Path, what: &str) -> Result<String> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut f = File::open(path).map_err(|e| Error::io(format!("open {what}"), path, e))?;
    loop {
        match f.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("read {what}"), path, e)),
        }
    }
    String::from_utf8(out).map_err(|_| Error::Parse {
        what: what.to_owned(),
        msg: "not UTF-8 text".into(),
    })
}

impl Tracefs {
    /// Finds a mounted tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing.
    /// A place the caller may not look into (mode 0700 for root: every
    /// non-root user) is a permission problem, not an absent tracefs.
    pub fn find() -> Result<Self> {
        for place in TRACEFS_PLACES.iter().map(Path::new) {
            let events = place.join("events");
            match std::fs::metadata(&events) {
                Ok(m) if m.is_dir() && place.join("instances").is_dir() => {
                    return Ok(Tracefs { root: place.to_owned() })
                }
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    return Err(Error::Permission {
                        what: "read tracefs".into(),
                        path: place.to_owned(),
                    })
                }
                _ => {}
            }
        }
        Err(Error::NotMounted)
    }

    /// Finds tracefs, mounting it at /sys/kernel/tracing when it is absent
    /// (needs CAP_SYS_ADMIN).
    pub fn find_or_mount() -> Result<Self> {
        match Self::find() {
            Ok(t) => return Ok(t),
            // Mounted, but not ours to read: mounting cannot help.
            Err(e @ Error::Permission { .. }) => return Err(e),
            Err(_) => {}
        }
        let target = Path::new(TRACEFS_PLACES[0]);
        crate::sys::mount_tracefs(target).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) => Error::Permission {
                what: "mount tracefs".into(),
                path: target.to_owned(),
            },
            _ => Error::io("mount -t tracefs nodev", target, e),
        })?;
        Self::find()
    }

    /// Uses tracefs mounted at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        if !root.join("events").is_dir() {
            return Err(Error::NotMounted);
        }
        Ok(Tracefs { root })
    }

    /// The mount point.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads a top-level tracefs file.
    pub fn read(&self, file: &str) -> Result<String> {
        read_text(&self.root.join(file), file)
    }

    /// Every event of the running kernel as `(system, event)`, from available_events.
    pub fn available_events(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .read("available_events")?
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(s, e)| (s.to_owned(), e.to_owned()))
            .collect())
    }

    /// The event's directory, or [`Error::NoSuchEvent`].
    pub fn event_dir(&self, system: &str, event: &str) -> Result<PathBuf> {
        event_dir(&self.root, &self.root, system, event)
    }

    /// Parses `events/SYSTEM/EVENT/format`.
    pub fn event_format(&self, system: &str, event: &str) -> Result<EventFormat> {
        let path = self.event_dir(system, event)?.join("format");
        let what = format!("events/{system}/{event}/format");
        EventFormat::parse(&read_text(&path, &what)?, &what)
    }

    /// The sub-buffer header layout, from `events/header_page`.
    pub fn page_layout(&self) -> Result<PageLayout> {
        PageLayout::parse(&self.read("events/header_page")?)
    }

    /// Creates instance `name` (EEXIST if it exists). It is removed on drop.
    pub fn create_instance(&self, name: &str) -> Result<Instance> {
        let path = self.root.join("instances").join(name);
        fs::create_dir(&path).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission {
                what: "create a trace instance".into(),
                path: path.clone(),
            },
            _ => Error::io("create trace instance", &path, e),
        })?;
        Ok(Instance {
            dir: Arc::new(InstanceDir {
                tracefs: self.clone(),
                name: name.to_owned(),
                path,
                owned: true,
            }),
        })
    }

    /// The top-level instance (tracefs's root), shared with every other
    /// tracing user of the machine: never removed, and whoever changes
    /// its settings must put them back. Some controls exist only there
    /// (set_graph_function, max_graph_depth).
    pub fn top_level(&self) -> Instance {
        Instance {
            dir: Arc::new(InstanceDir {
                tracefs: self.clone(),
                name: "(top level)".into(),
                path: self.root.clone(),
                owned: false,
            }),
        }
    }

    /// Creates a private instance `netobs-PID-PURPOSE-N`, first removing
    /// instances of netobs processes that no longer exist.
    pub fn private_instance(&self, purpose: &str) -> Result<Instance> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        self.remove_stale_instances();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.create_instance(&format!("{INSTANCE_PREFIX}-{}-{purpose}-{n}", std::process::id()))
    }

    /// Removes `netobs-PID-...` instances whose PID is gone; returns their names.
    pub fn remove_stale_instances(&self) -> Vec<String> {
        let mut removed = Vec::new();
        let Ok(dir) = fs::read_dir(self.root.join("instances")) else {
            return removed;
        };
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let mut parts = name.split('-');
            if parts.next() != Some(INSTANCE_PREFIX) {
                continue;
            }
            let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() && fs::remove_dir(e.path()).is_ok() {
                removed.push(name);
            }
        }
        removed
    }

    /// Defines a kprobe (`p:GROUP/NAME SYMBOL ...`) in the global
    /// kprobe_events file; the probe is removed on drop. Where the kernel
    /// lacks kprobe events this is [`Error::Unsupported`].
    pub fn add_kprobe(&self, group: &str, name: &str, probe: &str) -> Result<DynamicEvent> {
        let path = self.root.join("kprobe_events");
        if !path.exists() {
            return Err(Error::Unsupported {
                what: "kprobe events".into(),
                path,
                why: "kernel built without CONFIG_KPROBE_EVENTS",
            });
        }
        let def = format!("p:{group}/{name} {probe}\n");
        self.remove_stale_dynamic_events();
        define_dynamic_event(&self.root, &path, &def, "define a kprobe", "kprobes")?;
        Ok(DynamicEvent {
            file: path,
            removal: format!("-:{group}/{name}\n"),
        })
    }

    /// Defines an event probe (`e:GROUP/NAME SYSTEM.EVENT FETCHARGS`, see
    /// Documentation/trace/eprobetrace.rst) in the global dynamic_events
    /// file: an event on top of an existing one that records the given
    /// fetch arguments (`$field`, `+OFFSET(...)` dereferences, `:TYPE`,
    /// arrays `:x8[N]`). Removed on drop. Whether the kernel has eprobes
    /// is read from tracefs's README, which lists the syntax the kernel
    /// accepts (CONFIG_EPROBE_EVENTS); without them this is
    /// [`Error::Unsupported`].
    pub fn add_eprobe(
        &self,
        group: &str,
        name: &str,
        system: &str,
        event: &str,
        fetchargs: &str,
    ) -> Result<DynamicEvent> {
        let path = self.root.join("dynamic_events");
        let readme = self.read("README").unwrap_or_default();
        if !path.exists() || !readme.contains("<attached-group>.<attached-event>") {
            return Err(Error::Unsupported {
                what: "event probes (eprobes)".into(),
                path: self.root.join("README"),
                why: "the README lists no e[:[<group>/][<event>]] <attached-group>.<attached-event> syntax: kernel built without CONFIG_EPROBE_EVENTS",
            });
        }
        let def = format!("e:{group}/{name} {system}.{event} {fetchargs}\n");
        self.remove_stale_dynamic_events();
        define_dynamic_event(&self.root, &path, &def, "define an eprobe", "eprobes")?;
        Ok(DynamicEvent {
            file: path,
            removal: format!("-:{group}/{name}\n"),
        })
    }

    /// The group name for this process's dynamic events (`netobs_PID`):
    /// dynamic events are global, so the PID keeps processes apart and
    /// lets [`Tracefs::remove_stale_dynamic_events`] find leftovers.
    pub fn dynamic_group(&self) -> String {
        format!("{INSTANCE_PREFIX}_{}", std::process::id())
    }

    /// Removes the dynamic events of `netobs_PID` groups whose PID is gone
    /// (a process killed before its drop ran); returns their definitions.
    pub fn remove_stale_dynamic_events(&self) -> Vec<String> {
        let mut removed = Vec::new();
        let path = self.root.join("dynamic_events");
        let Ok(text) = fs::read_to_string(&path) else {
            return removed;
        };
        for line in text.lines() {
            // `e:netobs_1234/frames skb.kfree_skb ...` or `p:GROUP/NAME ...`
            let Some((_, rest)) = line.split_once(':') else {
                continue;
            };
            let Some(event) = rest.split_whitespace().next() else {
                continue;
            };
            let Some((group, _)) = event.split_once('/') else {
                continue;
            };
            let Some(pid) = group
                .strip_prefix(INSTANCE_PREFIX)
                .and_then(|g| g.strip_prefix('_'))
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists()
                && append(&path, &format!("-:{event}\n"), "remove a stale dynamic event", None).is_ok()
            {
                removed.push(line.to_owned());
            }
        }
        removed
    }

    /// Names of the tracers this kernel offers (available_tracers).
    pub fn available_tracers(&self) -> Result<Vec<String>> {
        Ok(self
            .read("available_tracers")?
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }
}

/// A dynamic event (kprobe, eprobe) that is removed on drop. Drop every
/// instance that enables it first: the kernel refuses to remove an
/// enabled event (EBUSY).
#[derive(Debug)]
pub struct DynamicEvent {
    file: PathBuf,
    removal: String,
}

impl Drop for DynamicEvent {
    fn drop(&mut self) {
        let _ = append(&self.file, &self.removal, "remove a dynamic event", None);
    }
}

fn event_dir(root: &Path, global: &Path, system: &str, event: &str) -> Result<PathBuf> {
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && s != "." && s != "..";
    let dir = root.join("events").join(system).join(event);
    if !ok(system) || !ok(event) || !dir.is_dir() {
        return Err(Error::NoSuchEvent {
            system: system.to_owned(),
            event: event.to_owned(),
            available: global.join("available_events"),
        });
    }
    Ok(dir)
}

/// The last entry of an error_log (`[TIME] EVENT: error: TEXT` and its
/// `Command:` and caret lines), joined with ` | `.
fn last_error_entry(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.iter().rposition(|l| l.trim_start().starts_with('['))?;
    let mut text = String::new();
    for (i, l) in lines[start..].iter().enumerate() {
        let l = if i == 0 {
            l.trim_start().split_once(']').map(|(_, r)| r).unwrap_or(l)
        } else {
            l
        };
        if !text.is_empty() {
            text.push_str(" | ");
        }
        text.push_str(l.trim());
    }
    Some(text)
}

/// Appends the definition `def` of a dynamic event to `path`; a refusal
/// carries the kernel's reason from the top-level error_log
/// (trace_probe_log_err writes it there) when the write added one.
fn define_dynamic_event(root: &Path, path: &Path, def: &str, what: &str, feature: &str) -> Result<()> {
    let log = root.join("error_log");
    let before = fs::read_to_string(&log).unwrap_or_default();
    append(path, def, what, Some(feature)).map_err(|e| match e {
        Error::Refused {
            what,
            errno,
            path,
            hint: None,
        } => {
            let after = fs::read_to_string(&log).unwrap_or_default();
            let hint = (after != before).then(|| last_error_entry(&after)).flatten();
            Error::Refused {
                what,
                errno,
                path,
                hint,
            }
        }
        e => e,
    })
}

/// Writes `value` to a tracefs file. `feature` names what the kernel
/// refuses on EPERM/EINVAL/ENODEV/EBUSY.
fn write_file(path: &Path, value: &str, what: &str, feature: Option<&str>, append_mode: bool) -> Result<()> {
    let r = OpenOptions::new()
        .write(true)
        .truncate(!append_mode)
        .append(append_mode)
        .open(path)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    r.map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(0);
        match (feature, errno) {
            (_, libc::EACCES) => Error::Permission {
                what: what.to_owned(),
                path: path.to_owned(),
            },
            (Some(f), libc::EPERM | libc::EINVAL | libc::ENODEV | libc::EBUSY | libc::ENOENT) => Error::Refused {
                what: f.to_owned(),
                errno: errno_name(errno),
                path: path.to_owned(),
                hint: None,
            },
            _ => Error::io(what.to_owned(), path, e),
        }
    })
}

fn append(path: &Path, value: &str, what: &str, feature: Option<&str>) -> Result<()> {
    write_file(path, value, what, feature, true)
}

/// Counters of one CPU's buffer (`per_cpu/cpuN/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Events in the buffer now.
    pub entries: u64,
    /// Events overwritten (lost) in overwrite mode.
    pub overrun: u64,
    /// Events lost to nested writers filling a page ("commit overrun").
    pub commit_overrun: u64,
    /// Bytes in the buffer now.
    pub bytes: u64,
    /// Events refused because the buffer was full (overwrite off).
    pub dropped_events: u64,
    /// Events read so far.
    pub read_events: u64,
}

impl CpuStats {
    /// Parses the `key: value` lines of a stats file.
    pub fn parse(text: &str) -> Self {
        let mut s = CpuStats::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else { continue };
            let Ok(v) = v.trim().parse::<u64>() else { continue };
            match k.trim() {
                "entries" => s.entries = v,
                "overrun" => s.overrun = v,
                "commit overrun" => s.commit_overrun = v,
                "bytes" => s.bytes = v,
                "dropped events" => s.dropped_events = v,
                "read events" => s.read_events = v,
                _ => {}
            }
        }
        s
    }

    /// Every event lost on this CPU: overwritten, commit overruns and dropped.
    pub fn lost(&self) -> u64 {
        self.overrun + self.commit_overrun + self.dropped_events
    }
}

#[derive(Debug)]
struct InstanceDir {
    tracefs: Tracefs,
    name: String,
    path: PathBuf,
    /// A private instance made by us (removed on drop), not the shared
    /// top-level one.
    owned: bool,
}

impl Drop for InstanceDir {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        // Every handle (and so every open file of the instance) is gone.
        // Stop tracing first so the kernel has nothing to flush, then rmdir;
        // a reader in another thread may still be closing: retry on EBUSY.
        let _ = write_file(&self.path.join("tracing_on"), "0", "stop tracing", None, false);
        for _ in 0..50 {
            match fs::remove_dir(&self.path) {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                _ => return,
            }
        }
    }
}

/// A trace instance. Clones share it; the directory is removed when the last
/// clone (including those held by readers) is dropped.
#[derive(Debug, Clone)]
pub struct Instance {
    dir: Arc<InstanceDir>,
}

impl Instance {
    /// The instance name.
    pub fn name(&self) -> &str {
        &self.dir.name
    }

    /// The instance directory.
    pub fn path(&self) -> &Path {
        &self.dir.path
    }

    /// The tracefs it lives in.
    pub fn tracefs(&self) -> &Tracefs {
        &self.dir.tracefs
    }

    /// Reads a file of the instance.
    pub fn read(&self, file: &str) -> Result<String> {
        read_text(&self.dir.path.join(file), file)
    }

    /// Writes a file of the instance (truncating).
    pub fn write(&self, file: &str, value: &str) -> Result<()> {
        write_file(&self.dir.path.join(file), value, &format!("write {file}"), None, false)
    }

    /// Opens a file of the instance for reading; the open file keeps the
    /// instance busy, so hold the [`Instance`] alongside it.
    pub fn open(&self, file: &str, nonblocking: bool) -> Result<File> {
        let path = self.dir.path.join(file);
        let mut o = OpenOptions::new();
        o.read(true);
        if nonblocking {
            use std::os::unix::fs::OpenOptionsExt;
            o.custom_flags(libc::O_NONBLOCK);
        }
        o.open(&path).map_err(|e| Error::io("open", path, e))
    }

    /// The event's directory in this instance, or [`Error::NoSuchEvent`].
    pub fn event_dir(&self, system: &str, event: &str) -> Result<PathBuf> {
        event_dir(&self.dir.path, self.dir.tracefs.root(), system, event)
    }

    /// Enables an event, with a kernel filter expression when given
    /// (`protocol == 0x4321 && reason == 74`).
    pub fn enable_event(&self, system: &str, event: &str, filter: Option<&str>) -> Result<()> {
        let dir = self.event_dir(system, event)?;
        if let Some(f) = filter {
            self.set_filter(system, event, f)?;
        }
        write_file(
            &dir.join("enable"),
            "1",
            &format!("enable {system}:{event}"),
            None,
            false,
        )
    }

    /// Disables an event.
    pub fn disable_event(&self, system: &str, event: &str) -> Result<()> {
        let dir = self.event_dir(system, event)?;
        write_file(
            &dir.join("enable"),
            "0",
            &format!("disable {system}:{event}"),
            None,
            false,
        )
    }

    /// Sets (or with `""`, clears) an event's filter. A filter the kernel
    /// rejects gives [`Error::Filter`] with the instance's error_log entry.
    pub fn set_filter(&self, system: &str, event: &str, filter: &str) -> Result<()> {
        let dir = self.event_dir(system, event)?;
        let _ = self.clear_error_log();
        let value = if filter.is_empty() { "0" } else { filter };
        let r = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(dir.join("filter"))
            .and_then(|mut f| f.write_all(value.as_bytes()));
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                let mut log = self.last_error().unwrap_or_default();
                if log.is_empty() {
                    // Older kernels report only in the filter file itself.
                    log = fs::read_to_string(dir.join("filter"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                }
                Err(Error::Filter {
                    event: format!("{system}:{event}"),
                    filter: filter.to_owned(),
                    log,
                })
            }
            Err(e) => Err(Error::io(
                format!("set filter of {system}:{event}"),
                dir.join("filter"),
                e,
            )),
        }
    }

    /// Adds an event trigger (`stacktrace`, `traceoff`, `hist:keys=...`).
    pub fn add_trigger(&self, system: &str, event: &str, trigger: &str) -> Result<()> {
        let dir = self.event_dir(system, event)?;
        write_file(
            &dir.join("trigger"),
            trigger,
            "add trigger",
            Some("the event trigger"),
            false,
        )
        .map_err(|e| match (&e, self.last_error()) {
            (Error::Refused { what, errno, path, .. }, Some(log)) if !log.is_empty() => Error::Refused {
                what: what.clone(),
                errno,
                path: path.clone(),
                hint: Some(log),
            },
            _ => e,
        })
    }

    /// Removes an event trigger (`!stacktrace`).
    pub fn remove_trigger(&self, system: &str, event: &str, trigger: &str) -> Result<()> {
        let dir = self.event_dir(system, event)?;
        write_file(
            &dir.join("trigger"),
            &format!("!{trigger}"),
            "remove trigger",
            None,
            false,
        )
    }

    /// The whole error_log of the instance.
    pub fn error_log(&self) -> Result<String> {
        self.read("error_log")
    }

    /// The newest error_log entry (from its last `[timestamp]` line on),
    /// as one line.
    pub fn last_error(&self) -> Option<String> {
        last_error_entry(&self.error_log().ok()?)
    }

    /// Empties the instance's error_log.
    pub fn clear_error_log(&self) -> Result<()> {
        self.write("error_log", "")
    }

    /// Per-CPU buffer size in KiB.
    pub fn buffer_size_kb(&self) -> Result<u64> {
        self.read_number("buffer_size_kb")
    }

    /// Sets the per-CPU buffer size in KiB.
    pub fn set_buffer_size_kb(&self, kb: u64) -> Result<()> {
        self.write("buffer_size_kb", &kb.to_string())
    }

    /// Sub-buffer size in KiB (buffer_subbuf_size_kb, Linux 6.8+; one page before).
    pub fn subbuf_size_kb(&self) -> Result<u64> {
        if !self.dir.path.join("buffer_subbuf_size_kb").exists() {
            return Ok(4);
        }
        self.read_number("buffer_subbuf_size_kb")
    }

    /// Sets the sub-buffer size in KiB (a power-of-two number of pages).
    pub fn set_subbuf_size_kb(&self, kb: u64) -> Result<()> {
        write_file(
            &self.dir.path.join("buffer_subbuf_size_kb"),
            &kb.to_string(),
            "set the sub-buffer size",
            Some("the sub-buffer size"),
            false,
        )
    }

    /// How full (percent) a buffer must be before poll/read wake; 0 wakes on
    /// every event.
    pub fn set_buffer_percent(&self, pct: u32) -> Result<()> {
        self.write("buffer_percent", &pct.to_string())
    }

    /// The selected trace clock (the bracketed entry of trace_clock).
    pub fn trace_clock(&self) -> Result<String> {
        let t = self.read("trace_clock")?;
        t.split_whitespace()
            .find_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
            .map(str::to_owned)
            .ok_or_else(|| Error::Parse {
                what: "trace_clock".into(),
                msg: format!("no [selected] clock in {t:?}"),
            })
    }

    /// Selects a trace clock (`local`, `mono`, `boot`, ...): `mono` and
    /// `boot` correlate with CLOCK_MONOTONIC / CLOCK_BOOTTIME in user space.
    pub fn set_trace_clock(&self, clock: &str) -> Result<()> {
        write_file(
            &self.dir.path.join("trace_clock"),
            clock,
            "set trace_clock",
            Some("this trace clock"),
            false,
        )
    }

    /// Starts or stops recording into the instance's buffers.
    pub fn set_tracing_on(&self, on: bool) -> Result<()> {
        self.write("tracing_on", if on { "1" } else { "0" })
    }

    /// Whether recording is on.
    pub fn tracing_on(&self) -> Result<bool> {
        Ok(self.read_number("tracing_on")? != 0)
    }

    /// Selects the instance's tracer (`function`, `function_graph`, `nop`).
    /// A tracer missing from available_tracers is [`Error::Unsupported`];
    /// the kernel's refusal is [`Error::Refused`] with its errno (EPERM here
    /// for the function tracer).
    pub fn set_tracer(&self, tracer: &str) -> Result<()> {
        let avail = self.read("available_tracers")?;
        if !avail.split_whitespace().any(|t| t == tracer) {
            return Err(Error::Unsupported {
                what: format!("tracer {tracer}"),
                path: self.dir.path.join("available_tracers"),
                why: "not in available_tracers: the kernel was built without it",
            });
        }
        write_file(
            &self.dir.path.join("current_tracer"),
            tracer,
            "set current_tracer",
            Some(&format!("the {tracer} tracer")),
            false,
        )
        .map_err(|e| match e {
            Error::Refused {
                what,
                errno: "EPERM",
                path,
                ..
            } => Error::Refused {
                what,
                errno: "EPERM",
                path,
                hint: Some("function tracing is forbidden on this kernel; tracepoint events still work".into()),
            },
            e => e,
        })
    }

    /// Limits function tracing to `functions` (set_ftrace_filter).
    pub fn set_ftrace_filter(&self, functions: &[&str]) -> Result<()> {
        let path = self.dir.path.join("set_ftrace_filter");
        if !path.exists() {
            return Err(Error::Unsupported {
                what: "set_ftrace_filter".into(),
                path,
                why: "kernel built without CONFIG_DYNAMIC_FTRACE",
            });
        }
        write_file(
            &path,
            &functions.join(" "),
            "set set_ftrace_filter",
            Some("set_ftrace_filter"),
            false,
        )
    }

    /// The CPUs with a buffer (per_cpu/cpuN), sorted.
    pub fn cpus(&self) -> Result<Vec<u32>> {
        let path = self.dir.path.join("per_cpu");
        let mut cpus: Vec<u32> = fs::read_dir(&path)
            .map_err(|e| Error::io("list", &path, e))?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("cpu")?.parse().ok())
            .collect();
        cpus.sort_unstable();
        Ok(cpus)
    }

    /// One CPU's buffer counters.
    pub fn cpu_stats(&self, cpu: u32) -> Result<CpuStats> {
        Ok(CpuStats::parse(&self.read(&format!("per_cpu/cpu{cpu}/stats"))?))
    }

    fn read_number(&self, file: &str) -> Result<u64> {
        let t = self.read(file)?;
        // buffer_size_kb reads "7 (expanded: 1408)" before the first use.
        let first = t.split_whitespace().next().unwrap_or("");
        first.parse().map_err(|_| Error::Parse {
            what: file.to_owned(),
            msg: format!("not a number: {t:?}"),
        })
    }
}

/// Now, on the `mono` trace clock (CLOCK_MONOTONIC ns): the time base of
/// an instance switched to it (as [`crate::DropMonitor::enable_devices`]
/// does), to compare record time stamps with moments of the program.
pub fn mono_clock_now() -> u64 {
    crate::sys::monotonic_ns()
}

/// Turns record time stamps into wall-clock time (ns since the Unix
/// epoch, UTC). Only the `mono` trace clock has a known relation to it:
/// CLOCK_REALTIME is CLOCK_MONOTONIC plus an offset the kernel moves when
/// the time is set or slewed (kernel/time/timekeeping.c), so the offset is
/// read when the converter is made and holds for stamps near that moment.
/// The default `local` clock (sched_clock per CPU) has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// Added to a stamp to give Unix ns.
    offset_ns: i128,
}

impl WallClock {
    /// For stamps of the `mono` clock: the offset between CLOCK_REALTIME
    /// and CLOCK_MONOTONIC now, from the tightest of three reads.
    pub fn for_mono() -> WallClock {
        let mut best: Option<(u64, i128)> = None;
        for _ in 0..3 {
            let before = crate::sys::monotonic_ns();
            let real = crate::sys::realtime_ns();
            let after = crate::sys::monotonic_ns();
            let gap = after.saturating_sub(before);
            let offset = i128::from(real) - i128::from(before + gap / 2);
            if best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, offset));
            }
        }
        WallClock {
            offset_ns: best.map_or(0, |b| b.1),
        }
    }

    /// For stamps that are wall-clock time already (NET_DM's packet
    /// alerts carry `skb->tstamp`, set from ktime_get_real).
    pub fn identity() -> WallClock {
        WallClock { offset_ns: 0 }
    }

    /// `stamp` in ns since the Unix epoch; None for 0 (no stamp) or a
    /// value outside i64.
    pub fn unix_ns(&self, stamp: u64) -> Option<i64> {
        if stamp == 0 {
            return None;
        }
        i64::try_from(i128::from(stamp) + self.offset_ns).ok()
    }
}

/// Now, in ns since the Unix epoch (CLOCK_REALTIME).
pub fn unix_now_ns() -> i64 {
    i64::try_from(crate::sys::realtime_ns()).unwrap_or(i64::MAX)
}
