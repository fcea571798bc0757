"""Each post's formulas and code blocks as HTML, kept from its last render.

An edit to a post rarely touches its math or its code, yet in a fresh process typesetting
them costs more than the rest of the page: latex2mathml's import (~35 ms) and the first use
of a Pygments lexer (its regexes compile, ~35 ms).  So the HTML of every fragment is kept by
its exact source, per post, and a post's next render looks there first: an edit that leaves
the formulas and code blocks alone imports neither library (nor does a full re-render after a
template change).

The HTML of a fragment is a pure function of its source, of ``markup.py`` (the converter's
options, the MathML post-processing) and of the Markdown, Pygments and latex2mathml versions:
together the *salt*.  The posts are spread over ``BUCKETS`` files,
``.physai-cache/fragments/<n>.json``, written by the build process alone (forked render
workers hand their fragments back), so a full build creates 16 files, not one per post, and a
one-post edit reads and rewrites one.  Each file starts with the sha256 of the rest; a file
that fails it, or whose salt differs, is ignored and rewritten.  Errors are never kept: a
formula that cannot be typeset is converted, and reported at its line, every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

FOLDER = "fragments"
BUCKETS = 16


class Fragments:
    """One post's fragments during one render: ``get`` a kept one, ``put`` a new one;
    ``used`` is what the render needed (what is kept for the next one)."""

    def __init__(self, kept: dict[str, str] | None = None):
        self.kept = kept or {}
        self.used: dict[str, str] = {}

    def get(self, kind: str, source: str) -> str | None:
        key = f"{kind}\0{source}"
        html = self.kept.get(key)
        if html is not None:
            self.used[key] = html
        return html

    def put(self, kind: str, source: str, html: str) -> None:
        self.used[f"{kind}\0{source}"] = html


class FragmentStore:
    """The fragments of every post, by the post's path (``rel``), in bucket files under
    ``cache_root/fragments``.  ``posts``: the paths of every current post (the fragments of a
    deleted post are dropped when its bucket is next written)."""

    def __init__(self, cache_root: Path, salt: str, posts):
        self.folder = cache_root / FOLDER
        self.salt = salt
        self.posts = set(posts)
        self.buckets: dict[int, dict[str, dict[str, str]]] = {}
        self.changed: set[int] = set()

    def post(self, rel: str) -> Fragments:
        """A post's kept fragments, for one render."""
        return Fragments(dict(self._bucket(bucket_of(rel)).get(rel, {})))

    def load(self, rels) -> None:
        """Read the buckets of these posts now (before render workers fork)."""
        for rel in rels:
            self._bucket(bucket_of(rel))

    def keep(self, rel: str, used: dict[str, str]) -> None:
        """After a good render: the post's fragments are exactly those it used."""
        bucket = self._bucket(bucket_of(rel))
        if bucket.get(rel) != used:
            bucket[rel] = dict(used)
            self.changed.add(bucket_of(rel))

    def save(self) -> None:
        """Write the buckets that changed (dropping posts that no longer exist)."""
        for number in sorted(self.changed):
            posts = {rel: used for rel, used in self.buckets[number].items()
                     if rel in self.posts and used}
            body = json.dumps({"salt": self.salt, "posts": posts}, sort_keys=True,
                              ensure_ascii=False).encode()
            path = self.folder / f"{number}.json"
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
                os.replace(tmp, path)
            except OSError:
                pass
        self.changed.clear()

    def _bucket(self, number: int) -> dict[str, dict[str, str]]:
        bucket = self.buckets.get(number)
        if bucket is None:
            bucket = self.buckets[number] = self._read(self.folder / f"{number}.json")
        return bucket

    def _read(self, path: Path) -> dict[str, dict[str, str]]:
        try:
            checksum, _, body = path.read_bytes().partition(b"\n")
            if checksum.decode() != hashlib.sha256(body).hexdigest():
                return {}
            saved = json.loads(body)
            posts = saved["posts"]
            if saved["salt"] != self.salt or not isinstance(posts, dict):
                return {}
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        return {rel: used for rel, used in posts.items() if isinstance(used, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in used.items())}


def bucket_of(rel: str) -> int:
    return hashlib.sha256(rel.encode()).digest()[0] % BUCKETS


def dist_version(name: str) -> str | None:
    """An installed distribution's version, from its dist-info folder name on sys.path
    (importlib.metadata costs ~10 ms to import)."""
    pattern = re.compile(rf"^{re.escape(name)}-([^-]+)\.dist-info$", re.I)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for found in names:
            match = pattern.match(found)
            if match:
                return match.group(1)
    return None
