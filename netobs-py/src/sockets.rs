//! Bindings of netobs-sockdiag (NETLINK_SOCK_DIAG: inet_diag, unix_diag,
//! packet_diag, netlink_diag): `sockets()`, what `ss -tuxan0` and
//! `ss -A netlink` show, with tcp_info, socket memory and owning processes
//! as optional column groups; and `counters()`,
//! the protocol counters `nstat` shows.

use std::sync::OnceLock;

use netobs_core::{NetlinkSocket, Netns, Protocol};
use netobs_sockdiag::inet_diag::MPTCP_INFO_FIELDS;
use netobs_sockdiag::netlink_diag::protocol_name;
use netobs_sockdiag::owners::Owners;
use netobs_sockdiag::query::{Endpoint, Pipeline, Query, Socket, SocketRecord, Table};
use netobs_sockdiag::tcp_info::{InfoFields, TCP_INFO_FIELDS};
use netobs_sockdiag::{counters as proc_counters, filter, Error, Proto, States};
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

/// `PREFIX` + each field name of a kernel struct, as U64 columns, made
/// once per process (the names live as long as the module).
fn prefixed(
    cell: &'static OnceLock<Vec<(&'static str, ColumnKind)>>,
    prefix: &str,
    fields: &[(&str, usize, usize)],
) -> Columns {
    cell.get_or_init(|| {
        fields
            .iter()
            .map(|(name, _, _)| (&*String::leak(format!("{prefix}{name}")), U64))
            .collect()
    })
}

/// Every field of `struct tcp_info` netobs-sockdiag knows, as `tcpi_NAME`
/// columns in struct order, filled when `info=True` (TCP sockets).
fn tcp_info_columns() -> Columns {
    static COLUMNS: OnceLock<Vec<(&'static str, ColumnKind)>> = OnceLock::new();
    prefixed(&COLUMNS, "tcpi_", TCP_INFO_FIELDS)
}

/// Every field of `struct mptcp_info`, as `mptcp_NAME` columns, filled
/// when `info=True` (MPTCP sockets: what `ss -Mi` prints).
fn mptcp_info_columns() -> Columns {
    static COLUMNS: OnceLock<Vec<(&'static str, ColumnKind)>> = OnceLock::new();
    prefixed(&COLUMNS, "mptcp_", MPTCP_INFO_FIELDS)
}

/// The names of the `tcp_info` fields, for the Python row type.
pub fn tcp_info_field_names() -> Vec<&'static str> {
    TCP_INFO_FIELDS.iter().map(|(name, _, _)| *name).collect()
}

/// The names of the `mptcp_info` fields, for the Python row type.
pub fn mptcp_info_field_names() -> Vec<&'static str> {
    MPTCP_INFO_FIELDS.iter().map(|(name, _, _)| *name).collect()
}

/// What a `sockets()` call asks for beyond the library's query.
struct Wanted {
    info: bool,
    memory: bool,
}

/// The values of `fields` (as many columns as `layout` has), null past
/// what the kernel sent.
fn write_fields(r: &mut RowWriter<'_>, fields: Option<InfoFields<'_>>, layout: &[(&str, usize, usize)]) {
    let mut fields = fields.into_iter().flatten();
    for _ in layout {
        r.u64(fields.next().map(|(_, v)| v));
    }
}

/// One socket as a `netobs.Socket` row: the record's columns, laid out as
/// the inet ones (unix: the name or `*` as `src`, the inode as `sport`,
/// `*` and the peer's inode as the remote end; packet: the EtherType as
/// `sport`; netlink: the protocol's name as `src`, the port id as `sport`,
/// `*` and the destination port id as the remote end).
fn write_row(r: &mut RowWriter<'_>, s: &SocketRecord<'_>, c: &Wanted, owners: Option<&Owners>) {
    let kind = match s.table {
        Table::Inet(_) => s.table.name(),
        _ => s.netid,
    };
    let (family, src, sport, dst, dport) = match (&s.sock, s.local, s.remote) {
        (
            Socket::Inet { sock, .. },
            Endpoint::Inet { addr, port, .. },
            Endpoint::Inet {
                addr: daddr, port: dp, ..
            },
        ) => {
            let family = if sock.family() == libc::AF_INET6 as u8 {
                "inet6"
            } else {
                "inet"
            };
            (
                family,
                Some(addr.to_string()),
                Some(port.into()),
                Some(daddr.to_string()),
                Some(dp.into()),
            )
        }
        (Socket::Unix(_), Endpoint::Unix { name, inode }, Endpoint::Unix { inode: peer, .. }) => {
            let name = name.map_or_else(|| "*".to_owned(), |n| n.to_string());
            (
                "unix",
                Some(name),
                Some(inode.into()),
                Some("*".to_owned()),
                Some(peer.into()),
            )
        }
        (Socket::Packet(p), _, _) => ("packet", None, Some(p.protocol().into()), None, None),
        (Socket::Netlink(n), _, _) => {
            let proto = protocol_name(n.protocol()).map_or_else(|| n.protocol().to_string(), str::to_owned);
            (
                "netlink",
                Some(proto),
                Some(n.portid().into()),
                Some("*".to_owned()),
                Some(n.dst_portid().into()),
            )
        }
        _ => ("", None, None, None, None),
    };
    let inet = match &s.sock {
        Socket::Inet { sock, .. } => Some(sock),
        _ => None,
    };
    let interface = match s.sock {
        Socket::Inet { .. } | Socket::Packet(_) => Some(u64::from(s.interface)),
        _ => None,
    };
    r.label(Some(kind))
        .label(Some(family))
        .label(Some(s.state_name()))
        .str(src)
        .u64(sport)
        .str(dst)
        .u64(dport)
        .u64(u64::from(s.rqueue))
        .u64(u64::from(s.wqueue))
        .u64(interface)
        .u64(s.uid.map(u64::from))
        .u64(u64::from(s.inode))
        .u64(s.cookie)
        .u64(inet.map(|i| u64::from(i.timer())))
        .u64(inet.map(|i| u64::from(i.retrans())))
        .u64(inet.map(|i| u64::from(i.expires())))
        .str(inet.and_then(|i| i.congestion()).map(str::to_owned));
    // An MPTCP socket's INET_DIAG_INFO is a struct mptcp_info, not tcp_info.
    let mptcp = s.table == Table::Inet(Proto::Mptcp);
    let info = inet.filter(|_| c.info);
    write_fields(
        r,
        info.filter(|_| !mptcp).and_then(|i| i.tcp_info()).map(|t| t.fields()),
        TCP_INFO_FIELDS,
    );
    write_fields(
        r,
        info.filter(|_| mptcp).and_then(|i| i.mptcp_info_fields()),
        MPTCP_INFO_FIELDS,
    );
    let m = s.skmem().filter(|_| c.memory);
    r.u64(m.map(|m| u64::from(m.rmem_alloc)))
        .u64(m.map(|m| u64::from(m.rcvbuf)))
        .u64(m.map(|m| u64::from(m.wmem_alloc)))
        .u64(m.map(|m| u64::from(m.sndbuf)))
        .u64(m.map(|m| u64::from(m.fwd_alloc)))
        .u64(m.map(|m| u64::from(m.wmem_queued)))
        .u64(m.map(|m| u64::from(m.optmem)))
        .u64(m.and_then(|m| m.backlog).map(u64::from))
        .u64(m.and_then(|m| m.drops).map(u64::from));
    let owner = owners.and_then(|o| o.of(s.inode).next().map(|w| (w.pid, o.command(w).to_owned())));
    r.u64(owner.as_ref().map(|(pid, _)| u64::from(*pid)))
        .str(owner.map(|(_, comm)| comm));
}

