//! Bindings of netobs-sockdiag (NETLINK_SOCK_DIAG: inet_diag, unix_diag,
//! packet_diag, netlink_diag): `sockets()`, what `ss -tuxan0` and
//! `ss -A netlink` show, with tcp_info, socket memory and owning processes
//! as optional column groups; and `counters()`,
//! the protocol counters `nstat` shows.

use std::sync::OnceLock;

use netobs_core::{NetlinkSocket, Netns, Protocol};
use netobs_sockdiag::inet_diag::SkMemInfo;
use netobs_sockdiag::netlink_diag::{protocol_name, NetlinkShow, NetlinkSock, NDIAG_PROTO_ALL};
use netobs_sockdiag::owners::Owners;
use netobs_sockdiag::packet_diag::{PacketShow, PacketSock};
use netobs_sockdiag::tcp_info::TCP_INFO_FIELDS;
use netobs_sockdiag::unix_diag::{UnixShow, UnixSock};
use netobs_sockdiag::{
    bytecode, counters as proc_counters, filter, Error, Extensions, Family, InetRequest, InetSock, Proto, SockDiag,
    States, TcpState,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::PyResultExt;
use crate::netns::netns_arg;
use crate::table::{ColumnKind, ColumnKind::*, Columns, RowWriter, TableBuilder};

/// Columns of `netobs.Socket` every dump fills (python/netobs/_rows.py).
static SOCKET_COLUMNS: Columns = &[
    ("kind", Str),
    ("family", Str),
    ("state", Str),
    ("src", Str),
    ("sport", U64),
    ("dst", Str),
    ("dport", U64),
    ("rqueue", U64),
    ("wqueue", U64),
    ("interface", U64),
    ("uid", U64),
    ("inode", U64),
    ("cookie", U64),
    ("timer", U64),
    ("retrans", U64),
    ("expires", U64),
    ("congestion", Str),
];

/// `struct sk_meminfo` (INET_DIAG_SKMEMINFO, include/uapi/linux/sock_diag.h),
/// filled when `memory=True`: what `ss -m` prints as skmem:(...).
static SKMEM_COLUMNS: Columns = &[
    ("skmem_rmem_alloc", U64),
    ("skmem_rcvbuf", U64),
    ("skmem_wmem_alloc", U64),
    ("skmem_sndbuf", U64),
    ("skmem_fwd_alloc", U64),
    ("skmem_wmem_queued", U64),
    ("skmem_optmem", U64),
    ("skmem_backlog", U64),
    ("skmem_drops", U64),
];

/// The first owning process (`ss -p`), filled when `processes=True`.
static PROCESS_COLUMNS: Columns = &[("pid", U64), ("process", Str)];

/// Every field of `struct tcp_info` netobs-sockdiag knows, as `tcpi_NAME`
/// columns in struct order, filled when `info=True` (TCP and MPTCP).
fn tcp_info_columns() -> Columns {
    static COLUMNS: OnceLock<Vec<(&'static str, ColumnKind)>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        TCP_INFO_FIELDS
            .iter()
            // Made once per process: the column names live as long as the module.
            .map(|(name, _, _)| (&*String::leak(format!("tcpi_{name}")), U64))
            .collect()
    })
}

/// The names of the `tcp_info` fields, for the Python row type.
pub fn tcp_info_field_names() -> Vec<&'static str> {
    TCP_INFO_FIELDS.iter().map(|(name, _, _)| *name).collect()
}

