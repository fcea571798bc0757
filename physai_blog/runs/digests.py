"""The sha256 of input files, remembered by what ``stat`` says of them.

Reading and hashing every input (the posts, the templates, the package's own files) was most
of a no-op build's own work, and a one-post build did it three times: the no-op check, the
page keys, and the check that nothing changed while it ran.  Here a file's digest is reused
while its stat signature (device, inode, size, mtime and ctime, in nanoseconds) is the one it
was hashed with.  Any write, rename over it or ``touch`` changes the ctime, which no program
can set back; so an edit that restores the mtime is still seen, as with hashing every time.

One case stat cannot tell: a second write in the same timestamp tick as the first, with the
same size.  So a digest taken less than ``RACY`` seconds after the file last changed is not
kept (git's "racily clean" rule): a just-edited post is hashed again until it has settled.

The kept digests live in ``.physai-cache/input-digests.sealed`` (checksummed, ``sealed.py``;
a damaged file is ignored), so a fresh process stats its inputs instead of reading them.
Only on POSIX, where ctime is the change time; elsewhere every digest is computed.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from physai_blog import sealed

RACY = 2.0            # seconds: a file changed this recently is hashed again next time
FILE = "input-digests.sealed"
TRUSTED = os.name == "posix"


class Digests:
    """Path -> sha256 of its content (bytes), by stat signature."""

    def __init__(self):
        self.known: dict[str, tuple] = {}    # path -> ((dev, ino, size, mtime, ctime), sha256)
        self.used: set[str] = set()           # asked for by this process
        self.loaded_from: Path | None = None
        self.dirty = False

    def load(self, cache_dir: Path) -> None:
        """Add the digests kept in ``cache_dir`` (once per cache folder and process)."""
        path = cache_dir / FILE
        if self.loaded_from == path:
            return
        self.loaded_from = path
        entries = sealed.read(path)
        if isinstance(entries, dict):
            for name, entry in entries.items():
                if isinstance(entry, tuple) and len(entry) == 2 and \
                        isinstance(entry[1], bytes) and name not in self.known:
                    self.known[name] = entry

    def save(self, cache_dir: Path, prune: bool = True) -> None:
        """Keep the digests of the files this process asked for, for the next one, if it
        learned any since the file was read.  ``prune``: drop those it did not ask for (a
        whole build asks for every file it still has); the no-op check asks only for the
        inputs, and pruning there made the next edit hash every cached page again."""
        if not self.dirty or not cache_dir.is_dir():
            return
        entries = {name: entry for name, entry in self.known.items()
                   if name in self.used or not prune}
        if sealed.write(cache_dir / FILE, entries):
            self.dirty = False

    def digest(self, path: Path | str) -> bytes | None:
        """sha256 of the file's bytes, or None if it cannot be read."""
        name = str(path)
        self.used.add(name)
        try:
            st = os.stat(name)
        except OSError:
            return None
        signature = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        entry = self.known.get(name)
        if TRUSTED and entry is not None and entry[0] == signature:
            return entry[1]
        started = time.time_ns()
        try:
            with open(name, "rb") as fh:
                digest = hashlib.sha256(fh.read()).digest()
        except OSError:
            return None
        settled = max(st.st_mtime_ns, st.st_ctime_ns) < started - int(RACY * 1e9)
        if TRUSTED and settled:
            self.known[name] = (signature, digest)
            self.dirty = True
        else:
            self.known.pop(name, None)
        return digest


#: One per process: ``serve`` keeps it across builds (every reuse is checked by stat).
DIGESTS = Digests()


def digest(path: Path | str) -> bytes | None:
    return DIGESTS.digest(path)