/// Runs `query` in `netns` (with the owners when `processes`) into a table.
fn dump(netns: &Netns, mut query: Query, filter: Option<&str>, processes: bool) -> Result<TableBuilder, Error> {
    // Interface names in `dev` conditions are looked up in the namespace.
    if let Some(text) = filter {
        let resolve_dev = |name: &str| -> Option<u32> {
            let mut r = NetlinkSocket::open_in(Protocol::Route, netns).ok()?;
            let link = r.link_by_name(name).ok()?;
            Some(link.index())
        };
        query.filter = filter::parse_with(text, &resolve_dev)?;
    }
    let c = Wanted {
        info: query.info,
        memory: query.memory,
    };
    let mut t = TableBuilder::new(&[
        SOCKET_COLUMNS,
        tcp_info_columns(),
        mptcp_info_columns(),
        SKMEM_COLUMNS,
        PROCESS_COLUMNS,
    ]);
    if processes {
        query.run_with_owners(netns, |s, owners| write_row(&mut t.row(), s, &c, Some(owners)))?;
    } else {
        query.run(netns, Pipeline::Parallel { workers: 2 }, |s| {
            write_row(&mut t.row(), s, &c, None)
        })?;
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
        // ss's state words, or the names ss prints in its State column
        // (`ESTAB`, `UNCONN`, `SYN-SENT`), which the rows show.
        let printed = netobs_sockdiag::TcpState::ALL
            .iter()
            .find(|t| t.ss_name() != "UNKNOWN" && t.ss_name().eq_ignore_ascii_case(&w))
            .map(|t| States::only(*t));
        match States::parse(&w).or(printed) {
            Some(s) => states = states | s,
            None => return Err(Error::UnknownState(w)).py_err(arg.py()),
        }
    }
    Ok(states)
}

fn kinds_arg(arg: &Bound<'_, PyAny>) -> PyResult<Vec<Table>> {
    words_arg(arg, "kinds: expected a socket kind or an iterable of kinds")?
        .into_iter()
        .map(|k| {
            Table::named(&k).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "kinds: unknown socket kind {k:?} (expected tcp, udp, raw, mptcp, sctp, dccp, udplite, unix, packet or netlink)"
                ))
            })
        })
        .collect()
}

/// Every socket of the namespace of the given kinds (`ss -tuxan`): a
/// `Table` of `netobs.Socket` rows, in ss's order of tables. `states`: ss
/// state names (`"established"`, `"listening"`, `"connected"`, ...), all
/// states when None. `filter`: an ss filter expression (`"dport = :443 or
/// sport = :ssh"`), compiled to inet_diag bytecode and run by the kernel
/// for inet sockets, evaluated as ss does for unix, packet and netlink
/// sockets. `info`, `memory`, `processes` fill the `tcpi_*` (`mptcp_*` for
/// MPTCP), `skmem_*` and `pid`/`process` columns.
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
    let tables = match kinds.filter(|k| !k.is_none()) {
        Some(k) => kinds_arg(k)?,
        None => vec![Table::Inet(Proto::Tcp)],
    };
    let mut query = Query::new(&tables);
    query.states = states_arg(states)?;
    (query.info, query.memory) = (info, memory);
    let netns = netns_arg(netns)?;
    let table = py
        .detach(|| dump(&netns, query, filter.as_deref(), processes))
        .py_err(py)?;
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
    m.add("MPTCP_INFO_FIELDS", mptcp_info_field_names())?;
    Ok(())
}
