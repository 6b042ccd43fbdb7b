//! The one table mechanism: every collection is built column-wise in Rust
//! (without the GIL, without a Python object per row) and handed to the
//! Python `netobs.Table` (python/netobs/_table.py), which turns numeric
//! columns into `array.array`s over the same bytes, hands out frozen row
//! objects on demand, and converts to pandas or Arrow column by column.
//!
//! A binding declares its columns once, in row order, as parts of
//! `(name, ColumnKind)` lists (so groups such as the 25 counters of
//! `rtnl_link_stats64` are declared once and shared) that together must
//! match the fields of its Python row type, then writes one row at a time
//! with [`RowWriter`].

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::collections::HashMap;

use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Unsigned integer (any width up to 64 bits), possibly null.
    U64,
    /// Signed integer, possibly null.
    I64,
    /// Float, possibly null.
    F64,
    /// Boolean, possibly null.
    Bool,
    /// Text, possibly null.
    Str,
    /// A tuple of texts (alternative names, ...).
    StrTuple,
    /// A wall-clock time: ns since the Unix epoch (UTC) as i64, possibly
    /// null; a `datetime` in Python, `datetime64[ns, UTC]` in pandas.
    Time,
}

/// A group of columns, in row order.
pub type Columns = &'static [(&'static str, ColumnKind)];

/// A numeric column: nothing stored while every value so far is null (the
/// optional column groups a call did not ask for cost nothing per row).
#[derive(Debug)]
enum Num {
    /// Every row so far is null.
    AllNull,
    /// Native-endian values; null rows hold 0 and are marked in `nulls`.
    Values {
        bytes: Vec<u8>,
        nulls: Vec<bool>,
        any_null: bool,
    },
}

#[derive(Debug)]
enum Data {
    Num(Num),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<Text>>),
    StrTuple(Vec<Vec<String>>),
}

/// A text value: owned, or one of a few static labels (`"tcp"`, `"ESTAB"`).
#[derive(Debug)]
enum Text {
    Owned(String),
    Label(&'static str),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            Text::Label(s) => s,
        }
    }
}

/// Columns under construction.
#[derive(Debug)]
pub struct TableBuilder {
    schema: Vec<(&'static str, ColumnKind)>,
    data: Vec<Data>,
    rows: usize,
}

fn empty(kind: ColumnKind) -> Data {
    match kind {
        ColumnKind::U64 | ColumnKind::I64 | ColumnKind::F64 | ColumnKind::Time => Data::Num(Num::AllNull),
        ColumnKind::Bool => Data::Bool(Vec::new()),
        ColumnKind::Str => Data::Str(Vec::new()),
        ColumnKind::StrTuple => Data::StrTuple(Vec::new()),
    }
}

/// Text values as a list in which equal texts are one Python object: a
/// column of 100k sockets holds a handful of distinct states and addresses.
fn interned_list<'py>(py: Python<'py>, values: &[Option<Text>]) -> PyResult<Bound<'py, PyList>> {
    let mut seen: HashMap<&str, Bound<'py, PyString>> = HashMap::new();
    let items = values.iter().map(|v| match v {
        None => py.None().into_bound(py),
        Some(t) => seen
            .entry(t.as_str())
            .or_insert_with(|| PyString::new(py, t.as_str()))
            .clone()
            .into_any(),
    });
    PyList::new(py, items.collect::<Vec<_>>())
}

impl TableBuilder {
    /// An empty table whose columns are `parts`, one after the other.
    pub fn new(parts: &[Columns]) -> Self {
        let schema: Vec<_> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let data = schema.iter().map(|&(_, k)| empty(k)).collect();
        TableBuilder { schema, data, rows: 0 }
    }

    /// Drops every row (a dump that is retried starts over).
    pub fn clear(&mut self) {
        for (d, &(_, k)) in self.data.iter_mut().zip(&self.schema) {
            *d = empty(k);
        }
        self.rows = 0;
    }

    /// Starts a row; every column must be written, in schema order.
    pub fn row(&mut self) -> RowWriter<'_> {
        RowWriter { table: self, col: 0 }
    }

    /// Hands the columns to `netobs._table._from_columns(row_type, spec,
    /// rows)`, which returns a `netobs.Table` of `netobs.<row_type>` rows.
    /// A numeric column goes as (native bytes, null mask or None), or
    /// (None, None) when every value is null.
    pub fn into_py<'py>(self, py: Python<'py>, row_type: &str) -> PyResult<Bound<'py, PyAny>> {
        static FROM_COLUMNS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let make = FROM_COLUMNS.import(py, "netobs._table", "_from_columns")?;
        let none = || py.None().into_bound(py);
        let mut spec = Vec::with_capacity(self.data.len());
        for ((name, kind), data) in self.schema.iter().zip(self.data) {
            let code = match kind {
                ColumnKind::U64 => "Q",
                ColumnKind::I64 => "q",
                ColumnKind::F64 => "d",
                ColumnKind::Bool => "bool",
                ColumnKind::Str => "str",
                ColumnKind::StrTuple => "strs",
                ColumnKind::Time => "t",
            };
            let (values, nulls): (Bound<'py, PyAny>, Bound<'py, PyAny>) = match data {
                Data::Num(Num::AllNull) if self.rows > 0 => (none(), none()),
                Data::Num(Num::AllNull) => (PyBytes::new(py, b"").into_any(), none()),
                Data::Num(Num::Values { bytes, nulls, any_null }) => {
                    let mask = if any_null {
                        PyBytes::new(py, &nulls.iter().map(|&n| n as u8).collect::<Vec<u8>>()).into_any()
                    } else {
                        none()
                    };
                    (PyBytes::new(py, &bytes).into_any(), mask)
                }
                Data::Bool(v) => (PyList::new(py, v)?.into_any(), none()),
                Data::Str(v) => (interned_list(py, &v)?.into_any(), none()),
                Data::StrTuple(v) => {
                    let tuples = v
                        .into_iter()
                        .map(|names| PyTuple::new(py, names))
                        .collect::<PyResult<Vec<_>>>()?;
                    (PyList::new(py, tuples)?.into_any(), none())
                }
            };
            spec.push((*name, code, values, nulls));
        }
        make.call1((row_type, PyList::new(py, spec)?, self.rows))
    }
}

