"""Post pages into the cache: each keyed by its source, its runs' and figures' keys and the
site-wide inputs, so an unchanged page is never rendered again; many stale pages are rendered
in forked worker processes (CPU-bound Python).  A post's formulas and code blocks come from
its last render where their source is unchanged (``fragments.py``).  Then the site-wide pages
(index, tags, archive, feed), cached by what they show of each post."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.config import SiteConfig
from physai_blog.content.notebook import in_prose_cells
from physai_blog.content.posts import Post
from physai_blog.errors import PhysaiError
from physai_blog.paths import post_dir
from physai_blog.render.fragments import Fragments, FragmentStore
from physai_blog.render.markup import Converters, fragment_salt
from physai_blog.render.page_index import PageIndex
from physai_blog.render.page import (
    CachedPage,
    PostRenderer,
    render_post_body,
    render_post_page,
    render_site,
    templates_digest,
)
from physai_blog.render.values import observables
from physai_blog.runs.cache import Cache, file_digest, key_of

# Rendering is CPU-bound Python: past this many stale pages, fork render workers.
PARALLEL_RENDER_MIN = 24


@dataclass
class RenderJob:
    """What rendering a post page needs; shared with forked render workers."""

    root: Path
    config: SiteConfig
    cache: Cache
    specs: dict
    runs: dict               # slug -> the post's Runs (from the run stage)
    figures: dict            # slug -> its FigurePlans (names and keys; drawn meanwhile)
    bibliography: object
    env: object
    keep_going: bool
    posts_by_slug: dict = field(default_factory=dict)

    def observables(self, post: Post):
        spec = self.specs.get(post.experiment) if post.experiment else None
        return observables(self.runs[post.slug], self.cache, spec.sweep) if spec else None

    def embedded(self, slug: str):
        """(the renderer of another post, its title), for the figures and values a post
        embeds from it; None when it is not published by this build or has no experiment."""
        post = self.posts_by_slug.get(slug)
        if post is None or not post.experiment or slug not in self.runs:
            return None
        spec = self.specs[post.experiment]
        plans = {p.figure.name: p for p in self.figures.get(slug, [])}
        return (PostRenderer(post, self.config, self.root, self.observables(post), plans,
                             spec.path.name, self.keep_going, self.bibliography,
                             posts=self.posts_by_slug),
                post.title, post_dir(post, self.config.permalink))

    def embeds_key(self, slugs: list[str]) -> list:
        """What a page shows of the posts it embeds from (``slugs``): their runs, figures and
        titles."""
        out = []
        for slug in slugs:   # its folder too: the embed links back to it
            other = self.posts_by_slug.get(slug)
            out.append([slug, other.title if other else None,
                        post_dir(other, self.config.permalink) if other else None,
                        [r.key for r in self.runs.get(slug, [])],
                        [f.key for f in self.figures.get(slug, [])]])
        return out

    def render(self, post: Post, key: str, converter, fragments: Fragments | None = None):
        """Render a post page into the cache (under ``key``); what the site-wide pages need
        of it, or the PhysaiError that stops it.  Runs in forked render workers too: storing
        there keeps the page bytes out of the pipe and the hashing parallel.  ``fragments``:
        the post's kept formulas and code blocks (and those this render adds)."""
        spec = self.specs.get(post.experiment) if post.experiment else None
        fig_plans = {p.figure.name: p for p in self.figures.get(post.slug, [])}
        try:
            item = render_post_body(post, self.config, self.root, self.observables(post), fig_plans,
                                    spec.path.name if spec else None, self.keep_going,
                                    self.bibliography, converter, fragments, self.posts_by_slug,
                                    self.embedded)
            html = render_post_page(self.env, self.config, item)
        except PhysaiError as exc:
            return in_prose_cells(exc, post.rel, post.source)   # a notebook's: by its cell
        manifest = store_page(self.cache, key, html, item, self.root)
        return CachedPage(post, item.url, item.failed_claims, manifest["extra_files"],
                          item.links, manifest["sha256"])


@dataclass
class PostPages:
    """What the page stage returns."""

    pages: dict = field(default_factory=dict)       # slug -> CachedPage
    files: dict = field(default_factory=dict)       # site path -> cached page, included files
    digests: dict = field(default_factory=dict)     # site path -> (cached page, its sha256)
    failed_claims: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    plain: set = field(default_factory=set)          # posts whose page needs no other input
    stamp: str = ""                                  # the site-wide inputs' key


