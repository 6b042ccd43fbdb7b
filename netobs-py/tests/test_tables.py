"""The Table mechanism: rows, columns, dicts, pandas, Arrow."""

import array
import sys

import pytest

import netobs


@pytest.fixture
def table(veth_world):
    a, _ = veth_world
    return netobs.links(netns=a.name)


def test_rows_are_frozen_named_tuples(table):
    row = table[0]
    assert isinstance(row, netobs.Link) and isinstance(row, tuple)
    with pytest.raises(AttributeError):
        row.name = "x"
    assert row._fields == table.columns
    assert table[-1] == list(table)[-1]
    with pytest.raises(IndexError):
        table[len(table)]


def test_columns_and_slices(table):
    names = table["name"]
    assert list(names) == [r.name for r in table]
    assert isinstance(table["rx_bytes"], array.array), "gap-free counters are native arrays"
    assert list(table.column("rx_bytes")) == [r.rx_bytes for r in table]
    with pytest.raises(KeyError, match="no column"):
        table.column("nope")
    part = table[1:3]
    assert isinstance(part, netobs.Table) and len(part) == 2
    assert list(part) == list(table)[1:3]


def test_to_dicts(table):
    dicts = table.to_dicts()
    assert dicts == [r._asdict() for r in table]
    assert set(dicts[0]) == set(table.columns)


def test_to_pandas(table):
    pd = pytest.importorskip("pandas")
    df = table.to_pandas()
    assert list(df.columns) == list(table.columns)
    assert len(df) == len(table)
    assert str(df["rx_bytes"].dtype) == "uint64"
    assert df["rx_bytes"].tolist() == list(table["rx_bytes"])
    assert df["name"].tolist() == list(table["name"])
    # Rows work too, the way users build frames from lists of records.
    df2 = pd.DataFrame(list(table))
    assert df2["rx_packets"].tolist() == df["rx_packets"].tolist()
    assert list(df2.columns) == list(table.columns)


def test_to_arrow(table):
    pa = pytest.importorskip("pyarrow")
    t = table.to_arrow()
    assert t.column_names == list(table.columns)
    assert t.schema.field("rx_bytes").type == pa.uint64()
    assert t.column("rx_bytes").to_pylist() == list(table["rx_bytes"])
    assert t.column("altnames").to_pylist() == [list(r.altnames) for r in table]
    assert t.column("carrier").to_pylist() == list(table["carrier"])


def test_missing_pandas_says_what_to_install(table, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install 'netobs\[pandas\]'"):
        table.to_pandas()
    with pytest.raises(ImportError, match=r"pip install 'netobs\[arrow\]'"):
        table.to_arrow()


def test_nullable_columns_stay_nullable(table):
    # `link_netnsid` is only set on va (its peer is in another namespace).
    col = table["link_netnsid"]
    assert isinstance(col, list) and None in col
    pd = pytest.importorskip("pandas")
    df = table.to_pandas()
    assert str(df["link_netnsid"].dtype) == "Int64"
    assert df["link_netnsid"].isna().sum() == col.count(None)


def test_dataframe_writes_do_not_touch_the_table(table):
    pytest.importorskip("pandas")
    before = list(table["rx_bytes"]), list(table["link_netnsid"])
    df = table.to_pandas()
    df["rx_bytes"] += 1
    df.loc[0, "link_netnsid"] = 77
    df.iloc[1, df.columns.get_loc("mtu")] = 9000
    assert (list(table["rx_bytes"]), list(table["link_netnsid"])) == before
    assert table.to_pandas()["rx_bytes"].tolist() == before[0]
    assert table.to_pandas()["mtu"].tolist() == list(table["mtu"])


def test_rows_by_a_list_of_row_numbers():
    t = netobs.links()
    assert len(t) >= 1
    picked = t[[0, -1, 0]]
    assert isinstance(picked, netobs.Table) and picked.row_type is t.row_type
    assert list(picked) == [t[0], t[-1], t[0]]
    assert picked.to_dicts() == [t.to_dicts()[0], t.to_dicts()[-1], t.to_dicts()[0]]
    assert len(t[[]]) == 0
    with pytest.raises(IndexError, match="out of range"):
        t[[len(t)]]
    with pytest.raises(TypeError, match="row numbers must be ints"):
        t[[1.5]]
    with pytest.raises(TypeError, match="indexed by a row number"):
        t[{1}]


def test_repr_previews_the_rows(table):
    text = repr(table)
    title, header, *rows = text.splitlines()
    assert title == f"<netobs.Table of {len(table)} Link rows, {len(table.columns)} columns (8 shown)>"
    assert header.split() == list(table.columns[:8])
    assert len(rows) == len(table)
    for k, (line, row) in enumerate(zip(rows, table)):
        assert line.split()[:3] == [str(k), str(row.index), row.name]


def test_repr_of_a_long_table_shows_its_head_and_tail(table):
    long = table[[i % len(table) for i in range(23)]]
    lines = repr(long).splitlines()
    # title, header, 5 first rows, "...", 5 last rows
    assert len(lines) == 13
    assert [l.split()[0] for l in lines[2:]] == ["0", "1", "2", "3", "4", "...", "18", "19", "20", "21", "22"]
    assert repr(table[0:0]) == f"<netobs.Table of 0 Link rows, {len(table.columns)} columns: {', '.join(table.columns)}>"


def test_repr_html_shows_every_column_escaped(table):
    html = table._repr_html_()
    assert html.startswith('<table class="netobs-table">') and html.endswith("</table>")
    assert html.count("<tr>") == len(table) + 1
    for name in table.columns:
        assert f"<th>{name}</th>" in html
    va = next(r for r in table if r.name == "va")
    assert f"<td>{va.alias}</td>" in html
    long = table[[i % len(table) for i in range(30)]]
    # 10 first rows, a "..." row, 10 last rows, the header
    assert long._repr_html_().count("<tr>") == 22


def test_html_escapes_what_the_kernel_reports(make_netns):
    ns = make_netns()
    ns.ip("link", "add", "e0", "type", "veth", "peer", "name", "e1")
    ns.ip("link", "set", "e0", "alias", "<b>x & y</b>")
    html = netobs.links(netns=ns.name)._repr_html_()
    assert "<td>&lt;b&gt;x &amp; y&lt;/b&gt;</td>" in html and "<b>x" not in html


def test_row_signatures_name_real_types():
    import inspect

    for row in (netobs.Link, netobs.LinkRate, netobs.DropRow, netobs.DropEvent, netobs.EthtoolInfo):
        sig = str(inspect.signature(row))
        assert "ForwardRef" not in sig, sig
    assert "mtu: Optional[int]" in str(inspect.signature(netobs.Link))
