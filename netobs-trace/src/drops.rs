//! Drop monitoring: where in the kernel packets are freed as dropped, and why.
//!
//! The default (and on kernels without NET_DM the only) backend is the
//! `skb:kfree_skb` tracepoint (include/trace/events/skb.h), read in binary
//! from a private instance's trace_pipe_raw. Each record carries the skb,
//! the return address that freed it (`location`), the receiving socket
//! (`rx_sk`), the EtherType (`protocol`, host order) and the drop reason,
//! whose names come from the `__print_symbolic` table of the running
//! kernel's format file: the numbers differ between kernel versions.
//!
//! Where the kernel has the NET_DM generic netlink family ([`crate::net_dm`])
//! and no filter is asked for, [`DropMonitor::open`] uses it instead, in
//! packet mode (location, protocol and reason name per dropped packet), and
//! presents its alerts as the same [`SkbDrop`]s.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use netobs_core::stop::Stop;

use crate::devices::{DeviceEvents, DeviceSeen, DeviceTrail, Direction};
use crate::error::{Error, Result};
use crate::format::{EventFormat, FieldRef, SymbolTable};
use crate::kallsyms::Kallsyms;
use crate::net_dm::{Alert, AlertMode, NetDm, NetDmConfig};
use crate::reader::{RawReader, TextReader};
use crate::ring::Record;
use crate::tcp::{Flow, TcpDecoder, TcpEvent, COOKIE_EVENTS};
use crate::tracefs::{Instance, Tracefs};

/// Which kernel interface delivers drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `skb:kfree_skb` through trace_pipe_raw.
    Tracepoint,
    /// `skb:kfree_skb` through the text trace_pipe (the fallback): no
    /// stacks, and `skbaddr`/`rx_sk` are the kernel's hashed `%p` values.
    TracepointText,
    /// The NET_DM generic netlink family (packet or summary alerts): no
    /// stacks, no `skbaddr`/`rx_sk`, no kernel-side filter.
    NetDm,
}

/// Whether the NET_DM generic netlink family exists; `Err` carries the
/// exact error (on this machine: no such family).
pub fn net_dm_available() -> Result<()> {
    let mut s = netobs_core::socket::NetlinkSocket::open(netobs_core::socket::Protocol::Generic)?;
    s.genl_family("NET_DM")?;
    Ok(())
}

/// One dropped skb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkbDrop {
    /// CPU that freed it.
    pub cpu: u32,
    /// Time stamp (the instance's trace_clock).
    pub timestamp: u64,
    /// PID of the task running when it was freed (softirqs run in whatever task).
    pub pid: i32,
    /// Kernel address that freed it.
    pub location: u64,
    /// Drop reason number (see [`KfreeSkb::reason_name`]).
    pub reason: u32,
    /// EtherType, host order (`skb->protocol` converted by the tracepoint).
    pub protocol: u16,
    /// The skb address.
    pub skbaddr: u64,
    /// The receiving socket, or 0.
    pub rx_sk: u64,
}

/// The `skb:kfree_skb` record layout of the running kernel, resolved once.
#[derive(Debug, Clone)]
pub struct KfreeSkb {
    /// The event id (`common_type` of its records).
    pub id: u16,
    pid: FieldRef,
    location: FieldRef,
    reason: Option<FieldRef>,
    protocol: FieldRef,
    skbaddr: FieldRef,
    rx_sk: Option<FieldRef>,
    symbolic_location: bool,
    format_path: PathBuf,
    reasons: SymbolTable,
}

impl KfreeSkb {
    /// Resolves the fields of a parsed `skb/kfree_skb/format`.
    pub fn new(format: &EventFormat) -> Result<Self> {
        Ok(KfreeSkb {
            id: format.id,
            pid: format.field_ref("common_pid")?,
            location: format.field_ref("location")?,
            reason: format.field_ref("reason").ok(),
            protocol: format.field_ref("protocol")?,
            skbaddr: format.field_ref("skbaddr")?,
            rx_sk: format.field_ref("rx_sk").ok(),
            symbolic_location: format.print_fmt.contains("location=%pS"),
            format_path: PathBuf::from("events/skb/kfree_skb/format"),
            reasons: format.symbols("reason").cloned().unwrap_or_default(),
        })
    }

    /// Whether the event names the socket a dropped packet had reached
    /// (`rx_sk`). Kernels without it cannot join a drop to its socket.
    pub fn has_rx_sk(&self) -> bool {
        self.rx_sk.is_some()
    }

    /// Whether the event carries the drop reason (5.17 and later).
    pub fn has_reason(&self) -> bool {
        self.reason.is_some()
    }

    /// Whether trace_pipe prints `location` as a symbol (`%pS`). Where the
    /// print format says `%p`, the text shows a hashed pointer that names
    /// no function, and only the binary ring gives the address.
    pub fn location_is_symbolic(&self) -> bool {
        self.symbolic_location
    }

    /// The error for a feature that needs `rx_sk` on a kernel without it.
    fn no_rx_sk(&self, what: &str) -> Error {
        Error::Unsupported {
            what: what.to_owned(),
            path: self.format_path.clone(),
            why: "this kernel's skb:kfree_skb has no rx_sk field",
        }
    }

    /// Decodes a record of this event (None for other events or short records).
    pub fn decode(&self, cpu: u32, rec: &Record<'_>) -> Option<SkbDrop> {
        if rec.event_id()? != self.id {
            return None;
        }
        Some(SkbDrop {
            cpu,
            timestamp: rec.timestamp,
            pid: rec.int(&self.pid)? as i32,
            location: rec.uint(&self.location)?,
            reason: match &self.reason {
                Some(r) => rec.uint(r)? as u32,
                None => 0,
            },
            protocol: rec.uint(&self.protocol)? as u16,
            skbaddr: rec.uint(&self.skbaddr)?,
            rx_sk: match &self.rx_sk {
                Some(r) => rec.uint(r)?,
                None => 0,
            },
        })
    }

    /// The kernel's name of a drop reason (`NO_SOCKET`), from its format file.
    pub fn reason_name(&self, reason: u32) -> Option<&str> {
        self.reasons.name(reason as u64)
    }

    /// The kernel's reason table.
    pub fn reasons(&self) -> &SymbolTable {
        &self.reasons
    }
}

/// Which drops to report. Protocol and reason become a kernel filter; the
/// location is turned into address ranges through kallsyms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropFilter {
    /// Only this EtherType (host order, e.g. 0x0800).
    pub protocol: Option<u16>,
    /// Only this reason, by the kernel's name (`NO_SOCKET`).
    pub reason: Option<String>,
    /// Only drops inside this function (any `.constprop`-style suffix).
    pub location: Option<String>,
    /// Only drops of packets that had reached a socket (`rx_sk != 0`).
    pub socket_only: bool,
}

