//! Binding of netobs-trace: `DropMonitor` (dropwatch on the
//! `skb:kfree_skb` tracepoint) and `TraceSession` (any tracepoints, records
//! decoded by their `format` files).
//!
//! Both own a private trace instance (`/sys/kernel/tracing/instances/
//! netobs-PID-PURPOSE-N`); `close()` (or leaving the `with` block) drops it,
//! which removes the instance directory. Tracepoints are global: they see
//! every network namespace, so `netns=` of `DropMonitor` only says where
//! the sockets of TCP drops are looked up (sock_diag), and `TraceSession`
//! has none; filter by protocol, reason or fields instead. Blocking reads
//! run without the GIL, and Ctrl-C ends them at once (see [`crate::wait`]).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use netobs_core::stop::Stop;
use netobs_core::Netns;
use netobs_trace::format::FieldLocation;
use netobs_trace::tracefs::WallClock;
use netobs_trace::{
    DropCounts, DropDetail, DropFilter, EventFormat, Field, Kallsyms, RawReader, SkbDrop, TcpSocket, Tracefs,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::PyResultExt;
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, TableBuilder};
use crate::wait;

/// A positive, finite number of seconds.
fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    if !s.is_finite() || s <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a positive number of seconds, not {s}"
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

/// An EtherType given as an int or a `"0x86dd"` string.
fn ethertype_arg(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u16>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    let bad = || PyValueError::new_err(format!("protocol: {arg} is not an EtherType (0..=0xffff)"));
    if let Ok(s) = arg.extract::<String>() {
        let n = match s.strip_prefix("0x") {
            Some(h) => u16::from_str_radix(h, 16),
            None => s.parse(),
        };
        return n.map(Some).map_err(|_| bad());
    }
    let n: i64 = arg.extract()?;
    u16::try_from(n).map(Some).map_err(|_| bad())
}

/// `None`, one reason name or a sequence of them.
fn reasons_arg(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(s) = arg.extract::<String>() {
        return Ok(vec![s]);
    }
    arg.extract::<Vec<String>>()
        .map_err(|_| PyTypeError::new_err("reasons: expected None, a reason name or a list of them"))
}

/// Columns of `netobs.DropRow`, one row per (location, reason, protocol).
static DROP_COLUMNS: Columns = &[
    ("symbol", Str),
    ("location", U64),
    ("reason", Str),
    ("reason_code", U64),
    ("protocol", U64),
    ("count", U64),
    ("start", Time),
    ("end", Time),
];

/// Columns of `netobs.DropEvent`, one row per kfree_skb record.
static DROP_EVENT_COLUMNS: Columns = &[
    ("timestamp", U64),
    ("time", Time),
    ("cpu", U64),
    ("pid", I64),
    ("symbol", Str),
    ("location", U64),
    ("reason", Str),
    ("reason_code", U64),
    ("protocol", U64),
    ("skbaddr", U64),
    ("rx_sk", U64),
    ("stack", StrTuple),
    ("saddr", Str),
    ("sport", U64),
    ("daddr", Str),
    ("dport", U64),
    ("tcp_state", Str),
    ("sock_cookie", U64),
    ("device", Str),
];

/// A drop with its stack and TCP socket, owned so it outlives the read.
struct DropRecord {
    drop: SkbDrop,
    stack: Vec<u64>,
    tcp: Option<TcpSocket>,
    device: Option<String>,
}

/// The drop monitor with its symbol table and the reasons kept.
struct Monitor {
    mon: netobs_trace::DropMonitor,
    syms: Kallsyms,
    /// Reason codes kept when more than one reason was asked for (one is
    /// filtered by the kernel).
    keep: Option<Vec<u32>>,
    /// Given to the monitor; woken by Ctrl-C while a read waits.
    stop: Stop,
}