/// A kind of socket `sockets()` dumps.
#[derive(Clone, Copy)]
enum Kind {
    /// inet_diag, over IPv4 and IPv6.
    Inet(&'static str, Proto),
    /// unix_diag.
    Unix,
    /// packet_diag.
    Packet,
    /// netlink_diag.
    Netlink,
}

/// The socket kinds `sockets()` takes, by name.
const KINDS: &[(&str, Kind)] = &[
    ("tcp", Kind::Inet("tcp", Proto::Tcp)),
    ("udp", Kind::Inet("udp", Proto::Udp)),
    ("raw", Kind::Inet("raw", Proto::Raw)),
    ("mptcp", Kind::Inet("mptcp", Proto::Mptcp)),
    ("sctp", Kind::Inet("sctp", Proto::Sctp)),
    ("dccp", Kind::Inet("dccp", Proto::Dccp)),
    ("udplite", Kind::Inet("udplite", Proto::UdpLite)),
    ("unix", Kind::Unix),
    ("packet", Kind::Packet),
    ("netlink", Kind::Netlink),
];

/// What a `sockets()` call asks for.
struct Query {
    kinds: Vec<Kind>,
    states: States,
    filter: Option<String>,
    info: bool,
    memory: bool,
    processes: bool,
}

fn read_u64(b: &[u8], off: usize, size: usize) -> Option<u64> {
    let f = b.get(off..off + size)?;
    Some(match size {
        1 => u64::from(f[0]),
        2 => u64::from(u16::from_ne_bytes([f[0], f[1]])),
        4 => u64::from(u32::from_ne_bytes([f[0], f[1], f[2], f[3]])),
        8 => u64::from_ne_bytes(f.try_into().ok()?),
        _ => return None,
    })
}

fn write_socket(r: &mut RowWriter<'_>, kind: &'static str, s: &InetSock<'_>, q: &Query, owners: Option<&Owners>) {
    let family = if s.family() == libc::AF_INET6 as u8 {
        "inet6"
    } else {
        "inet"
    };
    r.label(Some(kind))
        .label(Some(family))
        .label(s.state().map(|st| st.ss_name()))
        .str(Some(s.src().to_string()))
        .u64(u64::from(s.sport()))
        .str(Some(s.dst().to_string()))
        .u64(u64::from(s.dport()))
        .u64(u64::from(s.rqueue()))
        .u64(u64::from(s.wqueue()))
        .u64(u64::from(s.interface()))
        .u64(u64::from(s.uid()))
        .u64(u64::from(s.inode()))
        .u64(s.cookie())
        .u64(u64::from(s.timer()))
        .u64(u64::from(s.retrans()))
        .u64(u64::from(s.expires()))
        .str(s.congestion().map(str::to_owned));
    // An MPTCP socket's INET_DIAG_INFO is a struct mptcp_info, not tcp_info.
    let info = if q.info && kind != "mptcp" { s.tcp_info() } else { None };
    for &(_, off, size) in TCP_INFO_FIELDS {
        r.u64(info.as_ref().and_then(|i| read_u64(i.bytes(), off, size)));
    }
    write_memory_and_owner(r, if q.memory { s.skmeminfo() } else { None }, s.inode(), owners);
}

/// The `skmem_*`, `pid` and `process` columns.
fn write_memory_and_owner(r: &mut RowWriter<'_>, m: Option<SkMemInfo>, inode: u32, owners: Option<&Owners>) {
    r.u64(m.map(|m| u64::from(m.rmem_alloc)))
        .u64(m.map(|m| u64::from(m.rcvbuf)))
        .u64(m.map(|m| u64::from(m.wmem_alloc)))
        .u64(m.map(|m| u64::from(m.sndbuf)))
        .u64(m.map(|m| u64::from(m.fwd_alloc)))
        .u64(m.map(|m| u64::from(m.wmem_queued)))
        .u64(m.map(|m| u64::from(m.optmem)))
        .u64(m.and_then(|m| m.backlog).map(u64::from))
        .u64(m.and_then(|m| m.drops).map(u64::from));
    let owner = owners.and_then(|o| o.of(inode).next().map(|w| (w.pid, o.command(w).to_owned())));
    r.u64(owner.as_ref().map(|(pid, _)| u64::from(*pid)))
        .str(owner.map(|(_, comm)| comm));
}

/// ss's netid of a unix socket type (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET).
fn unix_netid(socket_type: u8) -> &'static str {
    match i32::from(socket_type) {
        libc::SOCK_STREAM => "u_str",
        libc::SOCK_DGRAM => "u_dgr",
        libc::SOCK_SEQPACKET => "u_seq",
        _ => "unix",
    }
}

