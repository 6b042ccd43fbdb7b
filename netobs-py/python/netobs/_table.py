"""The column-wise table every netobs collection is returned as.

Columns come from Rust already built: numeric columns as native bytes with
a null mask, text columns as lists. A numeric column becomes an
`array.array` (a list with `None` where values are missing) when it is
first read; rows are made only when asked for, as frozen named tuples, so
`pd.DataFrame(list(table))` works as well as the faster `table.to_pandas()`,
which builds numpy arrays straight from the bytes.
"""

from __future__ import annotations

import array
import datetime
from typing import Any, Dict, Generic, Iterator, List, Sequence, Tuple, Type, TypeVar, Union, overload

from . import _rows

R = TypeVar("R", bound=Tuple[Any, ...])

# typecode -> (numpy dtype, pandas nullable dtype, pyarrow type name)
_NUMERIC = {
    "Q": ("uint64", "UInt64", "uint64"),
    "q": ("int64", "Int64", "int64"),
    "d": ("float64", "Float64", "float64"),
}
# kind -> array typecode of columns stored as native bytes: the numbers,
# and wall-clock times ("t": ns since the Unix epoch, UTC, as int64).
_STORAGE = {"Q": "Q", "q": "q", "d": "d", "t": "q"}

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _datetime_from_ns(ns: int) -> datetime.datetime:
    """ns since the Unix epoch as a UTC datetime (to the microsecond,
    which is as fine as `datetime` goes; pandas keeps the ns)."""
    return _EPOCH + datetime.timedelta(microseconds=ns // 1000)


def _need(module: str, extra: str, what: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"{what} needs {module}, an optional dependency of netobs: "
            f"pip install 'netobs[{extra}]' (or pip install {module})"
        ) from e


class Table(Generic[R]):
    """Rows of one kind (`Link`, `Socket`, ...) stored column by column.

    `len(t)`, `t[i]` (a row), `t[i:j]` (a table), `t["name"]` (a column),
    iteration over rows, `t.columns`, `to_dicts()`, `to_pandas()`,
    `to_arrow()`. Columns stay as the bytes Rust built until one is asked
    for, so a table costs no Python object per value until it is read.
    """

    __slots__ = ("_row", "_names", "_raw", "_cache", "_len")

    def __init__(self, row: Type[R], names: Sequence[str], raw: Sequence[Tuple[str, Any, Any]], length: int):
        self._row = row
        self._names = tuple(names)
        #: (kind, values, nulls) per column: numeric values as native bytes
        #: with a null mask (bytes, 1 = null) or None, or (None, None) when
        #: every value is null; other kinds as lists.
        self._raw = tuple(raw)
        self._cache: List[Any] = [None] * len(self._raw)
        self._len = length

    @property
    def row_type(self) -> Type[R]:
        """The class of the rows."""
        return self._row

    @property
    def columns(self) -> Tuple[str, ...]:
        """Column names, in row order."""
        return self._names

    def _col(self, i: int) -> Sequence[Any]:
        col = self._cache[i]
        if col is None:
            kind, values, nulls = self._raw[i]
            if kind in _STORAGE and values is None:
                col = [None] * self._len
            elif kind in _STORAGE:
                col = array.array(_STORAGE[kind])
                col.frombytes(values)
                if nulls is not None:
                    if nulls.count(0) == 0:
                        col = [None] * self._len
                    else:
                        col = [None if null else v for v, null in zip(col, nulls)]
                if kind == "t":
                    col = [None if v is None else _datetime_from_ns(v) for v in col]
            else:
                col = values
            self._cache[i] = col
        return col

    def column(self, name: str) -> Sequence[Any]:
        """One column: an `array.array` for numbers without gaps, else a list."""
        try:
            i = self._names.index(name)
        except ValueError:
            raise KeyError(f"no column {name!r}; columns are {', '.join(self._names)}") from None
        return self._col(i)

    def _cols(self) -> List[Sequence[Any]]:
        return [self._col(i) for i in range(len(self._raw))]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[R]:
        make = self._row._make  # type: ignore[attr-defined]
        return map(make, zip(*self._cols())) if self._raw else iter(())

    @overload
    def __getitem__(self, key: int) -> R: ...
    @overload
    def __getitem__(self, key: slice) -> "Table[R]": ...
    @overload
    def __getitem__(self, key: str) -> Sequence[Any]: ...
    @overload
    def __getitem__(self, key: Sequence[int]) -> "Table[R]": ...
    def __getitem__(self, key: Union[int, slice, str, Sequence[int]]) -> Any:
        if isinstance(key, str):
            return self.column(key)
        if isinstance(key, (list, tuple)):
            return self._rows_at(key)
        if not isinstance(key, (int, slice)):
            raise TypeError(
                f"a Table is indexed by a row number, a slice, a column name or a list of row numbers, "
                f"not {type(key).__name__}"
            )
        if isinstance(key, slice):
            raw = []
            for kind, values, nulls in self._raw:
                if kind in _STORAGE and values is not None:
                    part = array.array(_STORAGE[kind])
                    part.frombytes(values)
                    values = part[key].tobytes()
                    nulls = None if nulls is None else nulls[key]
                elif values is not None:
                    values = values[key]
                raw.append((kind, values, nulls))
            return Table(self._row, self._names, raw, len(range(*key.indices(self._len))))
        i = key + self._len if key < 0 else key
        if not 0 <= i < self._len:
            raise IndexError(f"row {key} out of range for a table of {self._len} rows")
        return self._row._make(c[i] for c in self._cols())  # type: ignore[attr-defined]

    def _rows_at(self, rows: Sequence[int]) -> "Table[R]":
        """The rows at `rows` (row numbers, negative from the end), in that order."""
        idx = []
        for r in rows:
            if isinstance(r, bool) or not isinstance(r, int):
                raise TypeError(f"row numbers must be ints, not {type(r).__name__}")
            i = r + self._len if r < 0 else r
            if not 0 <= i < self._len:
                raise IndexError(f"row {r} out of range for a table of {self._len} rows")
            idx.append(i)
        raw = []
        for kind, values, nulls in self._raw:
            if kind in _STORAGE and values is not None:
                part = array.array(_STORAGE[kind])
                part.frombytes(values)
                values = array.array(_STORAGE[kind], (part[i] for i in idx)).tobytes()
            elif values is not None:
                values = [values[i] for i in idx]
            if nulls is not None:
                nulls = bytes(nulls[i] for i in idx)
            raw.append((kind, values, nulls))
        return Table(self._row, self._names, raw, len(idx))

    def to_dicts(self) -> List[Dict[str, Any]]:
        """One dict per row, column name -> value."""
        names = self._names
        return [dict(zip(names, values)) for values in zip(*self._cols())]

    def to_pandas(self) -> Any:
        """A pandas DataFrame, built column by column from the native values
        (missing numbers as pandas' nullable dtypes, from the null mask),
        each copied once; writing to the DataFrame never changes the table."""
        pd = _need("pandas", "pandas", "Table.to_pandas()")
        import numpy as np  # pandas depends on numpy

        n = self._len
        data: Dict[str, Any] = {}
        for name, (kind, values, nulls) in zip(self._names, self._raw):
            if kind == "t":
                # datetime64[ns, UTC]; NaT (int64's minimum) where null
                ns = np.zeros(n, dtype="int64") if values is None else np.frombuffer(values, dtype="int64").copy()
                if values is None:
                    ns[:] = np.iinfo("int64").min
                elif nulls is not None:
                    ns[np.frombuffer(nulls, dtype=bool)] = np.iinfo("int64").min
                data[name] = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")
            elif kind in _NUMERIC:
                dtype = _NUMERIC[kind][0]
                cls = pd.arrays.FloatingArray if kind == "d" else pd.arrays.IntegerArray
                if values is None:  # every value is null: zero pages, a full mask
                    data[name] = cls(np.zeros(n, dtype=dtype), np.ones(n, dtype=bool))
                    continue
                # Copied once here (the bytes are the table's and read-only);
                # the DataFrame takes the arrays as they are.
                arr = np.frombuffer(values, dtype=dtype).copy() if n else np.array([], dtype=dtype)
                if nulls is None:
                    data[name] = arr
                else:
                    mask = np.frombuffer(nulls, dtype=bool) if n else np.array([], dtype=bool)
                    data[name] = cls(arr, mask.copy())
            elif kind == "bool":
                data[name] = pd.array(values, dtype="boolean")
            else:
                data[name] = values
        return pd.DataFrame(data, columns=list(self._names), copy=False)

    def to_arrow(self) -> Any:
        """A pyarrow Table; numeric columns without gaps share memory with this table."""
        pa = _need("pyarrow", "arrow", "Table.to_arrow()")
        arrays = []
        for i, (kind, values, nulls) in enumerate(self._raw):
            if kind == "t":
                ty = pa.timestamp("ns", tz="UTC")
                if values is None:
                    arrays.append(pa.nulls(self._len, type=ty))
                else:
                    validity = None
                    if nulls is not None:
                        # Arrow's validity bitmap: bit i set where row i has a value
                        bits = bytearray((self._len + 7) // 8)
                        for r, null in enumerate(nulls):
                            if not null:
                                bits[r // 8] |= 1 << (r % 8)
                        validity = pa.py_buffer(bytes(bits))
                    arrays.append(pa.Array.from_buffers(ty, self._len, [validity, pa.py_buffer(values)]))
            elif kind in _NUMERIC:
                ty = getattr(pa, _NUMERIC[kind][2])()
                if values is None:
                    arrays.append(pa.nulls(self._len, type=ty))
                elif nulls is None:
                    arrays.append(pa.Array.from_buffers(ty, self._len, [None, pa.py_buffer(values)]))
                else:
                    try:
                        import numpy as np
                    except ImportError:  # pyarrow can do without numpy; so can this, more slowly
                        arrays.append(pa.array(self._col(i), type=ty))
                    else:
                        dtype = _NUMERIC[kind][0]
                        arrays.append(
                            pa.array(np.frombuffer(values, dtype=dtype), mask=np.frombuffer(nulls, dtype=bool), type=ty)
                        )
            elif kind == "bool":
                arrays.append(pa.array(values, type=pa.bool_()))
            elif kind == "str":
                arrays.append(pa.array(values, type=pa.string()))
            else:
                arrays.append(pa.array([list(v) for v in values], type=pa.list_(pa.string())))
        return pa.Table.from_arrays(arrays, names=list(self._names))

    def _preview_rows(self, head: int, tail: int) -> Tuple[List[int], bool]:
        """Row numbers to preview: all when there are at most head + tail,
        else the first `head` and the last `tail`, and whether rows were
        left out between them."""
        if self._len <= head + tail:
            return list(range(self._len)), False
        return list(range(head)) + list(range(self._len - tail, self._len)), True

    def __repr__(self) -> str:
        """The table's size and kind, then its first columns for the first
        and last rows, as pandas previews a DataFrame."""
        title = f"<netobs.Table of {self._len} {self._row.__name__} rows, {len(self._names)} columns"
        if not self._len:
            return title + f": {', '.join(self._names)}>"
        rows, gap = self._preview_rows(5, 5)
        ncols = min(len(self._names), _REPR_COLUMNS)
        cols = [self._col(i) for i in range(ncols)]
        grid = [["", *self._names[:ncols]]]
        for r in rows:
            grid.append([str(r), *(_cell(c[r]) for c in cols)])
        if gap:
            grid.insert(6, ["...", *("..." for _ in range(ncols))])
        widths = [max(len(line[j]) for line in grid) for j in range(ncols + 1)]
        lines = ["  ".join(v.rjust(w) for v, w in zip(line, widths)).rstrip() for line in grid]
        shown = f" ({ncols} shown)" if len(self._names) > ncols else ""
        return "\n".join([title + shown + ">", *lines])

    def _repr_html_(self) -> str:
        """An HTML table of every column for the first and last rows, for
        Jupyter (values escaped)."""
        import html

        rows, gap = self._preview_rows(10, 10)
        cols = self._cols()
        esc = html.escape
        out = [
            '<table class="netobs-table">',
            f"<caption>netobs.Table of {self._len} {esc(self._row.__name__)} rows</caption>",
            "<thead><tr><th></th>" + "".join(f"<th>{esc(n)}</th>" for n in self._names) + "</tr></thead>",
            "<tbody>",
        ]
        for k, r in enumerate(rows):
            if gap and k == 10:
                out.append("<tr><th>...</th>" + "<td>...</td>" * len(cols) + "</tr>")
            out.append(f"<tr><th>{r}</th>" + "".join(f"<td>{esc(_cell(c[r], 80))}</td>" for c in cols) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)


#: Columns shown by `Table.__repr__`; `_repr_html_` shows all.
_REPR_COLUMNS = 8


def _cell(v: Any, limit: int = 24) -> str:
    """A value as a preview shows it: None empty, tuples comma-joined,
    long text cut with an ellipsis."""
    if v is None:
        text = ""
    elif isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    elif isinstance(v, tuple):
        text = ",".join(map(str, v))
    else:
        text = str(v)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _from_columns(row_name: str, spec: List[Tuple[str, str, Any, Any]], length: int) -> Table[Any]:
    """Called by the Rust side with (name, kind, values, null mask) per column."""
    row = getattr(_rows, row_name)
    names = [s[0] for s in spec]
    if tuple(names) != row._fields:
        raise RuntimeError(f"netobs: columns of {row_name} do not match its row type: {names} != {row._fields}")
    return Table(row, names, [(kind, values, nulls) for _, kind, values, nulls in spec], length)
