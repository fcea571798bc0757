"""``physai-blog new "Title" --notebook``: the same starting point as a Markdown post and its
experiment, as one notebook that *is* the experiment: a front-matter cell, the experiment's
code cells (``Experiment(...)``, ``@exp.run``, one cell per ``@exp.figure``) between the
post's Markdown cells.  It builds at once, and runs top to bottom in Jupyter."""

from __future__ import annotations

import json
import re

INTRO = ("This post is a notebook, made by `physai-blog new --notebook`, and it is its own "
         "experiment: its code cells (`exp = Experiment(...)`, `@exp.run`, `@exp.figure`) are "
         "run by the build once per sweep cell and seed, each run cached, and every figure is "
         "redrawn from the stored data, so editing a plotting cell reruns no training. Its "
         "Markdown cells are the post. Edit both and watch the page with `physai-blog serve`.")


def notebook_text(front: str, body: str, script: str) -> str:
    """The notebook (nbformat 4.5 JSON, deterministic) from the Markdown post's ``front``
    matter and ``body`` and the experiment ``script``."""
    code = script_cells(script)
    sections = re.split(r"\n(?=## )", body.strip())
    sections[0] = INTRO
    cells = [_cell("raw", front.strip()), _cell("markdown", sections[0]), *code[:2]]
    figures = code[2:]
    for section in sections[1:]:
        cells.append(_cell("markdown", section.strip()))
        if figures:
            cells.append(figures.pop(0))
    cells += figures
    for n, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{n}"
    nb = {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def script_cells(script: str) -> list[dict]:
    """The script without its docstring and ``__main__`` block, one cell per top-level
    block: the set-up (imports, ``Experiment(...)``), the run function, each figure."""
    body = re.sub(r'^""".*?"""\n', "", script, count=1, flags=re.S)
    body = body.split('\nif __name__ == "__main__":')[0]
    blocks = re.split(r"\n\n\n(?=@exp\.)", body.strip())
    return [_cell("code", block.strip()) for block in blocks]


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell
