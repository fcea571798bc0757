"""Posts as they were validated when their file last had these bytes, kept between builds.

A one-post edit of a 2,000-post blog read, split and validated every other post again: most of
its load stage.  The index keeps, per post file, the sha256 of its bytes (known from its stat
signature, ``runs/digests.py``: no read), its validated front matter, its lines and warnings;
a post whose file still has that sha256 is made from the index and its body is read only when
something asks for it (``Post.body``), checked against that sha256 then.

What else a post's fields depend on is checked at every build, never kept: whether its default
experiment ``experiments/<slug>.py`` exists, and the experiment path it names.  Notebook posts
are always read (their cells are the post).  A damaged or
older-format file is ignored (``sealed.py``), and the next build writes a new one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from physai_blog import sealed
from physai_blog.content.front_matter import UNCACHEABLE, decode, encode

#: 2: entries keep the key of their front matter's text (``front_key``); a change of the
#: Post's fields changes the schema (``schema_of``) as well.  3: each entry its own blob
#: (``sealed.Entries``).  4: every attribute kept, defaults too, and the names to decode.
FORMAT = 4
FILE = "post-index.sealed"


class PostIndex:
    """rel -> the post read from it last, by the sha256 of the file (``digest(path)``)."""

    def __init__(self, path: Path | None, digest: Callable[[Path], bytes | None],
                 schema: str):
        self.digest = digest
        self.store = sealed.Entries(path, [FORMAT, schema])
        self.kept: set[str] = set()

    def lookup(self, path: Path, rel: str) -> tuple[str | None, dict | None]:
        """(the file's sha256 now, its entry if the index has one for exactly these bytes)."""
        digest = self.digest(path)
        if digest is None:
            return None, None
        hexdigest = digest.hex()
        entry = self.store.take(rel)     # the post made from it owns it: no copies
        if isinstance(entry, dict) and entry.get("sha256") == hexdigest:
            self.kept.add(rel)
            return hexdigest, entry
        return hexdigest, None

    @staticmethod
    def fields(entry: dict) -> dict:
        """The post's attributes kept in an entry (every one, defaults too), decoded in
        place: the entry is the caller's own (``take``, or the copy ``same_front`` gives)."""
        fields = entry["fields"]
        for name in entry["coded"]:
            fields[name] = decode(fields[name])
        return fields

    def same_front(self, rel: str, sha256: str, front: str) -> dict | None:
        """The entry of a file whose bytes changed (``sha256`` now) but not its front matter
        (``front``: ``front_key``): an edit of the body keeps the fields validated before, and
        the entry is kept for the new bytes."""
        entry = self.store.get(rel)
        if not isinstance(entry, dict) or entry.get("front") != front:
            return None
        entry["sha256"] = sha256
        self.store.changed(rel)
        self.kept.add(rel)
        return self.store.take(rel)   # the post's own copy

    def put(self, rel: str, sha256: str, fields: dict, lines: dict, body_line: int,
            given: bool, warnings: list[str], front: str) -> None:
        """Keep a post just read (``fields``: every attribute its front matter gives, the
        defaults too; ``given``: its front matter names its experiment)."""
        encoded, coded = {}, []
        for name, value in fields.items():
            encoded[name] = encode(value)
            if encoded[name] is UNCACHEABLE:
                return
            if encoded[name].__class__ is not value.__class__ or encoded[name] != value:
                coded.append(name)   # a date, a mapping, inf: decoded when made from the index
        self.store.set(rel, {"sha256": sha256, "fields": encoded, "coded": coded,
                             "lines": lines, "body_line": body_line, "given": given,
                             "warnings": warnings, "front": front})
        self.kept.add(rel)

    def save(self, every: bool = False) -> None:
        """Keep the entries of the posts read by this build (``every``: of all posts, for a
        build that read only some); write if anything changed."""
        self.store.save(None if every else self.kept)


def front_key(text: str, first_line: int) -> str:
    """What a post's fields are read from in its file: its front matter's text and place."""
    return hashlib.sha256(f"{first_line}\0{text}".encode()).hexdigest()


def schema_of(digest: Callable[[Path], bytes | None]) -> str:
    """What decides a post's fields besides its file: the code of this stage (a change to a
    key's type or default makes every post be read again)."""
    here = Path(__file__).parent
    files = [*sorted(here.glob("*.py")), here.parent / "runtime" / "names.py"]
    return hashlib.sha256(b"".join(digest(path) or b"-" for path in files)).hexdigest()
