"""Validated names and paths: everything a post can name ends up in a URL or a file path."""

from __future__ import annotations

import itertools
import re

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
FIGURE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def slugify(text: str) -> str:
    """A URL-safe, lower-case slug: "Double Descent!" -> "double-descent"."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "untitled"


def cell_label(cell: dict) -> str:
    """A sweep cell as a readable, path-safe label: {"wd": 0.3} -> "wd-0.3"."""
    parts = [f"{k}-{_plain(v)}" for k, v in sorted(cell.items())]
    label = "_".join(parts)
    return re.sub(r"[^A-Za-z0-9._-]+", "", label)


def run_label(cell: dict, seed: int) -> str:
    """Directory name of one run under a post's ``data/``: "seed-0" or "wd-0.3_seed-0"."""
    prefix = cell_label(cell)
    return f"{prefix}_seed-{seed}" if prefix else f"seed-{seed}"


def _plain(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def sweep_cells(sweep: dict) -> list[dict]:
    """The cartesian product of a sweep, in the order it was written ([{}] for no sweep)."""
    if not sweep:
        return [{}]
    keys = list(sweep)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(sweep[k] for k in keys))]
