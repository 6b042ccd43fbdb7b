//! TCP events on tracepoints: state changes (`sock:inet_sock_set_state`)
//! and retransmissions (`tcp:tcp_retransmit_skb`), with the connection's
//! addresses, for tools in the style of bcc's tcpstates, tcplife and
//! tcpretrans. State names come from the kernel's `__print_symbolic` table
//! of inet_sock_set_state; tcp_retransmit_skb prints its table with enum
//! names only, so its values are taken from the same kernel's other table.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use netobs_core::stop::Stop;

use crate::error::Result;
use crate::format::{EventFormat, FieldRef, SymbolTable};
use crate::reader::RawReader;
use crate::ring::Record;
use crate::tracefs::{Instance, Tracefs};

/// `AF_INET6` (include/linux/socket.h).
const AF_INET6: u64 = 10;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u64 = 6;

/// How an event stores the two addresses.
#[derive(Debug, Clone, Copy)]
enum Addresses {
    /// `saddr[4]`/`daddr[4]` and `saddr_v6[16]`/`daddr_v6[16]`
    /// (TP_STORE_ADDRS in include/trace/events/net_probe_common.h).
    Split {
        saddr: FieldRef,
        daddr: FieldRef,
        saddr_v6: FieldRef,
        daddr_v6: FieldRef,
    },
    /// `saddr[28]`/`daddr[28]` holding a `struct sockaddr_in` or
    /// `sockaddr_in6` (TP_STORE_ADDR_PORTS, used by tcp_probe).
    Sockaddr { saddr: FieldRef, daddr: FieldRef },
}

/// The address fields of a TCP tracepoint, in either layout.
#[derive(Debug, Clone, Copy)]
struct Endpoints {
    skaddr: FieldRef,
    sport: FieldRef,
    dport: FieldRef,
    family: FieldRef,
    addrs: Addresses,
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

/// The address in a `struct sockaddr_in` (address at byte 4) or
/// `sockaddr_in6` (address at byte 8), include/uapi/linux/in.h and in6.h.
fn sockaddr_ip(b: &[u8], v6: bool) -> Option<IpAddr> {
    Some(if v6 {
        let a: [u8; 16] = b.get(8..24)?.try_into().ok()?;
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        let a: [u8; 4] = b.get(4..8)?.try_into().ok()?;
        IpAddr::V4(Ipv4Addr::from(a))
    })
}

fn fixed_ip(b: &[u8]) -> Option<IpAddr> {
    Some(match b.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => return None,
    })
}

impl Endpoints {
    fn new(f: &EventFormat) -> Result<Self> {
        let addrs = if f.field("saddr_v6").is_some() {
            Addresses::Split {
                saddr: f.field_ref("saddr")?,
                daddr: f.field_ref("daddr")?,
                saddr_v6: f.field_ref("saddr_v6")?,
                daddr_v6: f.field_ref("daddr_v6")?,
            }
        } else {
            Addresses::Sockaddr {
                saddr: f.field_ref("saddr")?,
                daddr: f.field_ref("daddr")?,
            }
        };
        Ok(Endpoints {
            skaddr: f.field_ref("skaddr")?,
            sport: f.field_ref("sport")?,
            dport: f.field_ref("dport")?,
            family: f.field_ref("family")?,
            addrs,
        })
    }

    fn flow(&self, r: &Record<'_>) -> Option<Flow> {
        let v6 = r.uint(&self.family)? == AF_INET6;
        let (saddr, daddr) = match &self.addrs {
            Addresses::Split { saddr, daddr, .. } if !v6 => (fixed_ip(r.bytes(saddr)?)?, fixed_ip(r.bytes(daddr)?)?),
            Addresses::Split { saddr_v6, daddr_v6, .. } => {
                (fixed_ip(r.bytes(saddr_v6)?)?, fixed_ip(r.bytes(daddr_v6)?)?)
            }
            Addresses::Sockaddr { saddr, daddr } => {
                (sockaddr_ip(r.bytes(saddr)?, v6)?, sockaddr_ip(r.bytes(daddr)?, v6)?)
            }
        };
        Some(Flow {
            skaddr: r.uint(&self.skaddr)?,
            saddr,
            sport: r.uint(&self.sport)? as u16,
            daddr,
            dport: r.uint(&self.dport)? as u16,
        })
    }
}

/// The TCP tracepoints that carry both the socket address and its cookie
/// (the `sock_cookie` of include/trace/events/tcp.h, the same value
/// sock_diag reports as `idiag_cookie`): tcp_probe (every segment taken by
/// tcp_rcv_established), tcp_rcv_space_adjust (reads), tcp_destroy_sock.
pub const COOKIE_EVENTS: [&str; 3] = ["tcp_probe", "tcp_rcv_space_adjust", "tcp_destroy_sock"];

