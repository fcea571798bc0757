"""Stage 2: plan every (post, sweep cell, seed) run, execute the stale ones, cache them.

A run's key hashes everything that can change its observables: the script without its figure
functions, every project-local module it imports, the cell's params, the seed, the library
versions and the storage format.  The reason a run is (re)executed is kept for ``-v``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from physai_blog.content.posts import Post
from physai_blog.content.spec import API_VERSION, ExperimentSpec, sha256
from physai_blog.errors import InputError, RunError
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.fingerprint import installed_versions
from physai_blog.runtime.names import run_label

if TYPE_CHECKING:   # the pool's module loads with the first stale run (run_task)
    from physai_blog.runs.executor import Executor, Task


@lru_cache(maxsize=None)
def library_versions() -> dict:
    """Versions that change results (no imports of the libraries themselves); read once per
    process, not once per run key."""
    found = installed_versions()
    return {name: found[name] for name in ("python", "torch", "numpy")}


@dataclass(frozen=True, eq=False)
class RunPlan:
    """One (post, sweep cell, seed) run to have: what the run stage reads, never writes."""

    post: Post
    spec: ExperimentSpec
    cell: dict
    seed: int
    params: dict
    key: str
    label: str
    timeout: float
    max_output_mb: float = 512.0

    @property
    def where(self) -> str:
        cell = ", ".join(f"{k}={v!r}" for k, v in self.cell.items())
        return f"seed {self.seed}" + (f", {cell}" if cell else "")


@dataclass(frozen=True, eq=False)
class Run:
    """A run the cache holds: its plan and its entry's verified manifest.  What the stages
    after the run stage receive (figures, downloads, values)."""

    plan: RunPlan
    manifest: dict

    key = property(lambda self: self.plan.key)
    label = property(lambda self: self.plan.label)
    cell = property(lambda self: self.plan.cell)
    seed = property(lambda self: self.plan.seed)
    params = property(lambda self: self.plan.params)
    post = property(lambda self: self.plan.post)
    spec = property(lambda self: self.plan.spec)


@dataclass(frozen=True)
class RunsDone:
    """What the run stage returns: every run the cache holds now, and what this build did."""

    manifests: dict[str, dict]     # run key -> verified manifest
    executed: list[RunPlan]
    reasons: dict[str, str]        # run key -> why it ran ("params changed (...)")
    errors: list[RunError]

    def runs(self, plans: list[RunPlan]) -> list[Run] | None:
        """The runs of ``plans`` (one post's), or None when any of them is missing."""
        if any(plan.key not in self.manifests for plan in plans):
            return None
        return [Run(plan, self.manifests[plan.key]) for plan in plans]


def post_params(post: Post, spec: ExperimentSpec) -> dict:
    """Experiment defaults overridden by the post's front matter ``params``."""
    for key in post.params:
        if key not in spec.params:
            hint = get_close_matches(key, list(spec.params), 1)
            raise InputError(post.rel, post.line_of("params"),
                             f"params: {key!r} is not a parameter of {spec.rel}"
                             + (f"; did you mean {hint[0]!r}?" if hint else
                                f" (parameters: {', '.join(spec.params)})"))
        if key in spec.sweep:
            raise InputError(post.rel, post.line_of("params"),
                             f"params: {key!r} is swept by {spec.rel}; change the sweep instead")
    return {**spec.params, **post.params}


def run_inputs(spec: ExperimentSpec, params: dict, seed: int) -> dict:
    """Everything a run's key hashes (recorded in its manifest, to explain the next miss)."""
    return {"api": API_VERSION, "kind": "run", "script": sha256(spec.run_source.encode()),
            "function": spec.run_function, "deps": spec.deps, "params": params,
            "seed": seed, "versions": library_versions()}


def run_key(spec: ExperimentSpec, params: dict, seed: int) -> str:
    return key_of(run_inputs(spec, params, seed))


def miss_reason(old: dict | None, new: dict, script: str) -> str:
    """Why a run is not in the cache, compared with the last run of the same post and label."""
    if not old:
        return "new run"
    reasons = []
    if old.get("script") != new["script"] or old.get("function") != new["function"]:
        reasons.append(f"{script} changed")
    old_deps, new_deps = old.get("deps", {}), new["deps"]
    reasons += [f"{rel} changed" for rel in sorted(set(old_deps) | set(new_deps))
                if old_deps.get(rel) != new_deps.get(rel)]
    old_params = old.get("params", {})
    changed = [f"{k}: {old_params.get(k)!r} -> {new['params'].get(k)!r}"
               for k in sorted(set(old_params) | set(new["params"]))
               if old_params.get(k) != new["params"].get(k)]
    if changed:
        reasons.append("params changed (" + ", ".join(changed) + ")")
    for name, version in new["versions"].items():
        if old.get("versions", {}).get(name) != version:
            reasons.append(f"{name} {old.get('versions', {}).get(name)} -> {version}")
    if old.get("api") != new["api"]:
        reasons.append("physai-blog storage format changed")
    return "; ".join(reasons) or "cache entry missing or discarded"


def plan_runs(post: Post, spec: ExperimentSpec, default_timeout: float,
              max_output_mb: float = 512.0) -> list[RunPlan]:
    base = post_params(post, spec)
    seeds = post.seeds or spec.seeds
    timeout = post.timeout or spec.timeout or default_timeout
    limit = post.max_output_mb or max_output_mb
    plans = []
    for cell in spec.cells():
        params = {**base, **cell}
        for seed in seeds:
            plans.append(RunPlan(post, spec, cell, seed, params, run_key(spec, params, seed),
                                 run_label(cell, seed), float(timeout), float(limit)))
    return plans


def run_task(plan: RunPlan, cache: Cache, preview: Path | None = None) -> Task:
    """``preview``: its sweep's ``preview.json`` (``write_previews``)."""
    from physai_blog.runs.executor import Task   # edge: subprocess, sockets, threads

    # The run's output folder, renamed into the cache when it is committed.  Named here and
    # made by the worker as the run starts: the folders of a whole sweep made up front cost
    # a millisecond a run before the first one started.
    folder = cache.root / "tmp" / f"run-{plan.key[:16]}-{os.urandom(4).hex()}"
    payload = {"kind": "run", "var": plan.spec.var, "params": plan.params, "seed": plan.seed,
               "out": str(folder),
               "checkpoints": str(cache.checkpoints(plan.key)),
               "live": str(cache.live(plan.key)), "name": f"{plan.post.slug} {plan.label}",
               "max_checkpoint_bytes": plan.max_output_mb * 1e6,
               "preview": str(preview) if preview else None}
    return Task("run", plan.spec.rel, payload, plan.timeout,
                f"{plan.post.slug} {plan.label}", context=(plan, folder),
                deps=list(plan.spec.deps),
                resources={**plan.spec.resources, **plan.post.resources})


def load_runs(plans: list[RunPlan], cache: Cache) -> dict[str, dict]:
    """The verified manifests of the runs the cache holds (a corrupt entry is dropped)."""
    found = {}
    for plan in plans:
        manifest = cache.load("runs", plan.key)
        if manifest is not None:
            found[plan.key] = manifest
    return found


def write_previews(plans: list[RunPlan], todo: dict[str, RunPlan], done: dict,
                   cache: Cache) -> dict[str, Path]:
    """What ``serve`` needs to show a post from the partial data of the runs about to train
    (``serve/preview.py``): the post, the experiment, its figures and every run of it,
    finished (in the cache) or not (its live folder).  One file per post, in ``tmp/``; a
    run's live folder links it when it is made (``runtime/live.py``): a copy per run would
    repeat the list of all N runs N times.  Returns each run key's file."""
    groups: dict[tuple, list[RunPlan]] = {}
    for plan in plans:
        groups.setdefault((plan.post.slug, plan.spec.rel), []).append(plan)
    found = {}
    for (slug, _), group in groups.items():
        spec = group[0].spec
        mine = [plan for plan in group if plan.key in todo]
        if not mine:
            continue
        runs = [[str(cache.path("runs", p.key) if p.key in done else cache.live(p.key)),
                 p.label, p.params, p.cell, p.seed] for p in group]
        preview = {"slug": slug, "post": group[0].post.rel, "experiment": spec.rel,
                   "var": spec.var, "sweep": spec.sweep, "params": group[0].params,
                   "deps": list(spec.deps), "runs": runs,
                   "figures": {name: f"{name}.{fig.format}" for name, fig in spec.figures.items()}}
        path = cache.root / "tmp" / f"preview-{slug}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(preview, sort_keys=True))
        found.update((plan.key, path) for plan in mine)
    return found


def execute_runs(plans: list[RunPlan], cache: Cache, executor: Executor,
                 on_event=None) -> RunsDone:
    """Load cached runs, execute the rest; each is committed the moment it finishes."""
    manifests = load_runs(plans, cache)
    todo: dict[str, RunPlan] = {}
    for plan in plans:  # two posts may share one run
        if plan.key not in manifests:
            todo.setdefault(plan.key, plan)
    indexes = {slug: cache.index(slug) for slug in {plan.post.slug for plan in todo.values()}}
    reasons = {key: explain(plan, cache, indexes[plan.post.slug].get(plan.label))
               for key, plan in todo.items()}
    errors, executed = [], []
    # The index (to explain a later miss) is rewritten at most once a second while runs
    # finish, and at the end: rewriting it after each of 2,000 runs grew as N squared.
    unsaved, saved_at = {}, [time.monotonic()]

    def finished(outcome) -> None:
        # Committed the moment it ends (before its "done" event): whatever stops the build
        # afterwards, Ctrl+C or a power cut, the next build finds this run in the cache.
        plan, folder = outcome.task.context
        if outcome.ok and not folder.is_dir():   # a remote run that logged nothing
            folder.mkdir(parents=True)
        error = _too_big(plan, folder) if outcome.ok else run_error(plan, outcome)
        if error is None:
            manifests[plan.key] = cache.commit("runs", plan.key, folder,
                                               run_manifest(plan, outcome.result), durable=True)
            unsaved.setdefault(plan.post.slug, {})[plan.label] = plan.key
            if time.monotonic() - saved_at[0] >= 1.0:
                for slug in list(unsaved):
                    cache.remember(slug, unsaved.pop(slug))
                saved_at[0] = time.monotonic()
            shutil.rmtree(cache.checkpoints(plan.key), ignore_errors=True)  # done with it
            executed.append(plan)
        else:
            errors.append(error)
            shutil.rmtree(folder, ignore_errors=True)  # its output, not cached
        shutil.rmtree(cache.live(plan.key), ignore_errors=True)  # it is not training now

    if todo:   # nothing stale: the executor is not even made (runs/lazy.py)
        previews = write_previews(plans, todo, manifests, cache)
        try:
            executor.execute([run_task(plan, cache, previews.get(plan.key))
                              for plan in todo.values()], on_event, finished)
        finally:   # stopped: what had finished is remembered all the same
            for slug, keys in unsaved.items():
                cache.remember(slug, keys)
            for path in set(previews.values()):
                path.unlink(missing_ok=True)
    remember(plans, manifests, cache)
    return RunsDone(manifests, executed, reasons, errors)


def run_manifest(plan: RunPlan, result: dict) -> dict:
    """What a run's manifest records besides its files: inputs, params, environment."""
    return {"kind": "run", "experiment": plan.spec.rel, "function": plan.spec.run_function,
            "inputs": run_inputs(plan.spec, plan.params, plan.seed),
            "params": plan.params, "cell": plan.cell, "seed": plan.seed,
            "versions": result.get("versions", {}), "device": result.get("device"),
            "device_name": result.get("device_name"), "wall_time": result.get("wall_time"),
            **{k: result[k] for k in ("gpu", "determinism") if k in result}}


def explain(plan: RunPlan, cache: Cache, previous: str | None) -> str:
    """Why ``plan`` runs, against ``previous``, the key its post and label had last."""
    old = None
    if previous and previous != plan.key:
        manifest = cache.load("runs", previous)
        old = manifest.get("inputs") if manifest else None
    return miss_reason(old, run_inputs(plan.spec, plan.params, plan.seed), plan.spec.rel)


def remember(plans: list[RunPlan], manifests: dict, cache: Cache) -> None:
    """Record the key each (post, run label) now has, to explain a later miss."""
    by_post: dict[str, dict] = {}
    for plan in plans:
        if plan.key in manifests:
            by_post.setdefault(plan.post.slug, {})[plan.label] = plan.key
    for slug, keys in by_post.items():
        cache.remember(slug, keys)


def _too_big(plan: RunPlan, out) -> RunError | None:
    """The size cap on one run's stored output (it is kept in the cache and published)."""
    size = _bytes_under(out)
    if size <= plan.max_output_mb * 1e6:
        return None
    return RunError(f"{plan.spec.rel}: the run's output is {size / 1e6:.1f} MB, over the limit "
                    f"of {plan.max_output_mb:g} MB ({plan.where}, post {plan.post.rel}); log "
                    "less, or raise `max_output_mb` in the front matter or physai.yaml")


def _bytes_under(folder) -> int:
    total = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                total += _bytes_under(entry.path)
            elif entry.is_file():
                total += entry.stat().st_size
    return total


def run_error(plan: RunPlan, outcome) -> RunError:
    """One line naming where it failed, then the script's own traceback."""
    error = outcome.error or {}
    kind = error.get("type")
    post, script = plan.post.rel, plan.spec.rel
    if kind == "timeout":
        line = plan.post.line_of("timeout")
        where = f"{post}:{line}" if line else script
        return RunError(f"{where}: experiment {script} timed out after {plan.timeout:g} s "
                        f"({plan.where}); raise `timeout:` in the front matter or make it "
                        "faster", _tail(outcome.log))
    if kind == "died":
        return RunError(f"{script}: the experiment process died{exit_text(error.get('exit'))} "
                        f"({plan.where}, post {post})", _tail(outcome.log))
    location = f"{error['file']}:{error['line']}" if error.get("file") else script
    detail = "Traceback (the experiment's own frames):\n" + "\n".join(error.get("traceback", [])) \
        if error.get("traceback") else _tail(outcome.log)
    return RunError(f"{location}: {error.get('message', 'failed')} ({plan.where}, post {post})",
                    detail)


def exit_text(code: int | None) -> str:
    """How a worker ended, from its real exit code (None: not known, e.g. on a cluster)."""
    if code is None:
        return ""
    if code < 0:
        try:
            return f", killed by {signal.Signals(-code).name}"
        except ValueError:
            return f", killed by signal {-code}"
    return f" with exit code {code}"


def _tail(log: str) -> str:
    return ("Last lines of its output:\n" + log) if log.strip() else ""
