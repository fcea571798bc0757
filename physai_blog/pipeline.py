"""The pipeline, one straight line of named stages (``build.build`` calls it when the no-op
fast path does not apply):

    load      physai.yaml, posts, experiment specs (every input error at once)   content/
    plan      every (post, sweep cell, seed) run                                 runs/plan.py
    run       the stale runs, each committed to the cache as it finishes;        runs/
              notebook posts are runs too, executed by the same executor
    draw      figures, started on the executor (a future) while pages render    figures/
    render    post pages, notebook posts, site-wide pages                        render/
    gather    each published post's downloads                                    artifacts/
    write     the site, staged and swapped in at once                           output/

Gather, then write: a failure anywhere leaves ``site/`` exactly as it was.  Each stage
returns its results; nothing downstream writes into a plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from physai_blog.body_edit import forget_base, plain_pages, record_base
from physai_blog.content.config import SiteConfig, load_config
from physai_blog.content.post_index import FILE as INDEX_FILE
from physai_blog.content.post_index import PostIndex, schema_of
from physai_blog.content.posts import Post, load_posts
from physai_blog.content.spec import ExperimentSpec, load_spec
from physai_blog.context import BuildOptions, BuildReport, Context
from physai_blog.errors import InputError, PhysaiError, collect
from physai_blog.output.write import STATE, write_site
from physai_blog.paths import CACHE_DIR, SITE_DIR, post_dir
from physai_blog.render.page import (
    JINJA_CACHE,
    CachedPage,
    environment,
    page_url,
    theme_assets,
)
from physai_blog.render.pages import RenderJob, page_inputs, render_post_pages, site_pages
from physai_blog.render.references import Bibliography
from physai_blog.render.site_links import broken_links
from physai_blog.runs import fingerprint
from physai_blog.runs.cache import Cache
from physai_blog.runs.digests import DIGESTS
from physai_blog.runs.lazy import Deferred
from physai_blog.runs.preload import default_jobs

if TYPE_CHECKING:
    from physai_blog.figures.draw import FigureDrawing, FigurePlan, FiguresDone
    from physai_blog.runs.executor import Executor
    from physai_blog.runs.plan import Run, RunPlan

# The site's own folders: no post goes there
SITE_FOLDERS = ("tags/", "archive/", "assets/")


@dataclass(frozen=True)
class Inputs:
    """What the load stage returns."""

    config: SiteConfig
    posts: list[Post]
    specs: dict[str, ExperimentSpec]


def run_pipeline(options: BuildOptions, *, executor: Executor | None, on_event,
                 started: fingerprint.Started,
                 start: float, zygote=None) -> BuildReport:
    """Every stage, from loading the inputs to swapping in the new site."""
    report = BuildReport()
    inputs = load(options, report, started.digests)
    plans = plan(inputs)
    cache = Cache(options.root / CACHE_DIR, warn=report.warnings.append)
    with cache.lock():
        own = executor is None   # a caller's executor (serve's) outlives the build
        # Made on first use: a build with nothing stale never loads the local pool.
        executor = executor or Deferred(lambda: make_executor(options, inputs.config, cache,
                                                              zygote))
        ctx = Context(options, inputs.config, cache, executor, report,
                      on_event or (lambda event, task: None),
                      options.jobs or inputs.config.jobs or default_jobs())
        fingerprint.forget(cache.root)
        drawing = None
        try:
            runs = run(ctx, inputs, plans)
            notebooks = run_notebooks(ctx, inputs)
            drawing = draw(ctx, inputs, runs)
            rendered = render(ctx, inputs, runs, drawing, notebooks)
            files = {**rendered.files, **gather(ctx, inputs, runs, rendered)}
            report.warnings += [w for page in rendered.pages
                                for w in broken_links(page.post.rel, page.links, files)]
        finally:
            if own and hasattr(executor, "close"):
                executor.close()
            if drawing is not None:   # no figure batch outlives the build (nor its lock)
                drawing.settle()
        if report.errors and not options.keep_going:
            raise_errors(report.errors)
        report.write = write_site(options.root / SITE_DIR, files, cache.root / STATE,
                                  link_from=cache.root, vouched=rendered.digests)
        remember(options, inputs, report, files, cache, started, rendered)
    report.seconds = time.perf_counter() - start
    return report


def load(options: BuildOptions, report: BuildReport, seen: dict | None = None) -> Inputs:
    """``seen``: the digest of each input as the no-op check found it (one stat per file per
    build, not one per stage: the build is recorded as built from those, so a file changed
    since makes the next build's check rebuild; a post body read later is checked against
    its digest)."""
    root = options.root
    config = load_config(root)
    seen = seen or {}

    def digest(path: Path | str) -> bytes | None:
        return seen.get(str(path)) or DIGESTS.digest(path)

    index = PostIndex(root / CACHE_DIR / INDEX_FILE, digest, schema_of(DIGESTS.digest))
    posts = load_posts(root, report.warnings, options.drafts, root / CACHE_DIR / "front-matter.json",
                       index)
    if options.only is not None and options.only not in {p.slug for p in posts}:
        raise InputError("posts/", None, f"--only {options.only!r}: no post has this slug "
                                         f"(slugs: {', '.join(sorted(p.slug for p in posts))})")
    collect(misplaced(posts, config.permalink))
    return Inputs(config, posts, load_specs(posts, root))


def misplaced(posts: list[Post], permalink: str) -> list[InputError]:
    """A post the permalink would put into a folder of the site's own (``/:title/`` and a
    post called "tags")."""
    errors = []
    for post in posts:
        folder = post_dir(post, permalink)
        if folder.startswith(SITE_FOLDERS):
            errors.append(InputError(post.rel, post.line_of("slug") or 1, (
                f"permalink {permalink!r} puts this post at {folder}, inside the site's own "
                f"{folder.split('/')[0]}/ folder; set another `slug:` or permalink")))
    return errors


def load_specs(posts: list[Post], root: Path) -> dict[str, ExperimentSpec]:
    specs, errors = {}, []
    for rel in sorted({p.experiment for p in posts if p.experiment}):
        try:
            specs[rel] = load_spec(root / rel, root)
        except InputError as exc:
            errors.append(exc)
    collect(errors)
    return specs


def plan(inputs: Inputs) -> dict[str, list[RunPlan]]:
    """Every run of every post with an experiment (all input errors at once)."""
    if not inputs.specs:
        return {}
    from physai_blog.runs.plan import plan_runs  # edge: a blog without experiments never loads it

    runs, errors = {}, []
    for post in inputs.posts:
        if post.experiment:
            try:
                runs[post.slug] = plan_runs(post, inputs.specs[post.experiment],
                                            inputs.config.timeout, inputs.config.max_output_mb)
            except InputError as exc:
                errors.append(exc)
    collect(errors)
    return runs


def make_executor(options: BuildOptions, config: SiteConfig, cache: Cache,
                  zygote=None) -> Executor:
    """The local process pool, or a Dask cluster (command line over physai.yaml)."""
    if (options.executor or config.executor) == "dask":
        from physai_blog.runs.cluster import DaskExecutor  # edge: Dask is an extra

        return DaskExecutor(options.root, options.scheduler or config.scheduler, threads=1,
                            cluster_options=config.cluster)
    from physai_blog.runs.executor import LocalExecutor  # edge: only once a task is due

    jobs = options.jobs or config.jobs or default_jobs()
    return LocalExecutor(options.root, cache.root / "tmp", jobs, default_jobs(), zygote=zygote)


def run(ctx: Context, inputs: Inputs, plans: dict[str, list[RunPlan]]) -> dict[str, list[Run]]:
    """Execute stale runs; the runs of every post that can be published."""
    if not plans:
        ctx.cache.prune_checkpoints(set())
        return {}
    from physai_blog.runs.plan import Run, execute_runs, load_runs  # edge: as in plan()

    only = ctx.options.only
    wanted = [p for slug, group in plans.items() if only in (None, slug) for p in group]
    done = execute_runs(wanted, ctx.cache, ctx.executor, ctx.on_event)
    ctx.cache.prune_checkpoints({p.key for group in plans.values() for p in group})
    # Posts outside --only still publish what the cache has.
    manifests = {**load_runs([p for s, g in plans.items() if only not in (None, s) for p in g],
                             ctx.cache), **done.manifests}
    report = ctx.report
    report.runs_total = sum(len(group) for group in plans.values())
    report.runs_executed = [f"{p.post.slug}/{p.label}" for p in done.executed]
    for p in done.executed:
        report.run_seconds[f"{p.post.slug}/{p.label}"] = manifests[p.key].get("wall_time") or 0
        report.run_reasons[f"{p.post.slug}/{p.label}"] = done.reasons.get(p.key, "")
    report.errors.extend(done.errors)
    if done.errors and not ctx.options.keep_going:
        raise_errors(done.errors)
    runs = {}
    for slug, group in plans.items():
        if all(p.key in manifests for p in group):
            runs[slug] = [Run(p, manifests[p.key]) for p in group]
        elif only not in (None, slug):
            report.warnings.append(f"{group[0].post.rel}: skipped, its experiment has not run "
                                   "(build without --only to run it)")
    return runs


def run_notebooks(ctx: Context, inputs: Inputs) -> dict[str, str]:
    """Notebook posts are runs: executed by the same executor (``--jobs``, timeouts, Dask),
    cached on their code and the library versions.  Slug -> the executed notebook's key."""
    if all(post.notebook is None for post in inputs.posts):
        return {}
    from physai_blog.runs.notebooks import cached_notebook, execute_notebooks  # edge

    only = ctx.options.only
    posts = [p for p in inputs.posts if p.notebook is not None and only in (None, p.slug)]
    done = execute_notebooks(posts, ctx.cache, ctx.executor, ctx.on_event, ctx.config.timeout)
    for post in inputs.posts:   # outside --only: publish what the cache has
        if post.notebook is not None and only not in (None, post.slug):
            key = cached_notebook(post, ctx.cache)
            if key is None:
                ctx.report.warnings.append(f"{post.rel}: skipped, the notebook has not run "
                                           "(build without --only to run it)")
            else:
                done.keys[post.slug] = key
    ctx.report.runs_total += sum(p.notebook is not None for p in inputs.posts)
    ctx.report.runs_executed += [f"{slug}/notebook" for slug in done.executed]
    for slug in done.executed:
        ctx.report.run_reasons[f"{slug}/notebook"] = done.reasons.get(slug, "")
        ctx.report.run_seconds[f"{slug}/notebook"] = done.seconds.get(slug, 0)
    ctx.report.errors.extend(done.errors)
    if done.errors and not ctx.options.keep_going:
        raise_errors(done.errors)
    return done.keys


