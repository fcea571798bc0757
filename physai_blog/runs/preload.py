"""What a worker should find imported, its environment, and how many cores a pool may use:
named once for the executor, the build's early fork server and reproduce.zip's README.  Standard library only:
a build imports it before it knows whether anything will run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

# Every worker imports these; the fork server imports them once for all of its workers.
WORKER_MODULES = ("numpy", "physai_blog.runtime.experiment", "physai_blog.runtime.data",
                  "physai_blog.runs.worker")
# Imported once figures are to be drawn (not for a build that only runs).
FIGURE_MODULES = ("matplotlib", "matplotlib.pyplot")
TORCH = re.compile(rb"^\s*(?:import|from)\s+torch\b", re.M)


def imports_torch(code: str | bytes) -> bool:
    """Whether a script's text imports torch (then its workers preload it)."""
    return bool(TORCH.search(code.encode() if isinstance(code, str) else code))


def script_imports_torch(path: Path) -> bool:
    try:
        if path.suffix == ".ipynb":   # a notebook post: its code cells, not its JSON
            from physai_blog.content.notebook import notebook_script  # edge: notebooks only

            return imports_torch(notebook_script(json.loads(path.read_bytes())["cells"][1:],
                                                 path.name))
        return imports_torch(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity, where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "PHYSAI_THREADS"):
        env[var] = str(threads)
    env["PYTHONHASHSEED"] = "0"
    env["MPLBACKEND"] = "Agg"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env
