"""A run's observables while it trains, for ``serve`` to show: never published.

In a build, a run's observables are flushed as they are logged (at most once a second, at
every checkpoint, and a second after the last of a burst, so that a run which logs and then
computes for an hour still shows what it logged) to ``.physai-cache/live/<run key>/``:
``scalars.csv`` (the rows so far), ``values.json`` (the values so far, as a finished run's)
and ``progress.json`` (its name, step, total steps when ``log.progress`` said, start and last
update, for an ETA).  Each file is replaced whole (a temp file and ``os.replace``).  The build
deletes the folder when the run ends, whatever the outcome, and every build starts by
deleting those a killed build left.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import threading
import time
from pathlib import Path

EVERY_S = 1.0
STALLED_S = 60.0      # quiet this long (and 5 steps' time) is shown as stalled in serve


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
    """The live folder of one run; ``update`` rewrites it when a second has passed since the
    last write, or arms a timer that writes the latest observables when it has."""

    def __init__(self, folder: Path, name: str = "", preview: str | None = None):
        """``preview``: the sweep's ``preview.json`` (``runs/plan.py``), linked into the
        folder when it is made."""
        self.folder = Path(folder)
        self.name = name
        self.preview = preview
        self.started = time.time()
        # The first write a second into the run (or at a checkpoint): a shorter run makes
        # no folder and no file here, so a sweep of short runs does not make and delete
        # four files a run (on a filesystem without a journal, each one deleted slows
        # every file made after it for a minute).
        self.flushed = time.monotonic()
        self.step = None
        self.total = None
        self._latest = ([], (), {})    # what the run has logged: rows, columns, values
        self._timer = None
        self._closed = False
        self._lock = threading.Lock()   # the timer's thread writes too

    def update(self, rows: list[dict], columns, values: dict | None = None,
               force: bool = False) -> None:
        """``columns``: the series' names (any iterable of them, read when written)."""
        self._latest = (rows, columns, values or {})
        # Armed: the timer writes what is latest when it fires.  It drops its reference
        # before it reads ``_latest``, so a run that saw it armed was set before that read.
        if self._timer is not None and not force:
            return
        with self._lock:
            if self._closed:
                return
            wait = EVERY_S - (time.monotonic() - self.flushed)
            if force or wait <= 0:
                self._write()
            elif self._timer is None:
                self._timer = threading.Timer(wait, self._later)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        """The run ended: nothing more is written (the build deletes the folder now)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()

    def _later(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed:
                try:
                    self._write()
                except OSError:   # only serve's view of the run: the next write may do
                    pass

    def _write(self) -> None:
        rows, columns, values = self._latest
        rows, columns, values = list(rows), list(columns), dict(values)   # the run goes on
        self.flushed = time.monotonic()
        if rows and "step" in rows[-1]:
            self.step = rows[-1]["step"]
        if not self.folder.is_dir():
            self._make()
        if rows:
            replace(self.folder / "scalars.csv", lambda tmp: write_scalars(tmp, rows, columns))
        replace(self.folder / "values.json", lambda tmp: tmp.write_text(
            json.dumps(values, sort_keys=True, indent=1) + "\n"))
        progress = {"run": self.name, "step": self.step, "total": self.total,
                    "rows": len(rows), "values": len(values), "started": self.started,
                    "updated": time.time()}
        replace(self.folder / "progress.json",
                lambda tmp: tmp.write_text(json.dumps(progress, sort_keys=True)))


    def _make(self) -> None:
        """The folder, with the preview (serve reads it beside ``progress.json``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.preview:
            try:
                os.link(self.preview, self.folder / "preview.json")
            except FileExistsError:
                pass
            except OSError:   # no hard links here: a copy (serve's view only, never fatal)
                with contextlib.suppress(OSError):
                    shutil.copyfile(self.preview, self.folder / "preview.json")


def replace(path: Path, write) -> None:
    """``write(tmp)``, then the file is swapped in whole: a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def running(live_root: Path, now: float | None = None) -> list[dict]:
    """Every run now training under ``live_root``: its progress, ``quiet_s`` (seconds since
    it last logged), ``stalled`` (quiet for far longer than it takes per step, and at least
    ``STALLED_S``: hung, or stuck in a step that never logs) and ``eta_s`` (counting down
    between updates; None when unknown or stalled)."""
    out = []
    now = time.time() if now is None else now
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
        quiet = max(0.0, now - progress["updated"])
        per_step = elapsed / step if isinstance(step, (int, float)) and step > 0 else None
        stalled = quiet > max(STALLED_S, 5 * (per_step or 0))
        eta = None
        if per_step is not None and total and not stalled:
            eta = round(max(0.0, per_step * max(0, total - step) - quiet), 1)
        out.append({**progress, "key": name, "eta_s": eta, "quiet_s": round(quiet, 1),
                    "stalled": stalled})
    return out
