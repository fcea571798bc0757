"""Parsed front matter (and physai.yaml), kept between builds by the sha256 of its text.

Parsing 200 front matters with YAML is a fifth of a one-post rebuild; with this cache a build
whose front matter and physai.yaml did not change does not even import YAML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from pathlib import Path


class MappingCache:
    """Parsed front matter by the sha256 of its text: parsing 200 front matters is a fifth
    of a one-post rebuild.  Stored as checksummed JSON (values JSON cannot hold, like dates,
    are tagged; a mapping with anything else is simply not cached), every mapping's keys in
    the file's order, so that a cached parse reports its invalid keys in the order a fresh
    one does.  Errors are never cached: a bad front matter is parsed, and reported, every
    time."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict = {}
        self.used: set[str] = set()
        try:
            saved = json.loads(path.read_bytes()) if path is not None else {}
            if saved.get("checksum") == _checksum(saved.get("entries")) and \
                    saved.get("format") == FORMAT:
                self.entries = saved["entries"]
        except (OSError, ValueError, AttributeError):
            pass
        self.loaded = set(self.entries)

    def load(self, text: str, rel: str, first_line: int = 1) -> tuple[dict, dict[str, int]]:
        key = hashlib.sha256(f"{first_line}\0{text}".encode()).hexdigest()
        self.used.add(key)
        hit = self.entries.get(key)
        if isinstance(hit, list) and len(hit) == 2:
            try:
                return decode(hit[0]), dict(hit[1])
            except (TypeError, ValueError, KeyError, AttributeError):
                pass
        from physai_blog.content.yamlio import load_mapping

        data, lines = load_mapping(text, rel, first_line)
        encoded = encode(data)
        if encoded is not UNCACHEABLE:
            self.entries[key] = [encoded, lines]
        return data, lines

    def save(self) -> None:
        """Keep the entries used by this build only; write if anything changed."""
        entries = {k: v for k, v in self.entries.items() if k in self.used}
        if self.path is None or set(entries) == self.loaded:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            # Not sort_keys: each mapping keeps its keys in the file's order (the checksum
            # is over the sorted form, so it does not depend on that order).
            tmp.write_text(json.dumps({"checksum": _checksum(entries), "format": FORMAT,
                                       "entries": entries}))
            os.replace(tmp, self.path)
        except OSError:
            pass


UNCACHEABLE = object()
#: 2: keys in file order (files of format 1 kept them sorted, and are parsed again).
FORMAT = 2


def _checksum(entries) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def encode(value):
    """JSON with tags for what YAML has and JSON has not; UNCACHEABLE for the rest."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        items = [encode(v) for v in value]
        return UNCACHEABLE if any(i is UNCACHEABLE for i in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: encode(v) for k, v in value.items()}
        return UNCACHEABLE if any(i is UNCACHEABLE for i in items.values()) \
            else {"$map": items}
    return UNCACHEABLE


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        (tag, inner), = value.items()
        if tag == "$map":
            return {k: decode(v) for k, v in inner.items()}
        if tag == "$date":
            return dt.date.fromisoformat(inner)
        if tag == "$datetime":
            return dt.datetime.fromisoformat(inner)
        if tag == "$float":
            return float(inner)
        raise ValueError(tag)
    return value