impl Monitor {
    /// Polls until a drop is read or `deadline` (None: no deadline), or
    /// Ctrl-C; only drops of the kept reasons reach `f`.
    fn poll_until(
        &mut self,
        deadline: Option<Instant>,
        f: &mut impl FnMut(&DropDetail<'_>),
    ) -> netobs_trace::Result<u64> {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let keep = self.keep.clone();
        self.mon.poll_detailed(left, |d| {
            if keep.as_ref().is_none_or(|k| k.contains(&d.drop.reason)) {
                f(d)
            }
        })
    }

    fn reason_name(&self, code: u32) -> String {
        self.mon
            .kfree_skb()
            .reason_name(code)
            .map_or_else(|| code.to_string(), str::to_owned)
    }
}

/// dropwatch from Python: where in the kernel packets are dropped and why,
/// from the `skb:kfree_skb` tracepoint on a private trace instance.
///
/// Iterating yields one `Table` of `netobs.DropRow` per `interval` seconds
/// (largest count first); `events(timeout)` returns the single drops
/// instead. `reasons` (a name such as "UNHANDLED_PROTO" or a list),
/// `protocol` (EtherType) and `location` (a function name) filter in the
/// kernel. `stacks=True` records each drop's kernel stack; `tcp=True`
/// names the TCP socket a drop belonged to (addresses, ports, state,
/// cookie), its state looked up with sock_diag in `netns` (which implies
/// `tcp=True`; drops of every namespace are still seen). Leaving the
/// `with` block (or `close()`) removes the instance.
#[pyclass(module = "netobs")]
pub struct DropMonitor {
    inner: Option<Monitor>,
    interval: Duration,
    instance: String,
    kernel_filter: Option<String>,
}

impl DropMonitor {
    fn monitor(&mut self) -> PyResult<&mut Monitor> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("DropMonitor is closed"))
    }
}

