"""``physai-blog run SLUG``: run one post's experiment without building a site; and the
selection of posts with an experiment that ``run`` and ``verify`` share."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from physai_blog.build import early_zygote
from physai_blog.content.config import load_config
from physai_blog.content.posts import load_posts
from physai_blog.errors import InputError
from physai_blog.figures.draw import draw_figures, plan_figures
from physai_blog.paths import CACHE_DIR
from physai_blog.pipeline import Inputs, load_specs, plan, raise_errors
from physai_blog.runs.cache import Cache
from physai_blog.runs.executor import LocalExecutor
from physai_blog.runs.plan import RunPlan, execute_runs
from physai_blog.runs.preload import default_jobs


def select_posts(root: Path, slug: str | None):
    warnings: list[str] = []
    config = load_config(root)
    every = load_posts(root, warnings)
    posts = [p for p in every if p.experiment]
    if slug is not None:
        posts = [p for p in posts if p.slug == slug]
        plain = [p for p in every if p.slug == slug and p.notebook is not None]
        if plain:
            raise InputError(plain[0].rel, None, "a plain notebook is executed whole by "
                             "`build`; for `run` and `verify`, write its code cells with the "
                             "Experiment API (exp = Experiment(...), @exp.run, @exp.figure)")
        if not posts:
            raise InputError("posts/", None, f"no post with slug {slug!r} has an experiment")
    specs = load_specs(posts, root)
    return config, posts, specs, plan(Inputs(config, posts, specs))


def experiment_of(root: Path, slug: str) -> list[str]:
    """The ``experiment:`` of the post with this slug, read with a regex (no YAML yet):
    only a hint for starting workers early, so a miss costs nothing."""

    for path in sorted((root / "posts").glob(f"*{slug}.ipynb")):   # its own experiment
        return [path.relative_to(root).as_posix()]
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
    root = Path(root).resolve()
    # The workers' fork server imports numpy while this process loads and plans.
    if zygote is None:
        zygote = early_zygote(root, experiment_of(root, slug), jobs, figures)
    try:
        config, posts, specs, runs = select_posts(root, slug)
    except BaseException:
        if zygote is not None:
            zygote.close()
        raise
    plans = runs[slug]
    cache = Cache(root / CACHE_DIR)
    with cache.lock():
        if force:  # drop the cached entries; they are replaced when the runs finish
            for plan in plans:
                shutil.rmtree(cache.path("runs", plan.key), ignore_errors=True)
        executor = LocalExecutor(root, cache.root / "tmp", jobs or config.jobs or default_jobs(),
                                 default_jobs(), zygote=zygote)
        try:
            done = execute_runs(plans, cache, executor, on_event)
            if done.errors:
                raise_errors(done.errors)
            if figures:
                drawn = plan_figures(specs[posts[0].experiment], done.runs(plans),
                                     config.figure_style)
                errors = draw_figures(drawn, cache, executor, config.figure_style,
                                      config.timeout, on_event).errors
                if errors:
                    raise_errors(errors)
        finally:
            executor.close()
    return plans, done.executed
