"""The body-edit build: the inputs differ from the last good build's only in the bodies of
plain posts (no experiment, no figures or values embedded from other posts, no links to
other posts), their front matter as it was.

Then every other page, the site-wide pages (keyed by what they show of each post: its front
matter), the runs and the figures are the last good build's, so this renders the edited
pages and patches the site (``output/patch.py``) without loading the other posts or
checking their pages again: the work of one edit, not of the blog (a one-post edit of a
2,000-post blog went through every post in each stage).  Whatever it cannot vouch for it
declines, before anything is written, and the full pipeline builds: another input changed
(or saved since the check: the site-wide inputs' key is taken again from what is read), a
post added or removed, front matter edited, a warning (now or in the last build), a failed
claim, a page that now embeds or links to posts, a post the site publishes as a file or a
notebook reads (``inputs:``), an error (the full build reports it), a back buffer that does
not hold what the last write recorded.  ``tests/test_body_edit.py`` compares its site with a
full build's, byte for byte, after each kind of step.

The last good full build leaves its base (``BASE``): the digest of every input it was built
from, and the page of each plain post; a body-edit build updates it.
"""

from __future__ import annotations

import posixpath
import time

from physai_blog import sealed
from physai_blog.content.config import load_config
from physai_blog.content.post_index import FILE as INDEX_FILE
from physai_blog.content.post_index import PostIndex, schema_of
from physai_blog.content.posts import read_post
from physai_blog.context import BuildOptions, BuildReport
from physai_blog.errors import InputError, PhysaiError
from physai_blog.output.patch import patch_site, patchable
from physai_blog.output.write import STATE
from physai_blog.paths import CACHE_DIR, SITE_DIR, post_dir
from physai_blog.render.fragments import FragmentStore
from physai_blog.render.markup import Converters, fragment_salt
from physai_blog.render.page import JINJA_CACHE, environment
from physai_blog.render.page_index import PageIndex
from physai_blog.render.pages import RenderJob, page_inputs, plain_key
from physai_blog.render.references import Bibliography
from physai_blog.render.site_links import broken_links
from physai_blog.runs import fingerprint
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.digests import DIGESTS

BASE = "edit-base.sealed"
FORMAT = 1
SUMMARY = ("posts", "runs_total", "figures_total", "warnings", "files")


def record_base(cache_dir, started: fingerprint.Started, keep_going: bool, stamp: str,
                pages: dict[str, str], posts: list[str]) -> None:
    """After a good build without warnings: ``pages``, each plain post's site path by its
    file (``posts/x.md``); ``posts``, every Markdown post's file; ``stamp``, the key of the
    site-wide inputs its pages were rendered with."""
    sealed.write(cache_dir / BASE, {
        "format": FORMAT, "fingerprint": started.fingerprint, "head": started.head,
        "inputs": started.digests, "keep_going": keep_going, "stamp": stamp, "pages": pages,
        "posts": posts})


def plain_pages(pages: list, plain: set[str], posts: list, permalink: str) -> dict[str, str]:
    """The post file -> site path of each page a body edit may patch: plain (``plain``: the
    render stage's), published without failed claims or included files, and no notebook's
    declared input (its run reads that file)."""
    read = [posixpath.normpath(f"{posixpath.dirname(post.rel)}/{name}")
            for post in posts for name in post.inputs or ()]
    return {page.post.rel: post_dir(page.post, permalink) + "index.html" for page in pages
            if page.post.rel in plain and not page.failed_claims and not page.extra_files
            and page.post.notebook is None
            and not any(page.post.rel == name or page.post.rel.startswith(f"{name}/")
                        for name in read)}


def forget_base(cache_dir) -> None:
    try:
        (cache_dir / BASE).unlink()
    except OSError:
        pass


def edited_posts(options: BuildOptions, started: fingerprint.Started) -> tuple[dict, list] | None:
    """(the base, the edited posts' files) when only plain posts' files changed since the
    last good build, which left ``site/`` as it is; else None.  A dict comparison: no file
    is read but the base."""
    last, root = started.last, options.root
    if options.only is not None or not last or last.get("warnings") or \
            last.get("site") != fingerprint.site_seal(root / SITE_DIR):
        return None
    base = sealed.read(root / CACHE_DIR / BASE)
    if not isinstance(base, dict) or base.get("format") != FORMAT or \
            base.get("fingerprint") != last.get("fingerprint") or \
            base.get("head") != started.head or base.get("keep_going") != options.keep_going \
            or base["inputs"].keys() != started.digests.keys():
        return None
    was, cut = base["inputs"], len(str(root)) + 1
    edited = [path[cut:] for path, digest in started.digests.items() if was[path] != digest]
    if not edited or not all(rel in base["pages"] for rel in edited):
        return None
    return base, sorted(edited)


