"""The column-wise table every netobs collection is returned as.

Columns come from Rust already built: numeric columns as `array.array`
over native integers/floats (a list with `None` where a value is missing),
text columns as lists. Rows are made only when asked for, as frozen
named tuples, so `pd.DataFrame(list(table))` works as well as the faster
`table.to_pandas()`.
"""

from __future__ import annotations

import array
from typing import Any, Dict, Generic, Iterator, List, Sequence, Tuple, Type, TypeVar, Union, overload

from . import _rows

R = TypeVar("R", bound=Tuple[Any, ...])

# typecode -> (numpy dtype, pandas nullable dtype, pyarrow type name)
_NUMERIC = {
    "Q": ("uint64", "UInt64", "uint64"),
    "q": ("int64", "Int64", "int64"),
    "d": ("float64", "Float64", "float64"),
}


def _need(module: str, extra: str, what: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"{what} needs {module}, an optional dependency of netobs: "
            f"pip install 'netobs[{extra}]' (or pip install {module})"
        ) from e


class Table(Generic[R]):
    """Rows of one kind (`Link`, `LinkRate`, ...) stored column by column.

    `len(t)`, `t[i]` (a row), `t[i:j]` (a table), `t["name"]` (a column),
    iteration over rows, `t.columns`, `to_dicts()`, `to_pandas()`,
    `to_arrow()`.
    """

    __slots__ = ("_row", "_names", "_kinds", "_cols", "_len")

    def __init__(self, row: Type[R], names: Sequence[str], kinds: Sequence[str], cols: Sequence[Sequence[Any]], length: int):
        self._row = row
        self._names = tuple(names)
        self._kinds = tuple(kinds)
        self._cols = tuple(cols)
        self._len = length

    @property
    def row_type(self) -> Type[R]:
        """The class of the rows."""
        return self._row

    @property
    def columns(self) -> Tuple[str, ...]:
        """Column names, in row order."""
        return self._names

    def column(self, name: str) -> Sequence[Any]:
        """One column: an `array.array` for numbers without gaps, else a list."""
        try:
            return self._cols[self._names.index(name)]
        except ValueError:
            raise KeyError(f"no column {name!r}; columns are {', '.join(self._names)}") from None

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[R]:
        make = self._row._make  # type: ignore[attr-defined]
        return map(make, zip(*self._cols)) if self._cols else iter(())

    @overload
    def __getitem__(self, key: int) -> R: ...
    @overload
    def __getitem__(self, key: slice) -> "Table[R]": ...
    @overload
    def __getitem__(self, key: str) -> Sequence[Any]: ...
    def __getitem__(self, key: Union[int, slice, str]) -> Any:
        if isinstance(key, str):
            return self.column(key)
        if isinstance(key, slice):
            cols = [c[key] for c in self._cols]
            return Table(self._row, self._names, self._kinds, cols, len(range(*key.indices(self._len))))
        i = key + self._len if key < 0 else key
        if not 0 <= i < self._len:
            raise IndexError(f"row {key} out of range for a table of {self._len} rows")
        return self._row._make(c[i] for c in self._cols)  # type: ignore[attr-defined]

    def to_dicts(self) -> List[Dict[str, Any]]:
        """One dict per row, column name -> value."""
        names = self._names
        return [dict(zip(names, values)) for values in zip(*self._cols)]

    def to_pandas(self) -> Any:
        """A pandas DataFrame, built column by column (numbers without a copy
        per value; missing numbers as pandas' nullable dtypes)."""
        pd = _need("pandas", "pandas", "Table.to_pandas()")
        import numpy as np  # pandas depends on numpy

        data: Dict[str, Any] = {}
        for name, kind, col in zip(self._names, self._kinds, self._cols):
            if kind in _NUMERIC:
                if isinstance(col, array.array):
                    data[name] = np.frombuffer(col, dtype=_NUMERIC[kind][0]) if len(col) else np.array([], dtype=_NUMERIC[kind][0])
                else:
                    data[name] = pd.array(col, dtype=_NUMERIC[kind][1])
            elif kind == "bool":
                data[name] = pd.array(col, dtype="boolean")
            else:
                data[name] = col
        return pd.DataFrame(data, columns=list(self._names))

    def to_arrow(self) -> Any:
        """A pyarrow Table; gap-free numeric columns share memory with this table."""
        pa = _need("pyarrow", "arrow", "Table.to_arrow()")
        arrays = []
        for kind, col in zip(self._kinds, self._cols):
            if kind in _NUMERIC:
                ty = getattr(pa, _NUMERIC[kind][2])()
                if isinstance(col, array.array):
                    arrays.append(pa.Array.from_buffers(ty, len(col), [None, pa.py_buffer(col)]))
                else:
                    arrays.append(pa.array(col, type=ty))
            elif kind == "bool":
                arrays.append(pa.array(col, type=pa.bool_()))
            elif kind == "str":
                arrays.append(pa.array(col, type=pa.string()))
            else:
                arrays.append(pa.array([list(v) for v in col], type=pa.list_(pa.string())))
        return pa.Table.from_arrays(arrays, names=list(self._names))

    def __repr__(self) -> str:
        return f"<netobs.Table of {self._len} {self._row.__name__} rows: {', '.join(self._names[:6])}{', ...' if len(self._names) > 6 else ''}>"


def _numeric(code: str, data: bytes, nulls: Any) -> Sequence[Any]:
    values = array.array(code)
    values.frombytes(data)
    if nulls is None:
        return values
    return [None if null else v for v, null in zip(values, nulls)]


def _from_columns(row_name: str, spec: List[Tuple[str, str, Any, Any]], length: int) -> Table[Any]:
    """Called by the Rust side with (name, kind, values, null mask) per column."""
    row = getattr(_rows, row_name)
    names = [s[0] for s in spec]
    if tuple(names) != row._fields:
        raise RuntimeError(f"netobs: columns of {row_name} do not match its row type: {names} != {row._fields}")
    kinds = [s[1] for s in spec]
    cols = [_numeric(kind, values, nulls) if kind in _NUMERIC else values for _, kind, values, nulls in spec]
    return Table(row, names, kinds, cols, length)
