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

from dataclasses import dataclass
from pathlib import Path

from physai_blog.content.spec import API_VERSION, sha256
from physai_blog.errors import RunError
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.plan import exit_text, library_versions


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
        key = cached_notebook(post, cache)
        if key is not None:
            keys[post.slug] = key
        else:
            todo.append(notebook_task(post, notebook_key(post.source), cache,
                                      post.timeout or default_timeout))

    def finished(outcome) -> None:
        post, key, folder = outcome.task.context
        if outcome.ok:
            cache.commit("notebooks", key, folder / "out", {"kind": "notebook", "source": post.rel},
                         durable=True)
            keys[post.slug] = key
            executed.append(post.slug)
        else:
            errors.append(notebook_error(post, outcome))

    if todo:   # nothing stale: the executor is not even made (runs/lazy.py)
        executor.execute(todo, on_event, finished)
    return NotebooksDone(keys, executed, errors)


def cached_notebook(post, cache: Cache) -> str | None:
    """The key of the post's executed notebook, when the cache holds it."""
    key = notebook_key(post.source)
    return key if cache.load("notebooks", key) is not None else None


def notebook_task(post, key: str, cache: Cache, timeout: float):
    from physai_blog.runs.executor import (
        Task,  # edge: the pool, only once a notebook is due
    )

    folder = cache.new_tmp()
    (folder / "out").mkdir()
    payload = {"kind": "notebook", "var": None, "rel": post.rel, "out": str(folder / "out"),
               "timeout": timeout}
    # The whole notebook within twice its per-cell timeout (nbclient enforces that one).
    return Task("notebook", post.rel, payload, 2 * timeout + 30, f"{post.slug} notebook",
                context=(post, key, folder), resources=dict(post.resources))


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
