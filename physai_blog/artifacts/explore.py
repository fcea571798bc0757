"""The post's explorer data: every logged series and value of every run, as one script.

``data/explorer.js`` calls ``physaiExplore(...)`` with the runs (label, cell, seed), the sweep,
each run's scalars (column name -> numbers, empty cells as null) and values.  It is a script,
not JSON, so a page opened from ``file://`` can load it (browsers refuse to fetch local files);
the page loads it only when the reader reaches the explorer.  Runs above ``MAX_ROWS`` rows are
thinned for display (evenly, keeping each column's lowest and highest row), and a post of many
runs shares ``TOTAL_ROWS`` among them (a 2,000-cell sweep: 100 rows a run, a script of a few
MB, not hundreds); the raw files in ``data/`` keep every row.
"""

from __future__ import annotations

import csv
import io
import json
import math

from physai_blog.render.values import Observables
from physai_blog.runs.cache import Cache
from physai_blog.runs.plan import Run

MAX_ROWS = 4000
TOTAL_ROWS = 200_000   # shared by every run of the post
MIN_ROWS = 50
SCALARS = "scalars.csv"


def explorer_script(runs: list[Run], obs: Observables, cache: Cache) -> bytes:
    values = {r.label: r.values for r in obs.runs}
    rows = []
    limit = max(MIN_ROWS, min(MAX_ROWS, TOTAL_ROWS // max(1, len(runs))))
    for run in runs:
        path = cache.path("runs", run.key) / SCALARS
        scalars = read_columns(path.read_text()) if SCALARS in run.manifest["files"] else {}
        rows.append({"label": run.label, "cell": run.cell, "seed": run.seed,
                     "scalars": thin(scalars, limit), "values": _finite(values.get(run.label, {})),
                     "rows": len(next(iter(scalars.values()), []))})
    body = json.dumps({"sweep": obs.sweep, "runs": rows}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return f"physaiExplore({body});\n".encode()


def read_columns(text: str) -> dict[str, list[float | None]]:
    """A scalars CSV as columns; an empty or non-finite cell is None."""
    table = list(csv.reader(io.StringIO(text)))
    if not table:
        return {}
    header, body = table[0], table[1:]
    return {name: [_number(row[i]) if i < len(row) else None for row in body]
            for i, name in enumerate(header)}


def thin(columns: dict[str, list], limit: int = MAX_ROWS) -> dict[str, list]:
    n = len(next(iter(columns.values()), []))
    if n <= limit:
        return columns
    keep = {round(i * (n - 1) / (limit - 1)) for i in range(limit)}
    for values in columns.values():
        present = [(v, i) for i, v in enumerate(values) if v is not None]
        if present:
            keep |= {min(present)[1], max(present)[1]}
    order = sorted(keep)
    return {name: [values[i] for i in order] for name, values in columns.items()}


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _finite(values: dict) -> dict:
    return {k: v for k, v in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
