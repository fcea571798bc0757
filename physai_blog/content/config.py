"""The site config, ``physai.yaml``: typed, validated up front, every error with file and line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from difflib import get_close_matches
from pathlib import Path

from physai_blog.errors import InputError, collect
from physai_blog.content.yamlio import load_mapping

CONFIG_FILE = "physai.yaml"


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


@dataclass(frozen=True)
class SiteConfig:
    """Options of ``physai.yaml``; each has a default except ``title``."""

    title: str
    #: Default author of every post (front matter ``authors`` overrides it).
    author: str = "Anonymous"
    #: One-line description shown on the index and in the feed.
    description: str = ""
    #: Absolute URL the site is published at; used for citations and the feed, never for links.
    base_url: str = "https://example.org/"
    #: A BibTeX file for ``[@key]`` citations, relative to the blog root.
    bibliography: str | None = None
    #: Extra links in the header: a list of {title, url}.
    nav: tuple = ()
    #: Default per-run timeout in seconds (front matter ``timeout`` overrides it).
    timeout: float = 600.0
    #: Largest stored output of one run, in MB (front matter ``max_output_mb`` overrides it).
    max_output_mb: float = 512.0
    #: Parallel experiment workers (default: the number of cores).
    jobs: int | None = None
    #: Language of the pages (``<html lang>``).
    language: str = "en"
    #: Footer text, e.g. a license line.
    footer: str = ""
    #: matplotlib rcParams applied to every figure (part of every figure's cache key).
    figure_style: dict = field(default_factory=dict)
    #: Where runs execute: "local" (a process pool on this machine) or "dask".
    executor: str = "local"
    #: Dask scheduler address (tcp://host:8786); none starts a LocalCluster (or `cluster`).
    scheduler: str | None = None
    #: A cluster to start for the dask executor: {kind: local|slurm|pbs|..., and its options}.
    cluster: dict = field(default_factory=dict)


def load_config(root: Path) -> SiteConfig:
    path = root / CONFIG_FILE
    rel = CONFIG_FILE
    if not path.is_file():
        raise InputError(rel, None, f"no {CONFIG_FILE} in {root}: is this a physai-blog folder? "
                                    "(create one with `physai-blog new`)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(rel, exc.object[: exc.start].count(b"\n") + 1, "not valid UTF-8")
    except OSError as exc:
        raise InputError(rel, None, f"cannot read: {exc.strerror or exc}")
    data, lines = load_mapping(text, rel)
    known = {f.name: f for f in fields(SiteConfig)}
    errors, values = [], {}
    for key, value in data.items():
        line = lines.get(key)
        if key not in known:
            hint = get_close_matches(key, list(known), 1)
            errors.append(InputError(rel, line, f"unknown key {key!r}"
                                     + (f"; did you mean {hint[0]!r}?" if hint else "")))
            continue
        try:
            values[key] = _coerce(key, value)
        except ValueError as exc:
            errors.append(InputError(rel, line, f"key {key!r}: {exc}"))
    if "title" not in data:
        errors.append(InputError(rel, 1, "missing required key 'title'"))
    collect(errors)
    return SiteConfig(**values)


def _coerce(key: str, value):
    if key in ("title", "author", "description", "base_url", "language", "footer", "executor"):
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        if key == "executor" and value not in ("local", "dask"):
            raise ValueError(f"unknown executor {value!r}; available: local, dask")
        return value
    if key == "scheduler":
        if value is not None and not isinstance(value, str):
            raise ValueError("expected an address like tcp://host:8786")
        return value
    if key == "cluster":
        if not isinstance(value, dict):
            raise ValueError("expected a mapping like {kind: slurm, cores: 8, memory: 16GB}")
        return value
    if key == "bibliography":
        if value is not None and not isinstance(value, str):
            raise ValueError("expected a path to a .bib file")
        return value
    if key in ("timeout", "max_output_mb"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError("expected a positive number of "
                             + ("seconds" if key == "timeout" else "megabytes"))
        return float(value)
    if key == "jobs":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError("expected a positive integer")
        return value
    if key == "nav":
        if not isinstance(value, list):
            raise ValueError("expected a list of {title, url}")
        out = []
        for item in value:
            if not isinstance(item, dict) or set(item) != {"title", "url"}:
                raise ValueError("each nav entry needs exactly `title` and `url`")
            out.append(NavLink(str(item["title"]), str(item["url"])))
        return tuple(out)
    if key == "figure_style":
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of matplotlib rcParams")
        return value
    raise AssertionError(key)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
