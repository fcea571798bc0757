"""What the last build knew of each post's page, so a one-post edit does not read every other
post's body and every other page's manifest again.

Per post: the sha256 of its file and what its body refers to (the posts it embeds from, and
whether it links to other posts: both are part of its page key); and its page's key with that
page's manifest.  A post whose file has another sha256 is scanned again; a page is taken from
the index only when its key is the one computed now and the page file's sha256 (known from its
stat signature, ``runs/digests.py``) is the manifest's, else the cache entry is read and
verified as before.  A damaged index is ignored (``sealed.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from physai_blog import sealed
from physai_blog.content.posts import Post
from physai_blog.render.embeds import embedded_slugs, links_posts
from physai_blog.render.page import CachedPage
from physai_blog.runs.digests import DIGESTS

FILE = "page-index.sealed"


class PageIndex:
    """``stamp``: the site-wide inputs (templates, the package's code, config): what a body's
    references are scanned with, and every page's key, depend on them."""

    def __init__(self, cache_dir: Path, stamp: str):
        self.store = sealed.Entries(cache_dir / FILE, stamp)
        self.seen: set[str] = set()

    def refs(self, post: Post) -> tuple[list[str], bool]:
        """(the slugs of the posts it embeds from, whether it links to other posts)."""
        self.seen.add(post.rel)
        entry = self.store.get(post.rel)
        if post.sha256 is not None and isinstance(entry, dict) and \
                entry.get("source") == post.sha256:
            return entry["embeds"], entry["links"]
        body = post.body
        embeds, links = embedded_slugs(body), links_posts(body)
        self.store.set(post.rel, {"source": post.sha256, "embeds": embeds, "links": links})
        return embeds, links

    def plain_key(self, post: Post, compute: Callable[[], str]) -> str:
        """The page key of a post without experiment, embeds or links to posts: a function of
        its file's sha256 and the stamp alone, so kept with the entry (``refs`` starts a new
        entry when the sha256 changes) instead of hashed again for every post."""
        entry = self.store.get(post.rel)
        if "plain" not in entry:
            entry["plain"] = compute()
            self.store.changed(post.rel)
        return entry["plain"]

    def page(self, post: Post, key: str, path: Path) -> dict | None:
        """The manifest of the post's page at ``path`` if it is the one kept for ``key``."""
        entry = self.store.get(post.rel)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        manifest = entry["page"]
        digest = DIGESTS.digest(path)
        return manifest if digest is not None and digest.hex() == manifest["sha256"] else None

    def keep(self, post: Post, key: str, page: CachedPage) -> None:
        """Remember a verified or just stored page of ``post`` (a page rendered again under
        the same key, for an included file that changed, replaces the one kept)."""
        entry = self.store.get(post.rel)
        kept = {"url": page.url, "failed_claims": page.failed_claims,
                "extra_files": page.extra_files, "links": page.links, "sha256": page.sha256}
        if entry.get("key") != key or entry.get("page") != kept:
            entry["key"], entry["page"] = key, kept
            self.store.changed(post.rel)

    def save(self, every: bool = False) -> None:
        """Keep the posts of this build (``every``: all posts, for a build that saw only
        some); write if anything changed."""
        self.store.save(None if every else self.seen)
