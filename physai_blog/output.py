"""Stage 6: write the gathered site into a staging folder, then swap it in atomically.

Unchanged files are hard-linked from the current site (same bytes, same mtime), so nothing
downstream sees them as new; when no file changed at all, ``site/`` is not touched.  The swap
is one ``renameat2(RENAME_EXCHANGE)`` on Linux: at every instant ``site/`` is either the whole
previous site or the whole new one.  Elsewhere it falls back to two renames.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

SITE_MANIFEST = ".physai-site.json"
RENAME_EXCHANGE = 2
AT_FDCWD = -100


@dataclass
class WriteReport:
    written: int
    unchanged: int
    removed: int
    swapped: bool


def _content(value) -> bytes:
    return value.read_bytes() if isinstance(value, Path) else value


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return result == 0


def recover(site: Path) -> None:
    """Finish or undo a swap that a killed build left half-done (non-Linux fallback only)."""
    old = site.with_name(f".{site.name}.old")
    if not site.exists() and old.exists():
        os.rename(old, site)
    shutil.rmtree(old, ignore_errors=True)
    for stale in site.parent.glob(f".{site.name}.new-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _intact(site: Path, contents: dict[str, bytes]) -> bool:
    """Cheap check that nobody added, removed or resized a file of the site since it was
    written (e.g. an experiment writing into ``site/``): if so the site is written again."""
    found = {}
    for dirpath, _, filenames in os.walk(site):
        for name in filenames:
            path = Path(dirpath) / name
            found[path.relative_to(site).as_posix()] = path
    found.pop(SITE_MANIFEST, None)
    if set(found) != set(contents):
        return False
    return all(not path.is_symlink() and path.stat().st_size == len(contents[rel])
               for rel, path in found.items())


def _same_file(path: Path, digest: str) -> bool:
    """An unchanged file of the current site, safe to hard-link into the new one."""
    if path.is_symlink() or not path.is_file():
        return False
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest() == digest


def _stats(folder: Path, rels) -> dict[str, list[int]]:
    out = {}
    for rel in rels:
        try:
            st = os.lstat(folder / rel)
        except OSError:
            continue
        out[rel] = [st.st_ino, st.st_size, st.st_mtime_ns]
    return out


def _load_stats(state: Path | None) -> dict:
    try:
        stats = json.loads(state.read_text()) if state is not None else {}
    except (OSError, ValueError):
        return {}
    return stats if isinstance(stats, dict) else {}


def write_site(site: Path, files: dict[str, bytes | Path],
               state: Path | None = None) -> WriteReport:
    """Stage, then swap.  ``state`` (in the cache) keeps the inode, size and mtime of every
    file written: an unchanged file of the current site is recognised by them instead of
    being hashed again."""
    recover(site)
    contents = {rel: _content(value) for rel, value in files.items()}
    digests = {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(contents.items())}
    manifest = (json.dumps(digests, sort_keys=True, indent=0) + "\n").encode()
    previous = site / SITE_MANIFEST
    if previous.is_file() and previous.read_bytes() == manifest and _intact(site, contents):
        return WriteReport(0, len(contents), 0, False)
    old_digests = {}
    if previous.is_file():
        try:
            old_digests = json.loads(previous.read_text())
        except ValueError:
            old_digests = {}
    known = _load_stats(state)
    stage = site.with_name(f".{site.name}.new-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    written = unchanged = 0
    made = set()
    for rel, data in sorted(contents.items()):
        target = stage / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        current = site / rel
        if old_digests.get(rel) == digests[rel] and (
                (rel in known and _stats(site, [rel]).get(rel) == known[rel])
                or _same_file(current, digests[rel])):
            try:
                os.link(current, target)
                unchanged += 1
                continue
            except OSError:
                pass
        target.write_bytes(data)
        written += 1
    (stage / SITE_MANIFEST).write_bytes(manifest)
    removed = len(set(old_digests) - set(digests))
    stats = _stats(stage, contents) if state is not None else {}
    if site.exists():
        if not _exchange(stage, site):
            old = site.with_name(f".{site.name}.old")
            os.rename(site, old)
            os.rename(stage, site)
            stage = old
        shutil.rmtree(stage, ignore_errors=True)
    else:
        os.rename(stage, site)
    if state is not None:   # renames keep inodes: these are the stats of site/ now
        tmp = state.with_name(f".{state.name}.{os.getpid()}")
        tmp.write_text(json.dumps(stats, sort_keys=True))
        os.replace(tmp, state)
    return WriteReport(written, unchanged, removed, True)