@dataclass
class Drawing:
    """The figure stage under way: its plans now (pages need only names and keys), its
    figures once the executor's future is done."""

    plans: dict[str, list[FigurePlan]]
    work: FigureDrawing | None        # None: no post has an experiment
    future: object = None             # the executor's Future, None when nothing is stale
    done: FiguresDone | None = None

    @property
    def busy(self) -> bool:
        return self.future is not None and not self.future.done()

    def settle(self) -> None:
        """Wait until the batch is over, whatever it raised (the build raises its own)."""
        if self.future is not None:
            try:
                self.future.exception()   # blocks until done; what it raised is not ours
            except Exception:             # cancelled
                pass

    def figures(self, ctx: Context) -> FiguresDone | None:
        """Wait for the figures; their errors stop the build (unless --keep-going).  None
        when there are none to draw."""
        if self.done is None and self.work is not None:
            if self.future is not None:
                self.future.result()
            self.done = self.work.result()
            ctx.report.figures_total = sum(len(group) for group in self.plans.values())
            ctx.report.figures_drawn = [f"{p.runs[0].post.slug}/{p.figure.name}"
                                        for p in self.done.drawn]
            ctx.report.static_figures = {
                f"{p.runs[0].post.slug}/{p.figure.name}": self.done.manifests[p.key]["static"]
                for group in self.plans.values() for p in group
                if "static" in self.done.manifests.get(p.key, {})}
            ctx.report.errors.extend(self.done.errors)
            if self.done.errors and not ctx.options.keep_going:
                raise_errors(self.done.errors)
        return self.done