def render_post_pages(job: RenderJob, posts: list[Post], site_inputs: dict,
                      jobs: int, meanwhile=None) -> PostPages:
    """Every Markdown post's page: from the cache, or rendered now.  ``meanwhile()``: work
    for this process while forked workers render (it would otherwise wait)."""
    out = PostPages()
    # The site-wide inputs are the same for every page: hashed once, not once per post.
    shared = {"site": key_of(site_inputs)}
    out.stamp = shared["site"]
    index = PageIndex(job.cache.root, shared["site"])
    stale = _cached_pages(job, posts, index, shared, out)
    store = None
    if stale:   # read here, before render workers fork: its warnings reach the report
        job.bibliography.preload()
        store = FragmentStore(job.cache.root, fragment_salt(), [post.rel for post in posts])
    for post, key, outcome, used in render_pages(job, stale, jobs, store, meanwhile):
        if isinstance(outcome, PhysaiError):
            out.errors.append(outcome)
        else:
            store.keep(post.rel, used)
            index.keep(post, key, outcome)
            out.pages[post.slug] = outcome
            rel = post_dir(post, job.config.permalink) + "index.html"
            out.files[rel] = job.cache.file_name("pages", key, ".html")
            out.digests[rel] = (out.files[rel], outcome.sha256)
    if store is not None:
        store.save()
    index.save()
    for post in posts:
        page = out.pages.get(post.slug)
        if page is not None and (page.failed_claims or page.extra_files):
            out.failed_claims.extend(page.failed_claims)
            out.files.update({rel: job.root / rel for rel in page.extra_files})
    return out


def render_pages(job: RenderJob, stale: list, jobs: int, store: FragmentStore | None,
                 meanwhile=None):
    """Render stale post pages, in forked worker processes when there are many: (post, key,
    outcome, the fragments its render used); ``meanwhile()`` runs while they do."""
    if not stale:
        return []
    if len(stale) < PARALLEL_RENDER_MIN or jobs < 2 or not hasattr(os, "fork"):
        converter = Converters()
        done = []
        for post, key in stale:
            fragments = store.post(post.rel)
            done.append((post, key, job.render(post, key, converter, fragments),
                         fragments.used))
        return done
    import multiprocessing

    store.load([post.rel for post, _ in stale])    # read once, here; the workers inherit it
    chunks = [stale[i::jobs] for i in range(jobs)]
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_render_init, initargs=(job, store)) as pool:
        pending = pool.map_async(_render_chunk, [[(post.slug, key) for post, key in c]
                                                 for c in chunks])
        if meanwhile is not None:
            meanwhile()
        results = pending.get()
    by_slug = {slug: (outcome, used) for chunk in results for slug, outcome, used in chunk}
    return [(post, key, _revive(by_slug[post.slug][0]), by_slug[post.slug][1])
            for post, key in stale]


# Per forked render worker: its job, fragment store and converter, set by the pool's
# initializer in the child (multiprocessing hands pool functions no other state); never
# used in the parent.
_WORKER: dict = {}


def _render_init(job: RenderJob, store: FragmentStore) -> None:
    # The fork inherits the CLI's stop handlers, which raise Stopped: the pool's terminate()
    # at shutdown would print that as a traceback. A worker just ends; the parent stops.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["job"], _WORKER["store"], _WORKER["converter"] = job, store, Converters()


def _render_chunk(pages: list[tuple[str, str]]) -> list:
    """Render some pages; the fragments each used go back to the build process, which alone
    writes the fragment files."""
    job = _WORKER["job"]
    out = []
    for slug, key in pages:
        post = job.posts_by_slug[slug]
        fragments = _WORKER["store"].post(post.rel)
        outcome = job.render(post, key, _WORKER["converter"], fragments)
        if isinstance(outcome, PhysaiError):   # exceptions with custom __init__ do not pickle
            outcome = ("error", outcome.message, outcome.detail)
        out.append((slug, outcome, fragments.used))
    return out


def _revive(outcome):
    if isinstance(outcome, tuple) and outcome and outcome[0] == "error":
        return PhysaiError(outcome[1], outcome[2])
    return outcome


