//! TCP events on tracepoints: state changes (`sock:inet_sock_set_state`)
//! and retransmissions (`tcp:tcp_retransmit_skb`), with the connection's
//! addresses, for tools in the style of bcc's tcpstates, tcplife and
//! tcpretrans. State names come from the kernel's `__print_symbolic` table
//! of inet_sock_set_state; tcp_retransmit_skb prints its table with enum
//! names only, so its values are taken from the same kernel's other table.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::error::Result;
use crate::format::{EventFormat, FieldRef, SymbolTable};
use crate::reader::RawReader;
use crate::ring::Record;
use crate::tracefs::{Instance, Tracefs};

/// `AF_INET6` (include/linux/socket.h).
const AF_INET6: u64 = 10;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u64 = 6;

/// The address fields every TCP tracepoint shares.
#[derive(Debug, Clone, Copy)]
struct Endpoints {
    skaddr: FieldRef,
    sport: FieldRef,
    dport: FieldRef,
    family: FieldRef,
    saddr: FieldRef,
    daddr: FieldRef,
    saddr_v6: FieldRef,
    daddr_v6: FieldRef,
}

/// A TCP connection's ends as a tracepoint saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// The kernel socket address (stable for the socket's life).
    pub skaddr: u64,
    /// Local address.
    pub saddr: IpAddr,
    /// Local port.
    pub sport: u16,
    /// Remote address.
    pub daddr: IpAddr,
    /// Remote port.
    pub dport: u16,
}

impl Endpoints {
    fn new(f: &EventFormat) -> Result<Self> {
        Ok(Endpoints {
            skaddr: f.field_ref("skaddr")?,
            sport: f.field_ref("sport")?,
            dport: f.field_ref("dport")?,
            family: f.field_ref("family")?,
            saddr: f.field_ref("saddr")?,
            daddr: f.field_ref("daddr")?,
            saddr_v6: f.field_ref("saddr_v6")?,
            daddr_v6: f.field_ref("daddr_v6")?,
        })
    }

    fn flow(&self, r: &Record<'_>) -> Option<Flow> {
        let v6 = r.uint(&self.family)? == AF_INET6;
        let addr = |v4: &FieldRef, v6f: &FieldRef| -> Option<IpAddr> {
            Some(if v6 {
                let b: [u8; 16] = r.bytes(v6f)?.try_into().ok()?;
                IpAddr::V6(Ipv6Addr::from(b))
            } else {
                let b: [u8; 4] = r.bytes(v4)?.try_into().ok()?;
                IpAddr::V4(Ipv4Addr::from(b))
            })
        };
        Some(Flow {
            skaddr: r.uint(&self.skaddr)?,
            saddr: addr(&self.saddr, &self.saddr_v6)?,
            sport: r.uint(&self.sport)? as u16,
            daddr: addr(&self.daddr, &self.daddr_v6)?,
            dport: r.uint(&self.dport)? as u16,
        })
    }
}

/// One TCP event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent {
    /// A socket changed state.
    State {
        /// Time stamp (trace_clock).
        timestamp: u64,
        /// Task running at the change.
        pid: i32,
        /// The connection.
        flow: Flow,
        /// Previous state number.
        old: u32,
        /// New state number.
        new: u32,
    },
    /// A segment was retransmitted.
    Retransmit {
        /// Time stamp (trace_clock).
        timestamp: u64,
        /// Task running at the retransmission.
        pid: i32,
        /// The connection.
        flow: Flow,
        /// Socket state number.
        state: u32,
    },
}

/// Decoders of the two TCP tracepoints of the running kernel.
#[derive(Debug, Clone)]
pub struct TcpDecoder {
    set_state_id: u16,
    retrans_id: Option<u16>,
    pid: FieldRef,
    set_state: Endpoints,
    protocol: FieldRef,
    oldstate: FieldRef,
    newstate: FieldRef,
    retrans: Option<(Endpoints, FieldRef)>,
    states: SymbolTable,
}

impl TcpDecoder {
    /// Reads both format files (tcp_retransmit_skb is optional).
    pub fn new(t: &Tracefs) -> Result<Self> {
        let set_state = t.event_format("sock", "inet_sock_set_state")?;
        let retrans = t.event_format("tcp", "tcp_retransmit_skb").ok();
        Self::from_formats(&set_state, retrans.as_ref())
    }

    /// Builds the decoders from parsed formats.
    pub fn from_formats(set_state: &EventFormat, retrans: Option<&EventFormat>) -> Result<Self> {
        let retrans_fields = match retrans {
            Some(f) => Some((Endpoints::new(f)?, f.field_ref("state")?)),
            None => None,
        };
        Ok(TcpDecoder {
            set_state_id: set_state.id,
            retrans_id: retrans.map(|f| f.id),
            pid: set_state.field_ref("common_pid")?,
            set_state: Endpoints::new(set_state)?,
            protocol: set_state.field_ref("protocol")?,
            oldstate: set_state.field_ref("oldstate")?,
            newstate: set_state.field_ref("newstate")?,
            retrans: retrans_fields,
            states: set_state.symbols("newstate").cloned().unwrap_or_default(),
        })
    }

