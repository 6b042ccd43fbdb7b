//! Bindings of netobs-ethtool: `ethtool_stats_pairs()` (`ethtool -S`),
//! `ethtool_driver()` (`ethtool -i`) and `ethtool()` (driver information,
//! rings, channels, pause and features, netlink first, the ioctl where
//! netlink does not answer).

use netobs_core::Netns;
use netobs_ethtool::netlink::{Channels, Features, Pause, Rings};
use netobs_ethtool::{DriverInfo, Ethtool, EthtoolAny};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
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

fn driver_info_row(t: &mut TableBuilder, info: DriverInfo) {
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
}

/// Driver information of `ifname` (`ethtool -i`) as a `netobs.DriverInfo`;
/// `NotSupportedError` where the driver has none (lo).
#[pyfunction]
#[pyo3(signature = (ifname, netns=None))]
fn ethtool_driver<'py>(
    py: Python<'py>,
    ifname: &str,
    netns: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let netns = netns_arg(netns)?;
    let info: DriverInfo = py
        .detach(|| Ethtool::open_in(&netns).and_then(|e| e.driver_info(ifname)))
        .py_err(py)?;
    let mut t = TableBuilder::new(&[DRIVER_INFO_COLUMNS]);
    driver_info_row(&mut t, info);
    t.into_py(py, "DriverInfo")?.get_item(0)
}

/// Columns of `netobs.Rings` (`ethtool -g`, ETHTOOL_MSG_RINGS_GET).
static RINGS_COLUMNS: Columns = &[
    ("rx_max", U64),
    ("rx_mini_max", U64),
    ("rx_jumbo_max", U64),
    ("tx_max", U64),
    ("rx", U64),
    ("rx_mini", U64),
    ("rx_jumbo", U64),
    ("tx", U64),
    ("rx_buf_len", U64),
    ("tcp_data_split", U64),
    ("cqe_size", U64),
    ("tx_push", Bool),
];

/// Columns of `netobs.Channels` (`ethtool -l`).
static CHANNELS_COLUMNS: Columns = &[
    ("rx_max", U64),
    ("tx_max", U64),
    ("other_max", U64),
    ("combined_max", U64),
    ("rx", U64),
    ("tx", U64),
    ("other", U64),
    ("combined", U64),
];

/// Columns of `netobs.Pause` (`ethtool -a`, with the pause frame counters
/// netlink reports).
static PAUSE_COLUMNS: Columns = &[
    ("autoneg", Bool),
    ("rx", Bool),
    ("tx", Bool),
    ("tx_pause_frames", U64),
    ("rx_pause_frames", U64),
];

/// Columns of `netobs.Feature` (`ethtool -k`): one row per feature bit.
static FEATURE_COLUMNS: Columns = &[
    ("name", Str),
    ("active", Bool),
    ("wanted", Bool),
    ("changeable", Bool),
    ("fixed", Bool),
];

/// What `ethtool()` gathers, each part None where the driver answers
/// EOPNOTSUPP.
struct Everything {
    driver: Option<DriverInfo>,
    rings: Option<Rings>,
    channels: Option<Channels>,
    pause: Option<Pause>,
    features: Option<Features>,
}

/// `Ok(None)` for what the driver or kernel does not offer (EOPNOTSUPP is
/// a normal answer of virtual devices).
fn supported<T>(r: netobs_ethtool::Result<T>) -> netobs_ethtool::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if netobs_core::ErrorInfo::kind(&e) == netobs_core::ErrorKind::Unsupported => Ok(None),
        Err(e) => Err(e),
    }
}

fn gather(netns: &Netns, ifname: &str) -> netobs_ethtool::Result<Everything> {
    let mut e = EthtoolAny::open_in(netns)?;
    Ok(Everything {
        driver: supported(e.ioctl.driver_info(ifname))?,
        rings: supported(e.rings(ifname).map(|(v, _)| v))?,
        channels: supported(e.channels(ifname).map(|(v, _)| v))?,
        pause: supported(e.pause(ifname).map(|(v, _)| v))?,
        features: supported(e.features(ifname).map(|(v, _)| v))?,
    })
}

/// One row of `row_type` written by `write`, as its Python object.
fn one_row<'py>(
    py: Python<'py>,
    columns: Columns,
    row_type: &str,
    write: impl FnOnce(&mut TableBuilder),
) -> PyResult<Bound<'py, PyAny>> {
    let mut t = TableBuilder::new(&[columns]);
    write(&mut t);
    t.into_py(py, row_type)?.get_item(0)
}

/// Everything ethtool reports about `ifname` as a `netobs.EthtoolInfo`:
/// driver information (`-i`), rings (`-g`), channels (`-l`), pause (`-a`)
/// and features (`-k`, a `Table` of `Feature` rows), over the ethtool
/// netlink family where the kernel has it, the ioctl otherwise. A part the
/// driver does not implement (EOPNOTSUPP) is None.
#[pyfunction]
#[pyo3(signature = (ifname, netns=None))]
fn ethtool<'py>(py: Python<'py>, ifname: &str, netns: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let netns = netns_arg(netns)?;
    let all = py.detach(|| gather(&netns, ifname)).py_err(py)?;
    let none = || PyResult::Ok(py.None().into_bound(py));
    let driver = match all.driver {
        Some(info) => one_row(py, DRIVER_INFO_COLUMNS, "DriverInfo", |t| driver_info_row(t, info))?,
        None => none()?,
    };
    let rings = match all.rings {
        Some(g) => one_row(py, RINGS_COLUMNS, "Rings", |t| {
            t.row()
                .u32s(&[
                    g.rx_max,
                    g.rx_mini_max,
                    g.rx_jumbo_max,
                    g.tx_max,
                    g.rx,
                    g.rx_mini,
                    g.rx_jumbo,
                    g.tx,
                    g.rx_buf_len,
                ])
                .u64(g.tcp_data_split.map(u64::from))
                .u64(g.cqe_size.map(u64::from))
                .bool(g.tx_push);
        })?,
        None => none()?,
    };
    let channels = match all.channels {
        Some(c) => one_row(py, CHANNELS_COLUMNS, "Channels", |t| {
            t.row().u32s(&[
                c.rx_max,
                c.tx_max,
                c.other_max,
                c.combined_max,
                c.rx,
                c.tx,
                c.other,
                c.combined,
            ]);
        })?,
        None => none()?,
    };
    let pause = match all.pause {
        Some(p) => one_row(py, PAUSE_COLUMNS, "Pause", |t| {
            t.row()
                .bool(p.autoneg)
                .bool(p.rx)
                .bool(p.tx)
                .u64(p.tx_pause_frames)
                .u64(p.rx_pause_frames);
        })?,
        None => none()?,
    };
    let features = match all.features {
        Some(f) => {
            let mut t = TableBuilder::new(&[FEATURE_COLUMNS]);
            for feature in f.iter() {
                t.row()
                    .str(Some(feature.name.to_owned()))
                    .bool(Some(feature.active))
                    .bool(Some(feature.wanted))
                    .bool(Some(feature.changeable))
                    .bool(Some(feature.fixed));
            }
            t.into_py(py, "Feature")?
        }
        None => none()?,
    };
    static MAKE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    MAKE.import(py, "netobs._rows", "EthtoolInfo")?
        .call1((driver, rings, channels, pause, features))
}

/// Adds the ethtool functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ethtool_stats_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(ethtool, m)?)?;
    m.add_function(wrap_pyfunction!(ethtool_driver, m)?)?;
    Ok(())
}
