"""Checksummed cache files, named once: the build's own indexes and records between builds.

A file is one header line (the format, the interpreter that wrote it, the CRC-32 of the rest)
and the value in ``marshal``'s format: several times faster to read and write than JSON for the
large dicts of a 2,000-post blog, which a one-post edit reads and rewrites (a CRC catches a
torn or damaged file as surely as a sha256 does, at a tenth of the cost).  A damaged,
truncated or foreign file (another Python's marshal) reads as absent and its owner starts
afresh; a file is replaced whole by a rename, never written in place.  marshal is not meant for
untrusted data: these files are only ever the cache's own, written by this module (never
pushed or pulled with the run cache).  Standard library only: the no-op build reads one.
"""

from __future__ import annotations

import binascii
import marshal
import os
import sys
from pathlib import Path

HEADER = f"physai-sealed 2 {sys.implementation.cache_tag} {marshal.version}".encode()


def read(path: Path):
    """The value kept at ``path``, or None when it is missing, damaged or foreign."""
    try:
        head, _, body = path.read_bytes().partition(b"\n")
        header, _, checksum = head.rpartition(b" ")
        if header != HEADER or checksum != b"%08x" % binascii.crc32(body):
            return None
        return marshal.loads(body)
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write(path: Path, value) -> bool:
    """Replace ``path`` with ``value`` (dicts, lists, text, numbers); False where the folder
    is not writable."""
    body = marshal.dumps(value)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_bytes(HEADER + b" %08x\n" % binascii.crc32(body) + body)
        os.replace(tmp, path)
        return True
    except OSError:
        return False


class Entries:
    """A dict kept in one sealed file with each value its own marshal blob: a value is
    decoded when first asked for, and a write encodes again only the values set or changed
    since; the others are carried as the bytes read.  A one-post edit of a 2,000-post blog
    encoded every entry of each per-post index again, ~5 ms an index (``marshal`` tracks
    every object that the build also holds).  ``header``: what the values were made under
    (a format, a schema, a stamp); a file with another header reads as empty."""

    def __init__(self, path: Path | None, header):
        self.path, self.header = path, header
        saved = read(path) if path is not None else None
        ours = isinstance(saved, dict) and saved.get("header") == header and \
            isinstance(saved.get("entries"), dict)
        self._blobs: dict = saved["entries"] if ours else {}
        self._values: dict = {}
        self._changed: set = set()

    def __len__(self) -> int:
        return len(self._blobs.keys() | self._values.keys())

    def get(self, key):
        """The value kept for ``key``, or None (an undecodable blob reads as none)."""
        if key not in self._values:
            self._values[key] = self._decode(self._blobs.get(key))
        return self._values[key]

    def take(self, key):
        """``get(key)`` for a caller that keeps the value as its own: decoded afresh and not
        held here (the blob is carried unless the key is set again)."""
        if key in self._values:   # held (and maybe changed): a copy of it
            value = self._values[key]
            return None if value is None else self._decode(marshal.dumps(value))
        return self._decode(self._blobs.get(key))

    @staticmethod
    def _decode(blob):
        try:
            return marshal.loads(blob) if isinstance(blob, bytes) else None
        except (ValueError, EOFError, TypeError):
            return None

    def set(self, key, value) -> None:
        self._values[key] = value
        self._changed.add(key)

    def changed(self, key) -> None:
        """The value ``get(key)`` returned was changed in place."""
        self._changed.add(key)

    def save(self, keep=None) -> bool:
        """Keep the values of the keys in ``keep`` (a set; None: every key), drop the rest;
        write only if that changes the file.  False where it could not be written."""
        keep = self._blobs.keys() | self._values.keys() if keep is None else keep
        if self.path is None or not self._changed and self._blobs.keys() <= keep:
            return True
        entries = {}
        for key in sorted(keep):
            if key in self._changed:
                entries[key] = marshal.dumps(self._values[key])
            elif isinstance(self._blobs.get(key), bytes):
                entries[key] = self._blobs[key]
        if not write(self.path, {"header": self.header, "entries": entries}):
            return False
        self._blobs, self._changed = entries, set()
        return True
