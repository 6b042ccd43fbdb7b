//! Bindings of netobs-core's rtnetlink links (RTM_GETLINK) and counter
//! rates: `links()`, `link()`, `link_counters()`, `link_rates()`.

use std::time::{Duration, Instant};

use netobs_core::rates::{CounterSnapshot, LinkRate};
use netobs_core::rtnetlink::{link_type_name, HwAddr, Link, LinkFlags, LinkFlagsDisplay, LinkStats64};
use netobs_core::socket::retry_interrupted;
use netobs_core::stop;
use netobs_core::{Error, NetlinkSocket, Netns, Protocol};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::PyResultExt;
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, RowWriter, TableBuilder};
use crate::wait;

/// Columns of `netobs.Link` (python/netobs/_rows.py), in row order: the
/// link's attributes, then [`STATS64_COLUMNS`].
static LINK_COLUMNS: Columns = &[
    ("index", U64),
    ("name", Str),
    ("kind", Str),
    ("link_type", Str),
    ("link_type_id", U64),
    ("flags", U64),
    ("operstate", Str),
    ("mtu", U64),
    ("min_mtu", U64),
    ("max_mtu", U64),
    ("qdisc", Str),
    ("txqlen", U64),
    ("group", U64),
    ("link_mode", U64),
    ("address", Str),
    ("broadcast", Str),
    ("perm_address", Str),
    ("master", U64),
    ("link", U64),
    ("link_netnsid", I64),
    ("alias", Str),
    ("altnames", StrTuple),
    ("slave_kind", Str),
    ("carrier", Bool),
    ("carrier_changes", U64),
    ("proto_down", Bool),
    ("promiscuity", U64),
    ("allmulti", U64),
    ("num_tx_queues", U64),
    ("num_rx_queues", U64),
    ("gso_max_size", U64),
    ("gso_max_segs", U64),
    ("gro_max_size", U64),
    ("tso_max_size", U64),
    ("tso_max_segs", U64),
];

/// Every field of `struct rtnl_link_stats64` in kernel order
/// (include/uapi/linux/if_link.h).
pub static STATS64_COLUMNS: Columns = &[
    ("rx_packets", U64),
    ("tx_packets", U64),
    ("rx_bytes", U64),
    ("tx_bytes", U64),
    ("rx_errors", U64),
    ("tx_errors", U64),
    ("rx_dropped", U64),
    ("tx_dropped", U64),
    ("multicast", U64),
    ("collisions", U64),
    ("rx_length_errors", U64),
    ("rx_over_errors", U64),
    ("rx_crc_errors", U64),
    ("rx_frame_errors", U64),
    ("rx_fifo_errors", U64),
    ("rx_missed_errors", U64),
    ("tx_aborted_errors", U64),
    ("tx_carrier_errors", U64),
    ("tx_fifo_errors", U64),
    ("tx_heartbeat_errors", U64),
    ("tx_window_errors", U64),
    ("rx_compressed", U64),
    ("tx_compressed", U64),
    ("rx_nohandler", U64),
    ("rx_otherhost_dropped", U64),
];

/// The 25 counters of `rtnl_link_stats64` in kernel order; all null when
/// the kernel sent no counters, the last two null on kernels whose struct
/// is shorter (before 4.6 and 5.19).
fn stats_values(s: Option<LinkStats64>) -> [Option<u64>; 25] {
    let Some(s) = s else { return [None; 25] };
    [
        Some(s.rx_packets),
        Some(s.tx_packets),
        Some(s.rx_bytes),
        Some(s.tx_bytes),
        Some(s.rx_errors),
        Some(s.tx_errors),
        Some(s.rx_dropped),
        Some(s.tx_dropped),
        Some(s.multicast),
        Some(s.collisions),
        Some(s.rx_length_errors),
        Some(s.rx_over_errors),
        Some(s.rx_crc_errors),
        Some(s.rx_frame_errors),
        Some(s.rx_fifo_errors),
        Some(s.rx_missed_errors),
        Some(s.tx_aborted_errors),
        Some(s.tx_carrier_errors),
        Some(s.tx_fifo_errors),
        Some(s.tx_heartbeat_errors),
        Some(s.tx_window_errors),
        Some(s.rx_compressed),
        Some(s.tx_compressed),
        s.rx_nohandler,
        s.rx_otherhost_dropped,
    ]
}

