//! Binding of netobs-capture: `Capture` (a TPACKET_V3 ring on one
//! interface, like `tcpdump -i`), `read_pcap`/`write_pcap` (pcap and pcapng
//! files) and `compile_filter` (netobs's own pcap-filter compiler, like
//! `tcpdump -dd`). Packets are `netobs.Packet` objects that own a copy of
//! their bytes, so a ring block is handed back to the kernel as soon as it
//! has been read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netobs_capture::bpf::Program;
use netobs_capture::file::{linktype, CaptureReader, PcapWriter, Precision};
use netobs_capture::filter::CodeMode;
use netobs_capture::{filter, hexdump, summary, CaptureConfig};
use netobs_core::stop::Stop;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{ErrorParts, IntoPyErr, PyResultExt};
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, TableBuilder};
use crate::wait;
use netobs_capture::wire::FrameFields;
use netobs_core::rtnetlink::InterfaceNames;

/// The snap length tcpdump uses by default, and the largest it takes
/// (libpcap's MAXIMUM_SNAPLEN). The Python signatures spell it out so
/// `help()` shows the number.
const DEFAULT_SNAPLEN: u32 = 262_144;

/// A snap length from Python: 1 to 262144 bytes, else ValueError (not the
/// OverflowError of a negative number into an unsigned int).
fn snaplen_arg(v: i64) -> PyResult<u32> {
    match u32::try_from(v) {
        Ok(n) if (1..=DEFAULT_SNAPLEN).contains(&n) => Ok(n),
        _ => Err(PyValueError::new_err(format!(
            "snaplen must be between 1 and {DEFAULT_SNAPLEN} bytes, not {v}"
        ))),
    }
}

/// `sll_pkttype` as a word (include/uapi/linux/if_packet.h).
fn direction_name(pkttype: u8) -> &'static str {
    match pkttype {
        libc::PACKET_HOST => "host",
        libc::PACKET_BROADCAST => "broadcast",
        libc::PACKET_MULTICAST => "multicast",
        libc::PACKET_OTHERHOST => "otherhost",
        libc::PACKET_OUTGOING => "outgoing",
        _ => "unknown",
    }
}

/// A direction word from Python back to the `&'static str` a packet keeps.
fn direction_arg(v: Option<&str>) -> PyResult<Option<&'static str>> {
    const NAMES: [&str; 6] = ["host", "broadcast", "multicast", "otherhost", "outgoing", "unknown"];
    match v {
        None => Ok(None),
        Some(d) => NAMES.iter().find(|n| **n == d).map(|n| Some(*n)).ok_or_else(|| {
            PyValueError::new_err(format!(
                "direction must be None or one of {}, not {d:?}",
                NAMES.join(", ")
            ))
        }),
    }
}

/// One packet: its bytes (a copy) and what the kernel or the file said
/// about it. `bytes(packet)` gives the captured bytes.
#[pyclass(frozen, module = "netobs")]
pub struct Packet {
    /// Time stamp, ns since the epoch.
    #[pyo3(get)]
    timestamp: u64,
    /// Length on the wire.
    #[pyo3(get)]
    length: u32,
    /// Interface index (live capture) or pcapng interface number (files).
    #[pyo3(get)]
    interface: u32,
    /// "host", "broadcast", "multicast", "otherhost", "outgoing"; None for
    /// packets read from a file.
    #[pyo3(get)]
    direction: Option<&'static str>,
    /// LINKTYPE_* of the bytes (1: Ethernet; 276: LINUX_SLL2, from a
    /// capture on "any").
    #[pyo3(get)]
    linktype: u16,
    /// The interface's name in the captured namespace (live capture).
    #[pyo3(get)]
    interface_name: Option<String>,
    data: Vec<u8>,
}

impl Packet {
    /// The LINUX_SLL2 line, the interface named as the capture named it,
    /// else as this namespace names that index (as `tcpdump -r` does).
    fn sll2_summary(&self) -> String {
        let own = self.interface_name.clone();
        let here = std::cell::RefCell::new(None::<Option<InterfaceNames>>);
        let name = |i: u32| {
            if own.is_some() && i == self.interface {
                return own.clone();
            }
            here.borrow_mut()
                .get_or_insert_with(|| InterfaceNames::open().ok())
                .as_mut()
                .and_then(|n| n.name(i))
        };
        summary::sll2_summary(&self.data, self.length, &name)
    }
}

