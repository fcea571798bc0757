"""``physai-blog serve``: build, serve ``site/`` on loopback, rebuild on change, reload the page.

Three threads around one HTTP server (standard library only, plus ``watchfiles``):

* watchers: ``posts/``, ``experiments/``, ``templates/`` recursively and the blog folder itself
  (not recursively) for ``physai.yaml``, the bibliography and folders created later;
* the builder: waits for a change, calls ``build.build`` (the cache makes it incremental) and
  publishes a new *build id*, whether the build worked or failed;
* the server (``handler.py``): static files of ``site/``, with the live-reload script and, while
  the last build failed, an error overlay injected into every HTML response (``reload.py``).
  The terminal shows the same error; the server keeps running.

It binds to 127.0.0.1 by default and refuses any other address unless asked for one explicitly
(``requests.py`` also holds the ``Host:`` and request-target rules).
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Callable

from physai_blog.build import build
from physai_blog.content.config import load_config
from physai_blog.errors import PhysaiError, Stopped
from physai_blog.paths import CACHE_DIR
from physai_blog.runs.executor import LocalExecutor
from physai_blog.runs.preload import default_jobs
from physai_blog.serve.handler import SiteServer
from physai_blog.serve.preview import Previews
from physai_blog.serve.reload import BuildState
from physai_blog.serve.requests import host_names, is_loopback

WATCHED_DIRS = ("posts", "experiments", "templates")
WATCHED_FILES = ("physai.yaml",)


class ServeError(PhysaiError):
    """The server cannot start (address refused or in use)."""


class DevServer:
    """The server, the watchers and the builder of one blog.  ``start()``, then ``stop()``."""

    def __init__(self, root: Path | str = ".", host: str = "127.0.0.1", port: int = 8000,
                 allow_public: bool = False, jobs: int | None = None,
                 echo: Callable[..., None] | None = None,
                 build: Callable | None = None, debounce_ms: int = 200):
        self.root = Path(root).resolve()
        self.host, self.port = host, port
        if not is_loopback(host) and not allow_public:
            raise ServeError(f"refusing to serve on {host}: not a loopback address "
                             "(pass --host explicitly to expose the site on your network)")
        self.jobs = jobs
        #: ``echo(line, error=False)``: the terminal (errors go to stderr in the CLI)
        self.echo = echo or (lambda line, error=False: print(line, flush=True))
        self._build = build
        self.debounce_ms = debounce_ms
        self.token = uuid.uuid4().hex[:8]
        self.count = 0
        self.state = BuildState(id=f"{self.token}-0", building=True)
        self.changed = threading.Condition()
        self.dirty = threading.Event()
        self.stopping = threading.Event()
        self.rewatch = threading.Event()
        self.threads: list[threading.Thread] = []
        self.httpd: SiteServer | None = None
        self.previews = Previews(self.root, self.stopping, self.echo)   # running posts
        self.hosts: frozenset[str] = frozenset()   # the Host: names answered (see host_names)
        self._local = None   # the session's LocalExecutor (see _executor)
        self._reason = ""    # what changed, for the builder's next terminal line

    # -- building ------------------------------------------------------------------------------
    def build_once(self, reason: str = "") -> BuildState:
        start = time.perf_counter()
        error = None
        self.previews.building.set()
        try:
            if self._build is not None:
                self._build(self.root)
                summary = ""
            else:
                report = build(self.root, jobs=self.jobs, keep_going=False,
                               executor=self._executor())
                summary = (f"{len(report.posts)} post(s), {len(report.runs_executed)} of "
                           f"{report.runs_total} run(s) executed, {len(report.figures_drawn)} of "
                           f"{report.figures_total} figure(s) drawn")
                for warning in report.warnings:
                    self.echo(f"warning: {warning}", True)
                problems = report.failed_claims + [e.format_message() for e in report.errors]
                if problems:
                    error = "\n".join(problems)
        except PhysaiError as exc:
            error = exc.format_message()
        except Exception:  # a bug must not take the server down: show it like a build error
            error = "internal error (please report it):\n" + traceback.format_exc()
        seconds = time.perf_counter() - start
        self.previews.settle()   # before the open pages reload: they get the build's files
        with self.changed:
            self.count += 1
            self.state = BuildState(f"{self.token}-{self.count}", error, seconds)
            self.changed.notify_all()
        stamp = time.strftime("%H:%M:%S")
        why = f" ({reason})" if reason else ""
        if error:
            self.echo(f"[{stamp}] build failed in {seconds:.2f} s{why}:\nError: {error}", True)
        else:
            self.echo(f"[{stamp}] built in {seconds:.2f} s{why}: {summary}".rstrip(": "))
        return self.state

    def _builder(self) -> None:
        while not self.stopping.is_set():
            if not self.dirty.wait(timeout=0.5):
                continue
            # let a burst of saves settle, then build once for all of them
            while True:
                self.dirty.clear()
                if self.stopping.wait(self.debounce_ms / 1000) or not self.dirty.is_set():
                    break
            if self.stopping.is_set():
                return
            try:
                self.build_once(self._reason)
            except Stopped:   # stop() interrupted it: its finished runs are in the cache
                return

    def _changed(self, changes) -> None:
        paths = {path for _, path in changes}
        names = sorted(os.path.relpath(p, self.root) for p in
                       ({p for p in paths if os.path.exists(p)} or paths))
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        self._reason = ", ".join(names[:3]) + more
        self.dirty.set()

    # -- watching ------------------------------------------------------------------------------
    def _watch_top(self) -> None:
        """The blog folder, not recursively: physai.yaml, the bibliography, new folders."""
        from watchfiles import watch

        def wanted(change, path: str) -> bool:
            name = os.path.basename(path)
            return name in WATCHED_FILES or name in WATCHED_DIRS or name.endswith(".bib")

        for changes in watch(self.root, watch_filter=wanted, recursive=False,
                             stop_event=self.stopping, debounce=100, rust_timeout=500,
                             raise_interrupt=False):
            if any(os.path.basename(p) in WATCHED_DIRS for _, p in changes):
                self.rewatch.set()
            self._changed(changes)

    def _watch_dirs(self) -> None:
        """posts/, experiments/, templates/, recursively (restarted when one appears)."""
        from watchfiles import watch

        stop = _AnyEvent(self.stopping, self.rewatch)
        while not self.stopping.is_set():
            self.rewatch.clear()
            dirs = [self.root / d for d in WATCHED_DIRS if (self.root / d).is_dir()]
            if not dirs:
                stop.wait(0.5)
                continue
            for changes in watch(*dirs, stop_event=stop, debounce=100, rust_timeout=500,
                                 raise_interrupt=False):
                self._changed(changes)

    # -- serving -------------------------------------------------------------------------------
    def start(self, initial_build: bool = True, wait: bool = True) -> None:
        """Listen, watch, then build once: here (``wait``), or in the builder thread, the
        pages saying "Building…" (and the runs training) until that build is done."""
        try:
            self.httpd = SiteServer((self.host.strip("[]"), self.port), self)
        except OSError as exc:
            raise ServeError(f"cannot serve on {self.host}:{self.port}: {exc.strerror or exc}"
                             + (" (try another --port)" if self.port else ""))
        self.port = self.httpd.server_address[1]
        self.hosts = host_names(self.host, self.httpd.server_address[0])
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                  daemon=True, name="physai-http")
        thread.start()
        self.threads.append(thread)
        for target in (self._watch_top, self._watch_dirs, self._builder, self.previews.loop):
            thread = threading.Thread(target=target, daemon=True, name=f"physai-{target.__name__}")
            thread.start()
            self.threads.append(thread)
        if initial_build and wait:
            self.build_once("start")
        elif initial_build:
            self._reason = "start"
            self.dirty.set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def wait_for_build(self, after: str, timeout: float = 30.0) -> BuildState:
        """Block until the build id differs from ``after`` (for tests and tools)."""
        with self.changed:
            self.changed.wait_for(lambda: self.state.id != after, timeout)
            return self.state

    def _executor(self):
        """One local executor for the whole session: its fork server stays warm (numpy,
        matplotlib, torch imported once), so an edited figure redraws in a fraction of a
        second.  None (the build makes its own) when the blog runs elsewhere (dask)."""
        try:
            if load_config(self.root).executor != "local":
                return None
        except PhysaiError:
            return None   # the build reports the config error
        if self._local is None:
            self._local = LocalExecutor(self.root, self.root / CACHE_DIR / "tmp",
                                        self.jobs or default_jobs(), default_jobs(),
                                        persistent=True)
        return self._local

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self._local is not None:   # a build under way stops now, as Ctrl+C stops one
            self._local.interrupt()
        for thread in self.threads:
            thread.join(timeout=5)
        if self._local is not None:
            self._local.close()
            self._local = None

    def serve_forever(self) -> None:
        """Start, block until Ctrl+C, stop."""
        self.start()
        try:
            while not self.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


class _AnyEvent:
    """An event that is set when any of several events is (for watchfiles' stop_event)."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not self.is_set() and time.monotonic() < end:
            time.sleep(0.05)
        return self.is_set()