impl DropFilter {
    /// The kernel filter expression for `skb:kfree_skb`, or None to see all.
    pub fn kernel_filter(&self, kfree: &KfreeSkb, syms: Option<&Kallsyms>) -> Result<Option<String>> {
        let mut terms = Vec::new();
        if let Some(p) = self.protocol {
            terms.push(format!("protocol == {p:#x}"));
        }
        if let Some(name) = &self.reason {
            let v = kfree.reasons.value(name).ok_or_else(|| Error::Parse {
                what: "drop reason".into(),
                msg: format!(
                    "{name:?} is not a drop reason of this kernel (closest: {}; all in skb/kfree_skb/format)",
                    kfree.reasons.closest(name, 3).join(", ")
                ),
            })?;
            terms.push(format!("reason == {v}"));
        }
        if self.socket_only {
            if !kfree.has_rx_sk() {
                return Err(kfree.no_rx_sk("only drops of packets that reached a socket"));
            }
            terms.push("rx_sk != 0".into());
        }
        if let Some(loc) = &self.location {
            let syms = syms.ok_or_else(|| Error::Parse {
                what: "location filter".into(),
                msg: "needs kallsyms".into(),
            })?;
            let ranges = syms.ranges(loc);
            if ranges.is_empty() {
                return Err(Error::Parse {
                    what: "location filter".into(),
                    msg: format!("no kernel function {loc:?} in /proc/kallsyms"),
                });
            }
            let any: Vec<String> = ranges
                .iter()
                .map(|(s, e)| format!("(location >= {s:#x} && location < {e:#x})"))
                .collect();
            terms.push(format!("({})", any.join(" || ")));
        }
        Ok(if terms.is_empty() {
            None
        } else {
            Some(terms.join(" && "))
        })
    }
}

/// The `ftrace:kernel_stack` record the `stacktrace` trigger writes:
/// `int size` entries of `unsigned long caller[]` (the format file says
/// `caller[8]`, but the record holds `size` entries: struct stack_entry in
/// kernel/trace/trace_entries.h is a flexible array).
#[derive(Debug, Clone, Copy)]
pub struct KernelStack {
    /// The event id.
    pub id: u16,
    size: FieldRef,
    caller_offset: usize,
    word: usize,
}

impl KernelStack {
    /// Resolves the fields of `ftrace/kernel_stack/format`.
    pub fn new(format: &EventFormat) -> Result<Self> {
        let caller = format.field("caller").ok_or_else(|| Error::NoSuchField {
            event: format.name.clone(),
            field: "caller".into(),
            known: String::new(),
        })?;
        let word = caller.size / caller.array_len.unwrap_or(1).max(1);
        Ok(KernelStack {
            id: format.id,
            size: format.field_ref("size")?,
            caller_offset: caller.offset,
            word: if word == 4 { 4 } else { 8 },
        })
    }

    /// The return addresses of a kernel_stack record, innermost first, into
    /// `out` (cleared). False for other records.
    pub fn decode(&self, rec: &Record<'_>, out: &mut Vec<u64>) -> bool {
        out.clear();
        if rec.event_id() != Some(self.id) {
            return false;
        }
        let n = rec.int(&self.size).unwrap_or(0).max(0) as usize;
        let words = rec.data.get(self.caller_offset..).unwrap_or(&[]);
        out.extend(words.chunks_exact(self.word).take(n).map(|w| {
            let mut b = [0u8; 8];
            b[..w.len()].copy_from_slice(w);
            u64::from_ne_bytes(b)
        }));
        true
    }
}

/// Drop counts per kernel stack.
#[derive(Debug, Clone, Default)]
pub struct StackCounts {
    counts: HashMap<Vec<u64>, u64>,
}