#[pymethods]
impl Packet {
    /// A packet from its bytes: `timestamp` in ns since the epoch (None:
    /// now), `length` on the wire (None: the bytes' length), `linktype`
    /// (1: Ethernet), as `read_pcap` would give it; for `write_pcap`,
    /// `summary()` and `packet_table` on bytes made elsewhere.
    #[new]
    #[pyo3(signature = (data, timestamp=None, length=None, interface=0, direction=None, linktype=1, interface_name=None))]
    fn new(
        data: Vec<u8>,
        timestamp: Option<u64>,
        length: Option<u32>,
        interface: u32,
        direction: Option<&str>,
        linktype: u16,
        interface_name: Option<String>,
    ) -> PyResult<Self> {
        let length = length.unwrap_or(u32::try_from(data.len()).unwrap_or(u32::MAX));
        if (length as usize) < data.len() {
            return Err(PyValueError::new_err(format!(
                "length ({length}) is the length on the wire and cannot be less than the {} bytes given",
                data.len()
            )));
        }
        Ok(Packet {
            timestamp: timestamp.unwrap_or_else(|| u64::try_from(netobs_trace::tracefs::unix_now_ns()).unwrap_or(0)),
            length,
            interface,
            direction: direction_arg(direction)?,
            linktype,
            interface_name,
            data,
        })
    }

    /// Pickles (and copies) as the constructor's arguments.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let py = slf.py();
        let p = slf.get();
        let args = (
            PyBytes::new(py, &p.data),
            p.timestamp,
            p.length,
            p.interface,
            p.direction,
            p.linktype,
            p.interface_name.clone(),
        )
            .into_pyobject(py)?
            .into_any();
        Ok((slf.get_type().into_any(), args))
    }

    /// The time stamp as a UTC `datetime` (microseconds); None beyond
    /// what an i64 of ns holds (year 2262).
    #[getter]
    fn time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::table::datetime(py, i64::try_from(self.timestamp).ok())
    }

    /// Bytes captured (at most the snap length).
    #[getter]
    fn caplen(&self) -> usize {
        self.data.len()
    }

    /// The captured bytes, from the link-layer header on.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }

    /// tcpdump's `-n -S` line after the time stamp, for an Ethernet frame
    /// (`IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64`)
    /// or a LINUX_SLL2 one from a capture on "any" (`vb    In  IP ...`: the
    /// interface's name, from the capture or else this namespace's, and
    /// the direction first, as `tcpdump -i any` prints them).
    fn summary(&self) -> PyResult<String> {
        match self.linktype {
            linktype::ETHERNET => Ok(summary::summary(&self.data, self.length)),
            linktype::LINUX_SLL2 => Ok(self.sll2_summary()),
            other => Err(PyValueError::new_err(format!(
                "summary: only Ethernet (linktype 1) and LINUX_SLL2 (276) frames are decoded, this is linktype {other}"
            ))),
        }
    }

    /// tcpdump's `-X` (or `-x` with `ascii=False`) dump of the bytes after
    /// the link-layer header (14 bytes of Ethernet, 20 of LINUX_SLL2).
    #[pyo3(signature = (ascii=true))]
    fn hexdump(&self, ascii: bool) -> String {
        let body = match self.linktype {
            linktype::ETHERNET => self.data.get(14..).unwrap_or_default(),
            linktype::LINUX_SLL2 => self.data.get(summary::SLL2_HDR_LEN..).unwrap_or_default(),
            _ => &self.data,
        };
        hexdump::tcpdump_hex(body, ascii)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Packet(timestamp={}, length={}, caplen={}, interface={}, direction={})",
            self.timestamp,
            self.length,
            self.data.len(),
            self.interface,
            crate::py_repr(py, self.direction)
        )
    }
}

/// Compiles a pcap-filter expression; a bad one raises FilterError with
/// the 1-based `column` where it goes wrong.
fn compile(py: Python<'_>, expr: &str, link: u16, snaplen: u32, mode: CodeMode) -> PyResult<Program> {
    filter::compile_with(expr, link, snaplen, mode).map_err(|e| netobs_capture::Error::from(e).into_pyerr(py))
}

