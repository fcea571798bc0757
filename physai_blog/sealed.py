"""Checksummed JSON files in the cache, named once: the first line is the sha256 of the rest.

A damaged, truncated or hand-edited file reads as absent (its owner starts afresh), and a file
is replaced whole by a rename, never written in place.  Standard library only: the no-op
build reads one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def read(path: Path):
    """The JSON value kept at ``path``, or None when it is missing or fails its checksum."""
    try:
        checksum, _, body = path.read_bytes().partition(b"\n")
        if checksum.decode() != hashlib.sha256(body).hexdigest():
            return None
        return json.loads(body)
    except (OSError, ValueError):
        return None


def write(path: Path, value) -> bool:
    """Replace ``path`` with ``value`` (keys sorted); False where the folder is not writable."""
    body = json.dumps(value, sort_keys=True).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
