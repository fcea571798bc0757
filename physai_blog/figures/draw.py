"""Stage 3: draw every figure from the stored data, in a worker, cached by its own key.

A figure's key covers its plotting function, the script's shared code (imports, helpers, not
the run function), the project-local modules, the sha256 of every data file of every run it
receives, the figure style and the matplotlib version.  Editing a plot redraws it; it never
reruns an experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from physai_blog.content.spec import API_VERSION, ExperimentSpec, FigureSpec, sha256
from physai_blog.errors import RunError
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.fingerprint import installed_versions
from physai_blog.runs.plan import Run

CHART_VERSION = 2   # the interactive chart spec written beside each figure (figures/spec.py)

if TYPE_CHECKING:   # the pool's module loads with the first stale figure (figure_task)
    from physai_blog.runs.executor import Executor, Task


@lru_cache(maxsize=None)
def matplotlib_version() -> str | None:
    return installed_versions()["matplotlib"]


@dataclass(frozen=True, eq=False)
class FigurePlan:
    """One figure to have; its key is known before it is drawn (pages render against it)."""

    spec: ExperimentSpec
    figure: FigureSpec
    runs: list[Run]
    key: str

    @property
    def file(self) -> str:
        return f"{self.figure.name}.{self.figure.format}"


@dataclass(frozen=True, eq=False)
class Figure:
    """A figure the cache holds: its plan and its entry's manifest (with the files it read)."""

    plan: FigurePlan
    manifest: dict

    key = property(lambda self: self.plan.key)
    file = property(lambda self: self.plan.file)
    figure = property(lambda self: self.plan.figure)

    @property
    def reads(self) -> list[str]:
        return self.manifest.get("reads", [])

    @property
    def chart(self) -> str | None:
        """The figure's interactive chart script, when its drawing wrote one."""
        name = f"{self.figure.name}.js"
        return name if name in self.manifest.get("files", {}) else None

    @property
    def static(self) -> str | None:
        """Why the figure has no interactive chart (None when it has one)."""
        return self.manifest.get("static")


@dataclass(frozen=True)
class FiguresDone:
    """What the figure stage returns: every figure the cache holds now, and what it drew."""

    manifests: dict[str, dict]     # figure key -> manifest
    drawn: list[FigurePlan]
    errors: list[RunError]

    def figures(self, plans: list[FigurePlan]) -> list[Figure] | None:
        """The figures of ``plans`` (one post's), or None when any of them failed."""
        if any(plan.key not in self.manifests for plan in plans):
            return None
        return [Figure(plan, self.manifests[plan.key]) for plan in plans]


def plan_figures(spec: ExperimentSpec, runs: list[Run], style: dict) -> list[FigurePlan]:
    data = [{"label": r.label, "params": r.params, "cell": r.cell, "seed": r.seed,
             "files": {k: v["sha256"] for k, v in r.manifest["files"].items()}} for r in runs]
    plans = []
    for figure in spec.figures.values():
        key = key_of({"api": API_VERSION, "kind": "figure", "function": figure.source,
                      "shared": sha256(spec.shared_source.encode()), "deps": spec.deps,
                      "data": data, "style": style, "format": figure.format,
                      "size": figure.size, "matplotlib": matplotlib_version(),
                      "chart": CHART_VERSION})
        plans.append(FigurePlan(spec, figure, runs, key))
    return plans


class FigureDrawing:
    """The stale figures of a build as executor tasks; ``finished`` commits each post's
    figures as they come back, ``result()`` is every figure the cache then holds."""

    def __init__(self, plans: list[FigurePlan], cache: Cache, style: dict, timeout: float):
        self.cache = cache
        self.manifests: dict[str, dict] = {}
        self.drawn: list[FigurePlan] = []
        self.errors: list[RunError] = []
        stale: dict[int, list[FigurePlan]] = {}
        for plan in plans:
            manifest = cache.load("figures", plan.key)
            if manifest is None:
                stale.setdefault(id(plan.runs[0].post), []).append(plan)
            else:
                self.manifests[plan.key] = manifest
        self.tasks = [figure_task(group, cache, style, timeout) for group in stale.values()]

    def finished(self, outcome) -> None:
        group, folders = outcome.task.context
        if not outcome.ok:
            self.errors.append(figure_error(group, outcome))
            return
        static = outcome.result.get("static", {})
        for plan in group:
            name = plan.figure.name
            info = {"kind": "figure", "name": name, "experiment": plan.spec.rel,
                    "reads": outcome.result["reads"][name]}
            if name in static:   # why it has no interactive chart, for `build -v`
                info["static"] = static[name]
            self.manifests[plan.key] = self.cache.commit("figures", plan.key, folders[name], info)
            self.drawn.append(plan)

    def result(self) -> FiguresDone:
        return FiguresDone(dict(self.manifests), list(self.drawn), list(self.errors))


def draw_figures(plans: list[FigurePlan], cache: Cache, executor: Executor, style: dict,
                 timeout: float, on_event=None) -> FiguresDone:
    """Load cached figures; draw the rest now, one worker task per post."""
    drawing = FigureDrawing(plans, cache, style, timeout)
    if drawing.tasks:
        executor.execute(drawing.tasks, on_event, drawing.finished)
    return drawing.result()


def figure_task(group: list[FigurePlan], cache: Cache, style: dict, timeout: float) -> Task:
    """One worker task drawing every stale figure of one post (one import of its script)."""
    from physai_blog.runs.executor import Task   # edge: subprocess, sockets, threads

    first = group[0]
    folders = {p.figure.name: cache.new_tmp() for p in group}
    runs = [[str(cache.path("runs", r.key)), r.label, r.params, r.cell, r.seed]
            for r in first.runs]
    payload = {"kind": "figures", "var": first.spec.var,
               "names": [p.figure.name for p in group], "runs": runs,
               "sweep": first.spec.sweep, "params": first.runs[0].params if first.runs else {},
               "out": {name: str(folder) for name, folder in folders.items()},
               "style": style}
    return Task("figures", first.spec.rel, payload, timeout,
                f"{first.runs[0].post.slug} figures", context=(group, folders),
                deps=list(first.spec.deps))


def figure_error(group: list[FigurePlan], outcome) -> RunError:
    error = outcome.error or {}
    where = f"{error['file']}:{error['line']}" if error.get("file") else group[0].spec.rel
    what = "timed out" if error.get("type") == "timeout" else error.get("message", "failed")
    return RunError(f"{where}: drawing a figure failed: {what} (post {group[0].runs[0].post.rel})",
                    "\n".join(error.get("traceback", [])) or outcome.log)
