"""examples/python/walk_down_the_stack: the script runs, the notebook is
the script's copy, and the notebook executes in a Jupyter kernel (nbclient)."""

import os
import subprocess
import sys

import pytest

import conftest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")
sys.path.insert(0, EXAMPLES)
import to_notebook  # noqa: E402

# Bounds, not timings: under the VM legs (emulated CPU, about 12x slower;
# below the 7 minutes after which scripts/test-kernels calls a silent VM stalled;
# matplotlib builds its font cache on first use) the script needs minutes.
TIMEOUT = 400 if os.environ.get("NETOBS_KERNEL_LEG") else 120


@pytest.fixture
def cleanup(root):
    yield
    conftest._remove_stale()


def test_notebook_is_the_script():
    with open(to_notebook.SCRIPT) as f:
        want = to_notebook.render(f.read())
    with open(to_notebook.NOTEBOOK) as f:
        assert f.read() == want, "run examples/python/to_notebook.py after editing the script"


def test_script_runs(cleanup):
    p = subprocess.run([sys.executable, to_notebook.SCRIPT], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert "small pings: ok | big pings: lost" in p.stdout
    assert "freed in __dev_forward_skb" in p.stdout


def test_notebook_executes(cleanup):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(to_notebook.NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "big pings: lost" in text and "lo: " in text
    # The DataFrame of links rendered as a table.
    assert any("text/html" in o.get("data", {}) for o in outputs)
    # The drops found by DropMonitor, and their chart.
    assert "freed in __dev_forward_skb" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_a_failing_cell_still_removes_the_world(cleanup, tmp_path):
    """The walk's namespaces and children go away when a cell raises."""
    with open(to_notebook.SCRIPT) as f:
        text = f.read()
    cut = text.index("# %% [markdown]\n# ## Sockets")
    # Fail in the cell after the server and client started.
    at = text.index("# %%\nestab = ")
    broken = text[:at] + 'raise RuntimeError("a cell fails")\n\n' + text[at:]
    assert cut < at
    script = tmp_path / "broken.py"
    script.write_text(broken)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode != 0 and "a cell fails" in p.stderr
    ready = next(l for l in p.stdout.splitlines() if l.startswith("world ready: "))
    names = [w for w in ready.split() if w.startswith("nbt-py-")]
    assert len(names) == 2, ready
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [n for n in names if n in listed], listed
    # ... and its server and client: no process of the walk is left
    left = subprocess.run(["pgrep", "-f", "10.98.0.2\", 8080"], capture_output=True, text=True).stdout
    assert left == "", left
