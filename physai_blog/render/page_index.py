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

from physai_blog import sealed
from physai_blog.content.posts import Post
from physai_blog.render.embeds import embedded_slugs
from physai_blog.render.page import CachedPage
from physai_blog.runs.digests import DIGESTS

FILE = "page-index.sealed"


class PageIndex:
    def __init__(self, cache_dir: Path):
        self.path = cache_dir / FILE
        saved = sealed.read(self.path)
        self.entries: dict[str, dict] = saved if isinstance(saved, dict) else {}
        self.changed = False
        self.seen: set[str] = set()

    def refs(self, post: Post) -> tuple[list[str], bool]:
        """(the slugs of the posts it embeds from, whether it links to other posts)."""
        self.seen.add(post.rel)
        entry = self.entries.get(post.rel)
        if post.sha256 is not None and isinstance(entry, dict) and \
                entry.get("source") == post.sha256:
            return entry["embeds"], entry["links"]
        body = post.body
        embeds, links = embedded_slugs(body), "{% post_url" in body or "{% link" in body
        self.entries[post.rel] = {"source": post.sha256, "embeds": embeds, "links": links}
        self.changed = True
        return embeds, links

    def page(self, post: Post, key: str, path: Path) -> dict | None:
        """The manifest of the post's page at ``path`` if it is the one kept for ``key``."""
        entry = self.entries.get(post.rel)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        manifest = entry["page"]
        digest = DIGESTS.digest(path)
        return manifest if digest is not None and digest.hex() == manifest["sha256"] else None

    def keep(self, post: Post, key: str, page: CachedPage) -> None:
        """Remember a verified or just stored page of ``post``."""
        entry = self.entries[post.rel]
        if entry.get("key") != key:
            entry["key"], entry["page"] = key, {
                "url": page.url, "failed_claims": page.failed_claims,
                "extra_files": page.extra_files, "links": page.links, "sha256": page.sha256}
            self.changed = True

    def save(self) -> None:
        """Keep the posts of this build; write if anything changed."""
        if not (self.changed or set(self.entries) - self.seen):
            return
        sealed.write(self.path, {rel: self.entries[rel] for rel in self.seen})
