"""A plain notebook's cache key is its code (jupyter-cache's rule), and the build says so."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from conftest import cli, make_blog
from physai_blog.build import build
from physai_blog.errors import RunError

FRONT = "---\ntitle: Slope\ndate: 2026-02-10\ninputs: [xy.csv]\n---"
LOAD = ("import os\nimport numpy as np\nfrom physai_blog.runtime import notebook as nb\n"
        "with open(os.environ['PHYSAI_TEST_COUNTER'], 'a') as fh:\n    fh.write('run\\n')\n"
        "x, y = np.loadtxt('xy.csv', delimiter=',').T\n"
        "slope = nb.log_value('slope', np.polyfit(x, y, 1)[0])\nprint(round(slope, 3))")
PROSE = "The slope is {{ value('slope', fmt='.2f') }}: {{ claim('slope > 1.5', 'steep') }}."


def notebook(prose=PROSE, code=LOAD, counts=None, output=None):
    cell = new_code_cell(code, execution_count=counts)
    if output:
        cell.outputs = [new_output("stream", name="stdout", text=output)]
    nb = new_notebook(cells=[new_raw_cell(FRONT), new_markdown_cell(prose), cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_save_and_outputs_do_not_rerun_code_and_inputs_do(tmp_path, monkeypatch):
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    (root / "posts/xy.csv").write_text("0,0\n1,2\n2,4\n")
    path = root / "posts/2026-02-10-slope.ipynb"
    nbformat.write(notebook(), path)
    first = cli("build", "-v", "--root", root)
    assert first.exit_code == 0, first.output
    assert "ran slope/notebook: notebook executed (new notebook)" in first.output
    assert "without encryption" not in first.output
    html = (root / "site/posts/slope/index.html").read_text()
    assert ">2.00</a>" in html and "steep" in html and "claim-pass" in html
    assert (root / "site/posts/slope/data/values.csv").read_text().startswith("name,value\nslope,2.0")
    page = root / "site/posts/slope"
    links = set(re.findall(r'(?:href|src)="([^"#:]+)"', html))
    assert "slope-bundle.zip" in links and "data/values.csv" in links
    assert [link for link in links if not (page / link).resolve().exists()] == []
    # Save in Jupyter: execution counts, outputs, cell ids and metadata change; code does not
    saved = nbformat.read(path, as_version=4)
    saved.cells[2].execution_count = 7
    saved.cells[2].outputs = [new_output("stream", name="stdout", text="2.0\n")]
    saved.cells[2].metadata["scrolled"] = True
    saved.metadata["widgets"] = {"state": {}}
    nbformat.write(saved, path)
    again = cli("build", "-v", "--root", root)
    assert again.exit_code == 0 and counter.read_text().count("run") == 1, again.output
    assert "site unchanged" in again.output           # not a byte of the site changed
    # prose edits re-render from the cache
    nbformat.write(notebook(prose="Now {{ value('slope') }}."), path)
    assert cli("build", "--root", root).exit_code == 0
    assert counter.read_text().count("run") == 1
    assert "Now <a" in (root / "site/posts/slope/index.html").read_text()
    # a declared input is part of the key
    (root / "posts/xy.csv").write_text("0,0\n1,3\n2,6\n")
    changed = cli("build", "-v", "--root", root)
    assert "ran slope/notebook: notebook executed (inputs changed)" in changed.output
    assert counter.read_text().count("run") == 2
    nbformat.write(notebook(code=LOAD + "\nprint('more')"), path)
    edited = cli("build", "-v", "--root", root)
    assert "notebook executed (code changed)" in edited.output
    bundle = (root / "site/posts/slope/slope-bundle.zip")
    import zipfile

    names = zipfile.ZipFile(bundle).namelist()
    assert {"slope.ipynb", "inputs/xy.csv", "requirements.txt", "manifest.json",
            "physai_blog/runtime/notebook.py"} <= set(names)
    manifest = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert manifest["kernel"] == "python3" and "numpy" in manifest["versions"]
    assert len(manifest["sha256"]["inputs/xy.csv"]) == 64


def test_an_undeclared_file_beside_the_notebook_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    (root / "posts/xy.csv").write_text("0,0\n1,2\n")
    nb = notebook()
    nb.cells[0].source = FRONT.replace("inputs: [xy.csv]\n", "")
    nbformat.write(nb, root / "posts/2026-02-10-slope.ipynb")
    with pytest.raises(RunError) as failed:     # the library call the CLI makes
        build(root)
    assert failed.value.message == (
        "posts/2026-02-10-slope.ipynb: cell 2 (`import os`) raised FileNotFoundError: "
        "xy.csv not found.; a file beside the notebook must be listed in its front "
        "matter's `inputs:`")


def test_figure_captions_come_from_the_cell_and_its_code_runs_alone(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    plot = "import matplotlib.pyplot as plt\nx = [0, 1, 2]\n"
    first = new_code_cell("# caption: A line through three points.\n" + plot +
                          "plt.plot(x, x)\nplt.show()")
    second = new_code_cell("plt.plot(x, [v * v for v in x])\nplt.savefig('sq.png')\nplt.show()",
                           metadata={"caption": "A parabola, from the cell's metadata."})
    nbformat.write(new_notebook(cells=[new_raw_cell("---\ntitle: Plots\ndate: 2026-02-10\n---"),
                                       first, second]), root / "posts/2026-02-10-plots.ipynb")
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    post = root / "site/posts/plots"
    html = (post / "index.html").read_text()
    assert "Figure 1.</a> A line through three points." in html
    assert "Figure 2.</a> A parabola, from the cell&#x27;s metadata." in html
    code = post / "code/cell-2.py"
    assert "x = [0, 1, 2]" in code.read_text()        # the cells before it, so it runs alone
    done = subprocess.run([sys.executable, code.name], cwd=code.parent, capture_output=True,
                          env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (code.parent / "sq.png").is_file()


def test_the_kernel_talks_over_ipc_without_a_transport_warning(tmp_path, capfd):
    """The kernel inherits this process's stderr: its TCP warning would land there."""
    from physai_blog.runs.notebook_exec import execute

    nb = nbformat.v4.new_notebook(cells=[new_raw_cell("---"), new_code_cell(
        "import os, sys\nprint(os.environ['PHYSAI_NOTEBOOK_VALUES'].endswith('v.json'))")])
    execute(nb, "x.ipynb", tmp_path, tmp_path / "v.json", 60)
    assert nb.cells[1].outputs[0].text == "True\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert list(tmp_path.iterdir()) == []            # no connection file or socket left here


def test_run_names_a_plain_notebook_and_what_it_needs(tmp_path):
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    nbformat.write(notebook(), root / "posts/2026-02-10-slope.ipynb")
    result = cli("run", "slope", "--root", root)
    assert result.exit_code == 1
    assert ("Error: posts/2026-02-10-slope.ipynb: a plain notebook is executed whole by "
            "`build`; for `run` and `verify`, write its code cells with the Experiment API"
            ) in result.output
