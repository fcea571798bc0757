"""Stage 3: draw every figure from the stored data, in a worker, cached by its own key.

A figure's key covers its plotting function, the script's shared code (imports, helpers, not
the run function), the project-local modules, the sha256 of every data file of every run it
receives, the figure style and the matplotlib version.  Editing a plot redraws it; it never
reruns an experiment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from physai_blog.runs.cache import Cache, key_of
from physai_blog.errors import RunError
from physai_blog.runs.executor import Executor, Task
from physai_blog.runs.plan import RunPlan
from physai_blog.content.spec import API_VERSION, ExperimentSpec, FigureSpec, sha256


@lru_cache(maxsize=None)
def matplotlib_version() -> str | None:
    from physai_blog.runs.fingerprint import installed_versions

    return installed_versions()["matplotlib"]


@dataclass
class FigurePlan:
    spec: ExperimentSpec
    figure: FigureSpec
    runs: list[RunPlan]
    key: str
    cached: dict | None = None
    reads: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.figure.name}.{self.figure.format}"


def plan_figures(spec: ExperimentSpec, runs: list[RunPlan], style: dict) -> list[FigurePlan]:
    data = [{"label": r.label, "params": r.params, "cell": r.cell, "seed": r.seed,
             "files": {k: v["sha256"] for k, v in r.cached["files"].items()}} for r in runs]
    plans = []
    for figure in spec.figures.values():
        key = key_of({"api": API_VERSION, "kind": "figure", "function": figure.source,
                      "shared": sha256(spec.shared_source.encode()), "deps": spec.deps,
                      "data": data, "style": style, "format": figure.format,
                      "size": figure.size, "matplotlib": matplotlib_version()})
        plans.append(FigurePlan(spec, figure, runs, key))
    return plans


def draw_figures(plans: list[FigurePlan], cache: Cache, executor: Executor, style: dict,
                 timeout: float, on_event=None) -> tuple[list[FigurePlan], list[RunError]]:
    """Load cached figures; draw the rest, one worker task per experiment."""
    stale: dict[str, list[FigurePlan]] = {}
    for plan in plans:
        plan.cached = cache.load("figures", plan.key)
        if plan.cached is None:
            stale.setdefault(id(plan.runs[0].post), []).append(plan)
        else:
            plan.reads = plan.cached.get("reads", [])
    tasks = []
    for group in stale.values():
        first = group[0]
        folders = {p.figure.name: cache.new_tmp() for p in group}
        runs = [[str(cache.path("runs", r.key)), r.label, r.params, r.cell, r.seed]
                for r in first.runs]
        payload = {"kind": "figures", "var": first.spec.var,
                   "names": [p.figure.name for p in group], "runs": runs,
                   "sweep": first.spec.sweep, "params": first.runs[0].params if first.runs else {},
                   "out": {name: str(folder) for name, folder in folders.items()},
                   "style": style}
        tasks.append(Task("figures", first.spec.rel, payload, timeout,
                          f"{first.runs[0].post.slug} figures", context=(group, folders),
                          deps=list(first.spec.deps)))
    drawn, errors = [], []

    def finished(outcome) -> None:   # committed as each post's figures are drawn
        group, folders = outcome.task.context
        post = group[0].runs[0].post
        if not outcome.ok:
            error = outcome.error or {}
            where = f"{error['file']}:{error['line']}" if error.get("file") else group[0].spec.rel
            what = "timed out" if error.get("type") == "timeout" else error.get("message", "failed")
            errors.append(RunError(f"{where}: drawing a figure failed: {what} (post {post.rel})",
                                   "\n".join(error.get("traceback", [])) or outcome.log))
            return
        for plan in group:
            reads = outcome.result["reads"][plan.figure.name]
            plan.cached = cache.commit("figures", plan.key, folders[plan.figure.name],
                                       {"kind": "figure", "name": plan.figure.name,
                                        "experiment": plan.spec.rel, "reads": reads})
            plan.reads = reads
            drawn.append(plan)

    executor.execute(tasks, on_event, finished)
    return drawn, errors