/// A unix socket's name as ss shows it: `@` for the abstract namespace.
fn unix_name(s: &UnixSock<'_>) -> Option<String> {
    s.name().map(|n| match n.split_first() {
        Some((0, rest)) => format!("@{}", String::from_utf8_lossy(rest)),
        _ => String::from_utf8_lossy(n).into_owned(),
    })
}

/// What ss's filter sees of a unix socket; `name` holds the name text.
fn unix_key<'n>(s: &UnixSock<'_>, name: &'n mut Option<String>) -> filter::UnixKey<'n> {
    *name = unix_name(s);
    filter::UnixKey {
        name: name.as_deref(),
        inode: s.inode(),
        peer: s.peer().unwrap_or(0),
    }
}

/// A unix socket in the inet columns, the way ss lays it out: the bound
/// name (`@` for the abstract namespace, `*` when unbound) as `src` with
/// the socket's inode as `sport`, and `*` with the peer's inode as the
/// remote end.
fn write_unix(r: &mut RowWriter<'_>, s: &UnixSock<'_>, q: &Query, owners: Option<&Owners>) {
    let name = unix_name(s);
    let (rq, wq) = s.rqlen().unzip();
    r.label(Some(unix_netid(s.kind())))
        .label(Some("unix"))
        .label(TcpState::from_u8(s.state()).map(|st| st.ss_name()))
        .str(Some(name.unwrap_or_else(|| "*".to_owned())))
        .u64(u64::from(s.inode()))
        .label(Some("*"))
        .u64(u64::from(s.peer().unwrap_or(0)))
        .u64(rq.map(u64::from))
        .u64(wq.map(u64::from))
        .u64(None)
        .u64(s.uid().map(u64::from))
        .u64(u64::from(s.inode()))
        .u64(s.cookie());
    write_non_inet_tail(r, if q.memory { s.meminfo() } else { None }, s.inode(), owners);
}

/// The columns after `cookie` for sockets that are not inet: no timer,
/// retransmits, expiry, congestion control or tcp_info; memory and owner.
fn write_non_inet_tail(r: &mut RowWriter<'_>, m: Option<SkMemInfo>, inode: u32, owners: Option<&Owners>) {
    r.u64(None).u64(None).u64(None).label(None);
    for _ in TCP_INFO_FIELDS {
        r.u64(None);
    }
    write_memory_and_owner(r, m, inode, owners);
}

/// A packet socket (`ss -0`): netid p_raw/p_dgr, the EtherType it
/// receives (host order, 3 for ETH_P_ALL) as `sport`, the bound interface
/// index (0: all) as `interface`, the receive queue from its memory info
/// as `rqueue`, as ss shows it.
fn write_packet(r: &mut RowWriter<'_>, s: &PacketSock<'_>, q: &Query, owners: Option<&Owners>) {
    let netid = match i32::from(s.kind()) {
        libc::SOCK_RAW => "p_raw",
        libc::SOCK_DGRAM => "p_dgr",
        _ => "packet",
    };
    let m = s.meminfo();
    r.label(Some(netid))
        .label(Some("packet"))
        .label(Some("UNCONN"))
        .str(None)
        .u64(u64::from(s.protocol()))
        .str(None)
        .u64(None)
        .u64(m.map(|m| u64::from(m.rmem_alloc)))
        .u64(0)
        .u64(s.info().map(|i| u64::from(i.index)))
        .u64(s.uid().map(u64::from))
        .u64(u64::from(s.inode()))
        .u64(s.cookie());
    write_non_inet_tail(r, if q.memory { m } else { None }, s.inode(), owners);
}