#[pymethods]
impl DropMonitor {
    #[new]
    #[pyo3(signature = (interval=1.0, reasons=None, protocol=None, location=None, stacks=false, tcp=false, netns=None, devices=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        interval: f64,
        reasons: Option<&Bound<'_, PyAny>>,
        protocol: Option<&Bound<'_, PyAny>>,
        location: Option<String>,
        stacks: bool,
        tcp: bool,
        netns: Option<&Bound<'_, PyAny>>,
        devices: bool,
    ) -> PyResult<Self> {
        let interval = seconds("interval", interval)?;
        let reasons = reasons_arg(reasons)?;
        let protocol = ethertype_arg(protocol)?;
        let tcp_netns = match netns.filter(|n| !n.is_none()) {
            Some(n) => Some(netns_arg(Some(n))?),
            None if tcp => Some(Netns::Current),
            None => None,
        };
        let stop = wait::new_stop()?;
        let monitor = py
            .detach(|| -> netobs_trace::Result<Monitor> {
                let tracefs = Tracefs::find_or_mount()?;
                let syms = Kallsyms::load()?;
                let filter = DropFilter {
                    protocol,
                    reason: (reasons.len() == 1).then(|| reasons[0].clone()),
                    location,
                    socket_only: false,
                };
                let mut mon = if stacks || devices || tcp_netns.is_some() {
                    netobs_trace::DropMonitor::open_tracepoint(&tracefs, &filter, Some(&syms))?
                } else {
                    netobs_trace::DropMonitor::open(&tracefs, &filter, Some(&syms))?
                };
                // Time stamps that convert to wall-clock time (DropEvent.time).
                mon.use_mono_clock()?;
                if stacks {
                    mon.enable_stacks()?;
                }
                if devices {
                    mon.enable_devices(std::time::Duration::from_millis(200))?;
                }
                if let Some(ns) = &tcp_netns {
                    netobs::correlate::join_tcp_sockets(&mut mon, std::slice::from_ref(ns))?;
                }
                let keep = if reasons.len() > 1 {
                    let table = mon.kfree_skb().reasons();
                    let mut codes = Vec::new();
                    for r in &reasons {
                        let code = table.value(r).ok_or_else(|| netobs_trace::Error::Parse {
                            what: "reasons".into(),
                            msg: format!(
                                "the kernel has no drop reason {r:?} (closest: {}; all in skb:kfree_skb's format)",
                                table.closest(r, 3).join(", ")
                            ),
                        })?;
                        codes.push(code as u32);
                    }
                    Some(codes)
                } else {
                    None
                };
                mon.set_stop(&stop);
                Ok(Monitor {
                    mon,
                    syms,
                    keep,
                    stop: stop.clone(),
                })
            })
            .py_err(py)?;
        Ok(DropMonitor {
            instance: monitor.mon.instance().name().to_owned(),
            kernel_filter: monitor.mon.kernel_filter().map(str::to_owned),
            inner: Some(monitor),
            interval,
        })
    }

    /// The private trace instance's name (`netobs-PID-drops-N`).
    #[getter]
    fn instance(&self) -> &str {
        &self.instance
    }

    /// The filter written to kfree_skb's `filter` file, if any.
    #[getter]
    fn kernel_filter(&self) -> Option<&str> {
        self.kernel_filter.as_deref()
    }

    /// Seconds per summary when iterating.
    #[getter]
    fn interval(&self) -> f64 {
        self.interval.as_secs_f64()
    }

    /// Events the kernel overwrote before they were read, since the start.
    #[getter]
    fn lost(&mut self) -> PyResult<u64> {
        Ok(self.monitor()?.mon.lost())
    }

    /// Whether `close()` ran.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// The drops of the next `seconds` (default: `interval`) summed by
    /// (location, reason, protocol): a `Table` of `netobs.DropRow`.
    #[pyo3(signature = (seconds=None))]
    fn summary<'py>(&mut self, py: Python<'py>, seconds: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let span = match seconds {
            Some(s) => self::seconds("seconds", s)?,
            None => self.interval,
        };
        let deadline = Instant::now() + span;
        let m = self.monitor()?;
        let start = netobs_trace::tracefs::unix_now_ns();
        let mut counts = DropCounts::default();
        let stop = m.stop.clone();
        while Instant::now() < deadline {
            wait::blocking(py, &stop, || m.poll_until(Some(deadline), &mut |d| counts.add(&d.drop)))?.py_err(py)?;
        }
        let end = netobs_trace::tracefs::unix_now_ns();
        let mut t = TableBuilder::new(&[DROP_COLUMNS]);
        for (key, n) in counts.top(usize::MAX) {
            t.row()
                .str(Some(m.syms.format(key.location)))
                .u64(key.location)
                .str(Some(m.reason_name(key.reason)))
                .u64(u64::from(key.reason))
                .u64(u64::from(key.protocol))
                .u64(n)
                .time(start)
                .time(end);
        }
        t.into_py(py, "DropRow")
    }

    /// The single drops seen within `timeout` seconds (returning as soon as
    /// some were read; None waits until one is): a `Table` of
    /// `netobs.DropEvent`.
    #[pyo3(signature = (timeout=None))]
    fn events<'py>(&mut self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let deadline = match timeout {
            Some(0.0) => Some(Instant::now()),
            Some(s) => Some(Instant::now() + seconds("timeout", s)?),
            None => None,
        };
        let m = self.monitor()?;
        let mut drops = Vec::new();
        let stop = m.stop.clone();
        loop {
            wait::blocking(py, &stop, || {
                m.poll_until(deadline, &mut |d| {
                    drops.push(DropRecord {
                        drop: d.drop,
                        stack: d.stack.to_vec(),
                        tcp: d.tcp,
                        device: d.device.map(|s| s.name.to_owned()),
                    })
                })
            })?
            .py_err(py)?;
            if !drops.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        let wall = m.mon.wall_clock().py_err(py)?;
        let mut t = TableBuilder::new(&[DROP_EVENT_COLUMNS]);
        let nonzero = |v: u64| (v != 0).then_some(v);
        for r in &drops {
            let d = &r.drop;
            let flow = r.tcp.map(|t| t.flow);
            let state = r.tcp.and_then(|t| t.state).and_then(|s| {
                let dec = m.mon.tcp_decoder()?;
                Some(dec.state_name(s).to_owned())
            });
            t.row()
                .u64(d.timestamp)
                .time(wall.and_then(|w| w.unix_ns(d.timestamp)))
                .u64(u64::from(d.cpu))
                .i64(i64::from(d.pid))
                .str(Some(m.syms.format(d.location)))
                .u64(d.location)
                .str(Some(m.reason_name(d.reason)))
                .u64(u64::from(d.reason))
                .u64(u64::from(d.protocol))
                .u64(nonzero(d.skbaddr))
                .u64(nonzero(d.rx_sk))
                .strs(r.stack.iter().map(|a| m.syms.format(*a)).collect())
                .str(flow.map(|f| f.saddr.to_string()))
                .u64(flow.map(|f| u64::from(f.sport)))
                .str(flow.map(|f| f.daddr.to_string()))
                .u64(flow.map(|f| u64::from(f.dport)))
                .str(state)
                .u64(r.tcp.and_then(|t| t.cookie))
                .str(r.device.clone());
        }
        t.into_py(py, "DropEvent")
    }

    /// Stops tracing and removes the trace instance (idempotent).
    fn close(&mut self, py: Python<'_>) {
        if let Some(m) = self.inner.take() {
            py.detach(|| drop(m));
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.summary(py, None)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "DropMonitor(instance={}, interval={}, filter={}{})",
            crate::py_repr(py, Some(&self.instance)),
            self.interval.as_secs_f64(),
            crate::py_repr(py, self.kernel_filter.as_deref()),
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// A decoded field value, built without the GIL.
enum Value {
    Int(i64),
    UInt(u64),
    Text(String),
    Bytes(Vec<u8>),
    Absent,
}

/// How one field of an event is decoded.
struct FieldDecoder {
    name: String,
    field: Field,
    /// The kernel's `__print_symbolic` table for it (drop reasons, TCP states).
    symbols: Option<netobs_trace::SymbolTable>,
}

impl FieldDecoder {
    fn decode(&self, data: &[u8]) -> Value {
        let r = self.field.as_ref();
        if self.field.is_string() {
            return r.str(data).map_or(Value::Absent, |s| Value::Text(s.to_owned()));
        }
        let is_array = self.field.array_len.is_some() || self.field.location != FieldLocation::Inline;
        if is_array || ![1, 2, 4, 8].contains(&self.field.size) {
            return r.bytes(data).map_or(Value::Absent, |b| Value::Bytes(b.to_vec()));
        }
        if let Some(name) = self.symbols.as_ref().and_then(|t| t.name(r.uint(data)?)) {
            return Value::Text(name.to_owned());
        }
        let v = if self.field.signed {
            r.int(data).map(Value::Int)
        } else {
            r.uint(data).map(Value::UInt)
        };
        v.unwrap_or(Value::Absent)
    }
}

/// One enabled event: its name and field decoders.
struct EventDecoder {
    name: String,
    fields: Vec<FieldDecoder>,
}

/// A decoded record.
struct Event {
    event: usize,
    timestamp: u64,
    cpu: u32,
    pid: Option<i64>,
    values: Vec<Value>,
}

struct Session {
    reader: RawReader,
    decoders: HashMap<u16, usize>,
    events: Vec<EventDecoder>,
    queue: VecDeque<Event>,
    /// Given to the reader; woken by Ctrl-C while a read waits.
    stop: Stop,
    /// The instance runs on the `mono` clock; this turns its stamps into
    /// wall-clock time (`time`).
    wall: WallClock,
}

impl Session {
    fn open(events: &[String], filters: &HashMap<String, String>, stop: Stop) -> netobs_trace::Result<Self> {
        let tracefs = Tracefs::find_or_mount()?;
        let parse_err = |msg: String| netobs_trace::Error::Parse {
            what: "events".into(),
            msg,
        };
        let mut specs = Vec::new();
        for e in events {
            let (system, event) = e
                .split_once(':')
                .ok_or_else(|| parse_err(format!("{e:?} is not SYSTEM:EVENT (like \"skb:kfree_skb\")")))?;
            let format = tracefs.event_format(system, event)?;
            specs.push((e.clone(), system.to_owned(), event.to_owned(), format));
        }
        if let Some(k) = filters.keys().find(|k| !events.contains(k)) {
            return Err(parse_err(format!("filter for {k:?}, which is not among the events")));
        }
        let instance = tracefs.private_instance("session")?;
        instance.set_buffer_percent(0)?;
        instance.set_trace_clock("mono")?;
        let mut decoders = HashMap::new();
        let mut decoded = Vec::new();
        for (name, system, event, format) in specs {
            instance.enable_event(&system, &event, filters.get(&name).map(String::as_str))?;
            decoders.insert(format.id, decoded.len());
            decoded.push(event_decoder(name, &format));
        }
        let mut reader = RawReader::open(&instance)?;
        reader.set_stop(&stop);
        Ok(Session {
            reader,
            decoders,
            events: decoded,
            queue: VecDeque::new(),
            stop,
            wall: WallClock::for_mono(),
        })
    }

    /// Reads what is available, waiting up to `timeout` (None: until
    /// something comes) when nothing is; Ctrl-C ends the wait.
    fn fill(&mut self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<()> {
        let stop = self.stop.clone();
        wait::blocking(py, &stop, || self.fill_detached(timeout))?.py_err(py)
    }

    /// Reads what is there (waiting up to `timeout`) and queues it in
    /// timestamp order: the ring is per CPU, so one read's events are
    /// merged by time, as trace-cmd merges its per-CPU files. Across reads
    /// the order holds too, except for an event its CPU had not yet
    /// committed when an earlier read looked at that CPU.
    fn fill_detached(&mut self, timeout: Option<Duration>) -> netobs_trace::Result<()> {
        let (decoders, events, queue) = (&self.decoders, &self.events, &mut self.queue);
        let before = queue.len();
        let pid_field = netobs_trace::FieldRef {
            offset: 4,
            size: 4,
            signed: true,
            location: FieldLocation::Inline,
        };
        self.reader.read_records(timeout, |cpu, rec| {
            let Some(&i) = rec.event_id().and_then(|id| decoders.get(&id)) else {
                return;
            };
            queue.push_back(Event {
                event: i,
                timestamp: rec.timestamp,
                cpu,
                pid: rec.int(&pid_field),
                values: events[i].fields.iter().map(|f| f.decode(rec.data)).collect(),
            });
        })?;
        queue.make_contiguous()[before..].sort_by_key(|e| e.timestamp);
        Ok(())
    }
}

/// The decoders of an event's own fields (the `common_*` header fields are
/// left out; `common_pid` becomes the event's `pid`).
fn event_decoder(name: String, format: &EventFormat) -> EventDecoder {
    let fields = format
        .fields
        .iter()
        .filter(|f| !f.name.starts_with("common_"))
        .map(|f| FieldDecoder {
            name: f.name.clone(),
            field: f.clone(),
            symbols: format.symbols(&f.name).cloned(),
        })
        .collect();
    EventDecoder { name, fields }
}

fn event_dict<'py>(py: Python<'py>, s: &Session, e: Event) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let dec = &s.events[e.event];
    d.set_item("event", &dec.name)?;
    d.set_item("timestamp", e.timestamp)?;
    d.set_item("time", crate::table::datetime(py, s.wall.unix_ns(e.timestamp))?)?;
    d.set_item("cpu", e.cpu)?;
    d.set_item("pid", e.pid)?;
    for (f, v) in dec.fields.iter().zip(e.values) {
        match v {
            Value::Int(i) => d.set_item(&f.name, i)?,
            Value::UInt(u) => d.set_item(&f.name, u)?,
            Value::Text(t) => d.set_item(&f.name, t)?,
            Value::Bytes(b) => d.set_item(&f.name, PyBytes::new(py, &b))?,
            Value::Absent => d.set_item(&f.name, py.None())?,
        }
    }
    Ok(d)
}

/// Any tracepoints, read from a private trace instance: iterating yields
/// each record as a dict with `event` ("system:name"), `timestamp` (ns,
/// the instance's `mono` trace clock: CLOCK_MONOTONIC), `time` (the same
/// moment as a UTC `datetime`), `cpu`, `pid` and every field of the event's `format`
/// by its name; fields the kernel prints symbolically (drop reasons, TCP
/// states) hold the kernel's name. `filters` maps an event to a filter
/// expression the kernel applies (`{"skb:kfree_skb": "protocol == 0x4321"}`);
/// one it rejects raises `FilterError` with the kernel's error_log text.
#[pyclass(module = "netobs")]
pub struct TraceSession {
    inner: Option<Session>,
    instance: String,
}

impl TraceSession {
    fn session(&mut self) -> PyResult<&mut Session> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("TraceSession is closed"))
    }
}

