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