/// `tcpdump -dd EXPR`: the classic BPF program netobs compiles for the
/// expression, as `(code, jt, jf, k)` tuples. `live=True` gives the code
/// for a live Linux socket (`tcpdump -i IF -dd`: VLAN tags and packet
/// direction from the kernel's metadata), otherwise the savefile code.
#[pyfunction]
#[pyo3(signature = (expr, linktype=1, snaplen=262144, live=false))]
fn compile_filter(
    py: Python<'_>,
    expr: &str,
    linktype: u16,
    snaplen: i64,
    live: bool,
) -> PyResult<Vec<(u16, u8, u8, u32)>> {
    let mode = if live { CodeMode::LinuxLive } else { CodeMode::Offline };
    let prog = compile(py, expr, linktype, snaplen_arg(snaplen)?, mode)?;
    Ok(prog.insns.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect())
}

fn file_error(py: Python<'_>, path: &std::path::Path, e: &std::io::Error) -> PyErr {
    ErrorParts {
        filename: Some(path.display().to_string()),
        ..ErrorParts::new(e.raw_os_error(), format!("{}: {e}", path.display()))
    }
    .into_pyerr(py)
}

/// The packets of a pcap or pcapng file (those matching `filter`, a
/// pcap-filter expression, when given), like `tcpdump -r FILE [EXPR]`.
#[pyfunction]
#[pyo3(signature = (path, filter=None))]
fn read_pcap(py: Python<'_>, path: PathBuf, filter: Option<&str>) -> PyResult<Vec<Packet>> {
    let file = File::open(&path).map_err(|e| file_error(py, &path, &e))?;
    let mut r = CaptureReader::new(BufReader::new(file)).py_err(py)?;
    let link = r.linktype();
    let prog = filter
        .map(|f| compile(py, f, link, DEFAULT_SNAPLEN, CodeMode::Offline))
        .transpose()?;
    py.detach(|| {
        let meta = netobs_capture::bpf::Metadata::default();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            if let Some(p) = &prog {
                if netobs_capture::bpf::run(&p.insns, rec.data, rec.orig_len, &meta) == 0 {
                    continue;
                }
            }
            out.push(Packet {
                timestamp: rec.ts_ns,
                length: rec.orig_len,
                interface: rec.interface,
                direction: None,
                linktype: rec.linktype,
                interface_name: None,
                data: rec.data.to_vec(),
            });
        }
        Ok::<_, netobs_capture::FileError>(out)
    })
    .py_err(py)
}

/// Writes packets to a pcap file with nanosecond time stamps (what
/// `tcpdump -w --time-stamp-precision=nano` writes); returns the count.
#[pyfunction]
#[pyo3(signature = (path, packets, snaplen=262144))]
fn write_pcap(py: Python<'_>, path: PathBuf, packets: &Bound<'_, PyAny>, snaplen: i64) -> PyResult<usize> {
    let snaplen = snaplen_arg(snaplen)?;
    let mut list = Vec::new();
    for p in packets.try_iter()? {
        let p = p?;
        // Plain bytes are an Ethernet frame of now.
        let p = if let Ok(packet) = p.cast::<Packet>() {
            packet.clone()
        } else if let Ok(data) = p.extract::<Vec<u8>>() {
            Bound::new(py, Packet::new(data, None, None, 0, None, 1, None)?)?
        } else {
            return Err(PyTypeError::new_err(format!(
                "write_pcap: packets must be netobs.Packet or bytes, not {}",
                p.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            )));
        };
        list.push(p);
    }
    // The file's link type is the first packet's (Ethernet when empty).
    let link = list.first().map_or(linktype::ETHERNET, |p| p.get().linktype);
    if let Some(p) = list.iter().find(|p| p.get().linktype != link) {
        return Err(PyValueError::new_err(format!(
            "write_pcap: a pcap file has one link type; packets of linktype {link} and {} were given",
            p.get().linktype
        )));
    }
    let file = File::create(&path).map_err(|e| file_error(py, &path, &e))?;
    let write = || -> std::io::Result<()> {
        let mut w = PcapWriter::new(BufWriter::new(file), link, snaplen, Precision::Nano)?;
        for p in &list {
            let p = p.get();
            w.write_packet(p.timestamp, p.length, &p.data)?;
        }
        w.flush()
    };
    write().map_err(|e| file_error(py, &path, &e))?;
    Ok(list.len())
}

