"""Executing a notebook post, inside a worker: nbclient runs it in its own kernel (the
worker's thread caps, a scratch working folder), nbconvert exports its script and pulls
every image out of its outputs; the folder written is the cache entry the build commits."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from physai_blog.content.notebook import cell_source
from physai_blog.errors import RunError
from physai_blog.runs.lifeline import PARENT_ENV

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_TYPES = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg"}


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
