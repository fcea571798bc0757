"""``run SLUG`` and ``verify [SLUG]``: rerun experiments, and compare with what was published.

``verify`` builds the selected posts from scratch in a scratch cache (every run rerun, every
figure redrawn, every page and download rendered; the real cache is neither read nor written,
``site/`` is not written), then compares the result with every file published under
``site/posts/<slug>/``: the page, with the numbers its directives print; ``data/`` (each run's
files and manifest, ``values.csv``, each figure's data zip, member by member); ``code/``; the
figures; ``reproduce.zip``, member by member; and the notebook.  It returns rows of two kinds:

- observables: each value, series and array of each run (as ``verify`` always did);
- files: each difference, naming the file and where in it (CSV row and column, JSON key, zip
  member, the page's printed value, line), or one matching row per file.

Numbers (CSV cells, JSON numbers, npy arrays, numbers in text) match exactly, or within the
relative ``tolerance`` the post (or experiment) sets; everything else byte for byte.  Nothing
is excluded when the tolerance is zero: published manifests already leave out what differs
between two identical builds (wall time, the cache checksum: ``artifacts.UNPUBLISHED``) and
zips have fixed timestamps, so two builds are byte-identical.  With a tolerance, what follows
from numbers that moved within it is accepted, and only that:

- a JSON file is compared by its content (keys, strings, numbers), not its formatting;
- a manifest's ``sha256`` and ``bytes`` of a file, when they are those of the published file
  (itself compared within the tolerance);
- a zip's container, when it is the zip a build writes for its published members;
- a measured number printed on the page (a value and its min/max, a fit, the numbers of a
  claim, the seed table's statistics), within the tolerance plus half a unit of the last
  printed digit of each side; every other number on the page (figure numbers, dates,
  counts, params) and every number in code, READMEs and requirements matches exactly;
- figures are not compared (their pixels and coordinates follow the data; the data behind
  each one are compared in its zip).
"""

from __future__ import annotations

import math
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from physai_blog.checks.compare import MAX_ROWS, Rules, _read, compare_file
from physai_blog.checks.observables import compare_run
from physai_blog.checks.rerun import select_posts
from physai_blog.context import BuildOptions, BuildReport, Context
from physai_blog.errors import PhysaiError
from physai_blog.paths import DEFAULT_PERMALINK, SITE_DIR, post_dir
from physai_blog.pipeline import Inputs, draw, gather, raise_errors, render, run
from physai_blog.runs.cache import Cache
from physai_blog.runs.executor import LocalExecutor
from physai_blog.runs.plan import RunPlan
from physai_blog.runs.preload import default_jobs


@dataclass
class Drift:
    post: str
    run: str            # the run's label; for a file row, the file's path in the post folder
    observable: str     # for a file row, where in the file
    published: str
    rerun: str
    difference: float
    ok: bool
    file: str = ""      # the published file, relative to site/
    kind: str = "observable"   # or "file"


@dataclass
class Fresh:
    """The selected posts built from scratch: every file of the site, by its path in site/."""

    posts: list
    tolerance: dict[str, float]
    runs: dict[str, list[RunPlan]]
    files: dict[str, bytes | str | Path]
    cache: Cache
    permalink: str = DEFAULT_PERMALINK

    def dir(self, post) -> str:
        return post_dir(post, self.permalink)

    def read(self, rel: str) -> bytes | None:
        value = self.files.get(rel)
        return value if value is None or isinstance(value, bytes) else Path(value).read_bytes()


@contextmanager
def fresh_build(root: Path | str, slug: str | None = None, jobs: int | None = None,
                on_event=None, selected: tuple | None = None) -> Iterator[Fresh]:
    """Rerun and rebuild the selected posts in a scratch cache, removed on exit; the real
    cache is neither read nor written, and nothing is written under ``site/``."""
    root = Path(root).resolve()
    config, posts, specs, runs = selected or select_posts(root, slug)
    jobs = jobs or config.jobs or default_jobs()
    with tempfile.TemporaryDirectory(prefix="physai-verify-") as scratch:
        cache = Cache(Path(scratch) / "cache")
        executor = LocalExecutor(root, Path(scratch) / "tmp", jobs, default_jobs())
        # keep_going: a claim that fails on the rerun is rendered failing, so it shows up as
        # drift in the page; run and figure errors still stop verify, below.
        options = BuildOptions(root, jobs, keep_going=True)
        ctx = Context(options, config, cache, executor, BuildReport(),
                      on_event or (lambda event, task: None), jobs)
        inputs = Inputs(config, posts, specs)
        try:
            done = run(ctx, inputs, runs)
            if ctx.report.errors:
                raise_errors(ctx.report.errors)
            rendered = render(ctx, inputs, done, draw(ctx, inputs, done), {})
            files = {**rendered.files, **gather(ctx, inputs, done, rendered)}
            posts = [p for p in posts if post_dir(p, config.permalink) + "index.html" in files]
        finally:
            executor.close()
        if ctx.report.errors:
            raise_errors(ctx.report.errors)
        tolerance = {p.slug: p.tolerance if p.tolerance is not None
                     else (specs[p.experiment].tolerance or 0.0) for p in posts}
        yield Fresh(posts, tolerance, runs, files, cache, config.permalink)