/// A live capture on one interface (TPACKET_V3 ring), like
/// `tcpdump -i INTERFACE [EXPR]`: iterating yields `netobs.Packet`s as
/// they arrive; `read(timeout)` returns what arrived within a time;
/// `stats` says how many the socket received and dropped. The socket is
/// closed by `close()` or at the end of the `with` block. On "any" it
/// captures every interface of the namespace in cooked mode, like `tcpdump
/// -i any`: packets of linktype 276 (LINUX_SLL2), the filter compiled for
/// it.
#[pyclass(module = "netobs")]
pub struct Capture {
    // The ring's mapping is Send but not Sync; pyo3 classes must be both,
    // and the mutex makes it so (`&mut self` reaches it without locking).
    inner: Option<Mutex<netobs_capture::Capture>>,
    queue: VecDeque<Packet>,
    interface: String,
    /// Interface names of the captured namespace, by index.
    names: Option<InterfaceNames>,
    /// Given to the capture; woken by Ctrl-C while a read waits.
    stop: Stop,
}

impl Capture {
    fn capture(&mut self) -> PyResult<&mut netobs_capture::Capture> {
        let m = self
            .inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("Capture is closed"))?;
        Ok(m.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Moves the packets of the next block into the queue, waiting up to
    /// `timeout` (None: until one comes) for one; Ctrl-C ends the wait.
    fn fill(&mut self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<()> {
        let stop = self.stop.clone();
        let names = &mut self.names;
        let cap = self
            .inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("Capture is closed"))?
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let link = cap.linktype();
        let mut got = Vec::new();
        wait::blocking(py, &stop, || -> netobs_capture::Result<()> {
            if let Some(mut block) = cap.next_block(timeout)? {
                got.extend(block.packets().map(|p| Packet {
                    timestamp: p.ts_ns(),
                    length: p.wire_len(),
                    interface: p.ifindex(),
                    direction: Some(direction_name(p.pkttype())),
                    linktype: link,
                    interface_name: names.as_mut().and_then(|n| n.name(p.ifindex())),
                    data: p.data().to_vec(),
                }));
            }
            Ok(())
        })?
        .py_err(py)?;
        self.queue.extend(got);
        Ok(())
    }
}

#[pymethods]
impl Capture {
    #[new]
    #[pyo3(signature = (interface, filter=None, snaplen=262144, promiscuous=false, netns=None))]
    fn new(
        py: Python<'_>,
        interface: String,
        filter: Option<&str>,
        snaplen: i64,
        promiscuous: bool,
        netns: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let netns = netns_arg(netns)?;
        let snaplen = snaplen_arg(snaplen)?;
        let mut cfg = CaptureConfig::new()
            .interface(&interface)
            .snaplen(snaplen)
            .promiscuous(promiscuous)
            .retire_timeout_ms(50);
        if let Some(expr) = filter {
            // Live Linux code: the kernel runs it, VLAN tags read from the
            // skb metadata where the kernel moved them; on "any" LINUX_SLL2
            // code, of which the kernel runs what it can (libpcap's
            // fix_program).
            let link = match interface.as_str() {
                netobs_capture::capture::ANY => linktype::LINUX_SLL2,
                _ => linktype::ETHERNET,
            };
            cfg = cfg.filter(compile(py, expr, link, snaplen, CodeMode::LinuxLive)?);
        }
        let mut cap = py.detach(|| cfg.open_in(&netns)).py_err(py)?;
        // Names of the packets' interfaces, in the captured namespace.
        let names = py.detach(|| InterfaceNames::open_in(&netns)).ok();
        let stop = wait::new_stop()?;
        cap.set_stop(&stop);
        Ok(Capture {
            inner: Some(Mutex::new(cap)),
            queue: VecDeque::new(),
            interface,
            names,
            stop,
        })
    }

    /// The interface captured on.
    #[getter]
    fn interface(&self) -> &str {
        &self.interface
    }

    /// PACKET_STATISTICS since the capture opened: `{"received": N,
    /// "dropped": N, "freeze_count": N}` (received counts the packets that
    /// passed the filter, dropped ones included).
    #[getter]
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.capture()?.stats().py_err(py)?;
        let d = PyDict::new(py);
        d.set_item("received", s.packets)?;
        d.set_item("dropped", s.drops)?;
        d.set_item("freeze_count", s.freeze_count)?;
        Ok(d)
    }

