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
use pyo3::types::{PyBytes, PyList, PyTuple};

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
}

#[derive(Debug)]
enum Data {
    /// Native-endian values; null rows hold 0 and are marked in `nulls`.
    Num {
        bytes: Vec<u8>,
        nulls: Vec<bool>,
        any_null: bool,
    },
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
    StrTuple(Vec<Vec<String>>),
}

/// A group of columns, in row order.
pub type Columns = &'static [(&'static str, ColumnKind)];

/// Columns under construction.
#[derive(Debug)]
pub struct TableBuilder {
    schema: Vec<(&'static str, ColumnKind)>,
    data: Vec<Data>,
    rows: usize,
}

impl TableBuilder {
    /// An empty table whose columns are `parts`, one after the other.
    pub fn new(parts: &[Columns]) -> Self {
        let schema: Vec<_> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let data = schema
            .iter()
            .map(|(_, k)| match k {
                ColumnKind::U64 | ColumnKind::I64 | ColumnKind::F64 => Data::Num {
                    bytes: Vec::new(),
                    nulls: Vec::new(),
                    any_null: false,
                },
                ColumnKind::Bool => Data::Bool(Vec::new()),
                ColumnKind::Str => Data::Str(Vec::new()),
                ColumnKind::StrTuple => Data::StrTuple(Vec::new()),
            })
            .collect();
        TableBuilder { schema, data, rows: 0 }
    }

    /// Drops every row (a dump that is retried starts over).
    pub fn clear(&mut self) {
        for d in &mut self.data {
            match d {
                Data::Num { bytes, nulls, any_null } => {
                    bytes.clear();
                    nulls.clear();
                    *any_null = false;
                }
                Data::Bool(v) => v.clear(),
                Data::Str(v) => v.clear(),
                Data::StrTuple(v) => v.clear(),
            }
        }
        self.rows = 0;
    }

    /// Starts a row; every column must be written, in schema order.
    pub fn row(&mut self) -> RowWriter<'_> {
        RowWriter { table: self, col: 0 }
    }

    /// Hands the columns to `netobs._table._from_columns(row_type, spec)`,
    /// which returns a `netobs.Table` of `netobs.<row_type>` rows.
    pub fn into_py<'py>(self, py: Python<'py>, row_type: &str) -> PyResult<Bound<'py, PyAny>> {
        static FROM_COLUMNS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let make = FROM_COLUMNS.import(py, "netobs._table", "_from_columns")?;
        let mut spec = Vec::with_capacity(self.data.len());
        for ((name, kind), data) in self.schema.iter().zip(self.data) {
            let code = match kind {
                ColumnKind::U64 => "Q",
                ColumnKind::I64 => "q",
                ColumnKind::F64 => "d",
                ColumnKind::Bool => "bool",
                ColumnKind::Str => "str",
                ColumnKind::StrTuple => "strs",
            };
            let (values, nulls): (Bound<'py, PyAny>, Bound<'py, PyAny>) = match data {
                Data::Num { bytes, nulls, any_null } => {
                    let mask = if any_null {
                        PyBytes::new(py, &nulls.iter().map(|&n| n as u8).collect::<Vec<u8>>()).into_any()
                    } else {
                        py.None().into_bound(py)
                    };
                    (PyBytes::new(py, &bytes).into_any(), mask)
                }
                Data::Bool(v) => (PyList::new(py, v)?.into_any(), py.None().into_bound(py)),
                Data::Str(v) => (PyList::new(py, v)?.into_any(), py.None().into_bound(py)),
                Data::StrTuple(v) => {
                    let tuples = v
                        .into_iter()
                        .map(|names| PyTuple::new(py, names))
                        .collect::<PyResult<Vec<_>>>()?;
                    (PyList::new(py, tuples)?.into_any(), py.None().into_bound(py))
                }
            };
            spec.push((*name, code, values, nulls));
        }
        make.call1((row_type, PyList::new(py, spec)?, self.rows))
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
        if let Data::Num { bytes, nulls, any_null } = self.next(&[kind]) {
            bytes.extend_from_slice(&v.unwrap_or_default());
            nulls.push(v.is_none());
            *any_null |= v.is_none();
        }
        self
    }

    /// An unsigned value (u8..u64 widen losslessly), or null.
    pub fn u64(&mut self, v: impl Into<Option<u64>>) -> &mut Self {
        self.num(ColumnKind::U64, v.into().map(u64::to_ne_bytes))
    }

    /// A signed value, or null.
    pub fn i64(&mut self, v: impl Into<Option<i64>>) -> &mut Self {
        self.num(ColumnKind::I64, v.into().map(i64::to_ne_bytes))
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
            c.push(v);
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