def draw(ctx: Context, inputs: Inputs, runs: dict[str, list[Run]]) -> Drawing:
    """Plan every figure and start drawing the stale ones on the executor."""
    if not runs:
        return Drawing({}, None)
    from physai_blog.figures.draw import FigureDrawing, plan_figures  # edge: as in plan()

    plans = {post.slug: plan_figures(inputs.specs[post.experiment], runs[post.slug],
                                     ctx.config.figure_style)
             for post in inputs.posts if post.experiment and post.slug in runs}
    work = FigureDrawing([p for group in plans.values() for p in group], ctx.cache,
                         ctx.config.figure_style, ctx.config.timeout)
    future = ctx.executor.start(work.tasks, ctx.on_event, work.finished) if work.tasks else None
    return Drawing(plans, work, future)


@dataclass
class Rendered:
    """What the render stage returns: the site's pages, and what the gather stage needs."""

    files: dict[str, bytes | str | Path]    # theme assets, every page, notebook posts' files
    due: list = field(default_factory=list)  # (post, its page's URL, its Figures) to gather
    job: RenderJob | None = None             # reads a post's values, once
    pages: list = field(default_factory=list)  # every published post's page (its links)
    digests: dict = field(default_factory=dict)  # site path -> (cached page, its sha256)
    plain: set = field(default_factory=set)    # posts whose page needs no other input
    stamp: str = ""                            # the site-wide inputs' key