    /// Whether `close()` ran.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// The packets that arrived within `timeout` seconds (returning as
    /// soon as some were read; 0 does not wait).
    #[pyo3(signature = (timeout=0.0))]
    fn read(&mut self, py: Python<'_>, timeout: f64) -> PyResult<Vec<Packet>> {
        let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // A zero timeout still looks at the ring once.
            self.fill(py, Some(left.max(Duration::from_millis(1))))?;
            if !self.queue.is_empty() || Instant::now() >= deadline {
                break;
            }
        }
        Ok(self.queue.drain(..).collect())
    }

    /// Closes the socket and unmaps the ring (idempotent).
    fn close(&mut self) {
        self.inner = None;
        self.queue.clear();
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next packet, waiting for it (Ctrl-C interrupts).
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Packet> {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return Ok(p);
            }
            self.fill(py, None)?;
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Capture(interface={}{})",
            crate::py_repr(py, Some(&self.interface)),
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// Adds the capture classes and functions to the module.
/// Columns of `netobs.PacketRow`.
static PACKET_COLUMNS: Columns = &[
    ("time", Time),
    ("timestamp", U64),
    ("length", U64),
    ("caplen", U64),
    ("interface", U64),
    ("interface_name", Str),
    ("direction", Str),
    ("src_mac", Str),
    ("dst_mac", Str),
    ("vlan", U64),
    ("ethertype", U64),
    ("src", Str),
    ("dst", Str),
    ("ip_protocol", U64),
    ("protocol", Str),
    ("sport", U64),
    ("dport", U64),
    ("tcp_flags", Str),
    ("icmp_type", U64),
    ("icmp_code", U64),
    ("summary", Str),
];

/// The name a packet table gives the highest header it decoded.
fn protocol_name(f: &FrameFields) -> Option<&'static str> {
    use netobs_capture::wire::{ethertype, ipproto};
    Some(match (f.ip_protocol, f.ethertype) {
        (Some(ipproto::TCP), _) => "TCP",
        (Some(ipproto::UDP), _) => "UDP",
        (Some(ipproto::ICMP), _) => "ICMP",
        (Some(ipproto::ICMPV6), _) => "ICMPv6",
        (Some(ipproto::GRE), _) => "GRE",
        (_, Some(ethertype::IPV4)) => "IPv4",
        (_, Some(ethertype::IPV6)) => "IPv6",
        (_, Some(ethertype::ARP)) => "ARP",
        (_, Some(ethertype::RARP)) => "RARP",
        _ => return None,
    })
}

/// One row per packet with its headers decoded (Ethernet and LINUX_SLL2
/// frames; other link types give the capture columns only): a `Table` of
/// `netobs.PacketRow`, with `to_pandas()` for a DataFrame.
#[pyfunction]
fn packet_table<'py>(py: Python<'py>, packets: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let mut t = TableBuilder::new(&[PACKET_COLUMNS]);
    for p in packets.try_iter()? {
        let p = p?;
        let p = p.cast::<Packet>().map_err(|_| {
            PyTypeError::new_err(format!(
                "packet_table: expected netobs.Packet items, not {}",
                p.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        let p = p.get();
        let (f, line) = match p.linktype {
            linktype::ETHERNET => (
                FrameFields::of_ethernet(&p.data),
                Some(summary::summary(&p.data, p.length)),
            ),
            linktype::LINUX_SLL2 => (FrameFields::of_linux_sll2(&p.data), Some(p.sll2_summary())),
            _ => (FrameFields::default(), None),
        };
        t.row()
            .time(i64::try_from(p.timestamp).ok())
            .u64(p.timestamp)
            .u64(u64::from(p.length))
            .u64(p.data.len() as u64)
            .u64(u64::from(p.interface))
            .str(p.interface_name.clone())
            .label(p.direction)
            .str(f.src_mac.map(|m| m.to_string()))
            .str(f.dst_mac.map(|m| m.to_string()))
            .u64(f.vlan.map(u64::from))
            .u64(f.ethertype.map(u64::from))
            .str(f.src.map(|a| a.to_string()))
            .str(f.dst.map(|a| a.to_string()))
            .u64(f.ip_protocol.map(u64::from))
            .label(protocol_name(&f))
            .u64(f.sport.map(u64::from))
            .u64(f.dport.map(u64::from))
            .str(f.tcp_flags.map(|x| x.tcpdump_letters()))
            .u64(f.icmp_type.map(u64::from))
            .u64(f.icmp_code.map(u64::from))
            .str(line);
    }
    t.into_py(py, "PacketRow")
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(packet_table, m)?)?;
    m.add_class::<Packet>()?;
    m.add_class::<Capture>()?;
    m.add_function(wrap_pyfunction!(compile_filter, m)?)?;
    m.add_function(wrap_pyfunction!(read_pcap, m)?)?;
    m.add_function(wrap_pyfunction!(write_pcap, m)?)
}