def verify(root: Path | str, slug: str | None = None, jobs: int | None = None,
           on_event=None) -> list[Drift]:
    """Rebuild from scratch and compare with everything published; every row returned."""
    root = Path(root).resolve()
    selected = select_posts(root, slug)
    site = root / SITE_DIR
    if not (site / "index.html").exists():
        raise PhysaiError(f"{site}: no published site to verify against; run `physai-blog "
                          "build` first")
    with fresh_build(root, slug, jobs, on_event, selected) as fresh:
        return compare_site(fresh, site)


def compare_site(fresh: Fresh, site: Path) -> list[Drift]:
    """Each run's observables, then each file of each post, against the site at ``site``."""
    rows: list[Drift] = []
    for post in fresh.posts:
        tolerance = fresh.tolerance[post.slug]
        folder = site / fresh.dir(post)
        observed = []
        for plan in fresh.runs[post.slug]:
            base = f"{fresh.dir(post)}data/{plan.label}/"
            for name, old, new, diff, ok, rel in compare_run(
                    folder / "data" / plan.label, fresh.cache.path("runs", plan.key), tolerance):
                observed.append(Drift(post.slug, plan.label, name, old, new, diff, ok,
                                      base + rel))
        rows += observed
        # A file whose observables drifted is reported once, by those rows.
        judged = {r.file for r in observed if not r.ok}
        rows += compare_post_files(fresh, post, folder, tolerance, judged)
    return rows


def compare_post_files(fresh: Fresh, post, folder: Path, tolerance: float,
                       judged: set[str]) -> list[Drift]:
    """One row per difference in each file of the post (built or published), or one
    matching row per file."""
    base, slug = fresh.dir(post), post.slug
    built = {rel[len(base):] for rel in fresh.files if rel.startswith(base)}
    published = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} \
        if folder.is_dir() else set()
    rules = Rules(tolerance, folder, lambda rel: _read(folder / rel))
    rows = []
    for rel in sorted(built | published):
        if base + rel in judged:
            continue
        found = compare_file(rel, _read(folder / rel) if rel in published else None,
                             fresh.read(base + rel) if rel in built else None, rules)
        if len(found) > MAX_ROWS:
            found = found[:MAX_ROWS] + [("...", f"{len(found) - MAX_ROWS} more", "", math.inf)]
        rows += [Drift(slug, rel, where, old, new, diff, False, base + rel, "file")
                 for where, old, new, diff in found]
        if not found:
            rows.append(Drift(slug, rel, "whole file", "", "", 0.0, True, base + rel, "file"))
    return rows


def report(rows: list[Drift], verbose: bool = False) -> tuple[list[str], str | None]:
    """The lines ``verify`` prints (the drift table, two summaries) and its error line, None
    when nothing drifted.  Without ``verbose``, rows that match are left out but values."""
    drift = [r for r in rows if not r.ok]
    shown = rows if verbose else [r for r in rows if not r.ok or (
        r.kind == "observable" and r.observable.startswith("value "))]
    lines = []
    if shown:
        width = max(len(f"{r.post}/{r.run}") for r in shown)
        wide = max(28, *(len(r.observable) for r in shown))
        lines.append(f"{'run':<{width}}  {'observable':<{wide}} {'published':>14} "
                     f"{'rerun':>14} {'|diff|':>10}  ok     file")
        lines += [f"{r.post + '/' + r.run:<{width}}  {r.observable:<{wide}} {r.published:>14} "
                  f"{r.rerun:>14} {r.difference:>10.3g}  {'yes  ' if r.ok else 'DRIFT'}  "
                  f"{r.file}" for r in shown]
    observables = [r for r in rows if r.kind == "observable"]
    files, bad = {r.file for r in rows}, {r.file for r in drift}
    lines.append(f"{sum(r.ok for r in observables)} of {len(observables)} observables match "
                 "the published data.")
    lines.append(f"{len(files - bad)} of {len(files)} published files match a fresh build.")
    drifted = sum(not r.ok for r in observables)
    differ = len({r.file for r in drift if r.kind == "file"})
    parts = [f"{drifted} observable(s) drifted from the published data"] if drifted else []
    parts += [f"{differ} published file(s) differ from a fresh build"] if differ else []
    return lines, "; ".join(parts) or None
