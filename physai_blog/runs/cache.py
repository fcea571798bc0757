"""The content-addressed cache, ``.physai-cache/``.

    runs/<key>/       one run's observables + manifest.json
    figures/<key>/    one drawn figure + manifest.json
    tmp/              entries being written (renamed into place when complete)
    checkpoints/<key>/  the last ``log.checkpoint`` of a run not finished yet
    live/<key>/       the series of a run training now (``serve`` shows them)
    lock              held by the build that uses the cache

An entry is written in ``tmp/`` and renamed into place, so a killed build leaves no partial
entry.  Every read verifies the manifest's own checksum and the sha256 of every file; an entry
that fails (truncated, bit-flipped, missing or foreign files) is discarded with a warning and
recomputed, never served.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from physai_blog.errors import CacheLocked
from physai_blog.paths import CACHE_DIR
from physai_blog.runs.digests import DIGESTS

MANIFEST = "manifest.json"


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: Path) -> str | None:
    """sha256 of a small input file (a post, an included image), or None if unreadable;
    known from its stat signature when it was hashed before (``digests.py``)."""
    digest = DIGESTS.digest(path)
    return digest.hex() if digest is not None else None


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_of(obj) -> str:
    """The cache key of a JSON-able description of everything that affects an output."""
    return hashlib.sha256(canonical(obj)).hexdigest()


def _files_under(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative, sorted); a symlink counts as a file, so a
    symlinked folder is foreign to an entry, never followed."""
    out: list[str] = []

    def walk(path: str, prefix: str) -> None:
        with os.scandir(path) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, f"{prefix}{entry.name}/")
                else:
                    out.append(prefix + entry.name)

    walk(str(folder), "")
    return out


