"""Stage 6: write the gathered site into a staging folder, then swap it in atomically.

The stage is the *back buffer*, ``.physai-cache/site-back/``: the site before last, which the
last swap left there.  It is brought up to date in place (a file that differs is replaced by
a rename; an unchanged file of ``site/`` is hard-linked, same bytes and mtime), so a one-post
edit costs a few file operations, not a new folder tree.  Where there is no usable back
buffer, a fresh staging folder beside ``site/`` is used instead.  The swap is one
``renameat2(RENAME_EXCHANGE)`` on Linux: at every instant ``site/`` is either the whole
previous site or the whole new one.  Elsewhere it falls back to two renames.  When no file
changed at all, ``site/`` is not touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from physai_blog import sealed
from physai_blog.output import tree

SITE_MANIFEST = ".physai-site.json"
STATE = "site-files.sealed"   # in the cache: what the last write recorded
BACK = "site-back"            # beside it: the back buffer
RENAME_EXCHANGE = 2
AT_FDCWD = -100


@dataclass
class WriteReport:
    written: int
    unchanged: int
    removed: int
    swapped: bool


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return result == 0


def _renameat2():
    """libc's renameat2, or None.  First from the symbols the interpreter already has loaded
    (no search): ``ctypes.util.find_library`` imports subprocess and runs ``ldconfig``, ~5 ms
    of a one-post rebuild."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        import ctypes.util

        try:
            renameat2 = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                                    use_errno=True).renameat2
        except (OSError, AttributeError):
            return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    return renameat2