/// One cookie-carrying event's layout.
#[derive(Debug, Clone, Copy)]
struct CookieEvent {
    id: u16,
    ends: Endpoints,
    cookie: FieldRef,
    destroy: bool,
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
    /// A socket showed its cookie (one of [`COOKIE_EVENTS`]); `destroyed`
    /// when the event was tcp_destroy_sock.
    Cookie {
        /// Time stamp (trace_clock).
        timestamp: u64,
        /// Task running at the event.
        pid: i32,
        /// The connection.
        flow: Flow,
        /// The socket cookie (sock_diag's `idiag_cookie`).
        cookie: u64,
        /// The socket is being destroyed.
        destroyed: bool,
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

/// Decoders of the TCP tracepoints of the running kernel.
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
    cookies: Vec<CookieEvent>,
    unusable: Vec<(String, &'static str)>,
    states: SymbolTable,
}

impl TcpDecoder {
    /// Reads the format files: inet_sock_set_state (required),
    /// tcp_retransmit_skb and the [`COOKIE_EVENTS`] (each where the kernel
    /// has it; see [`unusable_cookie_events`](Self::unusable_cookie_events)).
    pub fn new(t: &Tracefs) -> Result<Self> {
        let set_state = t.event_format("sock", "inet_sock_set_state")?;
        let retrans = t.event_format("tcp", "tcp_retransmit_skb").ok();
        let cookies: Vec<EventFormat> = COOKIE_EVENTS
            .iter()
            .filter_map(|e| t.event_format("tcp", e).ok())
            .collect();
        Self::from_formats(&set_state, retrans.as_ref(), &cookies)
    }

    /// Builds the decoders from parsed formats; `cookies` are formats of
    /// [`COOKIE_EVENTS`]. One that lacks `skaddr` or `sock_cookie` cannot
    /// join a socket to its cookie and is left out, with the missing field
    /// kept for [`unusable_cookie_events`](Self::unusable_cookie_events)
    /// (Linux 6.1's tcp_probe has `sock_cookie` but no `skaddr`).
    pub fn from_formats(
        set_state: &EventFormat,
        retrans: Option<&EventFormat>,
        cookies: &[EventFormat],
    ) -> Result<Self> {
        let retrans_fields = match retrans {
            Some(f) => Some((Endpoints::new(f)?, f.field_ref("state")?)),
            None => None,
        };
        let mut unusable = Vec::new();
        let cookies = cookies
            .iter()
            .filter(
                |f| match ["skaddr", "sock_cookie"].into_iter().find(|n| f.field(n).is_none()) {
                    Some(missing) => {
                        unusable.push((f.name.clone(), missing));
                        false
                    }
                    None => true,
                },
            )
            .map(|f| {
                Ok(CookieEvent {
                    id: f.id,
                    ends: Endpoints::new(f)?,
                    cookie: f.field_ref("sock_cookie")?,
                    destroy: f.name == "tcp_destroy_sock",
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TcpDecoder {
            set_state_id: set_state.id,
            retrans_id: retrans.map(|f| f.id),
            pid: set_state.field_ref("common_pid")?,
            set_state: Endpoints::new(set_state)?,
            protocol: set_state.field_ref("protocol")?,
            oldstate: set_state.field_ref("oldstate")?,
            newstate: set_state.field_ref("newstate")?,
            retrans: retrans_fields,
            cookies,
            unusable,
            states: set_state.symbols("newstate").cloned().unwrap_or_default(),
        })
    }

    /// The [`COOKIE_EVENTS`] this kernel has in a usable form.
    pub fn cookie_events(&self) -> usize {
        self.cookies.len()
    }

    /// The [`COOKIE_EVENTS`] this kernel has but that lack a field the
    /// join needs: (event, missing field).
    pub fn unusable_cookie_events(&self) -> &[(String, &'static str)] {
        &self.unusable
    }

    /// Decodes a record of these events; other records give None. Only TCP
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
        if let Some(c) = self.cookies.iter().find(|c| c.id == id) {
            return Some(TcpEvent::Cookie {
                timestamp: r.timestamp,
                pid,
                flow: c.ends.flow(r)?,
                cookie: r.uint(&c.cookie)?,
                destroyed: c.destroy,
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

    /// Makes a waiting [`poll`](Self::poll) return at once when `stop` is
    /// tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.reader.set_stop(stop);
    }

    /// Hands every event available now to `f` (in per-CPU order), waiting up
    /// to `timeout` when none is (a tripped [`Stop`] or EINTR ends the
    /// wait); returns events lost in this call.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_addresses_are_read_at_the_uapi_offsets() {
        // struct sockaddr_in: family (host order), port (network order), address.
        let mut b = [0u8; 28];
        b[..2].copy_from_slice(&2u16.to_ne_bytes());
        b[2..4].copy_from_slice(&80u16.to_be_bytes());
        b[4..8].copy_from_slice(&[10, 0, 0, 1]);
        assert_eq!(sockaddr_ip(&b, false), Some("10.0.0.1".parse().unwrap()));
        // struct sockaddr_in6: family, port, flowinfo, address, scope id.
        let mut b = [0u8; 28];
        b[8..24].copy_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(sockaddr_ip(&b, true), Some("2001:db8::7".parse().unwrap()));
        assert_eq!(sockaddr_ip(&b[..20], true), None);
        assert_eq!(fixed_ip(&[127, 0, 0, 1]), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(fixed_ip(&[0; 5]), None);
    }
}
