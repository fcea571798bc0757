"""Notebook posts: ``posts/<slug>.ipynb`` whose first cell holds the front matter.

The notebook is a run: executed at build time by the build's executor, in a worker (nbclient,
its own kernel process, a scratch working folder, thread counts capped), cached on its
content and the library versions, and
exported with nbconvert: ``PythonExporter`` gives the script behind the post (the "code"
download) and ``ExtractOutputPreprocessor`` pulls every image out of the outputs.  Each image
becomes a numbered figure with the same links as a script figure: **data** (a zip of the files
the notebook wrote plus the executed notebook), **code** (the cell that drew it) and the whole
script.  Markdown cells go through the same Markdown/math/citation pipeline as ``.md`` posts.

Reading a notebook post (its front matter and cells) is ``content/notebook.py``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from physai_blog.content.notebook import cell_source
from physai_blog.content.spec import API_VERSION, sha256
from physai_blog.errors import RunError
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.executor import Task
from physai_blog.runs.plan import library_versions
from physai_blog.runs.worker import PARENT_ENV

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_TYPES = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg"}


def notebook_key(path: Path) -> str:
    return key_of({"api": API_VERSION, "kind": "notebook", "content": sha256(path.read_bytes()),
                   "versions": library_versions()})


@dataclass(frozen=True)
class NotebooksDone:
    """What the notebook part of the run stage returns."""

    keys: dict[str, str]          # slug -> the key of its executed notebook in the cache
    executed: list[str]           # slugs of the notebooks executed by this build
    errors: list[RunError]


def execute_notebooks(posts: list, cache: Cache, executor, on_event,
                      default_timeout: float) -> NotebooksDone:
    """Every notebook post's executed notebook, from the cache or executed now by the same
    executor as script runs (``--jobs``, timeouts, Dask); each committed as it finishes."""
    keys, todo, executed, errors = {}, [], [], []
    for post in posts:
        key = notebook_key(post.source)
        if cache.load("notebooks", key) is not None:
            keys[post.slug] = key
        else:
            todo.append(notebook_task(post, key, cache, post.timeout or default_timeout))

    def finished(outcome) -> None:
        post, key, folder = outcome.task.context
        if outcome.ok:
            cache.commit("notebooks", key, folder / "out", {"kind": "notebook", "source": post.rel})
            keys[post.slug] = key
            executed.append(post.slug)
        else:
            errors.append(notebook_error(post, outcome))

    executor.execute(todo, on_event, finished)
    return NotebooksDone(keys, executed, errors)


def notebook_task(post, key: str, cache: Cache, timeout: float) -> Task:
    folder = cache.new_tmp()
    (folder / "out").mkdir()
    payload = {"kind": "notebook", "var": None, "rel": post.rel, "out": str(folder / "out"),
               "timeout": timeout}
    # The whole notebook within twice its per-cell timeout (nbclient enforces that one).
    return Task("notebook", post.rel, payload, 2 * timeout + 30, f"{post.slug} notebook",
                context=(post, key, folder))


def notebook_error(post, outcome) -> RunError:
    error = outcome.error or {}
    if error.get("type") == "RunError":     # a cell raised or timed out: said by the worker
        return RunError(error["message"], error.get("detail", ""))
    if error.get("type") in ("timeout", "died"):
        what = "timed out" if error["type"] == "timeout" else "died"
        return RunError(f"{post.rel}: the notebook's kernel {what}", outcome.log)
    return RunError(f"{post.rel}: {error.get('message', 'failed')}", outcome.log)


def run_notebook(path: Path, rel: str, folder: Path, timeout: float) -> None:
    """In a worker: execute and export a notebook post into ``folder`` (work/, outputs/,
    cells.json, script.py, executed.ipynb)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from nbconvert import PythonExporter
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    work = folder / "work"
    work.mkdir(parents=True)
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    nb.cells[0].source = ""          # the front matter is not code
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(work)}})
    try:
        # The worker's environment (thread caps), but the kernel's inline backend.
        env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", PARENT_ENV)}
        client.execute(env=env)
    except CellTimeoutError:
        raise RunError(f"{rel}: a cell timed out after {timeout:g} s; raise `timeout:` in the "
                       "front matter or make it faster")
    except CellExecutionError as exc:
        cell = _failing_cell(nb)
        detail = ANSI.sub("", str(getattr(exc, "traceback", "") or exc))
        raise RunError(f"{rel}: cell {cell} raised {exc.ename}: {exc.evalue}", detail[-3000:])
    script, _ = PythonExporter().from_notebook_node(nb)
    extract = ExtractOutputPreprocessor(output_filename_template="cell{cell_index}-{index}{extension}")
    nb, resources = extract.preprocess(nb, {"outputs": {}})
    (folder / "outputs").mkdir()
    for name, data in sorted(resources["outputs"].items()):
        (folder / "outputs" / name).write_bytes(data)
    cells = [cell_record(index, cell) for index, cell in enumerate(nb.cells[1:], start=1)]
    (folder / "cells.json").write_text(json.dumps(cells, sort_keys=True, indent=1) + "\n")
    (folder / "script.py").write_text(script)
    for cell in nb.cells:            # outputs are extracted; keep the notebook deterministic
        cell.get("metadata", {}).pop("execution", None)
    (folder / "executed.ipynb").write_text(nbformat.writes(nb) + "\n")


def cell_record(index: int, cell) -> dict:
    """What the page shows of one executed cell: its source and its outputs (text, images
    by their extracted file, HTML)."""
    entry = {"index": index, "type": cell.cell_type, "source": cell_source(cell), "outputs": []}
    for output in cell.get("outputs", []):
        files = output.get("metadata", {}).get("filenames", {})
        if output.output_type == "stream":
            entry["outputs"].append({"kind": "text", "text": ANSI.sub("", output.text)})
        elif files:
            mime = next((m for m in IMAGE_TYPES if m in files), None)
            if mime:
                entry["outputs"].append({"kind": "image", "file": files[mime]})
        elif "text/html" in output.get("data", {}):
            entry["outputs"].append({"kind": "html", "html": cell_source(
                {"source": output["data"]["text/html"]})})
        elif "text/plain" in output.get("data", {}):
            entry["outputs"].append({"kind": "text", "text": ANSI.sub("", cell_source(
                {"source": output["data"]["text/plain"]}))})
    return entry


def _failing_cell(nb) -> int:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index
    return 0
