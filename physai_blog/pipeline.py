"""The pipeline as one straight line of named stages (``build.build`` calls it when the
no-op fast path does not apply).

    load config, posts, experiment specs      (content; all input errors collected)
    plan and execute runs                      (runs + cache + executor)
    plan and draw figures                      (figures + cache + executor)
    render pages, gather downloads             (render, artifacts; nothing written yet)
    write the site                             (output: staged, swapped atomically)

Gather, then write: a failure anywhere leaves ``site/`` exactly as it was.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Callable

from physai_blog.runs import fingerprint
from physai_blog.context import BuildReport
from physai_blog.paths import CACHE_DIR, SITE_DIR
from physai_blog.runs.cache import Cache
from physai_blog.content.config import SiteConfig, default_jobs, load_config
from physai_blog.content.posts import Post, load_posts
from physai_blog.errors import InputError, PhysaiError, collect
from physai_blog.runs.executor import Executor, LocalExecutor, Task
from physai_blog.figures.draw import FigurePlan, draw_figures, plan_figures
from physai_blog.output.write import write_site
from physai_blog.runs.plan import RunPlan, execute_runs, plan_runs
from physai_blog.content.spec import ExperimentSpec, load_spec



@dataclass
class Context:
    """Everything a build needs, passed explicitly (no module state)."""

    root: Path
    config: SiteConfig
    cache: Cache
    executor: Executor
    keep_going: bool
    report: BuildReport
    on_event: Callable[[str, Task], None]
    jobs: int = 1          # parallel processes for CPU-bound stages (runs, page rendering)


def load_specs(posts: list[Post], root: Path) -> dict[str, ExperimentSpec]:
    specs, errors = {}, []
    for rel in sorted({p.experiment for p in posts if p.experiment}):
        try:
            specs[rel] = load_spec(root / rel, root)
        except InputError as exc:
            errors.append(exc)
    collect(errors)
    return specs


def run_pipeline(root: Path, *, jobs: int | None, only: str | None, keep_going: bool,
                 executor: Executor | None, on_event, include_drafts: bool,
                 executor_name: str | None, scheduler: str | None, options: dict,
                 started: tuple, start: float, zygote=None) -> BuildReport:
    """Every stage, from loading the inputs to swapping in the new site."""
    report = BuildReport()
    config = load_config(root)
    posts = load_posts(root, report.warnings, include_drafts,
                       root / CACHE_DIR / "front-matter.json")
    if only is not None and only not in {p.slug for p in posts}:
        raise InputError("posts/", None, f"--only {only!r}: no post has this slug "
                                         f"(slugs: {', '.join(sorted(p.slug for p in posts))})")
    specs = load_specs(posts, root)
    runs = plan_all_runs(posts, specs, config)
    cache = Cache(root / CACHE_DIR, warn=report.warnings.append)
    with cache.lock():
        own_executor = executor is None   # a caller's executor (serve's) outlives the build
        if own_executor:
            executor = make_executor(root, config, cache, jobs, executor_name, scheduler,
                                     zygote)
        ctx = Context(root, config, cache, executor, keep_going, report,
                      on_event or (lambda event, task: None), jobs or config.jobs or default_jobs())
        fingerprint.forget(cache.root)
        try:
            posts = run_experiments(ctx, posts, runs, only)
            figures = FigureStage(ctx, posts, specs, runs)
            files = render_everything(ctx, posts, specs, runs, figures)
        finally:
            if own_executor and hasattr(executor, "close"):
                executor.close()
        if report.errors and not keep_going:
            raise_errors(report.errors)
        report.write = write_site(root / SITE_DIR, files, cache.root / "site-files.json",
                                  link_from=cache.root)
        report.posts = [p.slug for p in posts]
        if report.ok and only is None:
            extra = [p for spec in specs.values() for p in (spec.rel, *spec.deps)]
            extra += [config.bibliography] if config.bibliography else []
            extra += [rel for rel in files if not rel.startswith(("posts/", "tags/", "archive/",
                                                                  "assets/", "index.html",
                                                                  "feed.xml"))]
            fingerprint.remember(root, cache.root, root / SITE_DIR, options, extra, {
                "posts": report.posts, "runs_total": report.runs_total,
                "figures_total": report.figures_total, "warnings": report.warnings,
                "files": len(files)}, started)
    report.seconds = time.perf_counter() - start
    return report


def make_executor(root: Path, config: SiteConfig, cache: Cache, jobs: int | None,
                  name: str | None, scheduler: str | None, zygote=None) -> Executor:
    """The local process pool, or a Dask cluster (command line over physai.yaml)."""
    name = name or config.executor
    if name == "dask":
        from physai_blog.runs.cluster import DaskExecutor

        return DaskExecutor(root, scheduler or config.scheduler, threads=1,
                            cluster_options=config.cluster)
    jobs = jobs or config.jobs or default_jobs()
    return LocalExecutor(root, cache.root / "tmp", jobs, default_jobs(), zygote=zygote)


def plan_all_runs(posts: list[Post], specs: dict, config: SiteConfig) -> dict[str, list[RunPlan]]:
    runs, errors = {}, []
    for post in posts:
        if post.experiment:
            try:
                runs[post.slug] = plan_runs(post, specs[post.experiment], config.timeout,
                                            config.max_output_mb)
            except InputError as exc:
                errors.append(exc)
    collect(errors)
    return runs


def run_experiments(ctx: Context, posts: list[Post], runs: dict[str, list[RunPlan]],
                    only: str | None) -> list[Post]:
    """Execute stale runs; return the posts that can be published."""
    wanted = [plan for slug, plans in runs.items() if only in (None, slug) for plan in plans]
    for slug, plans in runs.items():  # posts outside --only still use what the cache has
        if only not in (None, slug):
            for plan in plans:
                plan.cached = ctx.cache.load("runs", plan.key)
    executed, errors = execute_runs(wanted, ctx.cache, ctx.executor, ctx.on_event)
    ctx.report.runs_total = sum(len(p) for p in runs.values())
    ctx.report.runs_executed = [f"{p.post.slug}/{p.label}" for p in executed]
    for plan in executed:
        ctx.report.run_seconds[f"{plan.post.slug}/{plan.label}"] = plan.cached.get("wall_time") or 0
        ctx.report.run_reasons[f"{plan.post.slug}/{plan.label}"] = plan.reason
    ctx.report.errors.extend(errors)
    publishable = []
    for post in posts:
        plans = runs.get(post.slug, [])
        if all(plan.cached is not None for plan in plans):
            publishable.append(post)
        elif only not in (None, post.slug):
            ctx.report.warnings.append(f"{post.rel}: skipped, its experiment has not run "
                                       "(build without --only to run it)")
    if errors and not ctx.keep_going:
        raise_errors(errors)
    return publishable


class FigureStage:
    """Figures are drawn in worker processes while this process renders the pages (which
    need only the figures' names and keys); ``finish()`` waits for them."""

    def __init__(self, ctx: Context, posts: list[Post], specs: dict, runs: dict):
        import threading

        self.ctx = ctx
        self.plans: dict[str, list[FigurePlan]] = {
            post.slug: plan_figures(specs[post.experiment], runs[post.slug],
                                    ctx.config.figure_style)
            for post in posts if post.experiment}
        self.everything = [p for group in self.plans.values() for p in group]
        self.busy = any(not ctx.cache.path("figures", p.key).exists() for p in self.everything)
        self._result: tuple = ([], [])
        self._thread = threading.Thread(target=self._draw, daemon=True)
        if self.busy:
            self._thread.start()
        else:
            self._draw()

    def _draw(self) -> None:
        ctx = self.ctx
        try:
            self._result = draw_figures(self.everything, ctx.cache, ctx.executor,
                                        ctx.config.figure_style, ctx.config.timeout,
                                        ctx.on_event)
        except BaseException as exc:  # noqa: BLE001 - re-raised by finish() in the caller
            self._result = exc

    def finish(self) -> dict[str, list[FigurePlan]]:
        """The figure plans of every post whose figures all exist now."""
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join()
        if isinstance(self._result, BaseException):
            raise self._result
        drawn, errors = self._result
        ctx = self.ctx
        ctx.report.figures_total = len(self.everything)
        ctx.report.figures_drawn = [f"{p.runs[0].post.slug}/{p.figure.name}" for p in drawn]
        if not errors:
            return self.plans
        ctx.report.errors.extend(errors)
        if not ctx.keep_going:
            raise_errors(errors)
        failed = {id(p) for p in self.everything if p.cached is None}
        return {slug: group for slug, group in self.plans.items()
                if not any(id(p) in failed for p in group)}


def render_everything(ctx: Context, posts: list[Post], specs: dict, runs: dict,
                      stage: FigureStage) -> dict[str, bytes | Path]:
    # Imported here: a build with nothing to do never loads Markdown, Jinja or pybtex.
    from physai_blog.render.references import Bibliography
    from physai_blog.render.page import CachedPage, environment, templates_digest, theme_assets

    env = environment(ctx.root, ctx.cache.root / "jinja")
    bib_rel = ctx.config.bibliography
    bibliography = Bibliography(ctx.root / bib_rel if bib_rel else None, bib_rel,
                                warn=ctx.report.warnings.append)
    site_inputs = {"templates": templates_digest(ctx.root), "config": repr(ctx.config),
                   "bibliography": _digest(ctx.root / bib_rel) if bib_rel else None,
                   "keep_going": ctx.keep_going}
    files: dict[str, bytes | Path] = dict(theme_assets())
    errors: list = []
    pages: dict[str, CachedPage] = {}      # slug -> the page in the cache
    stale: list[tuple[Post, str]] = []
    figures = stage.plans          # planned (names, keys); drawn by finish() below
    for post in posts:
        if post.notebook is not None:
            continue  # notebooks below
        spec = specs.get(post.experiment) if post.experiment else None
        key = page_key(post, spec, runs.get(post.slug, []), figures.get(post.slug, []),
                       site_inputs)
        entry = ctx.cache.get_file("pages", key, ".html")
        page = entry[1] if entry is not None else None
        if page is not None and _extras_unchanged(ctx.root, page):
            pages[post.slug] = CachedPage(post, page["url"], page["failed_claims"],
                                          page["extra_files"])
            files[f"posts/{post.slug}/index.html"] = entry[0]
            files.update({rel: ctx.root / rel for rel in page["extra_files"]})
            ctx.report.failed_claims.extend(page["failed_claims"])
        else:
            stale.append((post, key))
    if stale:   # read here, before render workers fork: its warnings reach the report
        bibliography.preload()
    job = RenderJob(ctx.root, ctx.config, ctx.cache, specs, runs, figures, bibliography, env,
                    ctx.keep_going, {post.slug: post for post in posts})
    # No forked render workers while a thread drives the figure workers (fork + threads).
    rendered_pages = render_pages(job, stale, 1 if stage.busy else ctx.jobs)
    figures = stage.finish()       # posts whose figures failed are left out (--keep-going)
    for post, key, outcome in rendered_pages:
        if isinstance(outcome, PhysaiError):
            errors.append(outcome)
            continue
        files[f"posts/{post.slug}/index.html"] = ctx.cache.file_path("pages", key, ".html")
        ctx.report.failed_claims.extend(outcome.failed_claims)
        files.update({rel: ctx.root / rel for rel in outcome.extra_files})
        pages[post.slug] = outcome
    rendered = []
    for post in posts:
        if post.notebook is not None:
            try:
                files.update(notebook_files(ctx, post, bibliography, rendered, env))
            except PhysaiError as exc:
                errors.append(exc)
            continue
        if post.slug not in pages or (post.experiment and post.slug not in figures):
            continue
        item = pages[post.slug]
        rendered.append(item)
        spec = specs.get(post.experiment) if post.experiment else None
        if spec:
            for rel, value in post_downloads(ctx, job, post, spec, runs[post.slug],
                                             figures[post.slug], item.url).items():
                files[f"posts/{post.slug}/{rel}"] = value
    collect(errors)
    files.update(site_pages(ctx, env, rendered, site_inputs))
    return files


def post_downloads(ctx: Context, job: "RenderJob", post: Post, spec: ExperimentSpec,
                   runs: list[RunPlan], figures: list[FigurePlan], url: str) -> dict:
    """A post's downloads (raw data, data bundles, code, reproduce.zip, notebook), relative to
    its folder.  What is generated is cached as one entry, keyed by the runs' and figures'
    files (their sha256, from their verified manifests), the code and the post: an edit
    elsewhere in the blog costs this post no zipping and no hashing."""
    from physai_blog import __version__
    from physai_blog.runs.cache import key_of
    from physai_blog.paths import runtime_files

    key = key_of({
        "kind": "downloads", "version": __version__, "slug": post.slug, "title": post.title,
        "url": url, "params": post.params, "spec": spec.rel, "var": spec.var,
        "source": spec.source, "deps": spec.deps,
        "runtime": {rel: _digest(path) for rel, path in runtime_files().items()},
        "runs": [[r.key, r.label, r.cached["files"]] for r in runs],
        "figures": [[f.key, f.file, f.reads, f.cached["files"]] for f in figures]})
    folder = ctx.cache.path("downloads", key)
    entry = ctx.cache.load("downloads", key)
    if entry is None:
        files = gather_downloads(ctx, job, post, spec, runs, figures, url)
        tmp, links = ctx.cache.new_tmp(), {}
        for rel, value in files.items():
            # Runs and figures were verified by this build and are keyed by their content;
            # anything else is copied into the entry, so the entry stands on its own.
            if isinstance(value, Path) and value.is_relative_to(ctx.cache.root) and \
                    value.relative_to(ctx.cache.root).parts[0] in ("runs", "figures"):
                links[rel] = value.relative_to(ctx.cache.root).as_posix()
            else:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_bytes(value if isinstance(value, bytes) else value.read_bytes())
        entry = ctx.cache.commit("downloads", key, tmp, {"kind": "downloads", "links": links})
    out: dict[str, bytes | Path] = {rel: folder / rel for rel in entry["files"]}
    out.update({rel: ctx.cache.root / target for rel, target in entry["links"].items()})
    return out


def gather_downloads(ctx: Context, job: "RenderJob", post: Post, spec: ExperimentSpec,
                     runs: list[RunPlan], figures: list[FigurePlan], url: str) -> dict:
    from physai_blog.artifacts.downloads import post_artifacts
    from physai_blog.artifacts.reproduce import reproduce_files

    files = post_artifacts(runs, figures, spec, job.observables(post), ctx.cache, ctx.root)
    files["data/index.html"] = data_index(post, runs)
    files.update(reproduce_files(post, spec, runs, dict(files), url, ctx.cache))
    return files


def site_pages(ctx: Context, env, rendered: list, site_inputs: dict) -> dict:
    """Index, tags, archive and feed: cached by what they show of every post, so an edit to
    a post's body alone does not re-render them."""
    from physai_blog.runs.cache import key_of
    from physai_blog.render.page import render_site

    shown = [[r.post.slug, r.post.title, r.post.date.isoformat(), r.post.description,
              r.post.tags, r.post.categories, r.post.authors, r.url] for r in rendered]
    key = key_of({"kind": "site-pages", "posts": shown, **site_inputs})
    entry = ctx.cache.load("site-pages", key)
    folder = ctx.cache.path("site-pages", key)
    if entry is not None:
        return {rel: folder / rel for rel in entry["files"]}
    newest = max((r.post.date for r in rendered), default=None)
    pages = render_site(env, ctx.config, rendered,
                        newest.isoformat() if newest else "1970-01-01")
    tmp = ctx.cache.new_tmp()
    for rel, data in pages.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    ctx.cache.commit("site-pages", key, tmp, {"kind": "site-pages"})
    return pages


@dataclass
class RenderJob:
    """What rendering a post page needs; shared with forked render workers."""

    root: Path
    config: SiteConfig
    cache: Cache
    specs: dict
    runs: dict
    figures: dict
    bibliography: object
    env: object
    keep_going: bool
    posts_by_slug: dict = field(default_factory=dict)

    def observables(self, post: Post):
        from physai_blog.artifacts.downloads import observables

        spec = self.specs.get(post.experiment) if post.experiment else None
        return observables(self.runs[post.slug], self.cache, spec.sweep) if spec else None

    def render(self, post: Post, key: str, converter):
        """Render a post page into the cache (under ``key``); what the site-wide pages need
        of it, or the PhysaiError that stops it.  Runs in forked render workers too: storing
        there keeps the page bytes out of the pipe and the hashing parallel."""
        from physai_blog.render.page import CachedPage, render_post_body, render_post_page

        spec = self.specs.get(post.experiment) if post.experiment else None
        fig_plans = {p.figure.name: p for p in self.figures.get(post.slug, [])}
        try:
            item = render_post_body(post, self.config, self.root, self.observables(post),
                                    fig_plans, spec.path.name if spec else None,
                                    self.keep_going, self.bibliography, converter)
            html = render_post_page(self.env, self.config, item)
        except PhysaiError as exc:
            return exc
        store_page(self.cache, key, html, item, self.root)
        return CachedPage(post, item.url, item.failed_claims, dict(item.extra_files))


# Rendering is CPU-bound Python: past this many stale pages, fork render workers.
PARALLEL_RENDER_MIN = 24


def render_pages(job: RenderJob, stale: list, jobs: int):
    """Render stale post pages, in forked worker processes when there are many."""
    from physai_blog.render.markup import new_converter

    if len(stale) < PARALLEL_RENDER_MIN or jobs < 2 or not hasattr(os, "fork"):
        converter = new_converter()
        return [(post, key, job.render(post, key, converter)) for post, key in stale]
    import multiprocessing

    chunks = [stale[i::jobs] for i in range(jobs)]
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_render_init, initargs=(job,)) as pool:
        results = pool.map(_render_chunk, [[(post.slug, key) for post, key in c] for c in chunks])
    by_slug = {slug: outcome for chunk in results for slug, outcome in chunk}
    return [(post, key, _revive(by_slug[post.slug])) for post, key in stale]