def render(ctx: Context, inputs: Inputs, runs: dict[str, list[Run]], drawing: Drawing,
           notebooks: dict[str, str]) -> Rendered:
    """Post pages (rendered while figures are drawn), notebook posts, the site-wide pages.
    A post whose page or figures failed (--keep-going) is left out, with its downloads."""
    root, config = ctx.options.root, ctx.config
    env = environment(root, ctx.cache.root / JINJA_CACHE)
    bib_rel = config.bibliography
    bibliography = Bibliography(root / bib_rel if bib_rel else None, bib_rel,
                                warn=ctx.report.warnings.append)
    site_inputs = page_inputs(root, config, ctx.options.keep_going)
    job = RenderJob(root, config, ctx.cache, inputs.specs, runs, drawing.plans, bibliography,
                    env, ctx.options.keep_going, {post.slug: post for post in inputs.posts})
    markdown = [p for p in inputs.posts if p.notebook is None and
                (not p.experiment or p.slug in runs)]
    # No forked render workers while a thread drives the figure workers (fork + threads).
    pages = render_post_pages(job, markdown, site_inputs, 1 if drawing.busy else ctx.jobs,
                              lambda: expected_site_pages(ctx, inputs, markdown, env, site_inputs))
    done = drawing.figures(ctx)
    ctx.report.failed_claims.extend(pages.failed_claims)
    out = Rendered({**theme_assets(), **pages.files}, job=job, digests=pages.digests,
                   plain=pages.plain, stamp=pages.stamp)
    errors, shown = list(pages.errors), []
    for post in inputs.posts:
        if post.notebook is not None:
            if post.slug in notebooks:   # else it failed (--keep-going) or is outside --only
                from physai_blog.render.notebook_post import notebook_files  # edge

                try:
                    out.files.update(notebook_files(ctx, post, notebooks[post.slug],
                                                    bibliography, shown, env))
                except PhysaiError as exc:
                    errors.append(exc)
            continue
        figures = done.figures(drawing.plans.get(post.slug, [])) if done is not None else []
        if post.slug not in pages.pages or figures is None:
            out.files.pop(post_dir(post, config.permalink) + "index.html", None)
            continue
        shown.append(pages.pages[post.slug])
        if post.experiment:
            out.due.append((post, pages.pages[post.slug].url, figures))
    collect(errors)
    out.files.update(site_pages(ctx.cache, config, env, shown, site_inputs))
    out.pages = shown
    return out


