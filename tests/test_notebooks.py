"""Notebook posts: executed at build, cached on their content, figures with data/code links."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from conftest import cli, make_blog


def write_notebook(path, *code, front="---\ntitle: A notebook post\ndate: 2026-02-10\n"
                                     "tags: [notebook]\n---"):
    cells = [new_raw_cell(front), new_markdown_cell("We fit $y = a x$ to noisy data.")]
    cells += [new_code_cell(source) for source in code]
    nbformat.write(new_notebook(cells=cells), path)


SETUP = ("import os\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
         "with open(os.environ['PHYSAI_TEST_COUNTER'], 'a') as fh:\n    fh.write('run\\n')\n"
         "x = np.linspace(0, 1, 20)\ny = 2 * x\nnp.savetxt('xy.csv', np.c_[x, y], delimiter=',')\n"
         "print('slope', np.polyfit(x, y, 1)[0].round(3))")
PLOT = "fig, ax = plt.subplots()\nax.plot(x, y, '.')\nplt.show()"


def test_notebook_post_builds_with_figures_and_downloads(tmp_path, monkeypatch):
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    write_notebook(root / "posts/2026-02-10-nb.ipynb", SETUP, PLOT)
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    html = (root / "site/posts/nb/index.html").read_text()
    assert '<img src="figures/cell3-0.png"' in html and "Figure 1.</a>" in html
    assert '<a href="data/nb-outputs.zip" download>data</a> · <a href="code/cell-3.py">code</a>' in html
    assert '<pre class="nb-output">slope 2.0\n</pre>' in html
    assert '<span class="math inline"><math' in html
    post = root / "site/posts/nb"
    assert (post / "figures/cell3-0.png").read_bytes()[:4] == b"\x89PNG"
    assert "ax.plot(x, y" in (post / "code/cell-3.py").read_text()
    assert "np.polyfit" in (post / "code/nb.py").read_text()          # nbconvert's script
    assert (post / "nb.ipynb").is_file()
    # cached on its content: a second build does not execute it again
    assert cli("build", "--root", root).exit_code == 0
    assert counter.read_text().count("run") == 1
    nb_path = root / "posts/2026-02-10-nb.ipynb"
    write_notebook(nb_path, SETUP + "\nprint('edited')", PLOT)
    assert cli("build", "--root", root).exit_code == 0
    assert counter.read_text().count("run") == 2


def test_a_failing_cell_names_the_notebook_and_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    write_notebook(root / "posts/2026-02-10-nb.ipynb", SETUP, "raise ValueError('boom')")
    result = cli("build", "--root", root)
    assert result.exit_code == 1
    assert "Error: posts/2026-02-10-nb.ipynb: cell 3 (`raise ValueError('boom')`) raised ValueError: boom" in result.output
    assert not (root / "site").exists()


def test_notebook_front_matter_is_validated(tmp_path):
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    write_notebook(root / "posts/2026-02-10-nb.ipynb", "1", front="---\ndate: 2026-02-10\n---")
    result = cli("build", "--root", root)
    assert result.exit_code == 1
    assert "Error: posts/2026-02-10-nb.ipynb:1: missing required key 'title'" in result.output


def test_a_notebook_post_is_a_run_of_the_build(tmp_path, monkeypatch):
    """Executed by the build's executor in a worker: counted, reported, cached, in parallel
    with the other notebooks (--jobs)."""
    from physai_blog.build import build

    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    root = make_blog(tmp_path / "blog", posts={}, experiments={})
    write_notebook(root / "posts/2026-02-10-nb.ipynb", SETUP, PLOT)
    write_notebook(root / "posts/2026-02-11-two.ipynb", SETUP,
                   front="---\ntitle: Two\ndate: 2026-02-11\n---")
    events = []
    report = build(root, jobs=2, on_event=lambda event, task: events.append((event, task.kind)))
    assert sorted(report.runs_executed) == ["nb/notebook", "two/notebook"]
    assert report.runs_total == 2 and ("done", "notebook") in events
    assert counter.read_text().count("run") == 2
    again = build(root, jobs=2)
    assert again.runs_executed == [] and counter.read_text().count("run") == 2


def test_a_notebook_post_runs_on_a_dask_cluster_as_locally(tmp_path, monkeypatch):
    distributed = __import__("pytest").importorskip("distributed")
    from physai_blog.build import build
    from physai_blog.runs.cluster import DaskExecutor

    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    sites = {}
    write_notebook(tmp_path / "nb.ipynb", SETUP, PLOT)   # one notebook: cell ids are random
    for name in ("local", "dask"):
        root = make_blog(tmp_path / name, posts={}, experiments={})
        (root / "posts/2026-02-10-nb.ipynb").write_bytes((tmp_path / "nb.ipynb").read_bytes())
        if name == "local":
            build(root)
        else:
            with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                          dashboard_address=None) as cluster:
                executor = DaskExecutor(root, cluster.scheduler_address)
                try:
                    assert build(root, executor=executor).runs_executed == ["nb/notebook"]
                finally:
                    executor.close()
        site = root / "site/posts/nb"
        sites[name] = {p.relative_to(site).as_posix(): p.read_bytes()
                       for p in site.rglob("*") if p.is_file()}
    assert sites["local"] == sites["dask"]


def test_build_only_another_post_keeps_the_notebook_post(tmp_path, monkeypatch):
    from conftest import FAST_EXPERIMENT, FAST_POST
    from physai_blog.build import build

    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    root = make_blog(tmp_path / "blog", posts={"2026-02-01-fast.md": FAST_POST},
                     experiments={"fast.py": FAST_EXPERIMENT})
    write_notebook(root / "posts/2026-02-10-nb.ipynb", SETUP)
    build(root)
    report = build(root, only="fast")
    assert sorted(report.posts) == ["fast", "nb"] and report.runs_executed == []
    assert (root / "site/posts/nb/index.html").is_file()
    write_notebook(root / "posts/2026-02-10-nb.ipynb", SETUP + "\nprint('changed')")
    report = build(root, only="fast")     # not run outside --only: skipped, and said so
    assert "posts/2026-02-10-nb.ipynb: skipped, the notebook has not run (build without " \
           "--only to run it)" in report.warnings
    assert report.runs_executed == [] and "nb" not in report.posts