_WORKER: dict = {}   # per forked render worker: its job and converter (never in the parent)


def _render_init(job: RenderJob) -> None:
    from physai_blog.render.markup import new_converter

    _WORKER["job"], _WORKER["converter"] = job, new_converter()


def _render_chunk(pages: list[tuple[str, str]]) -> list:
    job = _WORKER["job"]
    out = []
    for slug, key in pages:
        post = job.posts_by_slug[slug]
        outcome = job.render(post, key, _WORKER["converter"])
        if isinstance(outcome, PhysaiError):   # exceptions with custom __init__ do not pickle
            outcome = ("error", outcome.message, outcome.detail)
        out.append((slug, outcome))
    return out


def _revive(outcome):
    if isinstance(outcome, tuple) and outcome and outcome[0] == "error":
        return PhysaiError(outcome[1], outcome[2])
    return outcome


def _digest(path: Path) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def page_key(post: Post, spec, runs: list, figures: list, site_inputs: dict) -> str:
    """A post page depends on its source, its runs and figures, and the site-wide inputs."""
    from physai_blog.runs.cache import key_of

    return key_of({"kind": "page", "source": _digest(post.source), "rel": post.rel,
                   "spec": spec.source if spec else None, "runs": [r.key for r in runs],
                   "figures": [f.key for f in figures], **site_inputs})