/// A wall-clock time (ns since the Unix epoch) as a UTC `datetime`
/// (microseconds, as `datetime` keeps them), or None.
pub fn datetime(py: Python<'_>, unix_ns: Option<i64>) -> PyResult<Bound<'_, PyAny>> {
    static FROM_NS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match unix_ns {
        Some(ns) => FROM_NS.import(py, "netobs._table", "_datetime_from_ns")?.call1((ns,)),
        None => Ok(py.None().into_bound(py)),
    }
}

/// Writes one row, column by column in schema order.
pub struct RowWriter<'t> {
    table: &'t mut TableBuilder,
    col: usize,
}

impl RowWriter<'_> {
    fn next(&mut self, want: &[ColumnKind]) -> &mut Data {
        let (name, kind) = self.table.schema[self.col];
        debug_assert!(want.contains(&kind), "column {name} is {kind:?}, written as {want:?}");
        let d = &mut self.table.data[self.col];
        self.col += 1;
        d
    }

    fn num(&mut self, kind: ColumnKind, v: Option<[u8; 8]>) -> &mut Self {
        let rows = self.table.rows;
        if let Data::Num(col) = self.next(&[kind]) {
            match (&mut *col, v) {
                (Num::AllNull, None) => {}
                (Num::AllNull, Some(v)) => {
                    // The first value: the rows before it were null.
                    let mut bytes = vec![0u8; rows * 8];
                    bytes.extend_from_slice(&v);
                    let mut nulls = vec![true; rows];
                    nulls.push(false);
                    *col = Num::Values {
                        bytes,
                        nulls,
                        any_null: rows > 0,
                    };
                }
                (Num::Values { bytes, nulls, any_null }, v) => {
                    bytes.extend_from_slice(&v.unwrap_or_default());
                    nulls.push(v.is_none());
                    *any_null |= v.is_none();
                }
            }
        }
        self
    }

    /// An unsigned value (u8..u64 widen losslessly), or null.
    pub fn u64(&mut self, v: impl Into<Option<u64>>) -> &mut Self {
        self.num(ColumnKind::U64, v.into().map(u64::to_ne_bytes))
    }

    /// Several u32 values (or nulls) into consecutive unsigned columns.
    pub fn u32s(&mut self, values: &[Option<u32>]) -> &mut Self {
        for v in values {
            self.u64(v.map(u64::from));
        }
        self
    }

    /// A signed value, or null.
    pub fn i64(&mut self, v: impl Into<Option<i64>>) -> &mut Self {
        self.num(ColumnKind::I64, v.into().map(i64::to_ne_bytes))
    }

    /// A wall-clock time in ns since the Unix epoch, or null.
    pub fn time(&mut self, v: impl Into<Option<i64>>) -> &mut Self {
        self.num(ColumnKind::Time, v.into().map(i64::to_ne_bytes))
    }

    /// A float, or null.
    pub fn f64(&mut self, v: impl Into<Option<f64>>) -> &mut Self {
        self.num(ColumnKind::F64, v.into().map(f64::to_ne_bytes))
    }

    /// A boolean, or null.
    pub fn bool(&mut self, v: Option<bool>) -> &mut Self {
        if let Data::Bool(c) = self.next(&[ColumnKind::Bool]) {
            c.push(v);
        }
        self
    }

    /// A text, or null.
    pub fn str(&mut self, v: Option<String>) -> &mut Self {
        if let Data::Str(c) = self.next(&[ColumnKind::Str]) {
            c.push(v.map(Text::Owned));
        }
        self
    }

    /// A text from a small fixed set (a kind or state name), or null:
    /// nothing is allocated per row.
    pub fn label(&mut self, v: Option<&'static str>) -> &mut Self {
        if let Data::Str(c) = self.next(&[ColumnKind::Str]) {
            c.push(v.map(Text::Label));
        }
        self
    }

    /// A tuple of texts.
    pub fn strs(&mut self, v: Vec<String>) -> &mut Self {
        if let Data::StrTuple(c) = self.next(&[ColumnKind::StrTuple]) {
            c.push(v);
        }
        self
    }
}

impl Drop for RowWriter<'_> {
    fn drop(&mut self) {
        debug_assert_eq!(self.col, self.table.schema.len(), "row left incomplete");
        self.table.rows += 1;
    }
}
