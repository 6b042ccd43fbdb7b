//! Bindings of netobs-ethtool's SIOCETHTOOL part: `ethtool_stats_pairs()`
//! (`ethtool -S`) and `ethtool()` (driver information, `ethtool -i`).

use netobs_ethtool::{DriverInfo, Ethtool};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::PyResultExt;
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, TableBuilder};

/// The driver's own statistics of `ifname` (`ethtool -S`) as a list of
/// (name, value) in driver order, repeated names kept; `netobs.ethtool_stats`
/// (python/netobs/_ethtool.py) makes the dict. A driver without statistics
/// gives an empty list.
#[pyfunction]
#[pyo3(signature = (ifname, netns=None))]
fn ethtool_stats_pairs<'py>(
    py: Python<'py>,
    ifname: &str,
    netns: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let netns = netns_arg(netns)?;
    let stats = py
        .detach(|| Ethtool::open_in(&netns).and_then(|e| e.stats(ifname)))
        .py_err(py)?;
    PyList::new(py, stats.iter())
}

/// Columns of `netobs.DriverInfo`, the fields of `struct ethtool_drvinfo`.
static DRIVER_INFO_COLUMNS: Columns = &[
    ("driver", Str),
    ("version", Str),
    ("fw_version", Str),
    ("bus_info", Str),
    ("erom_version", Str),
    ("n_priv_flags", U64),
    ("n_stats", U64),
    ("testinfo_len", U64),
    ("eedump_len", U64),
    ("regdump_len", U64),
];

/// Driver information of `ifname` (`ethtool -i`) as a `netobs.DriverInfo`.
#[pyfunction]
#[pyo3(signature = (ifname, netns=None))]
fn ethtool<'py>(py: Python<'py>, ifname: &str, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let netns = netns_arg(netns)?;
    let info: DriverInfo = py
        .detach(|| Ethtool::open_in(&netns).and_then(|e| e.driver_info(ifname)))
        .py_err(py)?;
    let mut t = TableBuilder::new(&[DRIVER_INFO_COLUMNS]);
    t.row()
        .str(Some(info.driver))
        .str(Some(info.version))
        .str(Some(info.fw_version))
        .str(Some(info.bus_info))
        .str(Some(info.erom_version))
        .u64(u64::from(info.n_priv_flags))
        .u64(u64::from(info.n_stats))
        .u64(u64::from(info.testinfo_len))
        .u64(u64::from(info.eedump_len))
        .u64(u64::from(info.regdump_len));
    t.into_py(py, "DriverInfo")?.get_item(0)
}

/// Adds the ethtool functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ethtool_stats_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(ethtool, m)?)?;
    Ok(())
}