def recover(site: Path) -> None:
    """Finish or undo a swap that a killed build left half-done (non-Linux fallback only)."""
    old = site.with_name(f".{site.name}.old")
    if not site.exists() and old.exists():
        os.rename(old, site)
    shutil.rmtree(old, ignore_errors=True)
    for stale in site.parent.glob(f".{site.name}.new-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _intact(site: Path, sizes: dict[str, int], kept) -> bool:
    """Cheap check that nobody added, removed or resized a file of the site since it was
    written (e.g. an experiment writing into ``site/``): if so the site is written again.
    ``kept``: the site's folders as recorded when it was staged (``tree.py``)."""
    entries, _ = tree.known_listing(site, kept) or tree.listing(site)
    entries.pop(SITE_MANIFEST, None)
    if set(entries) != set(sizes) or not all(entries.values()):
        return False
    return all(os.lstat(f"{site}/{rel}").st_size == size for rel, size in sizes.items())


def _file_sha256(path: str) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


#: A file's record: its inode, size, mtime and ctime packed, then its sha256 (hex, ASCII).
#: One bytes object, not a list of five: a 2,000-post site's records read and written at
#: every build were ~30,000 objects.
RECORD = struct.Struct("<4q")


def stat_record(path: str) -> bytes | None:
    """The packed inode, size, mtime and ctime of a regular file (not a symlink), else
    None.  The ctime moves on any write, even one that keeps the size and puts the mtime
    back: the site's files are hard links of cache entries, so a damaged entry must not pass
    as known."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return RECORD.pack(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) \
        if stat.S_ISREG(st.st_mode) else None


class WriteState(NamedTuple):
    """What the last write recorded (``load_state``)."""

    known: dict          # site rel -> [record, ...] (``RECORD``) of the files this program
                         # wrote and has not seen changed since, in site/ and the back buffer
    sources: dict        # cache file -> [inode, size, mtime, sha256] when it was last read
    trees: dict          # the folder records of site/ ("site") and the back buffer ("back")
    fresh: list | None   # where the back buffer may differ from site/ (None: unknown)
    manifest: str | None  # the sha256 of the manifest it swapped in: whose records these are


def load_state(state: Path | None) -> WriteState:
    saved = sealed.read(state) if state is not None else None
    if not isinstance(saved, dict) or not isinstance(saved.get("site"), dict) \
            or not isinstance(saved.get("sources"), dict):
        return WriteState({}, {}, {}, None, None)
    trees, fresh = saved.get("trees"), saved.get("fresh")
    return WriteState(saved["site"], saved["sources"], trees if isinstance(trees, dict) else {},
                      fresh if isinstance(fresh, list) else None, saved.get("manifest"))


def is_known(known: dict, rel: str, path: str, digest: str) -> bytes | None:
    """The record saying ``path`` is a file we wrote with these bytes (its inode, size, mtime
    and ctime now are the recorded ones), or None."""
    here = stat_record(path)
    if here is not None:
        here += digest.encode()
        records = known.get(rel)
        if isinstance(records, list) and here in records:   # one comparison per record, in C
            return here
    return None


def usable_back(back: Path | None, site: Path) -> bool:
    """The back buffer can become the next site: a real folder on site/'s file system."""
    try:
        return back is not None and not back.is_symlink() and back.is_dir() and \
            os.stat(back).st_dev == os.stat(site.parent).st_dev
    except OSError:
        return False


class _Contents:
    """The files of the new site: bytes, or paths (str or Path) read only when their bytes
    are needed (a cache file whose inode, size and mtime are unchanged keeps its sha256;
    one in ``vouched``, whose sha256 the caller has just verified, is not even stat'ed)."""

    def __init__(self, files: dict[str, bytes | str | Path], seen: dict, vouched: dict):
        self.files = files
        self.digests: dict[str, str] = {}
        self.sources: dict[str, list] = {}
        for rel in sorted(files):
            value = files[rel]
            if isinstance(value, bytes):
                self.digests[rel] = hashlib.sha256(value).hexdigest()
                continue
            hint = vouched.get(rel)
            if hint is not None and hint[0] == value and hint[1]:   # still that file
                self.digests[rel] = hint[1]
                continue
            path = str(value)
            st = os.stat(path)
            key = [st.st_ino, st.st_size, st.st_mtime_ns]
            record = seen.get(path)
            if isinstance(record, list) and record[:3] == key and len(record) == 4:
                digest = record[3]
            else:
                digest = _file_sha256(path)
                if digest is None:
                    raise FileNotFoundError(path)
            self.digests[rel] = digest
            self.sources[path] = key + [digest]

    def sizes(self) -> dict[str, int]:
        """Every file's size (a stat of each path: only for the check of an unchanged site)."""
        return {rel: len(value) if isinstance(value, bytes) else os.stat(value).st_size
                for rel, value in self.files.items()}

    def data(self, rel: str) -> bytes:
        value = self.files[rel]
        return value if isinstance(value, bytes) else Path(value).read_bytes()

    def put(self, rel: str, target: str, manifest: bytes, link_from: Path | None) -> None:
        """Write the new bytes of ``rel`` (``manifest`` for the site's manifest) at
        ``target``, a path that does not exist: a hard link of a file under ``link_from``."""
        value = self.files.get(rel) if rel != SITE_MANIFEST else None
        if isinstance(value, (str, Path)) and link_from is not None and \
                os.fspath(value).startswith(f"{link_from}{os.sep}"):
            try:
                os.link(value, target)
                return
            except OSError:
                pass
        with open(target, "wb") as fh:
            fh.write(manifest if rel == SITE_MANIFEST else self.data(rel))


def write_site(site: Path, files: dict[str, bytes | str | Path],
               state: Path | None = None, link_from: Path | None = None,
               vouched: dict[str, tuple] | None = None) -> WriteReport:
    """Stage the new site (the back buffer where there is one), then swap it in.  ``state``
    (in the cache) records the inode, size, mtime and sha256 of every file written and read,
    and the folders staged, so unchanged files are recognised without being read or hashed.
    Files under ``link_from`` (the cache, whose entries are only replaced) are hard-linked.
    ``vouched``: rel -> (a path value, its sha256 in hex) the caller has just verified
    (cached pages), taken without a stat where ``files[rel]`` is still that value."""
    recover(site)
    known, seen, trees, _, _ = load_state(state)
    new = _Contents(files, seen, vouched or {})
    digests = new.digests
    manifest = manifest_of(digests)
    previous, kept = site / SITE_MANIFEST, trees.get("site")
    if previous.is_file() and previous.read_bytes() == manifest and \
            _intact(site, new.sizes(), kept):
        return WriteReport(0, len(digests), 0, False)
    old_digests = _previous_digests(previous)
    all_digests = {**digests, SITE_MANIFEST: hashlib.sha256(manifest).hexdigest()}

    def put(rel: str, target: str) -> None:
        new.put(rel, target, manifest, link_from)

    def source(rel: str) -> str | None:
        """The file of the current site/ with the wanted bytes, to hard-link."""
        if rel == SITE_MANIFEST or old_digests.get(rel) != digests[rel]:
            return None
        current = f"{site}/{rel}"
        if is_known(known, rel, current, digests[rel]) or (
                stat_record(current) is not None and _file_sha256(current) == digests[rel]):
            return current
        return None

    back = state.with_name(BACK) if state is not None else None
    stage, verified, touched = None, {}, None
    if usable_back(back, site):
        try:
            written, unchanged, touched = _update_back(back, all_digests, known, source, put,
                                                       verified, trees.get("back"))
            stage = back
        except OSError:   # its records are void: _fill links files of site/ (new ctimes)
            verified.clear()
            shutil.rmtree(back, ignore_errors=True)
    if stage is None:
        stage = site.with_name(f".{site.name}.new-{os.getpid()}")
        shutil.rmtree(stage, ignore_errors=True)
        written, unchanged = _fill(stage, all_digests, source, put)
    records = (_known_after(stage, all_digests, old_digests, known, verified),
               tree.record(stage, all_digests, trees.get("back") if touched is not None else None,
                           touched or frozenset()))
    had_site = site.exists()
    swap(site, stage, back)
    if state is not None:   # renames keep inodes: these records hold for site/ and back
        sealed.write(state, {"site": records[0], "sources": new.sources,
                             "trees": {"site": records[1], "back": kept},
                             "fresh": _fresh(old_digests, all_digests, had_site, back),
                             "manifest": all_digests[SITE_MANIFEST]})
    return WriteReport(written, unchanged, len(set(old_digests) - set(digests)), True)


def _fresh(old: dict, new: dict, had_site: bool, back: Path | None) -> list | None:
    """Where the back buffer (the old site, after the swap) differs from the new site
    (``patch.py``), or None: no old site, no back buffer."""
    if not had_site or back is None or not back.is_dir():
        return None
    return sorted(rel for rel in {*new, *old} if old.get(rel) != new.get(rel))


def manifest_of(digests: dict[str, str]) -> bytes:
    """The site's manifest: ``json.dumps(digests, sort_keys=True, indent=0)`` and a newline,
    the same bytes, made without the pure-Python encoder that ``indent`` selects (a few ms
    at 2,000 pages; test_output compares the two)."""
    if not digests:
        return b"{}\n"
    quote = json.encoder.encode_basestring_ascii
    return ("{\n" + ",\n".join(f"{quote(rel)}: {quote(digests[rel])}" for rel in sorted(digests))
            + "\n}\n").encode()


def _previous_digests(previous: Path) -> dict:
    """The manifest of the current site/, or {} when there is none (or it is damaged)."""
    try:
        old = json.loads(previous.read_text()) if previous.is_file() else {}
    except ValueError:
        return {}
    return old if isinstance(old, dict) else {}


def _known_after(stage: Path, digests: dict, old_digests: dict, known: dict,
                 verified: dict) -> dict[str, list[bytes]]:
    """What is known after the swap: each file of the new site (the stage; ``verified``:
    those just checked against their record, whose stat has not moved since), and the records
    of the old site's files (the next back buffer).  Those are carried without a stat: a
    record is trusted only once a later lstat matches it, and any write moves the ctime."""
    after: dict[str, list[bytes]] = {}
    for rel, digest in digests.items():
        record = verified.get(rel)
        if record is None:
            here = stat_record(f"{stage}/{rel}")
            record = here + digest.encode() if here is not None else None
        if record is not None:
            after[rel] = [record]
    cut = RECORD.size
    for rel, digest in old_digests.items():
        records = known.get(rel)
        if not isinstance(records, list) or not isinstance(digest, str):
            continue
        wanted = digest.encode()
        for record in records:
            if isinstance(record, bytes) and record[cut:] == wanted and \
                    record not in after.get(rel, ()):
                after.setdefault(rel, []).append(record)
    return after


def _fill(stage: Path, digests: dict[str, str], source, put) -> tuple[int, int]:
    """A fresh staging folder: unchanged files linked from site/, the others written."""
    stage.mkdir(parents=True)
    written = unchanged = 0
    made = set()
    for rel in sorted(digests):
        target = f"{stage}/{rel}"
        parent = target.rsplit("/", 1)[0]
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        current = source(rel)
        if current is not None:
            try:
                os.link(current, target)
                unchanged += 1
                continue
            except OSError:
                pass
        put(rel, target)
        written += rel != SITE_MANIFEST
    return written, unchanged


def _update_back(back: Path, digests: dict[str, str], known: dict, source, put,
                 verified: dict, kept) -> tuple[int, int, set[str] | None]:
    """Make the back buffer hold exactly the wanted files; (written, kept or linked, the
    folders whose entries it changed: None when the folder record did not hold).
    ``verified`` receives the record of each file kept as it was; ``kept``: the back
    buffer's folders as recorded when it was staged (``tree.py``)."""
    listed = tree.known_listing(back, kept)
    entries, folders = listed or tree.listing(back)
    touched: set[str] = set()
    needed: set[str] = set()
    for rel in digests:
        for folder in tree.ancestors(rel):
            if folder in needed:
                break
            needed.add(folder)
    for rel, is_file in entries.items():
        if rel not in digests or not is_file:
            os.unlink(f"{back}/{rel}")
            touched.update(tree.ancestors(rel))
    for rel in sorted(folders - needed, key=len, reverse=True):
        shutil.rmtree(f"{back}/{rel}", ignore_errors=True)
        touched.update(tree.ancestors(rel))
    written = unchanged = 0
    for rel in sorted(digests):
        target = f"{back}/{rel}"
        record = is_known(known, rel, target, digests[rel]) if entries.get(rel) else None
        if record is not None:
            verified[rel] = record
            unchanged += 1
            continue
        touched.update(tree.ancestors(rel))
        if rel in folders:                       # a folder where a file belongs
            shutil.rmtree(target)
        os.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        current = source(rel)
        if current is not None and entries.get(rel) and \
                os.path.samestat(os.lstat(target), os.lstat(current)):
            unchanged += 1          # already the (verified) file of site/, hard-linked
            continue
        linked = False
        if current is not None:
            try:
                os.link(current, tmp)
                linked = True
            except OSError:
                pass
        if not linked:
            put(rel, tmp)
        os.replace(tmp, target)
        if os.path.lexists(tmp):    # rename() of two links to one file does nothing
            os.unlink(tmp)
        if linked:
            unchanged += 1
        elif rel != SITE_MANIFEST:
            written += 1
    return written, unchanged, touched if listed is not None else None


def swap(site: Path, stage: Path, back: Path | None) -> None:
    """Put ``stage`` in place of ``site``; the old site becomes the back buffer."""
    if not site.exists():
        os.rename(stage, site)
        return
    if not _exchange(stage, site):
        old = site.with_name(f".{site.name}.old")
        os.rename(site, old)
        os.rename(stage, site)
        stage = old
    if back is None:
        shutil.rmtree(stage, ignore_errors=True)
    elif stage != back:
        shutil.rmtree(back, ignore_errors=True)
        try:
            os.rename(stage, back)      # the old site is the next build's back buffer
        except OSError:
            shutil.rmtree(stage, ignore_errors=True)

