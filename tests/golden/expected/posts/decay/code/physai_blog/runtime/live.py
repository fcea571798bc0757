"""A run's observables while it trains, for ``serve`` to show: never published.

In a build, a run's series are flushed as they are logged (at most once a second, from its
first second on, and at every checkpoint) to ``.physai-cache/live/<run key>/``:
``scalars.csv`` (the rows so far) and ``progress.json`` (its name, step, total steps when
``log.progress`` said, start and last update, for an ETA).  The build deletes the folder
when the run ends, whatever the outcome, and every build starts by deleting those a killed
build left.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

EVERY_S = 1.0


def fmt(x) -> str:
    return str(x) if isinstance(x, int) else repr(float(x))


def write_scalars(path: Path, rows: list[dict], columns: list[str]) -> None:
    """The series as CSV: a header, one line per row, an empty cell where a row lacks one."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([fmt(row[c]) if c in row else "" for c in columns])


class Live:
    """The live folder of one run; ``update`` rewrites it when a second has passed."""

    def __init__(self, folder: Path, name: str = ""):
        self.folder = Path(folder)
        self.name = name
        self.started = time.time()
        # The first flush after a second of training (or at a checkpoint): a shorter run is
        # never written here (serve would show it for a blink, and a sweep of short runs
        # paid a folder and two files a run).
        self.flushed = time.monotonic()
        self.step = None
        self.total = None

    def update(self, rows: list[dict], columns: list[str], force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.flushed < EVERY_S:
            return
        self.flushed = now
        if rows and "step" in rows[-1]:
            self.step = rows[-1]["step"]
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".scalars.csv.{os.getpid()}"
        write_scalars(tmp, rows, columns)
        os.replace(tmp, self.folder / "scalars.csv")
        progress = {"run": self.name, "step": self.step, "total": self.total,
                    "rows": len(rows), "started": self.started, "updated": time.time()}
        tmp = self.folder / f".progress.json.{os.getpid()}"
        tmp.write_text(json.dumps(progress, sort_keys=True))
        os.replace(tmp, self.folder / "progress.json")


def running(live_root: Path) -> list[dict]:
    """Every run now training under ``live_root``, with its ETA in seconds when known."""
    out = []
    try:
        names = sorted(os.listdir(live_root))
    except OSError:
        return []
    for name in names:
        try:
            progress = json.loads((Path(live_root) / name / "progress.json").read_text())
        except (OSError, ValueError):
            continue
        step, total = progress.get("step"), progress.get("total")
        elapsed = progress["updated"] - progress["started"]
        eta = None
        if isinstance(step, (int, float)) and total and step > 0:
            eta = round(elapsed / step * max(0, total - step), 1)
        out.append({**progress, "key": name, "eta_s": eta})
    return out