def page_key(post: Post, spec, runs: list, figures: list, site_inputs: dict,
             linked: list | None = None) -> str:
    """A post page depends on its source, its runs and figures, and the site-wide inputs
    (``linked``: the posts' URLs, for a page that links to other posts)."""
    return key_of({"kind": "page", "source": post.sha256 or file_digest(post.source),
                   "rel": post.rel,
                   "spec": spec.source if spec else None, "runs": [r.key for r in runs],
                   "figures": [f.key for f in figures], **site_inputs,
                   **({"linked": linked} if linked else {})})


def page_inputs(root: Path, config: SiteConfig, keep_going: bool) -> dict:
    """What every page depends on: the templates (and the package's code), physai.yaml, the
    bibliography; their key is the pages' ``stamp``."""
    bib = config.bibliography
    return {"templates": templates_digest(root), "config": repr(config),
            "bibliography": file_digest(root / bib) if bib else None, "keep_going": keep_going}


def plain_key(post: Post, stamp: str) -> str:
    """The page key of a plain post (no experiment, embeds or links to posts): its file and
    the site-wide inputs (``stamp``) alone."""
    return page_key(post, None, [], [], {"site": stamp, "embeds": []})


def store_page(cache: Cache, key: str, html: bytes, item, root: Path) -> dict:
    return cache.put_file("pages", key, html, {
        "kind": "page", "url": item.url, "failed_claims": item.failed_claims,
        "links": item.links,
        "extra_files": {rel: file_digest(root / rel) for rel in sorted(item.extra_files)}},
        ".html")


def extras_unchanged(root: Path, page: dict) -> bool:
    """Files a page includes (al-folio figures) are inputs of the page too."""
    return all(file_digest(root / rel) == digest for rel, digest in page["extra_files"].items())


def site_pages(cache: Cache, config: SiteConfig, env, rendered: list, site_inputs: dict) -> dict:
    """Index, tags, archive and feed: cached by what they show of every post, so an edit to
    a post's body alone does not re-render them."""
    shown = [[r.post.slug, r.post.title, r.post.date.isoformat(), r.post.description,
              r.post.tags, r.post.categories, r.post.authors, r.url] for r in rendered]
    key = key_of({"kind": "site-pages", "posts": shown, **site_inputs})
    # By stat: the archive and index list every post (4 MB at 2,000 posts), read and hashed
    # at every build; a page changed in place changes its ctime, and is hashed again.
    entry = cache.load("site-pages", key, by_stat=True)
    folder = cache.path("site-pages", key)
    if entry is not None:
        return {rel: folder / rel for rel in entry["files"]}
    newest = max((r.post.date for r in rendered), default=None)
    pages = render_site(env, config, rendered, newest.isoformat() if newest else "1970-01-01")
    tmp = cache.new_tmp()
    for rel, data in pages.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    cache.commit("site-pages", key, tmp, {"kind": "site-pages"})
    return pages


def _cached_pages(job: RenderJob, posts: list[Post], index: PageIndex, shared: dict,
                  out: PostPages) -> list:
    """Fill ``out`` with every page the cache holds; the (post, key) pairs to render."""
    stale, urls = [], None
    for post in posts:
        spec = job.specs.get(post.experiment) if post.experiment else None
        embeds, links = index.refs(post)
        if links and urls is None:   # a page linking to other posts depends on their URLs
            urls = [[p.rel, post_dir(p, job.config.permalink)] for p in job.posts_by_slug.values()]
        runs, figures = job.runs.get(post.slug, []), job.figures.get(post.slug, [])

        def key_now() -> str:
            return page_key(post, spec, runs, figures, {**shared, "embeds": job.embeds_key(embeds)},
                            urls if links else None)

        plain = not (spec or runs or figures or embeds or links)
        if plain:
            out.plain.add(post.rel)
        key = index.plain_key(post, lambda: plain_key(post, shared["site"])) if plain \
            else key_now()
        path = job.cache.file_name("pages", key, ".html")
        page = index.page(post, key, path)
        kept = page is not None
        if page is None:
            entry = job.cache.get_file("pages", key, ".html")
            page = entry[1] if entry is not None else None
        if page is not None and (not page["extra_files"] or extras_unchanged(job.root, page)):
            out.pages[post.slug] = cached = CachedPage(
                post, page["url"], page["failed_claims"], page["extra_files"],
                page.get("links", []), page["sha256"])
            if not kept:
                index.keep(post, key, cached)
            rel = post_dir(post, job.config.permalink) + "index.html"
            out.files[rel], out.digests[rel] = path, (path, cached.sha256)
        else:
            stale.append((post, key))
    return stale