fn hwaddr(bytes: Option<&[u8]>, link_type: u16) -> Option<String> {
    bytes.map(|bytes| HwAddr { bytes, link_type }.to_string())
}

fn write_link(t: &mut TableBuilder, l: &Link<'_>) {
    let ty = l.link_type();
    let mut r = t.row();
    r.u64(u64::from(l.index()))
        .str(Some(l.name_lossy().into_owned()))
        .str(l.kind().map(str::to_owned))
        .str(link_type_name(ty).map(str::to_owned))
        .u64(u64::from(ty))
        .u64(u64::from(l.flags().bits()))
        // As ip spells it: "UP", "LOWERLAYERDOWN", ..., "0x7" for a value it has no name for.
        .str(l.operstate().map(|o| o.to_string()))
        .u64(l.mtu().map(u64::from))
        .u64(l.min_mtu().map(u64::from))
        .u64(l.max_mtu().map(u64::from))
        .str(l.qdisc().map(str::to_owned))
        .u64(l.txqlen().map(u64::from))
        .u64(l.group().map(u64::from))
        .u64(l.link_mode().map(u64::from))
        .str(hwaddr(l.address(), ty))
        .str(hwaddr(l.broadcast(), ty))
        .str(hwaddr(l.perm_address(), ty))
        .u64(l.master().map(u64::from))
        .u64(l.link().map(u64::from))
        .i64(l.link_netnsid().map(i64::from))
        .str(l.alias().map(str::to_owned))
        .strs(l.altnames().map(str::to_owned).collect())
        .str(l.slave_kind().map(str::to_owned))
        .bool(l.carrier())
        .u64(l.carrier_changes().map(u64::from))
        .bool(l.proto_down())
        .u64(l.promiscuity().map(u64::from))
        .u64(l.allmulti().map(u64::from))
        .u64(l.num_tx_queues().map(u64::from))
        .u64(l.num_rx_queues().map(u64::from))
        .u64(l.gso_max_size().map(u64::from))
        .u64(l.gso_max_segs().map(u64::from))
        .u64(l.gro_max_size().map(u64::from))
        .u64(l.tso_max_size().map(u64::from))
        .u64(l.tso_max_segs().map(u64::from));
    write_stats64(&mut r, l.stats64());
}

/// Writes [`STATS64_COLUMNS`].
pub fn write_stats64(r: &mut RowWriter<'_>, s: Option<LinkStats64>) {
    for v in stats_values(s) {
        r.u64(v);
    }
}

/// Runs a netlink dump that writes rows into `table`, in a socket opened in
/// `netns`; a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is
/// run again from an empty table (up to 3 times) so the table is consistent.
pub fn dump_table(
    netns: &Netns,
    mut table: TableBuilder,
    mut dump: impl FnMut(&mut NetlinkSocket, &mut TableBuilder) -> Result<(), Error>,
) -> Result<TableBuilder, Error> {
    let mut sock = NetlinkSocket::open_in(Protocol::Route, netns)?;
    retry_interrupted(|| {
        table.clear();
        dump(&mut sock, &mut table)
    })?;
    Ok(table)
}

/// Every link of the namespace with its attributes and all counters, like
/// `ip -s -s link`: a `netobs.Table` of `netobs.Link` rows.
#[pyfunction]
#[pyo3(signature = (netns=None))]
fn links<'py>(py: Python<'py>, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let netns = netns_arg(netns)?;
    let table = py
        .detach(|| {
            let table = TableBuilder::new(&[LINK_COLUMNS, STATS64_COLUMNS]);
            dump_table(&netns, table, |sock, t| sock.for_each_link(|l| write_link(t, l)))
        })
        .py_err(py)?;
    table.into_py(py, "Link")
}