def store_page(cache: Cache, key: str, html: bytes, item, root: Path) -> None:
    cache.put_file("pages", key, html, {
        "kind": "page", "url": item.url, "failed_claims": item.failed_claims,
        "extra_files": {rel: _digest(root / rel) for rel in sorted(item.extra_files)}},
        ".html")


def _extras_unchanged(root: Path, page: dict) -> bool:
    """Files a page includes (al-folio figures) are inputs of the page too."""
    return all(_digest(root / rel) == digest for rel, digest in page["extra_files"].items())


def notebook_files(ctx: Context, post: Post, bibliography, rendered: list, env) -> dict:
    """Execute (or load) a notebook post; its page and downloads."""
    from physai_blog.artifacts.downloads import deterministic_zip
    from physai_blog.runs.notebooks import execute_notebook, notebook_key
    from physai_blog.render.page import render_notebook_body, render_post_page

    key = notebook_key(post.source)
    execute_notebook(post.source, post.rel, key, ctx.cache,
                                post.timeout or ctx.config.timeout, 1)
    folder = ctx.cache.path("notebooks", key)
    item = render_notebook_body(post, ctx.config, ctx.root, folder, ctx.keep_going, bibliography)
    rendered.append(item)
    base = f"posts/{post.slug}/"
    files: dict = {f"{base}index.html": render_post_page(env, ctx.config, item),
                   f"{base}{post.slug}.ipynb": folder / "executed.ipynb",
                   f"{base}code/{post.slug}.py": folder / "script.py"}
    cells = {c["index"]: c for c in json.loads((folder / "cells.json").read_text())}
    for fig in item.figures:
        index = int(fig.name.removeprefix("cell"))
        files[f"{base}{fig.code}"] = cells[index]["source"].encode() + b"\n"
    for image in sorted((folder / "outputs").iterdir()):
        files[f"{base}figures/{image.name}"] = image
    work = {p.relative_to(folder / "work").as_posix(): p.read_bytes()
            for p in sorted((folder / "work").rglob("*")) if p.is_file()}
    work[f"{post.slug}.ipynb"] = (folder / "executed.ipynb").read_bytes()
    files[f"{base}data/{post.slug}-outputs.zip"] = deterministic_zip(work)
    return files


def data_index(post: Post, runs: list[RunPlan]) -> bytes:
    """A plain listing of a post's raw data, since static hosts do not list folders."""
    items = []
    for run in runs:
        links = " ".join(f'<a href="{escape(run.label)}/{escape(f)}">{escape(f)}</a>'
                         for f in [*sorted(run.cached["files"]), "manifest.json"])
        items.append(f"<li><b>{escape(run.label)}</b>: {links}</li>")
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Data: '
            f"{escape(post.title)}</title><body><h1>Raw data of “{escape(post.title)}”</h1>"
            f'<p><a href="values.csv">values.csv</a> · <a href="../index.html">back to the post</a>'
            f"</p><ul>{''.join(items)}</ul></body></html>\n").encode()


def raise_errors(errors: list[PhysaiError]) -> None:
    first = errors[0]
    if len(errors) > 1:
        more = "\n".join(f"  also: {e.message}" for e in errors[1:6])
        first.detail = (first.detail + "\n" if first.detail else "") + \
            f"({len(errors) - 1} more error(s))\n{more}"
    raise first