impl StackCounts {
    /// Counts one stack (allocates only for a stack not seen before).
    pub fn add(&mut self, stack: &[u64]) {
        match self.counts.get_mut(stack) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(stack.to_vec(), 1);
            }
        }
    }

    /// The `n` most frequent stacks, most frequent first.
    pub fn top(&self, n: usize) -> Vec<(&[u64], u64)> {
        let mut v: Vec<_> = self.counts.iter().map(|(k, c)| (k.as_slice(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// Starts a new interval.
    pub fn clear(&mut self) {
        self.counts.clear();
    }
}

/// A TCP socket a drop belonged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    /// Addresses and ports (the socket's local end is `saddr`/`sport`).
    pub flow: Flow,
    /// Its state (name: [`TcpDecoder::state_name`]): the one it last
    /// entered by `sock:inet_sock_set_state`, or for a socket older than
    /// the monitor, the one sock_diag reported for its cookie. None when
    /// neither is known (the socket left every snapshotted namespace).
    pub state: Option<u32>,
    /// Its cookie (sock_diag's `idiag_cookie`), once a cookie-carrying
    /// event ([`crate::tcp::COOKIE_EVENTS`]) showed it.
    pub cookie: Option<u64>,
}

/// A drop with what else is known about it.
#[derive(Debug, Clone, Copy)]
pub struct DropDetail<'a> {
    /// The drop.
    pub drop: SkbDrop,
    /// Its kernel stack, innermost first (empty when not recorded).
    pub stack: &'a [u64],
    /// The TCP socket `rx_sk` points at, when known.
    pub tcp: Option<TcpSocket>,
    /// The device the skb was last seen on (after
    /// [`DropMonitor::enable_devices`]), when its trail is known.
    pub device: Option<DeviceSeen<'a>>,
}

/// Where the TCP join of [`DropMonitor::enable_tcp_flows_with`] looks up
/// the state of a socket it knows only by its cookie (a socket older than
/// the monitor that has not changed state since).
///
/// The cookie is the join key: tracepoints show the kernel's socket
/// address, sock_diag never does, and both show the cookie
/// (`sock_gen_cookie`, net/core/sock_diag.c). netobs-trace reads no
/// sockets itself; the `netobs` facade implements this over sock_diag for
/// chosen namespaces (`netobs::correlate`).
pub trait SocketStates: std::fmt::Debug + Send + Sync {
    /// Replaces `states` with cookie -> TCP state (the kernel's `TCP_*`
    /// number) of every TCP socket this source can see.
    fn tcp_states(&mut self, states: &mut HashMap<u64, u32>) -> Result<()>;
}

/// The states a [`SocketStates`] gave at its last look.
#[derive(Debug)]
struct SocketSnapshot {
    source: Box<dyn SocketStates>,
    states: HashMap<u64, u32>,
}

impl SocketSnapshot {
    fn take(&mut self) -> Result<()> {
        self.source.tcp_states(&mut self.states)
    }
}

/// What the TCP join knows: sockets by kernel address.
#[derive(Debug)]
struct TcpFlows {
    decoder: TcpDecoder,
    close: u32,
    sockets: HashMap<u64, TcpSocket>,
    snapshot: SocketSnapshot,
    /// The snapshot was retaken during this poll (at most once per poll).
    refreshed: bool,
}

impl TcpFlows {
    /// Learns from a TCP event.
    fn learn(&mut self, e: &TcpEvent) {
        let blank = |flow| TcpSocket {
            flow,
            state: None,
            cookie: None,
        };
        match *e {
            TcpEvent::State { flow, new, .. } if new == self.close => {
                self.sockets.remove(&flow.skaddr);
            }
            TcpEvent::State { flow, new, .. } => {
                let s = self.sockets.entry(flow.skaddr).or_insert_with(|| blank(flow));
                s.flow = flow;
                s.state = Some(new);
            }
            TcpEvent::Cookie {
                flow, destroyed: true, ..
            } => {
                self.sockets.remove(&flow.skaddr);
            }
            TcpEvent::Cookie { flow, cookie, .. } => {
                let s = self.sockets.entry(flow.skaddr).or_insert_with(|| blank(flow));
                s.flow = flow;
                s.cookie = Some(cookie);
            }
            TcpEvent::Retransmit { .. } => {}
        }
    }

    /// The socket at `rx_sk`, when its state is known from an event.
    fn known(&self, rx_sk: u64) -> Option<TcpSocket> {
        self.sockets.get(&rx_sk).filter(|s| s.state.is_some()).copied()
    }

    /// The socket at `rx_sk`, its state looked up by cookie in the
    /// snapshot when no state change was seen (retaking the snapshot once
    /// per poll when the cookie is not in it).
    fn resolve(&mut self, rx_sk: u64) -> Result<Option<TcpSocket>> {
        let Some(s) = self.sockets.get(&rx_sk).copied() else {
            return Ok(None);
        };
        let (None, Some(cookie)) = (s.state, s.cookie) else {
            return Ok(Some(s));
        };
        if !self.snapshot.states.contains_key(&cookie) && !self.refreshed {
            self.refreshed = true;
            self.snapshot.take()?;
        }
        let state = self.snapshot.states.get(&cookie).copied();
        let s = self.sockets.get_mut(&rx_sk).expect("found above");
        if state.is_some() {
            s.state = state;
        }
        Ok(Some(TcpSocket { state, ..*s }))
    }
}

fn emit(f: &mut impl FnMut(&DropDetail<'_>), drop: SkbDrop, stack: &[u64], tcp: Option<TcpSocket>) {
    f(&DropDetail {
        drop,
        stack,
        tcp,
        device: None,
    });
}

/// The device join of [`DropMonitor::enable_devices`].
#[derive(Debug)]
struct Devices {
    events: DeviceEvents,
    trail: DeviceTrail,
    /// Device events read and not learned yet: (time stamp, skbaddr, name
    /// id or [`FREED`], direction).
    seen: Vec<(u64, u64, u32, Direction)>,
    /// Drops read with a time stamp after the read began, joined by the
    /// next poll (a device event of theirs may still sit in a CPU buffer
    /// that was read before it was written).
    later: Vec<(SkbDrop, Vec<u64>)>,
}

/// The buffer size per CPU the device join asks for: it records several
/// events per frame of the whole host between reads.
const DEVICE_JOIN_BUFFER_KB: u64 = 4096;

/// The name id standing for `skb:consume_skb` in [`Devices::seen`].
const FREED: u32 = u32::MAX;

impl Devices {
    fn learn(&mut self, (ts, addr, id, dir): (u64, u64, u32, Direction)) {
        if id == FREED {
            self.trail.forget(addr);
        } else {
            self.trail.learn_id(ts, addr, id, dir);
        }
    }
}

/// A running drop monitor on a private instance.
///
/// Its scope is the whole host: `skb:kfree_skb` fires for every skb freed
/// as dropped in every network namespace, and its record names neither
/// namespace nor device (NET_DM's alerts name the input device only in
/// packet mode, and no namespace). A [`DropFilter`] narrows by protocol,
/// reason, location or receiving socket, never by namespace. To keep the
/// drops of one namespace or device, join them to their devices with
/// [`DropMonitor::enable_devices`] (or to their TCP sockets with
/// [`DropMonitor::enable_tcp_flows_with`]) and keep those whose device or
/// socket is yours; `netobs::diagnose` does this and says how sure each
/// join is.
#[derive(Debug)]
pub struct DropMonitor {
    source: Source,
    kfree: KfreeSkb,
    net_dm: Option<String>,
    filter: Option<String>,
    stacks: Option<KernelStack>,
    stack_buf: Vec<u64>,
    /// Drops read last in their CPU's buffer whose stack record was not
    /// there yet (by CPU): their stack comes first in that CPU's next read.
    awaiting_stack: HashMap<u32, SkbDrop>,
    tcp: Option<TcpFlows>,
    devices: Option<Devices>,
    instance: Instance,
}

/// Where the records come from.
#[derive(Debug)]
enum Source {
    Raw(RawReader),
    Text(TextSource),
    NetDm(NetDm),
}

/// Which backend [`DropMonitor::open_with`] may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    /// NET_DM where the family exists, else the tracepoint.
    Auto,
    /// The tracepoint, binary (text only when binary cannot be read).
    Tracepoint,
    /// The text trace_pipe.
    Text,
}

/// Hands the drops of one NET_DM alert to `f` as [`SkbDrop`]s: a summary
/// point counted `n` times is `n` drops at its location (reason and
/// protocol unknown: 0); a packet alert is one drop, its reason name turned
/// into this kernel's number through the kfree_skb format file.
fn net_dm_drops(alert: &Alert<'_>, kfree: &KfreeSkb, f: &mut impl FnMut(&SkbDrop)) {
    let blank = SkbDrop {
        cpu: 0,
        timestamp: 0,
        pid: 0,
        location: 0,
        reason: 0,
        protocol: 0,
        skbaddr: 0,
        rx_sk: 0,
    };
    match alert {
        Alert::Summary(s) => {
            for p in s.points() {
                let d = SkbDrop {
                    location: p.location,
                    ..blank
                };
                for _ in 0..p.count {
                    f(&d);
                }
            }
        }
        Alert::Packet(p) => f(&SkbDrop {
            timestamp: p.timestamp.unwrap_or(0),
            location: p.location.unwrap_or(0),
            reason: p.reason.and_then(|r| kfree.reasons.value(r)).unwrap_or(0) as u32,
            protocol: p.protocol.unwrap_or(0),
            ..blank
        }),
        Alert::Stats(_) | Alert::Other(_) => {}
    }
}

/// The text fallback: trace_pipe lines turned back into drops.
#[derive(Debug)]
struct TextSource {
    reader: TextReader,
    /// Symbol name -> address, to turn `%pS` back into an address.
    addresses: HashMap<String, u64>,
    lost: u64,
    /// Why the binary path was not used.
    why: String,
}

impl TextSource {
    fn poll(&mut self, kfree: &KfreeSkb, timeout: Option<Duration>, f: &mut impl FnMut(&SkbDrop)) -> Result<u64> {
        let mut lost = 0;
        let addresses = &self.addresses;
        self.reader.read(timeout, |line| {
            if let Some(d) = kfree.decode_text(line, addresses) {
                f(&d);
            } else if let Some((_, rest)) = line.split_once("[LOST ") {
                // trace_pipe reports overwritten events as `CPU:N [LOST M EVENTS]`.
                lost += rest.split(' ').next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            }
        })?;
        self.lost += lost;
        Ok(lost)
    }
}

impl KfreeSkb {
    /// Turns a trace_pipe line of kfree_skb back into a drop:
    /// `COMM-PID [CPU] FLAGS SECS.USECS: kfree_skb: skbaddr=%p rx_sk=%p protocol=N location=%pS reason: NAME`.
    /// `addresses` maps symbol names to addresses ([`Kallsyms::addresses`]);
    /// `skbaddr` and `rx_sk` are the kernel's hashed `%p` values.
    pub fn decode_text(&self, line: &str, addresses: &HashMap<String, u64>) -> Option<SkbDrop> {
        let t = parse_kfree_skb_line(line)?;
        let (head, rest) = line.split_once(" [")?;
        let pid = head.rsplit_once('-')?.1.trim().parse().ok()?;
        let (cpu, rest) = rest.split_once(']')?;
        let stamp = rest.split_once(": kfree_skb:")?.0.split_whitespace().last()?;
        let (secs, frac) = stamp.split_once('.')?;
        if frac.len() > 9 {
            return None;
        }
        let frac_ns = frac.parse::<u64>().ok()? * 10u64.pow(9 - frac.len() as u32);
        let timestamp = secs
            .parse::<u64>()
            .ok()?
            .checked_mul(1_000_000_000)?
            .checked_add(frac_ns)?;
        let hex = |key: &str| {
            let v = line.split(key).nth(1)?.split(' ').next()?;
            u64::from_str_radix(v, 16).ok()
        };
        // `sym+0xoff/0xsize` (%pS): the symbol's address plus the offset. A
        // kernel that prints `%p` shows a hashed pointer naming nothing: 0.
        let location = match t.location.split_once('+') {
            Some((sym, off)) => {
                let off = u64::from_str_radix(off.split('/').next()?.trim_start_matches("0x"), 16).ok()?;
                // A symbol kallsyms lists under another name at the same
                // address gives 0 rather than losing the drop from the counts.
                addresses.get(sym).map_or(0, |a| a.wrapping_add(off))
            }
            None => 0,
        };
        Some(SkbDrop {
            cpu: cpu.trim().parse().ok()?,
            timestamp,
            pid,
            location,
            reason: self.reasons.value(t.reason)? as u32,
            protocol: t.protocol,
            skbaddr: hex("skbaddr=")?,
            // Absent where the event has no rx_sk field.
            rx_sk: hex("rx_sk=").unwrap_or(0),
        })
    }
}

impl DropMonitor {
    /// Chooses the backend automatically: the NET_DM family in packet mode
    /// where the kernel has it and `filter` is empty (NET_DM filters
    /// nothing in the kernel), otherwise [`DropMonitor::open_tracepoint`].
    /// [`DropMonitor::backend`] says which is in use and
    /// [`DropMonitor::net_dm_error`] why NET_DM is not.
    pub fn open(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        Self::open_with(tracefs, filter, syms, Choice::Auto)
    }

    /// Creates a private instance, enables `skb:kfree_skb` with the filter,
    /// sets buffer_percent to 0 (wake on every event) and reads the binary
    /// per-CPU buffers, or the text trace_pipe when those cannot be used.
    /// `syms` is needed only for a location filter. Stacks and TCP flows
    /// need this backend.
    pub fn open_tracepoint(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        Self::open_with(tracefs, filter, syms, Choice::Tracepoint)
    }

    /// Like [`DropMonitor::open_tracepoint`], always on the text trace_pipe.
    pub fn open_text(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        Self::open_with(tracefs, filter, syms, Choice::Text)
    }

    fn open_with(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>, choice: Choice) -> Result<Self> {
        let format = tracefs.event_format("skb", "kfree_skb")?;
        let kfree = KfreeSkb::new(&format)?;
        let expr = filter.kernel_filter(&kfree, syms)?;
        let instance = tracefs.private_instance("drops")?;
        instance.set_buffer_percent(0)?;
        let net_dm = match choice {
            Choice::Auto if *filter == DropFilter::default() => {
                let config = NetDmConfig {
                    mode: AlertMode::Packet,
                    trunc_len: 64,
                    ..NetDmConfig::default()
                };
                match NetDm::open(&config) {
                    Ok(n) => {
                        return Ok(DropMonitor {
                            source: Source::NetDm(n),
                            kfree,
                            net_dm: None,
                            filter: None,
                            stacks: None,
                            stack_buf: Vec::new(),
                            awaiting_stack: HashMap::new(),
                            tcp: None,
                            devices: None,
                            instance,
                        })
                    }
                    Err(e) => Some(e.to_string()),
                }
            }
            _ => match net_dm_available() {
                Ok(()) => Some("present, not used (filters, stacks and TCP flows need the tracepoint)".into()),
                Err(e) => Some(e.to_string()),
            },
        };
        instance.enable_event("skb", "kfree_skb", expr.as_deref())?;
        let raw = if choice == Choice::Text {
            Err(Error::Parse {
                what: "reading mode".into(),
                msg: "text trace_pipe requested".into(),
            })
        } else {
            RawReader::open(&instance)
        };
        let source = match raw {
            Ok(r) => Source::Raw(r),
            Err(e) => {
                let owned;
                let syms = match syms {
                    Some(s) => s,
                    None => {
                        owned = Kallsyms::load()?;
                        &owned
                    }
                };
                Source::Text(TextSource {
                    reader: TextReader::open(&instance)?,
                    addresses: syms.addresses(),
                    lost: 0,
                    why: e.to_string(),
                })
            }
        };
        Ok(DropMonitor {
            source,
            kfree,
            net_dm,
            filter: expr,
            stacks: None,
            stack_buf: Vec::new(),
            awaiting_stack: HashMap::new(),
            tcp: None,
            devices: None,
            instance,
        })
    }

    /// Records the kernel stack of every reported drop, through a
    /// `stacktrace` trigger on kfree_skb; read them with
    /// [`DropMonitor::poll_detailed`]. The trigger carries the event filter as
    /// its condition, which makes it run after the event is recorded (a
    /// trigger without condition runs before it, and for filtered-out events too).
    pub fn enable_stacks(&mut self) -> Result<()> {
        self.need_tracepoint("kernel stacks")?;
        let format = self.instance.tracefs().event_format("ftrace", "kernel_stack")?;
        let stacks = KernelStack::new(&format)?;
        let cond = self.filter.as_deref().unwrap_or("common_pid >= 0");
        self.instance
            .add_trigger("skb", "kfree_skb", &format!("stacktrace if {cond}"))?;
        self.stacks = Some(stacks);
        Ok(())
    }

    /// Joins each drop's `rx_sk` to its TCP socket, reported by
    /// [`DropMonitor::poll_detailed`] with addresses, ports and state.
    ///
    /// The tracepoint is host-wide: drops of every namespace are still
    /// seen; `states` only says where the states of sockets known by
    /// cookie are looked up (`netobs::correlate` offers sock_diag of
    /// chosen namespaces).
    ///
    /// The kernel shows a socket's address (`rx_sk`, `skaddr`) only in
    /// tracepoints, and sock_diag shows only its cookie; the join goes
    /// through the events that carry both. Enabled in the same instance:
    /// `sock:inet_sock_set_state` (sockets that change state from now on,
    /// with the state) and the [`crate::tcp::COOKIE_EVENTS`] (every
    /// segment an established socket receives, every read, every
    /// destruction: sockets older than the monitor, with their cookie). The
    /// state of a socket known only by cookie comes from a sock_diag dump
    /// of `states` (taken now, retaken at most once per poll when a cookie
    /// is not in it). tcp_probe fires for every received segment, so this
    /// costs in proportion to TCP traffic; listeners that neither change
    /// state nor receive data stay unknown.
    pub fn enable_tcp_flows_with(&mut self, states: Box<dyn SocketStates>) -> Result<()> {
        self.need_tracepoint("TCP flows")?;
        if !self.kfree.has_rx_sk() {
            return Err(self.kfree.no_rx_sk("joining drops to their TCP sockets"));
        }
        let decoder = TcpDecoder::new(self.instance.tracefs())?;
        let close = decoder.state_value("TCP_CLOSE").ok_or_else(|| Error::Parse {
            what: "sock/inet_sock_set_state/format".into(),
            msg: "no TCP_CLOSE in the state table".into(),
        })?;
        let mut snapshot = SocketSnapshot {
            source: states,
            states: HashMap::new(),
        };
        snapshot.take()?;
        self.instance
            .enable_event("sock", "inet_sock_set_state", Some("protocol == 6"))?;
        for event in COOKIE_EVENTS {
            let unusable = decoder.unusable_cookie_events().iter().any(|(e, _)| e == event);
            if !unusable && self.instance.tracefs().event_format("tcp", event).is_ok() {
                self.instance.enable_event("tcp", event, None)?;
            }
        }
        self.tcp = Some(TcpFlows {
            decoder,
            close,
            sockets: HashMap::new(),
            snapshot,
            refreshed: false,
        });
        Ok(())
    }

    /// Switches the trace instance to the `mono` trace clock, so that
    /// [`DropMonitor::wall_clock`] can turn drop time stamps into
    /// wall-clock time and they compare with [`crate::tracefs::mono_clock_now`].
    /// The kernel empties the instance's buffers on a clock change
    /// (kernel/trace/trace.c `tracing_set_clock`), so call it before the
    /// drops you want. On NET_DM it changes nothing: packet alerts carry
    /// wall-clock time already.
    pub fn use_mono_clock(&mut self) -> Result<()> {
        match self.source {
            Source::NetDm(_) => Ok(()),
            _ => self.instance.set_trace_clock("mono"),
        }
    }

    /// The converter of this monitor's drop time stamps to wall-clock
    /// time: for an instance on the `mono` clock (see
    /// [`DropMonitor::use_mono_clock`]; [`DropMonitor::enable_devices`]
    /// switches to it too) and for NET_DM; None for the default `local`
    /// clock, which has no relation to wall-clock time.
    pub fn wall_clock(&self) -> Result<Option<crate::tracefs::WallClock>> {
        Ok(match self.source {
            Source::NetDm(_) => Some(crate::tracefs::WallClock::identity()),
            _ => (self.instance.trace_clock()? == "mono").then(crate::tracefs::WallClock::for_mono),
        })
    }

    /// Joins each drop to the device its skb was last seen on
    /// ([`DropDetail::device`]): enables `net:netif_receive_skb`,
    /// `net:net_dev_queue` and `skb:consume_skb` in the same instance,
    /// unfiltered, switches the instance to the `mono` trace clock so
    /// records of different CPUs can be ordered (time stamps are then
    /// CLOCK_MONOTONIC ns) and grows its buffers to at least 4 MiB per CPU.
    /// A device event older than `max_age` at the drop does not join. See
    /// [`crate::devices`] for what such a join can and cannot tell.
    ///
    /// Costs one event per device hop of every frame on the host, and one
    /// per consumed skb. Drops come out of [`DropMonitor::poll_detailed`]
    /// in time-stamp order, each once every CPU buffer has been read after
    /// it happened: a drop from the last moments of one read comes out of
    /// the next (so read once more after the period you care about).
    pub fn enable_devices(&mut self, max_age: Duration) -> Result<()> {
        self.need_tracepoint("the device join")?;
        if matches!(self.source, Source::Text(_)) {
            return Err(Error::Parse {
                what: "the device join".into(),
                msg: format!(
                    "needs the binary ring reader, and this instance is read as text ({})",
                    self.text_fallback_reason().unwrap_or("")
                ),
            });
        }
        let events = DeviceEvents::new(self.instance.tracefs())?;
        self.instance.set_trace_clock("mono")?;
        if self.instance.buffer_size_kb()? < DEVICE_JOIN_BUFFER_KB {
            self.instance.set_buffer_size_kb(DEVICE_JOIN_BUFFER_KB)?;
        }
        events.enable(&self.instance)?;
        self.devices = Some(Devices {
            events,
            trail: DeviceTrail::new(u64::try_from(max_age.as_nanos()).unwrap_or(u64::MAX)),
            seen: Vec::new(),
            later: Vec::new(),
        });
        Ok(())
    }

    /// Like [`DropMonitor::poll`], with each drop's kernel stack (after
    /// [`DropMonitor::enable_stacks`]; innermost first, empty if not
    /// recorded) and TCP socket (after [`DropMonitor::enable_tcp_flows_with`]).
    /// A drop whose socket is not known yet when its CPU's page is read
    /// waits for the other CPUs' pages of the same read (the event that
    /// names the socket may have run on another CPU), so drops can come
    /// out of per-CPU order.
    ///
    /// With stacks, a drop is paired with the `ftrace:kernel_stack` record
    /// the trigger writes after it on the same CPU, also when that record
    /// starts the next page; a drop read last in its CPU's buffer waits for
    /// the next poll, where its stack is the CPU's first record (the
    /// trigger runs after the event is committed, so a read can fall
    /// between them). If that read shows no stack, it comes out without.
    /// [`DropMonitor::finish_detailed`] hands out what is still held back.
    pub fn poll_detailed(&mut self, timeout: Option<Duration>, f: impl FnMut(&DropDetail<'_>)) -> Result<u64> {
        self.read_detailed(timeout, false, f)
    }

    /// The last read: like [`DropMonitor::poll_detailed`] without waiting,
    /// then every drop earlier reads held back comes out too: a drop whose
    /// stack record has not been read comes without it, and with the
    /// device join ([`DropMonitor::enable_devices`]) drops written after
    /// the read began are joined with what is known. Call it before
    /// dropping the monitor, or those drops are never handed out.
    pub fn finish_detailed(&mut self, f: impl FnMut(&DropDetail<'_>)) -> Result<u64> {
        self.read_detailed(Some(Duration::ZERO), true, f)
    }

    fn read_detailed(
        &mut self,
        timeout: Option<Duration>,
        last: bool,
        mut f: impl FnMut(&DropDetail<'_>),
    ) -> Result<u64> {
        let kfree = &self.kfree;
        let stacks = self.stacks;
        let buf = &mut self.stack_buf;
        // (drop, carried from the last poll) by CPU
        let mut awaiting: HashMap<u32, (SkbDrop, bool)> =
            self.awaiting_stack.drain().map(|(cpu, d)| (cpu, (d, true))).collect();
        let reader = match &mut self.source {
            Source::Raw(r) => r,
            // Text lines carry no stack records we pair, and hashed rx_sk
            // values that match no socket: drops only.
            Source::Text(t) => return t.poll(kfree, timeout, &mut |d: &SkbDrop| emit(&mut f, *d, &[], None)),
            Source::NetDm(n) => {
                n.poll(timeout, |a| {
                    net_dm_drops(a, kfree, &mut |d: &SkbDrop| emit(&mut f, *d, &[], None))
                })?;
                return Ok(0);
            }
        };
        let mut tcp = self.tcp.as_mut();
        if let Some(t) = tcp.as_deref_mut() {
            t.refreshed = false;
        }
        let mut devices = self.devices.as_mut();
        let defer_all = devices.is_some();
        // Every event written before this instant is in a buffer now, so
        // it is read below: drops up to it can be joined after this read.
        let read_start = if defer_all { crate::sys::monotonic_ns() } else { 0 };
        let mut err = None;
        let mut waiting: Vec<(SkbDrop, Vec<u64>)> = devices
            .as_deref_mut()
            .map(|d| std::mem::take(&mut d.later))
            .unwrap_or_default();
        // Emits a drop now, or keeps it for after the read when its socket
        // or the socket's state is not known yet: the event that tells may
        // be in another CPU's page of this read. With the device join every
        // drop waits, to be joined in time-stamp order.
        let mut settle = |d: SkbDrop, stack: &[u64], tcp: &Option<&mut TcpFlows>| {
            if defer_all {
                return waiting.push((d, stack.to_vec()));
            }
            let sock = match tcp.as_deref() {
                Some(t) if d.rx_sk != 0 => match t.known(d.rx_sk) {
                    None => return waiting.push((d, stack.to_vec())),
                    s => s,
                },
                _ => None,
            };
            emit(&mut f, d, stack, sock);
        };
        let sum = reader.read(timeout, |cpu, page| {
            for rec in page.records() {
                let rec = match rec {
                    Ok(r) => r,
                    Err(source) => {
                        err.get_or_insert(Error::Page { cpu, source });
                        continue;
                    }
                };
                if let Some(d) = kfree.decode(cpu, &rec) {
                    if stacks.is_none() {
                        settle(d, &[], &tcp);
                    } else if let Some((p, _)) = awaiting.insert(cpu, (d, false)) {
                        settle(p, &[], &tcp);
                    }
                } else if let Some(e) = devices.as_deref().and_then(|d| d.events.decode(&rec)) {
                    let dev = devices.as_deref_mut().expect("decoded by it");
                    let id = e.name.map_or(FREED, |n| dev.trail.intern(n));
                    dev.seen.push((e.timestamp, e.skbaddr, id, e.direction));
                } else if let Some(e) = tcp.as_deref().and_then(|t| t.decoder.decode(&rec)) {
                    tcp.as_deref_mut().expect("decoded by it").learn(&e);
                } else if let (Some(st), true) = (&stacks, awaiting.contains_key(&cpu)) {
                    if st.decode(&rec, buf) {
                        let (p, _) = awaiting.remove(&cpu).expect("checked");
                        settle(p, buf, &tcp);
                    }
                }
            }
        })?;
        // Drops of the last poll whose stack did not come are given
        // without; this read's last drops wait for the next one.
        for (cpu, (d, carried)) in awaiting {
            if carried || last {
                settle(d, &[], &tcp);
            } else {
                self.awaiting_stack.insert(cpu, d);
            }
        }
        if let Some(dev) = devices.as_deref_mut() {
            dev.seen.sort_by_key(|e| e.0);
            waiting.sort_by_key(|(d, _)| d.timestamp);
            let cut = match last {
                true => waiting.len(),
                false => waiting.partition_point(|(d, _)| d.timestamp <= read_start),
            };
            dev.later = waiting.split_off(cut);
        }
        let mut next_event = 0;
        for (d, stack) in waiting {
            let sock = match tcp.as_deref_mut().map(|t| t.resolve(d.rx_sk)) {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    err.get_or_insert(e);
                    None
                }
                None => None,
            };
            let device = match devices.as_deref_mut() {
                Some(dev) => {
                    while let Some(&e) = dev.seen.get(next_event) {
                        if e.0 > d.timestamp {
                            break;
                        }
                        dev.learn(e);
                        next_event += 1;
                    }
                    dev.trail.take(d.skbaddr, d.timestamp)
                }
                None => None,
            };
            f(&DropDetail {
                drop: d,
                stack: &stack,
                tcp: sock,
                device,
            });
        }
        if let Some(dev) = devices {
            // Learn what came before the read began; keep the rest for the
            // drops carried to the next poll.
            let mut rest = std::mem::take(&mut dev.seen);
            let keep = next_event.max(rest.partition_point(|e| e.0 <= read_start));
            for &e in &rest[next_event..keep] {
                dev.learn(e);
            }
            rest.drain(..keep);
            dev.seen = rest;
        }
        match err {
            Some(e) => Err(e),
            None => Ok(sum.lost),
        }
    }

    /// The kernel filter expression in use on kfree_skb, if any.
    pub fn kernel_filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// The TCP state decoder, after [`DropMonitor::enable_tcp_flows_with`].
    pub fn tcp_decoder(&self) -> Option<&TcpDecoder> {
        self.tcp.as_ref().map(|t| &t.decoder)
    }

    /// Makes a waiting [`poll`](Self::poll) (and
    /// [`poll_detailed`](Self::poll_detailed)) return at once when `stop` is
    /// tripped, whatever the backend.
    pub fn set_stop(&mut self, stop: &Stop) {
        match &mut self.source {
            Source::Raw(r) => r.set_stop(stop),
            Source::Text(t) => t.reader.set_stop(stop),
            Source::NetDm(n) => n.set_stop(stop),
        }
    }

    /// The backend in use; [`DropMonitor::net_dm_error`] says why NET_DM
    /// is not, when it is not.
    pub fn backend(&self) -> Backend {
        match self.source {
            Source::Raw(_) => Backend::Tracepoint,
            Source::Text(_) => Backend::TracepointText,
            Source::NetDm(_) => Backend::NetDm,
        }
    }

    fn need_tracepoint(&self, what: &str) -> Result<()> {
        match self.source {
            Source::NetDm(_) => Err(Error::Parse {
                what: what.into(),
                msg: "need the skb:kfree_skb tracepoint backend (DropMonitor::open_tracepoint), not NET_DM".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Why the text fallback is in use, if it is.
    pub fn text_fallback_reason(&self) -> Option<&str> {
        match &self.source {
            Source::Text(t) => Some(&t.why),
            Source::Raw(_) | Source::NetDm(_) => None,
        }
    }

    /// Why NET_DM is not in use (the exact error when the family is absent),
    /// or None when it is.
    pub fn net_dm_error(&self) -> Option<&str> {
        self.net_dm.as_deref()
    }

    /// The instance holding the event.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The resolved kfree_skb layout and reason names.
    pub fn kfree_skb(&self) -> &KfreeSkb {
        &self.kfree
    }

    /// Hands every drop available now to `f`, waiting up to `timeout` when
    /// none is. Returns the events lost in this call (never hidden).
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&SkbDrop)) -> Result<u64> {
        let kfree = &self.kfree;
        let reader = match &mut self.source {
            Source::Raw(r) => r,
            Source::Text(t) => return t.poll(kfree, timeout, &mut f),
            Source::NetDm(n) => {
                n.poll(timeout, |a| net_dm_drops(a, kfree, &mut f))?;
                return Ok(0);
            }
        };
        let mut err = None;
        let sum = reader.read(timeout, |cpu, page| {
            for r in page.records() {
                match r {
                    Ok(rec) => {
                        if let Some(d) = kfree.decode(cpu, &rec) {
                            f(&d)
                        }
                    }
                    Err(source) => err = Some(Error::Page { cpu, source }),
                }
            }
        })?;
        match err {
            Some(e) => Err(e),
            None => Ok(sum.lost),
        }
    }

    /// Events lost since the start (NET_DM: see [`DropMonitor::stats_lost`]).
    pub fn lost(&self) -> u64 {
        match &self.source {
            Source::Raw(r) => r.lost(),
            Source::Text(t) => t.lost,
            Source::NetDm(_) => 0,
        }
    }

    /// Lost events according to the kernel: the per-CPU ring-buffer stats,
    /// or for NET_DM its own counter (NET_DM_CMD_STATS_GET; packet alerts
    /// it could not queue).
    pub fn stats_lost(&mut self) -> Result<u64> {
        match &mut self.source {
            Source::Raw(r) => r.stats_lost(),
            Source::NetDm(n) => Ok(n.stats()?.sw_dropped.unwrap_or(0)),
            Source::Text(_) => {
                let mut n = 0;
                for cpu in self.instance.cpus()? {
                    n += self.instance.cpu_stats(cpu)?.lost();
                }
                Ok(n)
            }
        }
    }
}

/// Aggregation key: where, why and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DropKey {
    /// Kernel address that freed the skb.
    pub location: u64,
    /// Reason number.
    pub reason: u32,
    /// EtherType.
    pub protocol: u16,
}

/// Drop counts per (location, reason, protocol) over an interval.
#[derive(Debug, Clone, Default)]
pub struct DropCounts {
    counts: HashMap<DropKey, u64>,
    total: u64,
}

impl DropCounts {
    /// Counts one drop.
    pub fn add(&mut self, d: &SkbDrop) {
        *self
            .counts
            .entry(DropKey {
                location: d.location,
                reason: d.reason,
                protocol: d.protocol,
            })
            .or_insert(0) += 1;
        self.total += 1;
    }

    /// Counts `count` drops of `key` (a kernel-side aggregate, such as a
    /// hist trigger's entry).
    pub fn add_count(&mut self, key: DropKey, count: u64) {
        *self.counts.entry(key).or_insert(0) += count;
        self.total += count;
    }

    /// Every group with its count, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (DropKey, u64)> + '_ {
        self.counts.iter().map(|(k, c)| (*k, *c))
    }

    /// Drops counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The `n` largest groups, largest first (ties by key), with counts.
    pub fn top(&self, n: usize) -> Vec<(DropKey, u64)> {
        let mut v: Vec<_> = self.counts.iter().map(|(k, c)| (*k, *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Drops per second over an interval of `secs`.
    pub fn rate(count: u64, secs: f64) -> f64 {
        if secs > 0.0 {
            count as f64 / secs
        } else {
            0.0
        }
    }

    /// Starts a new interval.
    pub fn clear(&mut self) {
        self.counts.clear();
        self.total = 0;
    }
}

/// A kfree_skb line of the text trace_pipe, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextDrop<'a> {
    /// EtherType.
    pub protocol: u16,
    /// The location as the kernel printed it (`%pS`: `sym+0xoff/0xsize`).
    pub location: &'a str,
    /// The reason name.
    pub reason: &'a str,
}

/// Parses a trace_pipe line of `skb:kfree_skb`
/// (`... kfree_skb: skbaddr=... rx_sk=... protocol=N location=SYM reason: NAME`).
pub fn parse_kfree_skb_line(line: &str) -> Option<TextDrop<'_>> {
    let (_, rest) = line.split_once("kfree_skb: ")?;
    let mut protocol = None;
    let mut location = None;
    let mut words = rest.split(' ');
    let mut reason = None;
    while let Some(w) = words.next() {
        if let Some(v) = w.strip_prefix("protocol=") {
            protocol = v.parse().ok();
        } else if let Some(v) = w.strip_prefix("location=") {
            location = Some(v);
        } else if w == "reason:" {
            reason = words.next();
        }
    }
    Some(TextDrop {
        protocol: protocol?,
        location: location?,
        reason: reason?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_line() {
        let l = "  <idle>-0  [001] ..s2.  1.5: kfree_skb: skbaddr=000000001 rx_sk=0000000 protocol=17185 \
                 location=__netif_receive_skb_core.constprop.0+0x7e6/0x1030 reason: UNHANDLED_PROTO";
        let d = parse_kfree_skb_line(l).unwrap();
        assert_eq!(d.protocol, 0x4321);
        assert_eq!(d.reason, "UNHANDLED_PROTO");
        assert!(d.location.starts_with("__netif_receive_skb_core"));
        assert_eq!(parse_kfree_skb_line("garbage"), None);
    }

    #[test]
    fn top_n() {
        let mut c = DropCounts::default();
        let d = |loc, reason| SkbDrop {
            cpu: 0,
            timestamp: 0,
            pid: 0,
            location: loc,
            reason,
            protocol: 8,
            skbaddr: 0,
            rx_sk: 0,
        };
        for _ in 0..3 {
            c.add(&d(1, 2));
        }
        c.add(&d(5, 2));
        let t = c.top(1);
        assert_eq!(t[0].1, 3);
        assert_eq!(c.total(), 4);
    }
}

/// Where a [`DropCounter`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountSource {
    /// In the kernel, with a hist trigger on kfree_skb: no record and no
    /// wake-up per drop.
    Hist,
    /// Here, from the records of the binary (or text) ring.
    Ring,
}

#[derive(Debug)]
enum Counting {
    Hist { instance: Instance },
    Ring { mon: Box<DropMonitor>, counts: DropCounts },
}

/// kfree_skb drops counted per (location, reason, protocol) since open:
/// aggregated in the kernel by a hist trigger where the kernel has hist
/// triggers (`events/skb/kfree_skb/hist` exists and takes the trigger),
/// otherwise from the ring reader. [`DropCounter::why_not_hist`] says why
/// the kernel path is not used. The tracepoint is host-wide: the counts
/// are every namespace's, narrowed only by the filter.
#[derive(Debug)]
pub struct DropCounter {
    kfree: KfreeSkb,
    counting: Counting,
    why_not_hist: Option<String>,
    hist_dropped: u64,
}

impl DropCounter {
    /// In the kernel where it can, else from the ring.
    pub fn open(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        match Self::open_hist(tracefs, filter, syms) {
            Ok(c) => Ok(c),
            Err(e @ (Error::Filter { .. } | Error::NoSuchEvent { .. } | Error::Parse { .. })) => Err(e),
            Err(e) => {
                let mut c = Self::open_ring(tracefs, filter, syms)?;
                c.why_not_hist = Some(e.to_string());
                Ok(c)
            }
        }
    }

    /// Always from the ring reader (the tracepoint backend of [`DropMonitor`]).
    pub fn open_ring(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        let mon = DropMonitor::open_tracepoint(tracefs, filter, syms)?;
        // Counting needs no wake-up per drop (buffer_percent 0 makes the
        // kernel wake the reader for every event, the largest part of a
        // traced drop's cost): wake at half a buffer; reads still drain
        // whatever has arrived.
        mon.instance().set_buffer_percent(50)?;
        Ok(DropCounter {
            kfree: mon.kfree.clone(),
            counting: Counting::Ring {
                mon: Box::new(mon),
                counts: DropCounts::default(),
            },
            why_not_hist: None,
            hist_dropped: 0,
        })
    }

    /// Always in the kernel: fails where the kernel has no hist triggers
    /// ([`Error::Unsupported`]) or refuses this one.
    pub fn open_hist(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>) -> Result<Self> {
        let format = tracefs.event_format("skb", "kfree_skb")?;
        let kfree = KfreeSkb::new(&format)?;
        let expr = filter.kernel_filter(&kfree, syms)?;
        let instance = tracefs.private_instance("dropcount")?;
        if !instance.event_dir("skb", "kfree_skb")?.join("hist").exists() {
            return Err(Error::Unsupported {
                what: "counting drops in the kernel (hist triggers)".into(),
                path: tracefs.root().join("events/skb/kfree_skb/hist"),
                why: "CONFIG_HIST_TRIGGERS",
            });
        }
        let keys = if kfree.reason.is_some() {
            "location,reason,protocol"
        } else {
            "location,protocol"
        };
        // The filter as the trigger's condition: only matching drops count.
        let mut trigger = format!("hist:keys={keys}:vals=hitcount:size=8192");
        if let Some(e) = &expr {
            trigger.push_str(" if ");
            trigger.push_str(e);
        }
        instance.add_trigger("skb", "kfree_skb", &trigger)?;
        Ok(DropCounter {
            kfree,
            counting: Counting::Hist { instance },
            why_not_hist: None,
            hist_dropped: 0,
        })
    }

    /// Which path counts.
    pub fn source(&self) -> CountSource {
        match self.counting {
            Counting::Hist { .. } => CountSource::Hist,
            Counting::Ring { .. } => CountSource::Ring,
        }
    }

    /// Makes the ring path's waiting [`counts`](Self::counts) return at
    /// once when `stop` is tripped (the kernel path never waits).
    pub fn set_stop(&mut self, stop: &Stop) {
        if let Counting::Ring { mon, .. } = &mut self.counting {
            mon.set_stop(stop);
        }
    }

    /// Why the kernel path is not used (after [`DropCounter::open`]).
    pub fn why_not_hist(&self) -> Option<&str> {
        self.why_not_hist.as_deref()
    }

    /// The resolved kfree_skb layout and reason names.
    pub fn kfree_skb(&self) -> &KfreeSkb {
        &self.kfree
    }

    /// The counts since open. The ring path first reads what has arrived,
    /// waiting up to `timeout` when nothing has; the hist path reads the
    /// kernel's table at once.
    pub fn counts(&mut self, timeout: Option<Duration>) -> Result<DropCounts> {
        match &mut self.counting {
            Counting::Ring { mon, counts } => {
                mon.poll(timeout, |d| counts.add(d))?;
                Ok(counts.clone())
            }
            Counting::Hist { instance } => {
                let path = instance.event_dir("skb", "kfree_skb")?.join("hist");
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
                let h = crate::hist::parse(&text)?;
                self.hist_dropped = h.dropped;
                let mut counts = DropCounts::default();
                for e in &h.entries {
                    let key = DropKey {
                        location: e.key("location").unwrap_or(0),
                        reason: e.key("reason").unwrap_or(0) as u32,
                        protocol: e.key("protocol").unwrap_or(0) as u16,
                    };
                    counts.add_count(key, e.hitcount);
                }
                Ok(counts)
            }
        }
    }

    /// Drops not counted: events lost by the ring, or, in the kernel, drops
    /// that found the hist table full (as of the last [`counts`](Self::counts)).
    pub fn lost(&self) -> u64 {
        match &self.counting {
            Counting::Ring { mon, .. } => mon.lost(),
            Counting::Hist { .. } => self.hist_dropped,
        }
    }
}