def expected_site_pages(ctx: Context, inputs: Inputs, markdown: list[Post], env,
                        site_inputs: dict) -> None:
    """While forked workers render post pages: the site-wide pages as they will be if every
    page renders, into the cache (``site_pages`` is keyed by what they show), so the render
    stage finds them there.  Not for a blog with notebook posts (they join the list only once
    executed); if what is shown differs after all, they are drawn again for it."""
    if any(post.notebook is not None for post in inputs.posts):
        return
    shown = [CachedPage(post, page_url(post, ctx.config)) for post in markdown]
    try:
        site_pages(ctx.cache, ctx.config, env, shown, site_inputs)
    except PhysaiError:
        pass   # drawn again after the pages, where the same error is reported


def gather(ctx: Context, inputs: Inputs, runs: dict[str, list[Run]],
           rendered: Rendered) -> dict[str, bytes | Path]:
    """Each published post's downloads: raw data, figure zips, code, reproduce.zip."""
    if not rendered.due:
        return {}
    from physai_blog.artifacts.post import post_downloads  # edge: zip and CSV writers

    files: dict[str, bytes | Path] = {}
    for post, url, figures in rendered.due:
        downloads = post_downloads(ctx.cache, ctx.options.root, post,
                                   inputs.specs[post.experiment], runs[post.slug], figures,
                                   rendered.job.observables(post), url)
        base = post_dir(post, ctx.config.permalink)
        files.update({base + rel: value for rel, value in downloads.items()})
    return files


def remember(options: BuildOptions, inputs: Inputs, report: BuildReport, files: dict,
             cache: Cache, started: fingerprint.Started, rendered: Rendered) -> None:
    """A good full build is the baseline of the next build's no-op check, and (without
    warnings) of a body-edit build's."""
    dirs = tuple(post_dir(p, inputs.config.permalink) for p in inputs.posts)
    report.posts = [p.slug for p, d in zip(inputs.posts, dirs) if d + "index.html" in files]
    if not report.ok or options.only is not None:
        return
    extra = [p for spec in inputs.specs.values() for p in (spec.rel, *spec.deps)]
    extra += [inputs.config.bibliography] if inputs.config.bibliography else []
    folders = set(dirs)
    extra += [rel for rel in files if not rel.startswith((*SITE_FOLDERS, "index.html", "feed.xml"))
              and not in_folders(rel, folders)]
    recorded = fingerprint.remember(options.root, cache.root, options.root / SITE_DIR,
                                    options.fingerprinted, extra, {
                                        "posts": report.posts, "runs_total": report.runs_total,
                                        "figures_total": report.figures_total,
                                        "warnings": report.warnings, "files": len(files)},
                                    started)
    if recorded != started.fingerprint or report.warnings:
        forget_base(cache.root)
    else:
        record_base(cache.root, started, options.keep_going, rendered.stamp,
                    plain_pages(rendered.pages, rendered.plain, inputs.posts,
                                inputs.config.permalink),
                    [p.rel for p in inputs.posts if p.notebook is None])


def in_folders(rel: str, folders: set[str]) -> bool:
    """``rel`` lies in one of ``folders`` (each ending in '/'): one set lookup per level."""
    cut = rel.find("/")
    while cut != -1:
        if rel[:cut + 1] in folders:
            return True
        cut = rel.find("/", cut + 1)
    return False


def raise_errors(errors: list[PhysaiError]) -> None:
    first = errors[0]
    if len(errors) > 1:
        more = "\n".join(f"  also: {e.message}" for e in errors[1:6])
        first.detail = (first.detail + "\n" if first.detail else "") + \
            f"({len(errors) - 1} more error(s))\n{more}"
    raise first