def build_body_edit(options: BuildOptions, started: fingerprint.Started,
                    start: float) -> BuildReport | None:
    """The build's report, or None where the full pipeline must build."""
    found = edited_posts(options, started)
    if found is None:
        return None
    base, edited = found
    root, cache_dir, warnings = options.root, options.root / CACHE_DIR, []
    cache = Cache(cache_dir, warn=warnings.append)
    last = started.last
    with cache.lock():
        # Under the lock: the last build is still the one the check compared with, and none
        # of the edited files is published as a file of the site (a link to a post's source)
        if fingerprint.last_state(cache_dir).get("fingerprint") != last["fingerprint"]:
            return None
        target = patchable(root / SITE_DIR, cache_dir / STATE)
        if target is None or any(rel in target.digests for rel in edited):
            return None
        rendered = _render(options, base, edited, cache, warnings, target.digests,
                           started.digests)
        if rendered is None:
            return None
        written = patch_site(target, rendered)
        if written is None:
            return None
        recorded = fingerprint.remember(root, cache_dir, root / SITE_DIR, options.fingerprinted,
                                        last.get("extra", []),
                                        {name: last.get(name) for name in SUMMARY}, started,
                                        prune=False)
        if recorded == started.fingerprint:
            record_base(cache_dir, started, options.keep_going, base["stamp"], base["pages"],
                        base["posts"])
    return BuildReport(posts=last["posts"], runs_total=last["runs_total"],
                       figures_total=last["figures_total"], write=written,
                       seconds=time.perf_counter() - start)


def _render(options: BuildOptions, base: dict, edited: list[str], cache: Cache,
            warnings: list[str], files: dict, seen: dict) -> dict[str, tuple[str, str]] | None:
    """The edited posts' pages in the cache: site path -> (the page file, its sha256); None
    where one is not plain any more, warns, fails a claim or raises (nothing kept then), or
    was changed again since the check (``seen``: the digests it found).  ``files``: the
    site's, which its links may name."""
    root = options.root
    config = load_config(root)
    if key_of(page_inputs(root, config, options.keep_going)) != base["stamp"]:
        return None   # physai.yaml, a template or the bibliography saved since the check
    posts = []
    index = PostIndex(cache.root / INDEX_FILE, DIGESTS.digest, schema_of(DIGESTS.digest))
    page_index = PageIndex(cache.root, base["stamp"])
    for rel in edited:
        try:
            post = read_post(root / rel, root, warnings, index=index, rel=rel, body_only=True)
        except InputError:
            return None
        if post is None or post.sha256 != seen[f"{root}/{rel}"].hex() or post.experiment or \
                post.notebook is not None or warnings or \
                post_dir(post, config.permalink) + "index.html" != base["pages"][rel] or \
                any(page_index.refs(post)):
            return None
        posts.append(post)
    bib = config.bibliography
    job = RenderJob(root, config, cache, {}, {}, {},
                    Bibliography(root / bib if bib else None, bib, warn=warnings.append),
                    environment(root, cache.root / JINJA_CACHE), options.keep_going,
                    {post.slug: post for post in posts})
    job.bibliography.preload()   # as the full build does: its warnings decline
    store = FragmentStore(cache.root, fragment_salt(), base["posts"])
    pages, converter, used = {}, Converters(), {}
    for post in posts:
        key = page_index.plain_key(post, lambda: plain_key(post, base["stamp"]))
        fragments = store.post(post.rel)
        page = job.render(post, key, converter, fragments)
        if isinstance(page, PhysaiError) or page.failed_claims or page.extra_files or \
                broken_links(post.rel, page.links, files) or warnings:
            return None
        page_index.keep(post, key, page)
        used[post.rel] = fragments.used
        pages[base["pages"][post.rel]] = (str(cache.file_name("pages", key, ".html")),
                                         page.sha256)
    for rel, kept in used.items():
        store.keep(rel, kept)
    store.save()
    page_index.save(every=True)
    index.save(every=True)
    return pages
