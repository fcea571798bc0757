"""Notebook posts: ``posts/<slug>.ipynb`` whose first cell holds the front matter.

A plain notebook (no Experiment API) is a run: executed at build time by the build's executor,
in a worker (nbclient, its own kernel process over IPC, a scratch working folder holding the
files its front matter's ``inputs:`` declares, thread counts capped).  Its cache key is
jupyter-cache's rule: the code cells' source, the kernel name, the library versions (and the
declared inputs), never outputs, execution counts or metadata, so Save or "Run All" in Jupyter
with no code change runs nothing.  It is
exported with nbconvert: ``PythonExporter`` gives the script behind the post (the "code"
download) and ``ExtractOutputPreprocessor`` pulls every image out of the outputs.  Each image
becomes a numbered figure with the same links as a script figure: **data** (a zip of the files
the notebook wrote plus the executed notebook), **code** (the cell that drew it) and the whole
script.  Markdown cells go through the same Markdown/math/citation pipeline as ``.md`` posts.

Reading a notebook post (its front matter and cells) is ``content/notebook.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.notebook import code_cells, kernel_name, load_json
from physai_blog.content.spec import API_VERSION, sha256
from physai_blog.errors import InputError, RunError
from physai_blog.runs.cache import Cache, file_digest, key_of
from physai_blog.runs.plan import exit_text, library_versions


def notebook_inputs(post) -> dict:
    """Everything a plain notebook's key hashes (kept in its manifest, to explain a miss)."""
    nb = load_json(post.source, post.rel)
    return {"api": API_VERSION, "kind": "notebook", "kernel": kernel_name(nb),
            "code": sha256(json.dumps(code_cells(nb["cells"][1:])).encode()),
            "inputs": declared_inputs(post), "versions": library_versions()}


def declared_inputs(post) -> dict[str, str]:
    """sha256 of every file the front matter's ``inputs:`` names (relative to the notebook's
    folder; a folder stands for every file in it)."""
    folder, found = post.source.parent, {}
    for name in post.inputs:
        path = folder / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not path.exists():
            raise InputError(post.rel, post.line_of("inputs"),
                             f"inputs: {name!r} not found beside the notebook")
        for file in files:
            found[file.relative_to(folder).as_posix()] = file_digest(file)
    return found


def notebook_key(post) -> str:
    return key_of(notebook_inputs(post))


def notebook_reason(old: dict | None, new: dict) -> str:
    """Why a notebook executes, said as the build table and ``-v`` say it."""
    if not old:
        return "notebook executed (new notebook)"
    changed = [what for what, key in (("code changed", "code"), ("kernel changed", "kernel"),
                                      ("inputs changed", "inputs"),
                                      ("library versions changed", "versions"))
               if old.get(key) != new.get(key)]
    return f"notebook executed ({', '.join(changed) or 'cache entry missing'})"


@dataclass(frozen=True)
class NotebooksDone:
    """What the notebook part of the run stage returns."""

    keys: dict[str, str]          # slug -> the key of its executed notebook in the cache
    executed: list[str]           # slugs of the notebooks executed by this build
    errors: list[RunError]
    reasons: dict[str, str] = field(default_factory=dict)    # slug -> why it executed
    seconds: dict[str, float] = field(default_factory=dict)  # slug -> its wall time


def execute_notebooks(posts: list, cache: Cache, executor, on_event,
                      default_timeout: float) -> NotebooksDone:
    """Every notebook post's executed notebook, from the cache or executed now by the same
    executor as script runs (``--jobs``, timeouts, Dask); each committed as it finishes."""
    done = NotebooksDone({}, [], [])
    todo = []
    for post in posts:
        inputs = notebook_inputs(post)
        key = key_of(inputs)
        if cache.load("notebooks", key) is not None:
            done.keys[post.slug] = key
            cache.remember(post.slug, {"notebook": key})
            continue
        done.reasons[post.slug] = notebook_reason(previous_inputs(post, key, cache), inputs)
        todo.append(notebook_task(post, key, cache, post.timeout or default_timeout))

    def finished(outcome) -> None:
        post, key, folder = outcome.task.context
        if outcome.ok:
            wall = (outcome.result or {}).get("wall_time") or 0
            cache.commit("notebooks", key, folder / "out",
                         {"kind": "notebook", "source": post.rel, "wall_time": wall,
                          "inputs": notebook_inputs(post),
                          "versions": (outcome.result or {}).get("versions", {})}, durable=True)
            cache.remember(post.slug, {"notebook": key})
            done.keys[post.slug] = key
            done.executed.append(post.slug)
            done.seconds[post.slug] = wall
        else:
            done.errors.append(notebook_error(post, outcome))

    if todo:   # nothing stale: the executor is not even made (runs/lazy.py)
        executor.execute(todo, on_event, finished)
    return done


def previous_inputs(post, key: str, cache: Cache) -> dict | None:
    previous = cache.latest(post.slug, "notebook")
    manifest = cache.load("notebooks", previous) if previous and previous != key else None
    return manifest.get("inputs") if manifest else None


def cached_notebook(post, cache: Cache) -> str | None:
    """The key of the post's executed notebook, when the cache holds it."""
    key = notebook_key(post)
    return key if cache.load("notebooks", key) is not None else None


def notebook_task(post, key: str, cache: Cache, timeout: float):
    from physai_blog.runs.executor import (
        Task,  # edge: the pool, only once a notebook is due
    )

    folder = cache.new_tmp()
    (folder / "out").mkdir()
    payload = {"kind": "notebook", "var": None, "rel": post.rel, "out": str(folder / "out"),
               "timeout": timeout, "inputs": sorted(declared_inputs(post))}
    beside = Path(post.rel).parent.as_posix()   # shipped with the notebook to a cluster
    # The whole notebook within twice its per-cell timeout (nbclient enforces that one).
    return Task("notebook", post.rel, payload, 2 * timeout + 30, f"{post.slug} notebook",
                context=(post, key, folder), resources=dict(post.resources),
                deps=[f"{beside}/{name}" for name in payload["inputs"]])


def notebook_error(post, outcome) -> RunError:
    error = outcome.error or {}
    if error.get("type") == "RunError":     # a cell raised or timed out: said by the worker
        return RunError(error["message"], error.get("detail", ""))
    if error.get("type") == "timeout":
        return RunError(f"{post.rel}: the notebook timed out after {outcome.task.timeout:g} s; "
                        "raise `timeout:` in the front matter or make it faster", outcome.log)
    if error.get("type") == "died":
        return RunError(f"{post.rel}: the notebook's worker died{exit_text(error.get('exit'))}",
                        outcome.log)
    return RunError(f"{post.rel}: {error.get('message', 'failed')}", outcome.log)
