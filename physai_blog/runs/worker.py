"""The experiment subprocess: imports one experiment script, then serves tasks.

    python -m physai_blog.runs.worker ROOT EXPERIMENT PROTOCOL_FD

Tasks arrive as JSON lines on stdin; each answer is one JSON line on PROTOCOL_FD (the
experiment's own prints go to stdout/stderr, which the parent keeps as a log).  A worker is
bound to one script, so a sweep pays for ``import torch`` once per worker, not once per run,
and its runs share one scratch folder, the worker's own (``run_one``).
Errors carry the script's own traceback (our frames stripped) and its file:line.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import json
import linecache
import os
import platform
import re
import shutil
import sys
import time
import traceback
import types
from pathlib import Path

from physai_blog.paths import PACKAGE
from physai_blog.runs.devices import gpu_record
from physai_blog.runs.lifeline import PARENT_ENV, die_with_parent
from physai_blog.runtime.live import Live

PACKAGE_DIR = str(PACKAGE.resolve())


def user_traceback(exc: BaseException, root: Path) -> dict:
    """The exception with only the frames of the blog's own files (experiment, helpers)."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        filename = str(Path(frame.filename).resolve()) if frame.filename[:1] != "<" else ""
        if filename and filename.startswith(str(root)) and not filename.startswith(PACKAGE_DIR):
            rel = Path(filename).relative_to(root).as_posix()
            frames.append({"file": rel, "line": frame.lineno, "name": frame.name,
                           "code": (frame.line or "").strip()})
    where = frames[-1] if frames else {"file": None, "line": None}
    lineno_override = getattr(exc, "lineno", None) if hasattr(exc, "filename") else None
    filename_override = getattr(exc, "filename", None)
    if filename_override and lineno_override and str(filename_override).startswith(str(root)):
        where = {"file": Path(filename_override).resolve().relative_to(root).as_posix(),
                 "line": lineno_override}
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    if type(exc).__module__.startswith("physai_blog"):
        message = [str(exc)]  # our own message already says what is wrong
    return {"type": type(exc).__name__, "message": message[-1] if message else type(exc).__name__,
            "file": where["file"], "line": where["line"],
            "traceback": [f'  File "{f["file"]}", line {f["line"]}, in {f["name"]}\n    {f["code"]}'
                          for f in frames]}


def versions() -> dict:
    """The environment a run ran in: the same keys whatever the worker had imported."""
    return dict(_versions())


