"""A running experiment's figures, redrawn inside ``serve`` from the observables logged so far.

The build writes ``preview.json`` beside each run about to train (``runs/plan.py``); while
runs train (``runtime/live.py``), a thread redraws their post's figures at most every
``EVERY_S`` seconds, when a run logged new rows, on a worker pool of its own, into
``.physai-cache/preview/<slug>/``: never the figures cache, never ``site/``.  The handler
serves those files in place of the post's figures while the run trains; the finished build's
figures replace them when it ends.  A preview that fails to draw (a figure that needs a value
logged only at the end) leaves the last good one, or the published figure.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from physai_blog.content.config import load_config
from physai_blog.errors import PhysaiError
from physai_blog.paths import CACHE_DIR
from physai_blog.runs.executor import LocalExecutor, Task
from physai_blog.runtime.live import running

EVERY_S = 3.0
TIMEOUT_S = 120.0


class Previews:
    """The figure previews of one blog's running posts; ``loop`` until ``stopping``."""

    def __init__(self, root: Path, stopping: threading.Event):
        self.root = Path(root)
        self.live = self.root / CACHE_DIR / "live"
        self.folder = self.root / CACHE_DIR / "preview"
        self.stopping = stopping
        self.drawn: dict[str, tuple] = {}      # slug -> what its preview was drawn from
        self.versions: dict[str, int] = {}     # slug -> how many times it was redrawn
        self.figures: dict[str, list[str]] = {}   # slug -> its figures' file names
        self._pool = None

    def loop(self) -> None:
        while not self.stopping.wait(EVERY_S):
            self.refresh()
        if self._pool is not None:
            self._pool.close()

    def refresh(self) -> None:
        """Redraw every running post whose runs logged rows since its last preview."""
        posts: dict[str, dict] = {}
        for run in running(self.live):
            try:
                preview = json.loads((self.live / run["key"] / "preview.json").read_text())
            except (OSError, ValueError):
                continue
            entry = posts.setdefault(preview["slug"], {"preview": preview, "rows": []})
            entry["rows"].append((run["key"], run["rows"]))
        for slug in list(self.drawn):
            if slug not in posts:   # its run ended: the build's figures are the ones now
                self.drawn.pop(slug)
                shutil.rmtree(self.folder / slug, ignore_errors=True)
        for slug, entry in posts.items():
            seen = tuple(sorted(entry["rows"]))
            if self.drawn.get(slug) != seen and self.draw(slug, entry["preview"]):
                self.drawn[slug] = seen
                self.figures[slug] = sorted(entry["preview"]["figures"].values())
                self.versions[slug] = self.versions.get(slug, 0) + 1

    def draw(self, slug: str, preview: dict) -> bool:
        runs = [r for r in preview["runs"] if os.path.isfile(Path(r[0]) / "scalars.csv")]
        if not runs:
            return False
        scratch = self.folder / f".{slug}.tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        payload = {"kind": "figures", "var": preview["var"], "names": list(preview["figures"]),
                   "runs": runs, "sweep": preview["sweep"], "params": preview["params"],
                   "out": {name: str(scratch) for name in preview["figures"]},
                   "style": figure_style(self.root)}
        task = Task("figures", preview["experiment"], payload, TIMEOUT_S, f"{slug} preview",
                    deps=preview["deps"])
        if self._pool is None:
            self._pool = LocalExecutor(self.root, self.root / CACHE_DIR / "tmp", 1, 1)
        [outcome] = self._pool.execute([task])
        if not outcome.ok:
            shutil.rmtree(scratch, ignore_errors=True)
            return False
        target = self.folder / slug
        for name in os.listdir(scratch):
            target.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / name, target / name)
        shutil.rmtree(scratch, ignore_errors=True)
        return True

    def file(self, slug: str, name: str) -> Path | None:
        """The preview of ``posts/<slug>/figures/<name>``, while its run trains."""
        if slug not in self.drawn or "/" in name or name.startswith("."):
            return None
        path = self.folder / slug / name
        return path if path.is_file() else None

    def state(self) -> dict:
        """slug -> (preview version, figure files), for the page to reload its figures when
        the version changes."""
        return {slug: (self.versions.get(slug, 0), self.figures.get(slug, []))
                for slug in list(self.drawn)}


def figure_style(root: Path) -> dict:
    """The blog's figure style, as the build draws with it ({} while its config is broken)."""
    try:
        return load_config(root).figure_style
    except PhysaiError:
        return {}
