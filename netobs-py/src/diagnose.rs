//! Binding of `netobs::diagnose`: `netobs.diagnose()` (python/netobs/_diagnose.py
//! wraps the parts this module returns into a `DiagnoseReport`).

use std::time::Duration;

use netobs::diagnose::{self, html, Options, Report, ReportText, Target};
use netobs_core::Netns;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::PyResultExt;
use crate::netns::netns_arg;
use crate::table::{ColumnKind::*, Columns, TableBuilder};
use crate::wait;

/// Columns of `netobs.LayerRow`.
static LAYER_COLUMNS: Columns = &[
    ("layer", Str),
    ("lost", U64),
    ("losing", Bool),
    ("evidence", U64),
    ("top", Str),
    ("observations", StrTuple),
];

/// Columns of `netobs.EvidenceRow`.
static EVIDENCE_COLUMNS: Columns = &[
    ("layer", Str),
    ("source", Str),
    ("name", Str),
    ("location", Str),
    ("subject", Str),
    ("netns", Str),
    ("lost", U64),
    ("confidence", Str),
];

/// Columns of `netobs.FrameGroup`.
static FRAME_COLUMNS: Columns = &[("device", Str), ("source", Str), ("ethertype", U64), ("count", U64)];

/// One namespace argument, or a list of them.
fn namespaces(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Netns>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(Vec::new());
    };
    if arg.is_instance_of::<pyo3::types::PyList>() || arg.is_instance_of::<pyo3::types::PyTuple>() {
        let mut out = Vec::new();
        for item in arg.try_iter()? {
            out.push(netns_arg(Some(&item?))?);
        }
        if out.is_empty() {
            return Err(PyValueError::new_err("netns: an empty list names no namespace"));
        }
        return Ok(out);
    }
    Ok(vec![netns_arg(Some(arg))?])
}

fn tables<'py>(py: Python<'py>, r: &Report) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let mut layers = TableBuilder::new(&[LAYER_COLUMNS]);
    let mut evidence = TableBuilder::new(&[EVIDENCE_COLUMNS]);
    for l in &r.layers {
        layers
            .row()
            .label(Some(l.layer.name()))
            .u64(l.lost)
            .bool(Some(l.layer == r.verdict.layer))
            .u64(l.evidence.len() as u64)
            .str(l.evidence.first().map(|e| e.to_string()))
            .strs(l.observations.clone());
        for e in &l.evidence {
            evidence
                .row()
                .label(Some(l.layer.name()))
                .label(Some(e.source.name()))
                .str(Some(e.name.clone()))
                .str(e.location.clone())
                .str(Some(e.subject.clone()))
                .str(Some(e.netns.clone()))
                .u64(e.delta)
                .str(Some(e.confidence.to_string()));
        }
    }
    let mut frames = TableBuilder::new(&[FRAME_COLUMNS]);
    for g in &r.frames {
        frames
            .row()
            .str(Some(g.device.clone()))
            .str(Some(g.source.clone()))
            .u64(u64::from(g.ethertype))
            .u64(g.count);
    }
    Ok((
        layers.into_py(py, "LayerRow")?,
        evidence.into_py(py, "EvidenceRow")?,
        frames.into_py(py, "FrameGroup")?,
    ))
}

/// `_diagnose(netns, interface, port, seconds, identify_frames)`: runs
/// the triage without the GIL (Ctrl-C ends the window early) and returns
/// `(verdict, layers, evidence, frames, details, html, text, json)`.
#[pyfunction]
#[pyo3(signature = (netns=None, interface=None, port=None, seconds=5.0, identify_frames=true))]
#[allow(clippy::type_complexity)]
fn _diagnose<'py>(
    py: Python<'py>,
    netns: Option<&Bound<'py, PyAny>>,
    interface: Option<String>,
    port: Option<&Bound<'py, PyAny>>,
    seconds: f64,
    identify_frames: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86400.0) {
        return Err(PyValueError::new_err(format!(
            "seconds: expected a number of seconds above 0 and at most a day, not {seconds}"
        )));
    }
    let port = match port.filter(|p| !p.is_none()) {
        None => None,
        Some(p) => {
            let v: i64 = p.extract().map_err(|_| PyTypeError::new_err("port: expected an int"))?;
            Some(u16::try_from(v).map_err(|_| PyValueError::new_err(format!("port: {v} is not a port number")))?)
        }
    };
    if interface.as_deref() == Some("") {
        return Err(PyValueError::new_err("interface: empty name"));
    }
    let target = Target {
        namespaces: namespaces(netns)?,
        interface,
        port,
    };
    let stop = wait::new_stop()?;
    let options = Options {
        window: Duration::from_secs_f64(seconds),
        stop: Some(stop.clone()),
        identify_frames,
        ..Options::default()
    };
    let report = wait::blocking(py, &stop, || diagnose::diagnose(&target, &options))?.py_err(py)?;
    let (layers, evidence, frames) = tables(py, &report)?;
    let verdict = (
        report.verdict.layer.name(),
        report.verdict.reason.clone(),
        report.verdict.summary.clone(),
    );
    let details = (
        report.target.clone(),
        report.seconds,
        report.missing.clone(),
        report.unattributed.by_reason.clone(),
        report.frames_note.clone(),
        report.events_lost,
    );
    let json = serde_json::to_string(&report).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = (
        verdict,
        layers,
        evidence,
        frames,
        details,
        html::HtmlSection(&report).to_string(),
        ReportText(&report).to_string(),
        json,
    );
    Ok(out.into_pyobject(py)?.into_any())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_diagnose, m)?)
}