/// A netlink socket (`ss --netlink`): netid nl, the protocol's ss name
/// (`rtnl`, `genl`, or its number) as `src` with the port id as `sport`
/// (0 is the kernel's socket), the destination port id as `dport`.
fn write_netlink(r: &mut RowWriter<'_>, s: &NetlinkSock<'_>, q: &Query, owners: Option<&Owners>) {
    let proto = match protocol_name(s.protocol()) {
        Some(n) => n.to_owned(),
        None => s.protocol().to_string(),
    };
    let m = s.meminfo();
    r.label(Some("nl"))
        .label(Some("netlink"))
        .label(Some("UNCONN"))
        .str(Some(proto))
        .u64(u64::from(s.portid()))
        .label(Some("*"))
        .u64(u64::from(s.dst_portid()))
        .u64(m.map(|m| u64::from(m.rmem_alloc)))
        .u64(m.map(|m| u64::from(m.wmem_alloc)))
        .u64(None)
        .u64(None)
        .u64(u64::from(s.inode()))
        .u64(s.cookie());
    write_non_inet_tail(r, if q.memory { m } else { None }, s.inode(), owners);
}

fn dump(netns: &Netns, q: &Query) -> Result<TableBuilder, Error> {
    // Interface names in `dev` conditions are looked up in the namespace.
    let expr = match &q.filter {
        Some(text) => {
            let resolve_dev = |name: &str| -> Option<u32> {
                let mut r = NetlinkSocket::open_in(Protocol::Route, netns).ok()?;
                let link = r.link_by_name(name).ok()?;
                Some(link.index())
            };
            filter::parse_with(text, &resolve_dev)?
        }
        None => None,
    };
    if expr.is_some() && q.kinds.iter().any(|k| matches!(k, Kind::Packet | Kind::Netlink)) {
        return Err(Error::Filter {
            column: 1,
            message: "filters apply to inet sockets (in the kernel) and unix sockets (by name, inode), not to packet or netlink sockets"
                .to_owned(),
        });
    }
    let bc = expr.as_ref().map(bytecode::compile);
    let owners = if q.processes { Some(Owners::scan()?) } else { None };
    let mut diag = SockDiag::open_in(netns)?;
    let mut ext = Extensions::empty();
    if q.info {
        ext |= Extensions::INFO | Extensions::CONG;
    }
    if q.memory {
        ext |= Extensions::SKMEMINFO;
    }
    let mut t = TableBuilder::new(&[SOCKET_COLUMNS, tcp_info_columns(), SKMEM_COLUMNS, PROCESS_COLUMNS]);
    for kind in &q.kinds {
        match *kind {
            Kind::Inet(name, proto) => {
                for family in [Family::Inet, Family::Inet6] {
                    let mut req = InetRequest::new(family, proto, q.states);
                    req.ext = ext;
                    req.bytecode = bc.as_deref();
                    diag.for_each_inet_or_proc(&req, |s| {
                        let mut r = t.row();
                        write_socket(&mut r, name, s, q, owners.as_ref());
                    })?;
                }
            }
            Kind::Unix => {
                let mut name = None;
                let mut show = UnixShow::NAME | UnixShow::PEER | UnixShow::RQLEN | UnixShow::UID;
                if q.memory {
                    show |= UnixShow::MEMINFO;
                }
                diag.for_each_unix(q.states, show, |s| {
                    if expr.as_ref().is_some_and(|e| !e.matches_unix(&unix_key(s, &mut name))) {
                        return;
                    }
                    let mut r = t.row();
                    write_unix(&mut r, s, q, owners.as_ref());
                })?;
            }
            // Packet and netlink sockets have no state; ss lists them as
            // UNCONN, so only a state set with UNCONN (CLOSE) shows them.
            Kind::Packet if q.states.contains(TcpState::Close) => {
                let show = PacketShow::INFO | PacketShow::MEMINFO;
                diag.for_each_packet(show, |s| {
                    let mut r = t.row();
                    write_packet(&mut r, s, q, owners.as_ref());
                })?;
            }
            Kind::Netlink if q.states.contains(TcpState::Close) => {
                diag.for_each_netlink(NDIAG_PROTO_ALL, NetlinkShow::MEMINFO, |s| {
                    let mut r = t.row();
                    write_netlink(&mut r, s, q, owners.as_ref());
                })?;
            }
            Kind::Packet | Kind::Netlink => {}
        }
    }
    Ok(t)
}

