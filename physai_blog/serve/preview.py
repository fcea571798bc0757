"""A running experiment's post inside ``serve``, redrawn from the observables logged so far.

The build writes ``preview.json`` beside each run about to train (``runs/plan.py``); while
runs train (``runtime/live.py``), a thread refreshes their post at most every ``EVERY_S``
seconds, when a run logged something new: its figures, drawn on a worker pool of its own, and
its page, rendered here with its numbers so far (``provisional.py``), both into
``.physai-cache/preview/<slug>/``: never the figures cache, never ``site/``.  The handler
serves those files in place of the post's while it trains; the build's replace them when it
ends (``settle``).  A preview that fails (a figure that needs a value logged only at the end,
a post being edited) leaves the last good one, or the published one.
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
from physai_blog.render.markup import Converters
from physai_blog.render.page import environment, templates_digest
from physai_blog.runs.executor import LocalExecutor, Task
from physai_blog.runtime.live import running
from physai_blog.serve.handler import describe
from physai_blog.serve.provisional import RunState, render_page, run_states

EVERY_S = 3.0
TIMEOUT_S = 120.0
PAGE = "index.html"   # a post's provisional page, beside its figures' previews


class Previews:
    """The previews of one blog's running posts; ``loop`` until ``stopping``."""

    def __init__(self, root: Path, stopping: threading.Event, echo=None):
        self.root = Path(root)
        #: ``echo(line, error)``: the terminal, for a page that fails for a reason of ours
        self.echo = echo or (lambda line, error=False: None)
        self.cache = self.root / CACHE_DIR
        self.live = self.cache / "live"
        self.folder = self.cache / "preview"
        self.stopping = stopping
        self.drawn: dict[str, tuple] = {}      # slug -> what its figures were drawn from
        self.versions: dict[str, int] = {}     # slug -> how many times they were redrawn
        self.figures: dict[str, list[str]] = {}   # slug -> its figures' file names
        self.rendered: dict[str, tuple] = {}   # slug -> what its page was rendered from
        self.pages: dict[str, tuple[str, str]] = {}   # slug -> (page version, site folder)
        #: set while this server builds: a post's previews stay until the build is done
        self.building = threading.Event()
        self._generation = 0                   # one more at each settle
        self._lock = threading.Lock()
        self._pool = None
        self._render = None   # (templates folder there?, Jinja env, Markdown converters)

    def loop(self) -> None:
        while not self.stopping.wait(EVERY_S):
            self.refresh()
        if self._pool is not None:
            self._pool.close()

    def training(self) -> tuple[dict, dict]:
        """(slug -> preview.json of each post with a run training, key -> its progress)."""
        progress = {run["key"]: run for run in running(self.live)}
        posts: dict[str, dict] = {}
        for key in progress:
            try:
                preview = json.loads((self.live / key / "preview.json").read_text())
            except (OSError, ValueError):
                continue
            posts.setdefault(preview["slug"], preview)
        return posts, progress

    def refresh(self) -> None:
        """Redraw and re-render every running post whose runs logged something since."""
        generation = self._generation
        posts, progress = self.training()
        if not self.building.is_set():   # runs of another process's build: gone when done
            with self._lock:
                self._drop(set(posts))
        for slug, preview in posts.items():
            states = run_states(preview, self.cache, progress)
            seen = tuple((s.label, s.status, progress.get(Path(s.path).name, {}).get("updated"))
                         for s in states)
            if preview["figures"] and self.drawn.get(slug) != seen:
                drawn = self.draw(slug, preview, states)
                with self._lock:
                    if drawn and generation == self._generation:
                        self.drawn[slug] = seen
                        self.figures[slug] = sorted(preview["figures"].values())
                        self.versions[slug] = self.versions.get(slug, 0) + 1
            inputs = (seen, self._post_stat(preview))
            if self.rendered.get(slug) != inputs:
                self.render(slug, preview, states, inputs, generation)

    def settle(self) -> None:
        """A build of this server ended: the previews of posts not training now go (the
        build's pages and figures are the ones now), before the open pages reload."""
        with self._lock:
            self._generation += 1
            self.building.clear()
            self._drop(set(self.training()[0]))

    def _drop(self, keep: set) -> None:
        for slug in (set(self.drawn) | set(self.pages) | set(self.rendered)) - keep:
            for kept in (self.drawn, self.pages, self.rendered):
                kept.pop(slug, None)
            shutil.rmtree(self.folder / slug, ignore_errors=True)

    def _post_stat(self, preview: dict) -> tuple:
        try:
            stat = (self.root / preview.get("post", "")).stat()
        except OSError:
            return ()
        return stat.st_mtime_ns, stat.st_size

    def draw(self, slug: str, preview: dict, states: list[RunState]) -> bool:
        runs = [[str(state.path), *entry[1:]] for entry, state in zip(preview["runs"], states)
                if os.path.isfile(state.path / "scalars.csv")
                or os.path.isfile(state.path / "values.json")]
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
            self._pool = LocalExecutor(self.root, self.cache / "tmp", 1, 1)
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

    def render(self, slug: str, preview: dict, states: list[RunState], seen: tuple,
               generation: int) -> None:
        """The post's provisional page (``provisional.py``); a post that cannot be rendered
        now (an edit under way) keeps its last one, or the build's."""
        self.rendered[slug] = seen
        if "post" not in preview:   # written by an older build
            return
        # A template added, removed or edited: a new environment (Jinja's own check sees an
        # edited file, not a new one that overrides the theme's).
        templates = templates_digest(self.root)
        if self._render is None or self._render[0] != templates:
            self._render = (templates, environment(self.root), Converters())
        try:
            html, folder = render_page(self.root, preview, states, *self._render[1:])
        except PhysaiError:   # the build reports what is wrong with the post
            return
        except Exception as exc:   # a bug: one line, and the loop goes on
            self.echo(f"serve: cannot show {slug} while it trains (please report it): "
                      f"{describe(exc)}", True)
            return
        version = html.split(b'data-version="', 1)[-1][:16].decode()
        with self._lock:
            if generation != self._generation:   # the build ended meanwhile
                return
            target = self.folder / slug
            target.mkdir(parents=True, exist_ok=True)
            tmp = target / f".{PAGE}.tmp"
            tmp.write_bytes(html)
            os.replace(tmp, target / PAGE)
            self.pages[slug] = (version, folder)

    def file(self, slug: str, name: str) -> Path | None:
        """The preview of ``posts/<slug>/figures/<name>``, while its run trains."""
        if slug not in self.drawn or name not in self.figures.get(slug, []):
            return None
        path = self.folder / slug / name
        return path if path.is_file() else None

    def page(self, path: str) -> bytes | None:
        """The provisional page served at ``path`` (a post's folder), while its runs train."""
        for slug, (_, folder) in list(self.pages.items()):
            if path in (f"/{folder}", f"/{folder}{PAGE}"):
                try:
                    return (self.folder / slug / PAGE).read_bytes()
                except OSError:
                    return None
        return None

    def state(self) -> dict:
        """slug -> (figures' version, figure files, page version, page's path), for the open
        page to reload its figures and swap its numbers when a version changes."""
        out = {}
        for slug in set(self.drawn) | set(self.pages):
            page, folder = self.pages.get(slug, (None, None))
            out[slug] = (self.versions.get(slug) if slug in self.drawn else None,
                         self.figures.get(slug, []) if slug in self.drawn else [], page,
                         f"/{folder}" if folder is not None else None)
        return out


def figure_style(root: Path) -> dict:
    """The blog's figure style, as the build draws with it ({} while its config is broken)."""
    try:
        return load_config(root).figure_style
    except PhysaiError:
        return {}
