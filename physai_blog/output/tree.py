"""What a site folder holds, known from the stat of its folders instead of listing them.

Listing every folder of a 2,000-post site (a folder per post) was the largest part of writing
a one-post edit.  When a site is staged, the inode, mtime and ctime of each of its folders
are recorded with the list of its files.  Later, a folder whose stat is the recorded one still
holds exactly the recorded entries: adding, removing or renaming an entry changes the folder's
mtime and ctime, and no program can set a ctime back.  A folder that changed less than
``RACY`` seconds before the record is listed instead (a write in the same timestamp tick would
leave its times as recorded: git's "racily clean" rule, ``digests.RACY``), and so is the
top folder (a rename of it changes its ctime).  Any mismatch, or no record, means a full
listing.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

from physai_blog.runs import digests

#: A folder's stat as recorded: its inode, mtime and ctime, packed (one object, not four).
FOLDER = struct.Struct("<3q")


def listing(folder: Path) -> tuple[dict[str, bool], set[str]]:
    """Every entry under ``folder``: rel -> is a regular file; and the folders."""
    entries: dict[str, bool] = {}
    folders: set[str] = set()

    def walk(path: str, prefix: str) -> None:
        with os.scandir(path) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.add(rel)
                    walk(entry.path, rel + "/")
                else:
                    entries[rel] = entry.is_file(follow_symlinks=False)

    try:
        walk(str(folder), "")
    except OSError:
        pass
    return entries, folders


def record(folder: Path, files, kept=None, touched=frozenset()) -> dict:
    """The record of ``folder`` as just staged with exactly ``files`` (rel paths): each
    folder's stat, or None for one that changed too recently to be trusted by it.
    ``kept``: the record ``known_listing`` verified when this staging began, whose stats
    still hold for every folder not in ``touched`` (those whose entries changed since):
    a one-post edit stats a few folders, not 2,000."""
    folders: dict[str, bytes | None] = {}
    recent = time.time_ns() - int(digests.RACY * 1e9)
    held = kept["folders"] if kept is not None else {}
    for rel in files:
        cut = rel.rfind("/")
        while cut != -1 and rel[:cut] not in folders:
            name = rel[:cut]
            stat = held.get(name)
            if stat is None or name in touched:
                st = os.lstat(f"{folder}/{name}")
                stat = FOLDER.pack(st.st_ino, st.st_mtime_ns, st.st_ctime_ns) \
                    if max(st.st_mtime_ns, st.st_ctime_ns) < recent else None
            folders[name] = stat
            cut = rel.rfind("/", 0, cut)
    return {"files": sorted(files), "folders": folders}


def ancestors(rel: str):
    """The folders above ``rel``, nearest first."""
    cut = rel.rfind("/")
    while cut != -1:
        yield rel[:cut]
        cut = rel.rfind("/", 0, cut)


def known_listing(folder: Path, kept) -> tuple[dict[str, bool], set[str]] | None:
    """``listing(folder)`` from ``kept`` (a ``record``) if every recorded folder is unchanged
    and the top folder lists the recorded names; else None."""
    if not isinstance(kept, dict) or not isinstance(kept.get("files"), list) or \
            not isinstance(kept.get("folders"), dict):
        return None
    folders = kept["folders"]
    listed = [""]                     # the top folder, and those too recent to trust
    for rel, stat in folders.items():
        if stat is None:
            listed.append(rel)
            continue
        try:
            st = os.lstat(f"{folder}/{rel}")
        except OSError:
            return None
        if FOLDER.pack(st.st_ino, st.st_mtime_ns, st.st_ctime_ns) != stat:
            return None
    children: dict[str, set[str]] = {rel: set() for rel in listed}
    for rel in (*kept["files"], *folders):
        parent, _, name = rel.rpartition("/")
        if parent in children:
            children[parent].add(name)
    for rel in listed:
        if not _lists_only(f"{folder}/{rel}" if rel else str(folder), children[rel],
                           {name for name in children[rel]
                            if (f"{rel}/{name}" if rel else name) in folders}):
            return None
    return {rel: True for rel in kept["files"]}, set(folders)


def _lists_only(path: str, names: set[str], dirs: set[str]) -> bool:
    """The folder at ``path`` holds exactly ``names``: ``dirs`` as folders, the rest as
    regular files."""
    try:
        with os.scandir(path) as it:
            here = {e.name: "dir" if e.is_dir(follow_symlinks=False) else
                    "file" if e.is_file(follow_symlinks=False) else "other" for e in it}
    except OSError:
        return False
    return set(here) == names and all(kind == ("dir" if name in dirs else "file")
                                      for name, kind in here.items())