@functools.lru_cache(maxsize=None)
def _versions() -> dict:
    """Read once per worker (~12 ms of package metadata: a sweep's runs share the answer)."""
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in ("numpy", "torch", "physai-blog"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def configure_threads(threads: int) -> None:
    """Cap intra-op threads so parallel workers never oversubscribe the cores."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set, or parallel work already started
            pass


def device_info() -> dict:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return {"device": "cuda", "device_name": torch.cuda.get_device_name(0)}
    return {"device": "cpu", "device_name": platform.processor() or platform.machine()}


def import_experiment(path: Path, root: Path, var: str):
    sys.path[:0] = [str(path.parent), str(root)]
    sys.argv = [str(path)]
    name = "physai_experiment_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    if path.suffix == ".ipynb":
        return import_notebook(path, name, var)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, var)


def import_notebook(path: Path, name: str, var: str):
    """A notebook post's code cells, as the one script the build read (``spec.py``); its
    lines are registered so that a traceback shows the cell's own code."""
    from physai_blog.content.notebook import notebook_script  # edge: only a notebook post

    source = notebook_script(json.loads(path.read_text(encoding="utf-8"))["cells"][1:],
                             path.name)
    linecache.cache[str(path)] = (len(source), None, source.splitlines(True), str(path))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return getattr(module, var)


def in_cells(error: dict, root: Path) -> dict:
    """An error in a notebook post's experiment, said as Jupyter shows it: line N of the
    script is "cell K (`its first line`), line L"."""
    from physai_blog.content.notebook import (  # edge: only a notebook post
        cell_at,
        code_cells,
        first_line,
        notebook_script,
    )

    path = root / error["file"]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"][1:]
    source, script = dict(code_cells(cells)), notebook_script(cells, path.name)

    def where(line):
        found = cell_at(script, line) if isinstance(line, int) else None
        if not found or found[0] not in source:
            return line
        return f"cell {found[0]} (`{first_line(source[found[0]])}`), line {found[1]}"

    error = dict(error, line=where(error["line"]))
    error["traceback"] = [re.sub(r'(File "[^"]+\.ipynb"), line (\d+)',
                                 lambda m: f"{m.group(1)}, {where(int(m.group(2)))}", frame)
                          for frame in error.get("traceback", [])]
    return error


def located(error: dict, root: Path) -> dict:
    """The error, its place in a notebook post's cells when that is where it happened."""
    if str(error.get("file") or "").endswith(".ipynb"):
        try:
            return in_cells(error, root)
        except (OSError, ValueError, KeyError):
            return error
    return error


def handle(task: dict, exp, root: Path, scratch: Path) -> dict:
    """One task; ``scratch``: this worker's own folder (``run_one``)."""
    if task["kind"] == "run":
        return run_one(task, exp, scratch)
    from physai_blog.runtime.experiment import draw_figure

    if task["kind"] == "figures":
        from physai_blog.runtime.data import load_data

        drawn, static = {}, {}
        for name in task["names"]:
            data = load_data([(Path(p), label, params, cell, seed)
                              for p, label, params, cell, seed in task["runs"]],
                             task["sweep"], task["params"])
            out_dir = Path(task["out"][name])
            reasons: list = []
            draw_figure(exp, name, data, out_dir, task.get("style"), on_drawn=functools.partial(
                _chart, reasons, data, name, out_dir / f"{name}.js"))
            drawn[name] = sorted(data.reads)
            if reasons and reasons[0]:
                static[name] = reasons[0]
        return {"ok": True, "reads": drawn, "static": static, "versions": versions()}
    if task["kind"] == "notebook":
        return run_notebook_task(task, root)
    raise ValueError(f"unknown task kind {task['kind']!r}")


def run_one(task: dict, exp, scratch: Path) -> dict:
    """One run, in ``scratch/work``: the same folder for every run of this worker, emptied
    when each ends (its scratch files are thrown away).  Its observables are written into
    ``scratch/out`` (``../out`` from there), then renamed to ``task["out"]``, the folder
    the parent commits: no folder is made and deleted per run but that one."""
    from physai_blog.runtime.experiment import execute_run

    work, out = scratch / "work", scratch / "out"
    try:
        os.mkdir(out)
    except FileExistsError:   # left by a run that failed before its rename
        shutil.rmtree(out)
        os.mkdir(out)
    try:
        os.chdir(work)
    except FileNotFoundError:
        work.mkdir(parents=True)
        os.chdir(work)
    info = device_info()
    start = time.perf_counter()
    saved, live = task.get("checkpoints"), task.get("live")
    try:
        written = execute_run(exp, task["params"], task["seed"], out, info["device"],
                              Path(saved) if saved else None, task.get("max_checkpoint_bytes"),
                              Live(Path(live), task.get("name", ""), task.get("preview"))
                              if live else None)
        wall = time.perf_counter() - start
        _only_logged(out, written)
    finally:
        _empty(work)
        if os.path.isdir(out):   # unless the run removed it itself
            _hand_over(out, Path(task["out"]))
    if "devices" in task:   # a run given GPUs records what it ran on
        info.update(gpu_record())
    return {"ok": True, "wall_time": round(wall, 3), "versions": versions(), **info}


def _hand_over(out: Path, target: Path) -> None:
    """Move a run's output folder to where the parent commits it from (usually a rename in
    the cache's ``tmp/``; a scratch folder elsewhere may need the folder made, or a copy)."""
    try:
        os.rename(out, target)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(out, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(out, target)


def _empty(folder: Path) -> None:
    """Delete what is in ``folder`` (a run's scratch files), keeping the folder."""
    try:
        with os.scandir(folder) as found:
            entries = list(found)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _chart(reasons: list, data, name: str, path: Path, fig) -> None:
    """The interactive chart of a drawn figure, beside it; why not, when it stays static."""
    from physai_blog.figures.spec import write_chart   # matplotlib: the worker's

    reasons.append(write_chart(fig, data, name, path))


def run_notebook_task(task: dict, root: Path) -> dict:
    """A notebook post is a run too: executed here, in this worker, by nbclient."""
    from physai_blog.errors import RunError  # edge: Click, nbclient & co,
    from physai_blog.runs.notebook_exec import run_notebook  # only for a notebook post

    try:
        wall = run_notebook(root / task["rel"], task["rel"], Path(task["out"]), task["timeout"],
                            task.get("inputs", []))
    except RunError as exc:   # its message names the notebook and cell; keep its detail
        return {"ok": False, "error": {"type": "RunError", "message": exc.message,
                                       "detail": exc.detail}}
    return {"ok": True, "versions": versions(), "wall_time": round(wall, 3)}


def _only_logged(out: Path, written: list[str]) -> None:
    """The output folder holds what the run logged through the API, nothing else: it is
    hashed, cached and published as the run's data."""
    from physai_blog.errors import RunError  # edge: click, only for this rare error

    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if rel not in written and not (path.is_dir() and not path.is_symlink()):
            raise RunError(f"the run wrote {rel} into its output folder itself; log observables "
                           "with log.scalars/value/array (scratch files belong in the working "
                           "folder, the current directory of the run)")


def main(argv: list[str]) -> int:
    root, experiment, fd = Path(argv[0]).resolve(), argv[1], int(argv[2])
    scratch = Path.cwd()   # the folder of its log, its own
    die_with_parent(int(os.environ.get(PARENT_ENV, "0")))
    threads = int(os.environ.get("PHYSAI_THREADS", "1"))
    answer = os.fdopen(fd, "w", buffering=1)
    exp, import_error = None, None
    try:
        task_line = sys.stdin.readline()
        first = json.loads(task_line) if task_line else None
        path = root / experiment
        if first and "devices" in first:   # before torch can look: CUDA reads it once
            os.environ["CUDA_VISIBLE_DEVICES"] = first["devices"]
        if not first or first["kind"] != "notebook":   # a notebook imports no script
            exp = import_experiment(path, root, first["var"] if first else "exp")
        configure_threads(threads)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        import_error = located(user_traceback(exc, root), root)
    task = first
    while task is not None:
        if import_error:
            reply = {"ok": False, "error": import_error, "phase": "import"}
        else:
            try:
                reply = handle(task, exp, root, scratch)
            except BaseException as exc:  # noqa: BLE001
                reply = {"ok": False, "error": user_traceback(exc, root)}
                from physai_blog.runtime.experiment import ObservableError

                if isinstance(exc, ObservableError):
                    reply["error"]["file"] = _rel(exc.filename, root)
                    reply["error"]["line"] = exc.lineno
                reply["error"] = located(reply["error"], root)
        answer.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        line = sys.stdin.readline()
        task = json.loads(line) if line.strip() else None
    return 0


def _rel(filename: str, root: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except ValueError:
        return filename


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
