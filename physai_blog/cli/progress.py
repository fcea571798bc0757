"""What a build shows while it works, and the summary it ends with.

``BuildProgress`` is an ``on_event(event, task)`` callback for ``build.build`` (events come
from the executor's threads: "queued", "start", "done", "failed"; "queued" is optional).  On a
terminal it keeps a live ``rich`` display: runs and figure batches queued / running / done /
failed, with an ETA from the mean duration of the tasks already done and the number running
at once.  When stdout is not a terminal it stays silent (``verbose`` prints one plain line per
event instead), so logs and pipes get no control codes.

``summary_table`` turns a ``BuildReport`` (plus the per-task times seen here) into the table
every build ends with: posts, runs executed vs cached, figures drawn, time per post and the
slowest runs.  Only ``rich`` is imported: never numpy, torch or matplotlib.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from physai_blog.cli.summary import format_seconds, summary_rows, written_line

KINDS = {"run": "runs", "figures": "figures"}


def slug_of(label: str) -> str:
    """Task labels are "<slug> <run label>" (or "<slug> figures")."""
    return label.split(" ", 1)[0]


@dataclass
class KindStats:
    queued: int = 0           # announced by "queued" events (0 if the executor never sends them)
    started: int = 0
    done: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def running(self) -> int:
        return self.started - self.finished

    @property
    def total(self) -> int:
        return max(self.queued, self.started)

    @property
    def waiting(self) -> int:
        return self.total - self.started


class BuildProgress:
    """Collects build events; on a terminal, shows them live.  Use as a context manager."""

    def __init__(self, console: Console | None = None, live: bool | None = None,
                 verbose: bool = False, echo=None):
        self.console = console or Console(file=sys.stdout, highlight=False)
        self.live_enabled = self.console.is_terminal if live is None else live
        self.verbose = verbose
        self.echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stats = {kind: KindStats() for kind in KINDS}
        self.running: dict[int, tuple[str, float, str]] = {}   # id(task) -> (label, t0, kind)
        self.task_seconds: dict[str, float] = {}               # "slug label" -> seconds
        self.figure_seconds: dict[str, float] = {}             # slug -> seconds drawing
        self.failed_labels: list[str] = []
        self.lock = threading.Lock()
        self.start_time = time.perf_counter()
        self._live: Live | None = None

    # -- context ------------------------------------------------------------------------------
    def __enter__(self) -> "BuildProgress":
        self.start_time = time.perf_counter()
        if self.live_enabled:
            self._live = Live(self, console=self.console, refresh_per_second=8, transient=True,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    # -- the on_event callback ------------------------------------------------------------------
    def __call__(self, event: str, task) -> None:
        kind = getattr(task, "kind", "run")
        stats = self.stats.setdefault(kind, KindStats())
        label = getattr(task, "label", "?")
        now = time.perf_counter()
        with self.lock:
            if event == "queued":
                stats.queued += 1
            elif event == "start":
                stats.started += 1
                self.running[id(task)] = (label, now, kind)
            elif event in ("done", "failed"):
                _, t0, _ = self.running.pop(id(task), (label, now, kind))
                seconds = now - t0
                stats.durations.append(seconds)
                self.task_seconds[label] = seconds
                if kind == "figures":
                    slug = slug_of(label)
                    self.figure_seconds[slug] = self.figure_seconds.get(slug, 0.0) + seconds
                if event == "done":
                    stats.done += 1
                else:
                    stats.failed += 1
                    self.failed_labels.append(label)
        if self.verbose and not self.live_enabled:
            self.echo(f"  {event:>6} {kind:<7} {label}")
        elif self.verbose and self._live is not None and event in ("done", "failed"):
            mark = "[green]✓[/]" if event == "done" else "[red]✗[/]"
            self._live.console.print(f"  {mark} {kind:<7} {label} "
                                     f"[dim]{format_seconds(self.task_seconds.get(label))}[/]")

    # -- the live display -----------------------------------------------------------------------
    def eta(self, kind: str) -> float | None:
        """Seconds left for ``kind``: remaining work over the observed throughput."""
        s = self.stats[kind]
        if not s.durations or s.queued == 0:
            return None
        mean = sum(s.durations) / len(s.durations)
        parallel = max(1, s.running)
        left = s.waiting * mean / parallel
        now = time.perf_counter()
        for _, t0, k in self.running.values():
            if k == kind:
                left += max(0.0, mean - (now - t0)) / parallel
        return left

    def __rich__(self):
        with self.lock:
            table = Table.grid(padding=(0, 2))
            elapsed = time.perf_counter() - self.start_time
            for kind, name in KINDS.items():
                s = self.stats[kind]
                if s.total == 0:
                    continue
                if s.queued:  # the executor announced its queue: a bar and an ETA
                    bar = _bar(s.finished, s.total)
                    parts = [f"{s.finished}/{s.total} {name}", f"{s.running} running"]
                else:
                    bar = Text("…", style="dim")
                    parts = [f"{s.finished} {name} done", f"{s.running} running"]
                if s.waiting:
                    parts.append(f"{s.waiting} queued")
                if s.failed:
                    parts.append(f"[red]{s.failed} failed[/]")
                eta = self.eta(kind)
                parts.append(f"ETA {format_seconds(eta)}" if eta is not None else "")
                table.add_row(bar, Text.from_markup(" · ".join(p for p in parts if p)))
            now = time.perf_counter()
            current = sorted(self.running.values(), key=lambda item: item[1])[:4]
            lines = [Text.from_markup(f"[dim]  {label} ({format_seconds(now - t0)})[/]")
                     for label, t0, _ in current]
            more = len(self.running) - len(current)
            if more > 0:
                lines.append(Text(f"  … and {more} more", style="dim"))
            head = Text.from_markup(f"[bold]Building[/] [dim]{format_seconds(elapsed)}[/]")
            return Group(head, table, *lines)

    # -- after the build ------------------------------------------------------------------------
    def time_per_post(self, report) -> dict[str, float]:
        times: dict[str, float] = {}
        for key, seconds in (report.run_seconds or {}).items():
            slug = key.split("/", 1)[0]
            times[slug] = times.get(slug, 0.0) + float(seconds or 0)
        for slug, seconds in self.figure_seconds.items():
            times[slug] = times.get(slug, 0.0) + seconds
        return times


def _bar(done: int, total: int, width: int = 24) -> Text:
    filled = int(width * done / total) if total else width
    return Text("━" * filled, style="green") + Text("━" * (width - filled), style="grey37")


def summary_table(report, progress: BuildProgress | None = None) -> Table:
    """The table every build ends with (its rows: ``summary.summary_rows``)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("post")
    table.add_column("runs executed", justify="right")
    table.add_column("figures drawn", justify="right")
    table.add_column("time", justify="right")
    rows = summary_rows(report, progress.time_per_post(report) if progress else {})
    for row in rows[:-1]:
        table.add_row(*row)
    table.add_row(*rows[-1], style="bold")
    return table


def slowest_runs(report, n: int = 3) -> str:
    ranked = sorted(report.run_seconds.items(), key=lambda kv: -(kv[1] or 0))[:n]
    return ", ".join(f"{key} ({format_seconds(seconds)})" for key, seconds in ranked)


def print_summary(report, progress: BuildProgress | None = None,
                  console: Console | None = None, destination: str = "") -> None:
    """``Built N post(s) in T``, the table, the slowest runs and where the site is."""
    console = console or (progress.console if progress else Console(highlight=False))
    console.print(f"[bold]Built {len(report.posts)} post(s) in "
                  f"{format_seconds(report.seconds)}[/]", highlight=False)
    if report.posts:
        console.print(summary_table(report, progress))
    if report.runs_executed:
        console.print(f"slowest runs: {slowest_runs(report)}", highlight=False, soft_wrap=True)
    console.print(written_line(report, destination), highlight=False, soft_wrap=True)