/// One word or an iterable of words (`"tcp"`, `("tcp", "udp")`).
fn words_arg(arg: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if let Ok(one) = arg.extract::<String>() {
        return Ok(vec![one]);
    }
    arg.try_iter()
        .and_then(|it| it.map(|w| w.and_then(|w| w.extract::<String>())).collect())
        .map_err(|_| PyTypeError::new_err(what.to_owned()))
}

fn states_arg(arg: Option<&Bound<'_, PyAny>>) -> PyResult<States> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(States::ALL);
    };
    let mut states = States::NONE;
    for w in words_arg(arg, "states: expected a state name or an iterable of state names")? {
        match States::parse(&w) {
            Some(s) => states = states | s,
            None => return Err(Error::UnknownState(w)).py_err(arg.py()),
        }
    }
    Ok(states)
}

fn kinds_arg(arg: &Bound<'_, PyAny>) -> PyResult<Vec<Kind>> {
    words_arg(arg, "kinds: expected a socket kind or an iterable of kinds")?
        .into_iter()
        .map(|k| {
            let lower = k.to_ascii_lowercase();
            match KINDS.iter().find(|(name, _)| *name == lower) {
                Some(&(_, found)) => Ok(found),
                None => Err(PyValueError::new_err(format!(
                    "kinds: unknown socket kind {k:?} (expected tcp, udp, raw, mptcp, sctp, dccp, udplite, unix, packet or netlink)"
                ))),
            }
        })
        .collect()
}

/// Every socket of the namespace of the given kinds (`ss -tuxan`): a
/// `Table` of `netobs.Socket` rows. `states`: ss state names (`"established"`,
/// `"listening"`, `"connected"`, ...), all states when None. `filter`: an
/// ss filter expression (`"dport = :443 or sport = :ssh"`), compiled to
/// inet_diag bytecode and run by the kernel. `info`, `memory`, `processes`
/// fill the `tcpi_*`, `skmem_*` and `pid`/`process` columns.
#[pyfunction]
#[pyo3(signature = (kinds=None, states=None, filter=None, info=false, memory=false, processes=false, netns=None))]
#[allow(clippy::too_many_arguments)] // the Python signature of the issue
fn sockets<'py>(
    py: Python<'py>,
    kinds: Option<&Bound<'py, PyAny>>,
    states: Option<&Bound<'py, PyAny>>,
    filter: Option<String>,
    info: bool,
    memory: bool,
    processes: bool,
    netns: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kinds = match kinds.filter(|k| !k.is_none()) {
        Some(k) => kinds_arg(k)?,
        None => vec![Kind::Inet("tcp", Proto::Tcp)],
    };
    let q = Query {
        kinds,
        states: states_arg(states)?,
        filter,
        info,
        memory,
        processes,
    };
    let netns = netns_arg(netns)?;
    let table = py.detach(|| dump(&netns, &q)).py_err(py)?;
    table.into_py(py, "Socket")
}

/// The protocol counters of the namespace (/proc/net/snmp, netstat and
/// snmp6), what `nstat -a` shows: a dict of nstat names
/// (`TcpActiveOpens`, `TcpExtListenDrops`, `Ip6InReceives`, ...) -> value, in
/// file order.
#[pyfunction]
#[pyo3(signature = (netns=None))]
fn counters<'py>(py: Python<'py>, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyDict>> {
    let netns = netns_arg(netns)?;
    let c = py.detach(|| proc_counters::read_in(&netns)).py_err(py)?;
    let d = PyDict::new(py);
    for (name, value) in c.values {
        d.set_item(name, value)?;
    }
    Ok(d)
}

/// Adds the socket functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sockets, m)?)?;
    m.add_function(wrap_pyfunction!(counters, m)?)?;
    m.add("TCP_INFO_FIELDS", tcp_info_field_names())?;
    Ok(())
}
