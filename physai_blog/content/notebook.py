"""A notebook post as input: ``posts/<slug>.ipynb``, front matter in its first cell (plain
``json``; executing it is a run, ``runs/notebooks.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from physai_blog.errors import InputError


def read_notebook(path: Path, rel: str) -> tuple[str, list[dict]]:
    """(front matter text, cells) of a notebook post; the first cell holds the front matter."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(rel, None, "not valid UTF-8")
    except ValueError as exc:
        raise InputError(rel, getattr(exc, "lineno", None), f"not a valid notebook (JSON): {exc}")
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not cells:
        raise InputError(rel, None, "a notebook post needs cells, the first holding the front matter")
    source = cell_source(cells[0])
    lines = source.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in [l.strip() for l in lines[1:]]:
        raise InputError(rel, None, "the first cell of a notebook post must hold the front "
                                    "matter between two `---` lines")
    end = [l.strip() for l in lines[1:]].index("---") + 1
    return "\n".join(lines[1:end]) + "\n", cells[1:]


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
