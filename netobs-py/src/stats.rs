//! Binding of netobs-core's RTM_GETSTATS dump: `link_stats()`, the
//! counters of every link without its other attributes (what
//! `ip stats show group link` asks the kernel for).

use netobs_core::rtnetlink::{
    stats_filter_bit, HwStats64, LinkStatsMsg, IFLA_STATS_LINK_64, IFLA_STATS_LINK_OFFLOAD_XSTATS,
};
use pyo3::prelude::*;

use crate::errors::PyResultExt;
use crate::links::{dump_table, write_stats64, STATS64_COLUMNS};
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, TableBuilder};

static INDEX_COLUMN: Columns = &[("index", U64)];

/// `struct rtnl_hw_stats64` of IFLA_OFFLOAD_XSTATS_L3_STATS: L3 counters
/// kept by the hardware, null unless enabled on a device that has them
/// (`ip stats set dev DEV l3_stats on`).
static L3_COLUMNS: Columns = &[
    ("l3_rx_packets", U64),
    ("l3_tx_packets", U64),
    ("l3_rx_bytes", U64),
    ("l3_tx_bytes", U64),
    ("l3_rx_errors", U64),
    ("l3_tx_errors", U64),
    ("l3_rx_dropped", U64),
    ("l3_tx_dropped", U64),
    ("l3_multicast", U64),
];

fn write_stats(t: &mut TableBuilder, m: &LinkStatsMsg<'_>) {
    let mut r = t.row();
    r.u64(u64::from(m.ifindex()));
    write_stats64(&mut r, m.stats64());
    let l3 = m.offload_l3_stats();
    let f = |get: fn(&HwStats64) -> u64| l3.as_ref().map(get);
    r.u64(f(|s| s.rx_packets))
        .u64(f(|s| s.tx_packets))
        .u64(f(|s| s.rx_bytes))
        .u64(f(|s| s.tx_bytes))
        .u64(f(|s| s.rx_errors))
        .u64(f(|s| s.tx_errors))
        .u64(f(|s| s.rx_dropped))
        .u64(f(|s| s.tx_dropped))
        .u64(f(|s| s.multicast));
}

/// The groups asked for: the 64-bit counters and the offload stats.
const FILTER: u32 = stats_filter_bit(IFLA_STATS_LINK_64) | stats_filter_bit(IFLA_STATS_LINK_OFFLOAD_XSTATS);

/// The counters of every link by index (RTM_GETSTATS): a `Table` of
/// `netobs.LinkStatsRow`; join with `links()` on `index` for names.
#[pyfunction]
#[pyo3(signature = (netns=None))]
fn link_stats<'py>(py: Python<'py>, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let netns = netns_arg(netns)?;
    let table = py
        .detach(|| {
            let table = TableBuilder::new(&[INDEX_COLUMN, STATS64_COLUMNS, L3_COLUMNS]);
            dump_table(&netns, table, |sock, t| {
                sock.for_each_link_stats(FILTER, |m| write_stats(t, m))
            })
        })
        .py_err(py)?;
    table.into_py(py, "LinkStatsRow")
}

/// Adds the RTM_GETSTATS function to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(link_stats, m)?)
}
