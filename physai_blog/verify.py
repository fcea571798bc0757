"""``run SLUG`` and ``verify [SLUG]``: rerun experiments, and compare with what was published.

``verify`` reruns every run of a post from scratch in a scratch cache (the real cache is not
read), then compares each observable with the published data under ``site/posts/<slug>/data``:
exactly for deterministic runs, or within the relative ``tolerance`` the post (or experiment)
sets.  It prints one row per drifting observable and fails when anything drifts.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .pipeline import load_specs, plan_all_runs, raise_errors
from .cache import CACHE_DIR, Cache
from .config import default_jobs, load_config
from .content import load_posts
from .data import read_scalars
from .errors import InputError, PhysaiError
from .executor import LocalExecutor
from .figures import draw_figures, plan_figures
from .runs import RunPlan, execute_runs


@dataclass
class Drift:
    post: str
    run: str
    observable: str
    published: str
    rerun: str
    difference: float
    ok: bool


def _select(root: Path, slug: str | None):
    warnings: list[str] = []
    config = load_config(root)
    posts = [p for p in load_posts(root, warnings) if p.experiment]
    if slug is not None:
        posts = [p for p in posts if p.slug == slug]
        if not posts:
            raise InputError("posts/", None, f"no post with slug {slug!r} has an experiment")
    specs = load_specs(posts, root)
    return config, posts, specs, plan_all_runs(posts, specs, config)


def _experiment_of(root: Path, slug: str) -> list[str]:
    """The ``experiment:`` of the post with this slug, read with a regex (no YAML yet):
    only a hint for starting workers early, so a miss costs nothing."""
    import re

    for path in sorted((root / "posts").glob(f"*{slug}.md")):
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        match = re.search(r"^experiment:\s*['\"]?([^'\"\n#]+?)['\"]?\s*$", head, re.M)
        if match:
            return [match.group(1)]
    return []


def run_post(root: Path | str, slug: str, force: bool = False, jobs: int | None = None,
             on_event=None, figures: bool = False,
             zygote=None) -> tuple[list[RunPlan], list[RunPlan]]:
    """Run one post's experiment (stale runs, or all with ``force``); with ``figures``,
    draw its figures too (into the cache, for the next build)."""
    from .build import early_zygote

    root = Path(root).resolve()
    # The workers' fork server imports numpy while this process loads and plans.
    if zygote is None:
        zygote = early_zygote(root, _experiment_of(root, slug), jobs, figures)
    try:
        config, posts, specs, runs = _select(root, slug)
    except BaseException:
        if zygote is not None:
            zygote.close()
        raise
    plans = runs[slug]
    cache = Cache(root / CACHE_DIR)
    with cache.lock():
        if force:  # drop the cached entries; they are replaced when the runs finish
            import shutil

            for plan in plans:
                shutil.rmtree(cache.path("runs", plan.key), ignore_errors=True)
        executor = LocalExecutor(root, cache.root / "tmp", jobs or config.jobs or default_jobs(),
                                 default_jobs(), zygote=zygote)
        try:
            executed, errors = execute_runs(plans, cache, executor, on_event)
            if errors:
                raise_errors(errors)
            if figures:
                drawn = plan_figures(specs[posts[0].experiment], plans, config.figure_style)
                _, errors = draw_figures(drawn, cache, executor, config.figure_style,
                                         config.timeout, on_event)
                if errors:
                    raise_errors(errors)
        finally:
            executor.close()
    return plans, executed


def _compare(a: float, b: float, tolerance: float) -> tuple[float, bool]:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0, True
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    return diff, diff <= tolerance * scale


def compare_run(published: Path, rerun: Path, tolerance: float) -> list[tuple]:
    """(observable, published, rerun, difference, ok) for everything that differs."""
    rows = []
    if not published.is_dir():
        return [("(run folder)", "missing", "present", math.inf, False)]
    old = json.loads((published / "values.json").read_text()) \
        if (published / "values.json").exists() else {}
    new = json.loads((rerun / "values.json").read_text()) if (rerun / "values.json").exists() else {}
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            rows.append((f"value {name}", repr(old.get(name, "missing")),
                         repr(new.get(name, "missing")), math.inf, False))
            continue
        diff, ok = _compare(float(old[name]), float(new[name]), tolerance)
        rows.append((f"value {name}", repr(old[name]), repr(new[name]), diff, ok))
    old_s, new_s = read_scalars(published / "scalars.csv"), read_scalars(rerun / "scalars.csv")
    for name in sorted(set(old_s) | set(new_s)):
        a, b = old_s.get(name), new_s.get(name)
        if a is None or b is None or a.shape != b.shape:
            rows.append((f"series {name}", "shape " + str(getattr(a, "shape", None)),
                         "shape " + str(getattr(b, "shape", None)), math.inf, False))
            continue
        worst = (0.0, True, 0)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            diff, ok = _compare(x, y, tolerance)
            if (not ok, diff) > (not worst[1], worst[0]):
                worst = (diff, ok, i)
        rows.append((f"series {name}[{worst[2]}]", repr(float(a[worst[2]])),
                     repr(float(b[worst[2]])), worst[0], worst[1]))
    arrays = sorted({p.name for d in (published, rerun) for p in (d / "arrays").glob("*.npy")})
    if arrays:
        import numpy as np

        for name in arrays:
            pa, pb = published / "arrays" / name, rerun / "arrays" / name
            if not pa.exists() or not pb.exists():
                rows.append((f"array {name}", str(pa.exists()), str(pb.exists()), math.inf, False))
                continue
            a, b = np.load(pa), np.load(pb)
            if a.shape != b.shape:
                rows.append((f"array {name}", str(a.shape), str(b.shape), math.inf, False))
                continue
            diff = float(np.max(np.abs(a.astype(float) - b.astype(float)))) if a.size else 0.0
            scale = float(max(np.max(np.abs(a)), np.max(np.abs(b)))) if a.size else 0.0
            rows.append((f"array {name}", f"max |x| {scale:.6g}", "", diff,
                         diff == 0 or diff <= tolerance * scale))
    return rows


def verify(root: Path | str, slug: str | None = None, jobs: int | None = None,
           on_event=None) -> list[Drift]:
    """Rerun from scratch and compare with the published observables; every row returned."""
    root = Path(root).resolve()
    config, posts, specs, runs = _select(root, slug)
    site = root / "site"
    if not (site / "index.html").exists():
        raise PhysaiError(f"{site}: no published site to verify against; run `physai-blog "
                          "build` first")
    rows: list[Drift] = []
    with tempfile.TemporaryDirectory(prefix="physai-verify-") as scratch:
        cache = Cache(Path(scratch) / "cache")
        executor = LocalExecutor(root, Path(scratch) / "tmp", jobs or config.jobs or default_jobs(),
                                 default_jobs())
        plans = [plan for post in posts for plan in runs[post.slug]]
        try:
            _, errors = execute_runs(plans, cache, executor, on_event)
        finally:
            executor.close()
        if errors:
            raise_errors(errors)
        for post in posts:
            spec = specs[post.experiment]
            tolerance = post.tolerance if post.tolerance is not None else (spec.tolerance or 0.0)
            for plan in runs[post.slug]:
                published = site / "posts" / post.slug / "data" / plan.label
                for name, old, new, diff, ok in compare_run(published, cache.path("runs", plan.key),
                                                            tolerance):
                    rows.append(Drift(post.slug, plan.label, name, old, new, diff, ok))
    return rows
