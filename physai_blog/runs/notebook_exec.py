"""Executing a plain notebook post, inside a worker: nbclient runs it in its own kernel (over
IPC, not TCP: no unencrypted sockets, no warning; the worker's thread caps), in a scratch
working folder holding the files its ``inputs:`` declares; nbconvert exports its script and
pulls every image out of its outputs; the folder written is the cache entry the build
commits.  Cells are named as Jupyter shows them: from 1, the front-matter cell not counted."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from physai_blog.content.notebook import cell_source, first_line
from physai_blog.errors import RunError
from physai_blog.runs.lifeline import PARENT_ENV

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_TYPES = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg"}
VALUES_ENV = "PHYSAI_NOTEBOOK_VALUES"   # where runtime/notebook.py's log_value writes


def run_notebook(path: Path, rel: str, folder: Path, timeout: float,
                 inputs: list[str] = ()) -> float:
    """In a worker: execute and export a notebook post into ``folder`` (work/, outputs/,
    cells.json, values.json, script.py, executed.ipynb); its wall time in seconds."""
    import nbformat
    from nbconvert import PythonExporter

    work = folder / "work"
    work.mkdir(parents=True)
    for name in inputs:              # the declared files beside the notebook, and only those
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path.parent / name, work / name)
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    nb.cells[0].source = ""          # the front matter is not code
    start = time.perf_counter()
    execute(nb, rel, work, folder / "values.json", timeout)
    wall = time.perf_counter() - start
    for name in inputs:              # inputs are the notebook's, not what it wrote
        (work / name).unlink(missing_ok=True)
    script, _ = PythonExporter().from_notebook_node(nb)
    (folder / "script.py").write_text(script)
    export_outputs(nb, folder)
    if not (folder / "values.json").exists():
        (folder / "values.json").write_text("{}\n")
    return wall


def execute(nb, rel: str, work: Path, values: Path, timeout: float) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from traitlets.config import Config

    sockets = tempfile.mkdtemp(prefix="physai-kernel-")   # short: a socket path is <108 bytes
    config = Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/k"}})
    kernel = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    running: list[int] = []
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                            resources={"metadata": {"path": str(work)}}, config=config,
                            on_cell_start=lambda cell, cell_index: running.append(cell_index))
    # The worker's environment (thread caps), but the kernel's inline backend.
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", PARENT_ENV)}
    env[VALUES_ENV] = str(values)
    try:
        client.execute(env=env)
    except CellTimeoutError:
        raise RunError(f"{rel}: {_where(nb, running)} timed out after {timeout:g} s; raise `timeout:` "
                       "in the front matter or make it faster")
    except CellExecutionError as exc:
        detail = ANSI.sub("", str(getattr(exc, "traceback", "") or exc))
        hint = ("; a file beside the notebook must be listed in its front matter's `inputs:`"
                if exc.ename == "FileNotFoundError" else "")
        raise RunError(f"{rel}: {_where(nb, running)} raised {exc.ename}: {exc.evalue}{hint}",
                       detail[-3000:])
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def export_outputs(nb, folder: Path) -> None:
    import nbformat
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    extract = ExtractOutputPreprocessor(output_filename_template="cell{cell_index}-{index}{extension}")
    nb, resources = extract.preprocess(nb, {"outputs": {}})
    (folder / "outputs").mkdir()
    for name, data in sorted(resources["outputs"].items()):
        (folder / "outputs" / name).write_bytes(data)
    # cell index == Jupyter's number: index 0 is the front matter
    cells = [cell_record(index, cell) for index, cell in enumerate(nb.cells[1:], start=1)
             if cell.cell_type == "code"]
    (folder / "cells.json").write_text(json.dumps(cells, sort_keys=True, indent=1) + "\n")
    for cell in nb.cells:            # outputs are extracted; keep the notebook deterministic
        cell.get("metadata", {}).pop("execution", None)
    (folder / "executed.ipynb").write_text(nbformat.writes(nb) + "\n")


def cell_record(index: int, cell) -> dict:
    """The outputs of one executed code cell: text, images by their extracted file, HTML."""
    entry = {"index": index, "outputs": []}
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


def _where(nb, running: list[int]) -> str:
    """The failing cell as Jupyter shows it: its number (index 0 is the front matter, not
    counted) and its first line."""
    if not running:
        return "a cell"
    return f"cell {running[-1]} (`{first_line(cell_source(nb.cells[running[-1]]))}`)"
