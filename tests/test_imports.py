"""Lazy imports live at the edge, and only there.

A no-op build (``physai-blog build`` with nothing changed) loads exactly the modules below and
no third-party library but Click.  Every import inside a function of the package is one of the
named edges: a heavy or optional library loaded only by the path that needs it, or the
command line loading the library behind one verb.  An import hidden inside a function for any
other reason fails this test: put it at the top of its module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import copy_sample
from physai_blog.build import build

PACKAGE = Path(__file__).resolve().parents[1] / "physai_blog"

NO_OP_MODULES = {
    "physai_blog", "physai_blog.build", "physai_blog.context", "physai_blog.errors",
    "physai_blog.paths", "physai_blog.output", "physai_blog.output.write",
    "physai_blog.output.tree", "physai_blog.runs",
    "physai_blog.runs.fingerprint", "physai_blog.runs.digests", "physai_blog.sealed",
    "physai_blog.cli.summary",
    "physai_blog.cli", "physai_blog.cli.main", "physai_blog.cli.options",
    *(f"physai_blog.cli.{verb}" for verb in
      ("build", "cache", "clean", "doctor", "export", "import_", "new", "run", "serve",
       "verify")),
}

# (module, what it imports inside a function): why that import waits.
EDGES = {
    ("__init__.py", "physai_blog.runtime.experiment"): "numpy, only for experiment scripts",
    ("build.py", "physai_blog.body_edit"): "a no-op build never loads rendering",
    ("build.py", "physai_blog.pipeline"): "a no-op build never loads the pipeline",
    ("build.py", "physai_blog.output.write"): "the no-op path's report",
    ("build.py", "physai_blog.runs.zygote"): "the early fork server, when code changed",
    ("build.py", "physai_blog.runs.preload"): "the early fork server, when code changed",
    ("cli/build.py", "physai_blog.build"): "one verb's library",
    ("cli/build.py", "physai_blog.cli.progress"): "rich, only once a run or figure starts",
    ("cli/doctor.py", "physai_blog.checks.doctor"): "one verb's library",
    ("cli/export.py", "physai_blog.alfolio.exporter"): "one verb's library",
    ("cli/import_.py", "physai_blog.alfolio.importer"): "one verb's library",
    ("cli/new.py", "physai_blog.content.scaffold"): "one verb's library",
    ("cli/run.py", "physai_blog.checks.rerun"): "one verb's library",
    ("cli/serve.py", "physai_blog.serve.requests"): "one verb's library",
    ("cli/serve.py", "physai_blog.serve.server"): "one verb's library",
    ("cli/verify.py", "physai_blog.checks.verify"): "one verb's library",
    ("checks/compare.py", "numpy"): "only a published .npy file needs it",
    ("checks/observables.py", "numpy"): "only a run with arrays needs it",
    ("content/front_matter.py", "physai_blog.content.yamlio"): "PyYAML, only for changed front matter",
    ("content/scaffold.py", "physai_blog.content.scaffold_notebook"): "only `new --notebook`",
    ("content/posts.py", "physai_blog.content.yamlio"): "PyYAML, only for changed front matter",
    ("figures/draw.py", "physai_blog.runs.executor"): "subprocess, sockets, threads: only once "
                                                      "a figure is due",
    ("output/write.py", "ctypes"): "renameat2, Linux only",
    ("output/write.py", "ctypes.util"): "renameat2, Linux only",
    ("pipeline.py", "physai_blog.artifacts.post"): "zip and CSV writers, only for a post "
                                                   "with an experiment",
    ("pipeline.py", "physai_blog.figures.draw"): "only a blog with an experiment",
    ("pipeline.py", "physai_blog.render.notebook_post"): "only a blog with a notebook post",
    ("pipeline.py", "physai_blog.runs.cluster"): "Dask is an optional extra",
    ("pipeline.py", "physai_blog.runs.notebooks"): "only a blog with a notebook post",
    ("pipeline.py", "physai_blog.runs.plan"): "only a blog with an experiment",
    ("pipeline.py", "physai_blog.runs.executor"): "the local pool, only once a task is due",
    ("runs/notebooks.py", "physai_blog.runs.executor"): "the pool, only once a notebook is due",
    ("render/highlight.py", "pygments.formatters.html"): "only a code block not kept from "
                                                         "the post's last render",
    ("render/markup.py", "latex2mathml.converter"): "only a post with math",
    ("render/markup.py", "physai_blog.render.kramdown"): "only a post with markdown: kramdown",
    ("render/page.py", "pygments.formatters"): "only a notebook's code listing, or the "
                                               "highlighting CSS when no copy is cached",
    ("render/page.py", "traceback"): "only to locate a template's error",
    ("render/notebook_post.py", "pygments.formatters"): "only a notebook's code listing",
    ("render/notebook_post.py", "pygments.lexers"): "only a notebook's code listing",
    ("render/pages.py", "multiprocessing"): "only many stale pages fork render workers",
    ("render/references.py", "pybtex.backends.html"): "only a blog with a bibliography",
    ("render/references.py", "pybtex.database"): "only a blog with a bibliography",
    ("render/references.py", "pybtex.plugin"): "only a blog with a bibliography",
    ("render/references.py", "pybtex.scanner"): "only a blog with a bibliography",
    ("render/values.py", "statistics"): "decimal and fractions, only once a value is summarized",
    ("runs/cache.py", "fcntl"): "POSIX only",
    ("runs/cluster.py", "distributed"): "Dask is an optional extra",
    ("runs/cluster.py", "dask_jobqueue"): "an optional extra of the extra",
    ("runs/plan.py", "physai_blog.runs.executor"): "subprocess, sockets, threads: only once a "
                                                   "run is due",
    ("runs/notebook_exec.py", "nbformat"): "only a notebook post",
    ("runs/worker.py", "physai_blog.runs.notebook_exec"): "nbclient & co, only for a notebook post",
    ("runs/notebook_exec.py", "nbclient"): "only a notebook post",
    ("runs/notebook_exec.py", "nbclient.exceptions"): "only a notebook post",
    ("runs/notebook_exec.py", "nbconvert"): "only a notebook post",
    ("runs/notebook_exec.py", "nbconvert.preprocessors"): "only a notebook post",
    ("runs/notebook_exec.py", "traitlets.config"): "the kernel's IPC transport, only a notebook post",
    ("runs/preload.py", "physai_blog.content.notebook"): "only a notebook post's experiment",
    ("runs/worker.py", "physai_blog.content.notebook"): "only a notebook post's experiment",
    ("runs/lifeline.py", "ctypes"): "prctl, Linux only",
    ("runs/worker.py", "importlib"): "importlib.metadata, once per worker for the versions",
    ("runs/worker.py", "physai_blog.errors"): "Click, only for one rare error in a worker",
    ("runs/worker.py", "physai_blog.figures.spec"): "matplotlib: the worker's, never the build's",
    ("runs/worker.py", "physai_blog.runtime.data"): "numpy: the worker's, never the build's",
    ("runs/worker.py", "physai_blog.runtime.experiment"): "numpy: the worker's, never the build's",
    ("runtime/experiment.py", "numpy"): "the runtime's heavy libraries, on first use",
    ("runtime/experiment.py", "matplotlib"): "only when a figure is drawn",
    ("runtime/experiment.py", "matplotlib.pyplot"): "only when a figure is drawn",
    ("serve/server.py", "watchfiles"): "only once serve watches files",
    ("cli/cache.py", "physai_blog.runs.share"): "one verb's library",
    ("runs/share.py", "fsspec"): "an optional extra, only for a store at a URL",
}


def function_imports() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if "scaffold" in path.relative_to(PACKAGE).parts[:1]:
            continue   # templates copied into a user's blog, not package code
        rel = path.relative_to(PACKAGE).as_posix()
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found |= {(rel, alias.name) for alias in node.names}
                elif isinstance(node, ast.ImportFrom):
                    found.add((rel, node.module or ""))
    return found


def test_every_import_inside_a_function_is_a_named_edge():
    hidden = sorted(function_imports() - set(EDGES))
    assert not hidden, f"imports hidden inside functions (move them to the top): {hidden}"
    stale = sorted(set(EDGES) - function_imports())
    assert not stale, f"edges that no longer exist (remove them from EDGES): {stale}"


def test_a_no_op_build_loads_only_these_modules(tmp_path):
    root = copy_sample(tmp_path / "blog")
    build(root)
    code = ("import sys\nfrom physai_blog.cli.main import main\n"
            "try:\n    main(['build', '--root', sys.argv[1], '-q'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('physai_blog')))\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)"
            " - {'physai_blog', '__main__', '_distutils_hack'}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert set(eval(out[0])) == NO_OP_MODULES
    assert eval(out[1]) == ["click"]
