"""One small study (a decay rate, 2 epsilons x 2 seeds) written three ways: a Markdown post
and an experiment script, a notebook that *is* the experiment (Experiment API in its code
cells), and a plain notebook.  Compared on what the reader gets and on what a rebuild runs."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from conftest import cli, make_blog, runs_counted

SETUP = '''\
import os
from physai_blog import Experiment

exp = Experiment(params={"steps": 12, "eps": 0.1}, sweep={"eps": [0.1, 0.3]}, seeds=[0, 1])
'''
TRAIN = '''\
@exp.run
def train(params, seed, log):
    import numpy as np

    if "PHYSAI_TEST_COUNTER" in os.environ:
        with open(os.environ["PHYSAI_TEST_COUNTER"], "a") as fh:
            fh.write("run\\n")
    rng = np.random.default_rng(seed)
    loss = 1.0
    for step in range(params["steps"]):
        loss = loss * (1 - params["eps"]) + 0.001 * rng.random()
        log.scalars(step=step, loss=loss)
    log.value("final_loss", loss)
'''
PLOT = '''\
@exp.figure("loss", caption="Loss per step, one line per run.", format="png")
def loss_plot(data, fig):
    ax = fig.add_subplot()
    for run in data:
        ax.plot(*run.series("loss"), color="C0")
'''
MAIN = '\n\nif __name__ == "__main__":\n    exp.main()\n'
PROSE = ('Fast decay ends at {{ value("final_loss", eps=0.3, fmt=".4f") }}.\n\n'
         '{{ figure("loss") }}\n\n'
         '{{ claim("final_loss < 0.5", "the loss decays", eps=0.3) }}\n')
FRONT = "---\ntitle: Decay\ndate: 2026-03-01\n---"


def api_notebook(plot=PLOT) -> nbformat.NotebookNode:
    cells = [new_raw_cell(FRONT), new_markdown_cell("# Setup\n\nWe sweep the rate."),
             new_code_cell(SETUP), new_code_cell(TRAIN), new_markdown_cell(PROSE),
             new_code_cell(plot)]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def blogs(tmp_path):
    script = make_blog(tmp_path / "script", posts={"2026-03-01-decay.md": FRONT + "\n\n" + PROSE},
                       experiments={"decay.py": SETUP + "\n\n" + TRAIN + "\n\n" + PLOT + MAIN})
    notebook = make_blog(tmp_path / "notebook", posts={}, experiments={})
    nbformat.write(api_notebook(), notebook / "posts/2026-03-01-decay.ipynb")
    return script, notebook


def reader_files(root) -> dict[str, bytes]:
    site = root / "site/posts/decay"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
            if p.is_file()}


def test_a_notebook_can_be_the_experiment(tmp_path, monkeypatch):
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    script, notebook = blogs(tmp_path)
    for root in (script, notebook):
        result = cli("build", "--root", root)
        assert result.exit_code == 0, result.output
    assert runs_counted(counter) == 8                 # 2 eps x 2 seeds, each form
    a, b = reader_files(script), reader_files(notebook)
    data = sorted(n for n in a if n.startswith("data/") and not n.endswith("manifest.json"))
    assert data == sorted(n for n in b if n.startswith("data/") and not
                          n.endswith("manifest.json"))
    assert {n for n in data if n.endswith(".csv")} >= {"data/values.csv",
                                                       "data/eps-0.3_seed-1/scalars.csv"}
    for name in data:                                # the same numbers, byte for byte
        if not name.endswith(".zip"):
            assert a[name] == b[name], name
    assert "reproduce.zip" in b and "code/decay.py" in b and "code/loss.py" in b
    published = json.loads(b["code/decay.ipynb"])     # the author's notebook, outputs cleared
    assert ["".join(c["source"]) for c in published["cells"]] == \
        [c["source"] for c in api_notebook().cells]
    html = b["index.html"].decode()
    assert "claim-pass" in html and 'class="value"' in html and "Figure 1." in html
    assert "seed" in html and "We sweep the rate." in html
    code = b["code/decay.py"].decode()
    assert "# In[2]:" in code and 'if __name__ == "__main__":\n    exp.main()' in code
    # the reader's bundle reruns the notebook's experiment exactly as the script's
    assert rerun_bundle(tmp_path / "a", a["reproduce.zip"]) == \
        rerun_bundle(tmp_path / "b", b["reproduce.zip"])


def rerun_bundle(folder, data: bytes) -> dict[str, bytes]:
    """The bundle's README command, with nothing on PYTHONPATH: its own runtime runs.  The
    rerun's data, checked against the published sha256."""
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    folder = folder / "decay"
    done = subprocess.run([sys.executable, "code/decay.py", "--out", "rerun"], cwd=folder,
                          env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = {}
    for manifest in sorted((folder / "data").glob("*/manifest.json")):
        for rel, meta in json.loads(manifest.read_text())["files"].items():
            rerun = (folder / "rerun/data" / manifest.parent.name / rel).read_bytes()
            assert hashlib.sha256(rerun).hexdigest() == meta["sha256"]
            out[f"{manifest.parent.name}/{rel}"] = rerun
    assert len(out) == 8
    return out


def test_plotting_edits_and_saves_run_nothing(tmp_path, monkeypatch):
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    _, root = blogs(tmp_path)
    path = root / "posts/2026-03-01-decay.ipynb"
    assert cli("build", "--root", root).exit_code == 0 and runs_counted(counter) == 4
    saved = nbformat.read(path, as_version=4)        # Save in Jupyter: outputs, counts
    saved.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    saved.cells[2].execution_count = 3
    saved.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nbformat.write(saved, path)
    result = cli("build", "-v", "--root", root)
    assert result.exit_code == 0 and runs_counted(counter) == 4, result.output
    assert "site unchanged" in result.output
    nbformat.write(api_notebook(PLOT.replace('color="C0"', 'color="C3"')), path)
    result = cli("build", "-v", "--root", root)
    assert result.exit_code == 0, result.output
    assert runs_counted(counter) == 4                # redrawn from stored data, no run
    nbformat.write(api_notebook(), path)
    cli("build", "--root", root)
    train = api_notebook()
    train.cells[3].source = TRAIN.replace("0.001", "0.002")
    nbformat.write(train, path)
    result = cli("build", "-v", "--root", root)
    assert runs_counted(counter) == 8, result.output
    assert "ran decay/eps-0.1_seed-0: posts/2026-03-01-decay.ipynb changed" in result.output


def test_an_error_names_the_notebook_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    _, root = blogs(tmp_path)
    nb = api_notebook()
    nb.cells[3].source = TRAIN.replace('    log.value("final_loss", loss)',
                                       '    raise ValueError("diverged")')
    nbformat.write(nb, root / "posts/2026-03-01-decay.ipynb")
    result = cli("build", "--root", root)
    assert result.exit_code == 1
    assert ("Error: posts/2026-03-01-decay.ipynb:cell 3 (`@exp.run`), line 13: ValueError: "
            "diverged") in result.output, result.output


def test_run_and_verify_take_a_notebook_experiment(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    _, root = blogs(tmp_path)
    assert cli("build", "--root", root).exit_code == 0
    ran = cli("run", "decay", "--root", root)
    assert ran.exit_code == 0 and "final_loss" in ran.output, ran.output
    verified = cli("verify", "decay", "--root", root)
    assert verified.exit_code == 0, verified.output


PLAIN = '''\
import numpy as np
from physai_blog.runtime import notebook as nb

def final_loss(eps, seed, steps=12):
    rng = np.random.default_rng(seed)
    loss = 1.0
    for step in range(steps):
        loss = loss * (1 - eps) + 0.001 * rng.random()
    return loss

nb.log_value("final_loss", np.mean([final_loss(0.3, seed) for seed in (0, 1)]))
'''


def test_the_same_study_as_a_plain_notebook(tmp_path, monkeypatch):
    """What a reader gets from a plain notebook: the same number and claim as the script
    post, values.csv, a manifest, and a bundle whose rerun logs the published values."""
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    script, _ = blogs(tmp_path)
    plain = make_blog(tmp_path / "plain", posts={}, experiments={})
    prose = PROSE.replace(', eps=0.3, fmt', ', fmt').replace('{{ figure("loss") }}\n\n', '')
    nbformat.write(new_notebook(cells=[new_raw_cell(FRONT), new_markdown_cell(prose.replace(
        ', eps=0.3)', ')')), new_code_cell(PLAIN)]), plain / "posts/2026-03-01-decay.ipynb")
    for root in (script, plain):
        result = cli("build", "--root", root)
        assert result.exit_code == 0, result.output
    shown = [re.search(r'class="value"[^>]*>([^<]+)<', (root / "site/posts/decay/index.html")
                       .read_text()).group(1) for root in (script, plain)]
    assert shown[0].split(" ")[0] == shown[1], shown      # mean over the seeds, same digits
    files = reader_files(plain)
    assert "claim-pass" in files["index.html"].decode()
    assert files["data/values.csv"].decode().startswith("name,value\nfinal_loss,0.0155")
    manifest = json.loads(files["data/manifest.json"])
    assert manifest["sha256"]["data/values.csv"] == hashlib.sha256(
        files["data/values.csv"]).hexdigest()
    folder = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(files["decay-bundle.zip"])).extractall(folder)
    bundled = json.loads((folder / "manifest.json").read_text())["sha256"]
    for name, digest in bundled.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    from physai_blog.runs.notebook_exec import execute

    nb = nbformat.read(folder / "decay.ipynb", as_version=4)
    execute(nb, "decay.ipynb", folder, folder / "rerun-values.json", 60)
    rerun = json.loads((folder / "rerun-values.json").read_text())
    assert files["data/values.csv"].decode() == f"name,value\nfinal_loss,{rerun['final_loss']!r}\n"


def test_new_notebook_builds_at_once(tmp_path):
    from physai_blog.build import build

    made = cli("new", "Slow modes", "--notebook", "--root", tmp_path / "blog")
    assert made.exit_code == 0 and "posts/" in made.output and ".ipynb" in made.output
    assert not (tmp_path / "blog/experiments/slow-modes.py").exists()
    report = build(tmp_path / "blog")
    assert len(report.runs_executed) == 12 and report.figures_total == 2
    html = (tmp_path / "blog/site/posts/slow-modes/index.html").read_text()
    assert "claim-pass" in html and "Figure 2." in html
    assert build(tmp_path / "blog").runs_executed == []


def test_a_prose_error_names_the_markdown_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    _, root = blogs(tmp_path)
    nb = api_notebook()
    nb.cells[4].source = PROSE.replace('{{ claim(', 'Also {{ value("final_los", eps=0.1) }}.\n\n{{ claim(')
    nbformat.write(nb, root / "posts/2026-03-01-decay.ipynb")
    result = cli("build", "--root", root)
    assert result.exit_code == 1
    assert ("Error: posts/2026-03-01-decay.ipynb: cell 4 (`Fast decay ends at {{ value("
            "\"final_loss\", eps=0.3, fmt=\".4f\") }}.`), line 5: unknown value 'final_los'; "
            "did you mean 'final_loss'?") in result.output, result.output


def test_an_experiment_notebook_runs_on_a_dask_cluster_as_locally(tmp_path, monkeypatch):
    distributed = __import__("pytest").importorskip("distributed")
    from physai_blog.build import build
    from physai_blog.runs.cluster import DaskExecutor

    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    _, local = blogs(tmp_path)
    dask = make_blog(tmp_path / "dask", posts={}, experiments={})
    (dask / "posts/2026-03-01-decay.ipynb").write_bytes(
        (local / "posts/2026-03-01-decay.ipynb").read_bytes())
    build(local)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(dask, cluster.scheduler_address)
        try:
            assert len(build(dask, executor=executor).runs_executed) == 4
        finally:
            executor.close()
    assert reader_files(local) == reader_files(dask)