    /// Decodes a record of either event; other records give None. Only TCP
    /// sockets (not SCTP or MPTCP) are reported for state changes.
    pub fn decode(&self, r: &Record<'_>) -> Option<TcpEvent> {
        let id = r.event_id()?;
        let pid = r.int(&self.pid)? as i32;
        if id == self.set_state_id {
            if r.uint(&self.protocol)? != IPPROTO_TCP {
                return None;
            }
            return Some(TcpEvent::State {
                timestamp: r.timestamp,
                pid,
                flow: self.set_state.flow(r)?,
                old: r.int(&self.oldstate)? as u32,
                new: r.int(&self.newstate)? as u32,
            });
        }
        if Some(id) == self.retrans_id {
            let (ends, state) = self.retrans.as_ref()?;
            return Some(TcpEvent::Retransmit {
                timestamp: r.timestamp,
                pid,
                flow: ends.flow(r)?,
                state: r.int(state)? as u32,
            });
        }
        None
    }

    /// The kernel's name of a TCP state (`TCP_ESTABLISHED`), without the
    /// `TCP_` prefix as the bcc tools print it (`ESTABLISHED`).
    pub fn state_name(&self, state: u32) -> &str {
        self.states
            .name(state as u64)
            .map(|n| n.strip_prefix("TCP_").unwrap_or(n))
            .unwrap_or("UNKNOWN")
    }

    /// The state number of a kernel name (`TCP_CLOSE`).
    pub fn state_value(&self, name: &str) -> Option<u32> {
        self.states.value(name).map(|v| v as u32)
    }
}

/// Which TCP events to watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpWatch {
    /// `sock:inet_sock_set_state`.
    pub states: bool,
    /// `tcp:tcp_retransmit_skb`.
    pub retransmits: bool,
    /// Only sockets with this local or remote port (a kernel filter).
    pub port: Option<u16>,
}

/// TCP events from a private instance.
#[derive(Debug)]
pub struct TcpMonitor {
    reader: RawReader,
    decoder: TcpDecoder,
    instance: Instance,
}

impl TcpMonitor {
    /// Creates the instance and enables the chosen events.
    pub fn open(t: &Tracefs, watch: TcpWatch) -> Result<Self> {
        let decoder = TcpDecoder::new(t)?;
        let instance = t.private_instance("tcp")?;
        instance.set_buffer_percent(0)?;
        let filter = watch.port.map(|p| format!("sport == {p} || dport == {p}"));
        if watch.states {
            instance.enable_event("sock", "inet_sock_set_state", filter.as_deref())?;
        }
        if watch.retransmits {
            instance.enable_event("tcp", "tcp_retransmit_skb", filter.as_deref())?;
        }
        let reader = RawReader::open(&instance)?;
        Ok(TcpMonitor {
            reader,
            decoder,
            instance,
        })
    }

    /// The decoder (state names).
    pub fn decoder(&self) -> &TcpDecoder {
        &self.decoder
    }

    /// The instance.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Hands every event available now to `f` (in per-CPU order), waiting up
    /// to `timeout` when none is; returns events lost in this call.
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&TcpEvent)) -> Result<u64> {
        let d = &self.decoder;
        let sum = self.reader.read(timeout, |_, page| {
            for rec in page.records().flatten() {
                if let Some(e) = d.decode(&rec) {
                    f(&e)
                }
            }
        })?;
        Ok(sum.lost)
    }
}

/// A finished connection, as bcc's tcplife reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// The connection (addresses as at its last state change).
    pub flow: Flow,
    /// Task seen when it was opened (SYN_SENT or a passive open).
    pub pid: i32,
    /// From the first state change to TCP_CLOSE, in trace_clock units.
    pub duration: u64,
}

/// Tracks sockets from their first state change to TCP_CLOSE.
#[derive(Debug, Clone, Default)]
pub struct LifeTracker {
    open: HashMap<u64, (u64, i32)>,
}

impl LifeTracker {
    /// Feeds one event; returns the lifetime when a socket closes.
    pub fn feed(&mut self, e: &TcpEvent, close_state: u32) -> Option<Lifetime> {
        let TcpEvent::State {
            timestamp,
            pid,
            flow,
            new,
            ..
        } = *e
        else {
            return None;
        };
        if new == close_state {
            let (start, pid) = self.open.remove(&flow.skaddr)?;
            return Some(Lifetime {
                flow,
                pid,
                duration: timestamp.saturating_sub(start),
            });
        }
        self.open.entry(flow.skaddr).or_insert((timestamp, pid));
        None
    }
}