/// One link by name (alternative names work too, as with `ip link show
/// dev NAME`) or by index: a `netobs.Link`. An unknown link raises
/// `InterfaceNotFoundError` (ENODEV).
#[pyfunction]
#[pyo3(signature = (name_or_index, netns=None))]
fn link<'py>(
    py: Python<'py>,
    name_or_index: &Bound<'py, PyAny>,
    netns: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let key = if let Ok(index) = name_or_index.extract::<u32>() {
        Ok(index)
    } else if let Ok(name) = name_or_index.extract::<String>() {
        Err(name)
    } else {
        return Err(PyTypeError::new_err(
            "link(): expected an interface name (str) or index (int)",
        ));
    };
    let netns = netns_arg(netns)?;
    let table = py
        .detach(|| -> Result<TableBuilder, Error> {
            let mut sock = NetlinkSocket::open_in(Protocol::Route, &netns)?;
            let mut t = TableBuilder::new(&[LINK_COLUMNS, STATS64_COLUMNS]);
            let l = match &key {
                Ok(index) => sock.link_by_index(*index)?,
                Err(name) => sock.link_by_name(name)?,
            };
            write_link(&mut t, &l);
            Ok(t)
        })
        .py_err(py)?;
    table.into_py(py, "Link")?.get_item(0)
}

/// Counters of every link at one instant; `later - earlier` gives the
/// per-second rates between two snapshots as a `Table` of `LinkRate` rows.
#[pyclass(frozen, module = "netobs")]
pub struct LinkCounters {
    snap: CounterSnapshot,
    /// The namespace's identity (the inode of its nsfs file), so that
    /// snapshots of different namespaces are not subtracted.
    netns_ino: Option<u64>,
}

/// Columns of `netobs.LinkRate`, the fields of netobs-core's `LinkRate`.
static RATE_COLUMNS: Columns = &[
    ("index", U64),
    ("name", Str),
    ("seconds", F64),
    ("rx_kbytes", F64),
    ("tx_kbytes", F64),
    ("rx_packets", F64),
    ("tx_packets", F64),
    ("rx_avg_size", F64),
    ("tx_avg_size", F64),
    ("rx_errors", F64),
    ("tx_errors", F64),
    ("rx_dropped", F64),
    ("tx_dropped", F64),
];

fn rates_table(rates: &[LinkRate]) -> TableBuilder {
    let mut t = TableBuilder::new(&[RATE_COLUMNS]);
    for r in rates {
        t.row()
            .u64(u64::from(r.index))
            .str(Some(r.name.clone()))
            .f64(r.seconds)
            .f64(r.rx_kbytes)
            .f64(r.tx_kbytes)
            .f64(r.rx_packets)
            .f64(r.tx_packets)
            .f64(r.rx_avg_size)
            .f64(r.tx_avg_size)
            .f64(r.rx_errors)
            .f64(r.tx_errors)
            .f64(r.rx_dropped)
            .f64(r.tx_dropped);
    }
    t
}

#[pymethods]
impl LinkCounters {
    /// Per-second rates from `earlier` to this snapshot, for the links
    /// present in both (same index and name: a re-created link is a new
    /// link). A counter that went backwards was reset (device re-created,
    /// driver reset: 64-bit counters do not wrap in practice), so its
    /// delta is its current value, never a huge or negative number.
    fn rates_since<'py>(&self, py: Python<'py>, earlier: &LinkCounters) -> PyResult<Bound<'py, PyAny>> {
        if self.netns_ino != earlier.netns_ino {
            return Err(PyValueError::new_err(
                "the two snapshots are of different network namespaces; their links cannot be subtracted",
            ));
        }
        if self.snap.taken < earlier.snap.taken {
            return Err(PyValueError::new_err(
                "this snapshot is older than `earlier`: subtract the earlier snapshot from the later one",
            ));
        }
        rates_table(&self.snap.rates_since(&earlier.snap)).into_py(py, "LinkRate")
    }

    fn __sub__<'py>(&self, py: Python<'py>, earlier: &LinkCounters) -> PyResult<Bound<'py, PyAny>> {
        self.rates_since(py, earlier)
    }

    fn __len__(&self) -> usize {
        self.snap.links.len()
    }

    fn __repr__(&self) -> String {
        format!("<netobs.LinkCounters of {} links>", self.snap.links.len())
    }
}

