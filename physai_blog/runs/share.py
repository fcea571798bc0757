"""Share results instead of re-training: ``cache push DEST`` and ``cache pull SRC``.

A store is a folder (a shared drive) or any fsspec URL (``s3://bucket/physai``, ``gcs://``,
``ssh://``, ``http://`` read-only), laid out by content:

    objects/<sha256[:2]>/<sha256>    every file of every entry, once, named by its sha256
    <kind>/<key>.json                an entry's manifest (runs, figures, notebooks)

A push uploads the objects an entry lacks, then its manifest (so a push stopped half-way
leaves objects nobody names, never an entry without its files).  A pull fetches each entry
the local cache lacks, checks every object against the sha256 and size its manifest names,
assembles the entry in ``tmp/`` and renames it into place only if it then verifies as a whole
(``verify_entry``): a tampered, partial or foreign entry is refused with a warning, and the
next build recomputes it.  Checkpoints of unfinished runs are never shared.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from physai_blog.errors import PhysaiError
from physai_blog.paths import CACHE_DIR
from physai_blog.runs.cache import MANIFEST, Cache, verify_entry

KINDS = ("runs", "figures", "notebooks")


@dataclass
class Shared:
    """What a push or a pull did, entry counts by outcome."""

    copied: int = 0
    present: int = 0
    objects: int = 0
    refused: list[str] = field(default_factory=list)


class _Folder:
    """A store on a local (or mounted) filesystem: no fsspec needed."""

    def __init__(self, path: str):
        self.root = Path(path)

    def read(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except OSError:
            return None

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def keys(self, kind: str) -> list[str]:
        try:
            return sorted(n[:-5] for n in os.listdir(self.root / kind) if n.endswith(".json"))
        except OSError:
            return []


class _Fsspec:
    """A store at an fsspec URL (S3, GCS, SSH, HTTP...)."""

    def __init__(self, url: str):
        try:
            import fsspec   # edge: only for a store at a URL
        except ImportError:
            raise PhysaiError(f"{url}: a store at a URL needs fsspec: "
                              "pip install 'physai-blog[share]' (and s3fs, gcsfs... for its "
                              "protocol)")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise PhysaiError(f"{url}: {exc}")
        self.root = self.root.rstrip("/")

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def read(self, rel: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(rel))
        except (OSError, FileNotFoundError):
            return None

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self._path(rel)))

    def write(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(rel), data)

    def keys(self, kind: str) -> list[str]:
        try:
            names = self.fs.ls(self._path(kind), detail=False)
        except (OSError, FileNotFoundError):
            return []
        return sorted(PurePosixPath(n).name[:-5] for n in names if n.endswith(".json"))


def open_store(where: str):
    """The store at a folder path or a URL (``scheme://...``)."""
    return _Fsspec(where) if "://" in where and not where.startswith("file://") \
        else _Folder(where.removeprefix("file://"))


def _object(sha: str) -> str:
    return f"objects/{sha[:2]}/{sha}"


def push(cache: Cache, where: str) -> Shared:
    """Copy every whole run, figure and notebook entry of ``cache`` into the store."""
    store, done = open_store(where), Shared()
    for kind in KINDS:
        folder = cache.root / kind
        names = sorted(os.listdir(folder)) if folder.is_dir() else []
        for key in names:
            manifest, _ = verify_entry(folder / key, key)
            if manifest is None:   # a damaged local entry is not shared (the build redoes it)
                continue
            if store.exists(f"{kind}/{key}.json"):
                done.present += 1
                continue
            for rel, meta in sorted(manifest["files"].items()):
                if not store.exists(_object(meta["sha256"])):
                    store.write(_object(meta["sha256"]), (folder / key / rel).read_bytes())
                    done.objects += 1
            store.write(f"{kind}/{key}.json", (folder / key / MANIFEST).read_bytes())
            done.copied += 1
    return done


def pull(cache: Cache, where: str) -> Shared:
    """Copy every entry of the store that ``cache`` lacks, each verified before it is kept."""
    store, done = open_store(where), Shared()
    for kind in KINDS:
        for key in store.keys(kind):
            if cache.load(kind, key) is not None:
                done.present += 1
                continue
            why = _fetch(store, cache, kind, key, done)
            if why:
                done.refused.append(f"{kind}/{key[:12]}…: {why}")
                cache.warn(f"{where}: entry {kind}/{key[:12]}… refused ({why}); the build "
                           "recomputes it")
    return done


def _fetch(store, cache: Cache, kind: str, key: str, done: Shared) -> str:
    """Assemble one entry in ``tmp/`` and rename it into place; "" or why it was refused."""
    raw = store.read(f"{kind}/{key}.json")
    try:
        files = json.loads(raw)["files"] if raw is not None else None
        items = sorted(files.items())
    except (ValueError, KeyError, TypeError, AttributeError):
        return "manifest.json is malformed"
    tmp = cache.new_tmp()
    try:
        for rel, meta in items:
            why = _fetch_file(store, tmp, rel, meta)
            if why:
                return why
            done.objects += 1
        (tmp / MANIFEST).write_bytes(raw)
        manifest, why = verify_entry(tmp, key)
        if manifest is None:
            return why
        target = cache.path(kind, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
        done.copied += 1
        return ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fetch_file(store, tmp: Path, rel: str, meta) -> str:
    parts = PurePosixPath(rel).parts
    if not isinstance(meta, dict) or not parts or rel.startswith("/") or \
            any(p in ("", ".", "..") for p in parts) or rel == MANIFEST:
        return f"unsafe file name {rel!r}"
    sha = str(meta.get("sha256", ""))
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        return f"{rel}: no sha256"
    data = store.read(_object(sha))
    if data is None:
        return f"{rel} is missing from the store"
    if len(data) != meta.get("bytes") or hashlib.sha256(data).hexdigest() != sha:
        return f"{rel} fails its sha256"
    path = tmp / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return ""


def cache_of(root: Path, warn) -> Cache:
    return Cache(Path(root).resolve() / CACHE_DIR, warn)