#[pymethods]
impl TraceSession {
    #[new]
    #[pyo3(signature = (events, filters=None))]
    fn new(py: Python<'_>, events: Vec<String>, filters: Option<HashMap<String, String>>) -> PyResult<Self> {
        if events.is_empty() {
            return Err(PyValueError::new_err(
                "events: name at least one tracepoint (\"skb:kfree_skb\")",
            ));
        }
        let filters = filters.unwrap_or_default();
        let stop = wait::new_stop()?;
        let session = py.detach(|| Session::open(&events, &filters, stop)).py_err(py)?;
        Ok(TraceSession {
            instance: session.reader.instance().name().to_owned(),
            inner: Some(session),
        })
    }

    /// The private trace instance's name (`netobs-PID-session-N`).
    #[getter]
    fn instance(&self) -> &str {
        &self.instance
    }

    /// Events the kernel overwrote before they were read, since the start.
    #[getter]
    fn lost(&mut self) -> PyResult<u64> {
        Ok(self.session()?.reader.lost())
    }

    /// Whether `close()` ran.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// The events recorded within `timeout` seconds (returning as soon as
    /// some were read; 0 does not wait), as a list of dicts.
    #[pyo3(signature = (timeout=0.0))]
    fn read<'py>(&mut self, py: Python<'py>, timeout: f64) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
        let s = self.session()?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            s.fill(py, Some(left))?;
            if !s.queue.is_empty() || Instant::now() >= deadline {
                break;
            }
        }
        let events: Vec<Event> = s.queue.drain(..).collect();
        events.into_iter().map(|e| event_dict(py, s, e)).collect()
    }

    /// Stops tracing and removes the trace instance (idempotent).
    fn close(&mut self, py: Python<'_>) {
        if let Some(s) = self.inner.take() {
            py.detach(|| drop(s));
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next event, waiting for it (Ctrl-C interrupts).
    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.session()?;
        loop {
            if let Some(e) = s.queue.pop_front() {
                return event_dict(py, s, e);
            }
            s.fill(py, None)?;
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "TraceSession(instance={}{})",
            crate::py_repr(py, Some(&self.instance)),
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// Adds `DropMonitor` and `TraceSession` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DropMonitor>()?;
    m.add_class::<TraceSession>()
}