fn take(netns: &Netns) -> Result<CounterSnapshot, Error> {
    NetlinkSocket::open_in(Protocol::Route, netns).and_then(|mut s| CounterSnapshot::take(&mut s))
}

/// A snapshot of every link's counters, to subtract from a later one.
#[pyfunction]
#[pyo3(signature = (netns=None))]
fn link_counters(py: Python<'_>, netns: Option<&Bound<'_, PyAny>>) -> PyResult<LinkCounters> {
    let netns = netns_arg(netns)?;
    let snap = py.detach(|| take(&netns)).py_err(py)?;
    let netns_ino = netns
        .run(|| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/thread-self/ns/net").map(|m| m.ino()).ok()
        })
        .ok()
        .flatten();
    Ok(LinkCounters { snap, netns_ino })
}

/// Per-second rates of every link over `interval` seconds (what nicstat
/// and `sar -n DEV,EDEV` show); sleeps without holding the GIL.
#[pyfunction]
#[pyo3(signature = (interval=1.0, netns=None))]
fn link_rates<'py>(py: Python<'py>, interval: f64, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    if !(interval.is_finite() && interval > 0.0) {
        return Err(PyValueError::new_err(format!(
            "interval must be a positive number of seconds, not {interval}"
        )));
    }
    let netns = netns_arg(netns)?;
    let (mut sock, first) = py
        .detach(|| -> Result<_, Error> {
            let mut sock = NetlinkSocket::open_in(Protocol::Route, &netns)?;
            let first = CounterSnapshot::take(&mut sock)?;
            Ok((sock, first))
        })
        .py_err(py)?;
    // Sleeps in poll(2) on nothing but the stop handle, so Ctrl-C ends it.
    let deadline = Instant::now() + Duration::from_secs_f64(interval);
    let stop = wait::new_stop()?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        wait::blocking(py, &stop, || stop::wait(&[], Some(left), Some(&stop), &mut Vec::new()))??;
    }
    let rates = py
        .detach(|| -> Result<Vec<LinkRate>, Error> {
            let second = CounterSnapshot::take(&mut sock)?;
            Ok(second.rates_since(&first))
        })
        .py_err(py)?;
    rates_table(&rates).into_py(py, "LinkRate")
}

/// The words of `ip link`'s flag list for IFF_* `flags` (NO-CARRIER, the
/// named flags in ip's order, unnamed bits in hex), from netobs-core's
/// `LinkFlagsDisplay`: `Link.flag_names` is this. M-DOWN needs the peer's
/// state and is left out.
#[pyfunction]
fn link_flag_names(flags: u32) -> Vec<String> {
    let display = LinkFlagsDisplay {
        flags: LinkFlags::from_bits_retain(flags),
        lower_down: false,
    };
    display.words().map(|w| w.to_string()).collect()
}

/// Adds the link functions and classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(links, m)?)?;
    m.add_function(wrap_pyfunction!(link, m)?)?;
    m.add_function(wrap_pyfunction!(link_counters, m)?)?;
    m.add_function(wrap_pyfunction!(link_rates, m)?)?;
    m.add_function(wrap_pyfunction!(link_flag_names, m)?)?;
    m.add_class::<LinkCounters>()?;
    Ok(())
}