def write_manifest(folder: Path, key: str, info: dict, durable: bool = False) -> dict:
    """Hash every file in ``folder`` and write its manifest (with a checksum of itself).
    ``durable``: each file is flushed to disk as it is hashed (one open for both), then the
    manifest, then every folder holding them."""
    files = {}
    for rel in _files_under(folder):
        if rel != MANIFEST:
            files[rel] = _hash_file(f"{folder}/{rel}", durable)
    manifest = {**info, "key": key, "files": files}
    manifest["checksum"] = hashlib.sha256(canonical(manifest)).hexdigest()
    data = (json.dumps(manifest, sort_keys=True, indent=1) + "\n").encode()
    fd = os.open(folder / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if durable:   # the names in every folder of the entry
        folders = {"/".join(rel.split("/")[:depth]) for rel in files
                   for depth in range(rel.count("/") + 1)}
        for sub in sorted(folders | {""}):
            _fsync_dir(folder / sub)
    return manifest


def _hash_file(path: str, flush: bool) -> dict:
    """sha256 and size of one file of an entry; ``flush``: its data on disk too."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        while block := os.read(fd, 1 << 20):
            h.update(block)
        if flush:
            os.fsync(fd)
    finally:
        os.close(fd)
    return {"sha256": h.hexdigest(), "bytes": size}


def _fsync_dir(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_entry(folder: Path, key: str, by_stat: bool = False) -> tuple[dict | None, str]:
    """(manifest, "") if the entry is whole and matches ``key``; else (None, why).
    ``by_stat``: a file's sha256 taken from its stat signature where it was hashed before
    (``digests.py``: any write since changes its ctime), not read again."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        return None, "manifest.json is missing"
    except (OSError, ValueError) as exc:
        return None, f"manifest.json is unreadable ({exc.__class__.__name__})"
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None, "manifest.json is malformed"
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    if manifest.get("checksum") != hashlib.sha256(canonical(body)).hexdigest():
        return None, "manifest.json fails its checksum"
    if manifest.get("key") != key:
        return None, "manifest.json belongs to another entry"
    expected = set(manifest["files"])
    present = set(_files_under(folder)) - {MANIFEST}
    if present - expected:
        return None, f"foreign file {sorted(present - expected)[0]}"
    for rel, meta in sorted(manifest["files"].items()):
        if rel not in present:
            return None, f"{rel} is missing"
        path = f"{folder}/{rel}"
        try:
            size = os.stat(path).st_size
            digest = None if size != meta.get("bytes") else \
                file_digest(path) if by_stat else file_sha256(path)
        except OSError:
            return None, f"{rel} is unreadable"
        if digest != meta.get("sha256"):
            return None, f"{rel} fails its sha256"
    return manifest, ""


class Cache:
    """Runs and figures by key.  ``warn`` receives one line per discarded entry."""

    def __init__(self, root: Path, warn=None):
        self.root = Path(root)
        self.warn = warn or (lambda message: None)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def load(self, kind: str, key: str, by_stat: bool = False) -> dict | None:
        """The verified manifest of an entry, or None (a bad entry is removed, with a warning).
        ``by_stat``: see ``verify_entry``."""
        folder = self.path(kind, key)
        if not folder.exists():
            return None
        manifest, why = verify_entry(folder, key, by_stat)
        if manifest is None:
            self.warn(f"cache entry {CACHE_DIR}/{kind}/{key[:12]}… is corrupt ({why}); "
                      "discarded and recomputed")
            shutil.rmtree(folder, ignore_errors=True)
        return manifest

    def new_tmp(self) -> Path:
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.root / "tmp"))

    def commit(self, kind: str, key: str, folder: Path, info: dict,
               durable: bool = False) -> dict:
        """Write the manifest of a finished ``tmp`` folder and rename it into place.
        ``durable``: its files, manifest and folders flushed to disk before the rename, and
        the rename after it, so the entry survives the machine dying (a run may have cost
        hours; a figure or a page is cheap to redo and skips the fsyncs)."""
        manifest = write_manifest(folder, key, info, durable)
        target = self.path(kind, key)
        try:
            os.rename(folder, target)
        except FileNotFoundError:   # the first entry of its kind (or ``folder`` is gone)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(folder, target)
        except OSError as exc:   # an entry of that key is there already: replaced
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            shutil.rmtree(target)
            os.rename(folder, target)
        if durable:
            _fsync_dir(target.parent)
        return manifest

    # -- single-file entries (rendered pages): one data file and its manifest, no folder -----
    def file_name(self, kind: str, key: str, suffix: str) -> str:
        """The entry's file, as text (a Path per page was a fifth of the page stage's loop)."""
        return f"{self.root}/{kind}/{key}{suffix}"

    def file_path(self, kind: str, key: str, suffix: str) -> Path:
        return Path(self.file_name(kind, key, suffix))   # one parse: asked once per page

    def put_file(self, kind: str, key: str, data: bytes, info: dict, suffix: str) -> dict:
        """Store ``data`` as ``<kind>/<key><suffix>`` with ``<key>.json`` beside it (written
        last: an entry without its manifest does not exist); its manifest.  Cheaper than a
        folder entry for the hundreds of small pages of a blog."""
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {**info, "key": key, "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data)}
        manifest["checksum"] = hashlib.sha256(canonical(manifest)).hexdigest()
        path = self.file_path(kind, key, suffix)
        for name, payload in ((path.name, data),
                              (f"{key}.json", json.dumps(manifest, sort_keys=True).encode())):
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_bytes(payload)
            os.replace(tmp, folder / name)
        return manifest

    def get_file(self, kind: str, key: str, suffix: str) -> tuple[Path, dict] | None:
        """(path, manifest) of a verified single-file entry, or None (a bad one is removed)."""
        path = self.file_path(kind, key, suffix)
        folder = path.parent
        try:
            manifest = json.loads((folder / f"{key}.json").read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            manifest = None
        why = ""
        if not isinstance(manifest, dict):
            why = "manifest unreadable"
        elif manifest.get("checksum") != hashlib.sha256(canonical(
                {k: v for k, v in manifest.items() if k != "checksum"})).hexdigest() \
                or manifest.get("key") != key:
            why = "manifest fails its checksum"
        else:
            # Its sha256, known from its stat signature when this file was hashed before
            # (``digests.py``: any write or touch changes the ctime); a one-post rebuild
            # asks for every page, and re-reading them all grew with the blog.
            try:
                size = os.stat(path).st_size
            except OSError:
                size = None
            digest = DIGESTS.digest(path) if size == manifest.get("bytes") else None
            if digest is None or digest.hex() != manifest.get("sha256"):
                why = f"{path.name} fails its sha256"
        if why:
            self.warn(f"cache entry {CACHE_DIR}/{kind}/{key[:12]}… is corrupt ({why}); "
                      "discarded and recomputed")
            for name in (path.name, f"{key}.json"):
                try:
                    (folder / name).unlink()
                except OSError:
                    pass
            return None
        return path, manifest

    # -- the last key of each (post, run label), to explain cache misses ---------------------
    def latest(self, slug: str, label: str) -> str | None:
        return self.index(slug).get(label)

    def index(self, slug: str) -> dict:
        """Every (run label -> key) a post had last."""
        try:
            known = json.loads((self.root / "index" / f"{slug}.json").read_text())
        except (OSError, ValueError):
            return {}
        return known if isinstance(known, dict) else {}

    def remember(self, slug: str, keys: dict[str, str]) -> None:
        folder = self.root / "index"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug}.json"
        try:
            known = json.loads(path.read_text())
        except (OSError, ValueError):
            known = {}
        merged = {**known, **keys} if isinstance(known, dict) else keys
        if merged == known:
            return
        tmp = folder / f".{slug}.json.{os.getpid()}"
        tmp.write_text(json.dumps(merged, sort_keys=True, indent=1) + "\n")
        os.replace(tmp, path)

    # -- checkpoints of unfinished runs (``log.checkpoint``): scratch, never an entry -------
    def checkpoints(self, key: str) -> Path:
        return self.root / "checkpoints" / key

    def prune_checkpoints(self, keep: set[str]) -> None:
        """Delete the checkpoints of runs no post has any more (a script or params edited
        since): a checkpoint is kept only while its run may still resume from it."""
        try:
            names = os.listdir(self.root / "checkpoints")
        except OSError:
            return
        for name in names:
            if name not in keep:
                shutil.rmtree(self.root / "checkpoints" / name, ignore_errors=True)

    def live(self, key: str) -> Path:
        """A run's observables while it trains (``runtime/live.py``), for ``serve``."""
        return self.root / "live" / key

    def clear_tmp(self) -> None:
        shutil.rmtree(self.root / "tmp", ignore_errors=True)
        shutil.rmtree(self.root / "live", ignore_errors=True)   # left by a killed build

    @contextlib.contextmanager
    def lock(self):
        """Hold the cache for one build; a second build at once gets a clear error."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise CacheLocked(f"another physai-blog build (pid {holder}) is using "
                                  f"{CACHE_DIR}/ of this blog; wait for it to finish")
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self.clear_tmp()
            yield self
        finally:
            os.close(fd)
