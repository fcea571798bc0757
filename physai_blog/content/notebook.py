"""A notebook post as input: ``posts/<slug>.ipynb``, front matter in its first cell (plain
``json``; executing it is a run, ``runs/notebooks.py``).

Cells are numbered as Jupyter shows them to the author, from 1, the front-matter cell not
counted.  A notebook whose code cells hold ``exp = Experiment(...)`` *is* an experiment: its
code cells, in order, are the experiment script (``notebook_script``, the same text every
time), its Markdown cells the post's prose.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from physai_blog.content import pyast
from physai_blog.errors import InputError

# A cell magic or a shell line is IPython, not Python: kept as a comment in the script.
MAGIC = re.compile(r"^\s*(%|!)")
CELL_MARK = "# In[{n}]:"


def read_notebook(path: Path, rel: str) -> tuple[str, list[dict]]:
    """(front matter text, cells) of a notebook post; the first cell holds the front matter."""
    nb = load_json(path, rel)
    cells = nb["cells"]
    source = cell_source(cells[0])
    lines = source.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in [l.strip() for l in lines[1:]]:
        raise InputError(rel, None, "the first cell of a notebook post must hold the front "
                                    "matter between two `---` lines")
    end = [l.strip() for l in lines[1:]].index("---") + 1
    return "\n".join(lines[1:end]) + "\n", cells[1:]


def load_json(path: Path, rel: str) -> dict:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(rel, None, "not valid UTF-8")
    except ValueError as exc:
        raise InputError(rel, getattr(exc, "lineno", None), f"not a valid notebook (JSON): {exc}")
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not cells:
        raise InputError(rel, None, "a notebook post needs cells, the first holding the front matter")
    return nb


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def kernel_name(nb: dict) -> str:
    """The kernel the notebook asks for (``python3`` when it names none)."""
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    return str(spec.get("name") or "python3")


def code_cells(cells: list[dict]) -> list[tuple[int, str]]:
    """(Jupyter's 1-based number, source) of every code cell after the front matter."""
    return [(n, cell_source(c)) for n, c in enumerate(cells, start=1)
            if c.get("cell_type") == "code"]


def first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def notebook_script(cells: list[dict], rel: str) -> str:
    """The code cells as one Python script, deterministic (what nbconvert's script exporter
    gives, without its volatile header): each cell under ``# In[N]:``, IPython magics
    commented out, and ``exp.main()`` under ``if __name__ == "__main__":`` at the end, so
    that the script runs on its own like any experiment and importing it runs nothing."""
    parts = [f"# The code cells of {Path(rel).name}, in order (cells numbered as in Jupyter).\n"]
    for n, source in code_cells(cells):
        lines = [("# " + line if MAGIC.match(line) else line) for line in source.splitlines()]
        parts.append(f"\n\n{CELL_MARK.format(n=n)}\n" + "\n".join(lines).rstrip() + "\n")
    script = "".join(parts)
    var = experiment_var(script)
    if var:   # a bare `exp.main()` cell would run everything on import: the guard runs it
        script = re.sub(rf"^({re.escape(var)}\.main\(.*\))[ \t]*$",
                        r"# \1  (run below, when this runs as a script)", script, flags=re.M)
        if "__main__" not in script:
            script += f'\n\nif __name__ == "__main__":\n    {var}.main()\n'
    return script


def experiment_var(script: str) -> str | None:
    """The name bound by a top-level ``name = Experiment(...)``, or None (a plain notebook)."""
    try:
        tree = pyast.parse(script)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == "Experiment" and isinstance(node.targets[0], ast.Name):
                return node.targets[0].id
    return None


def cell_at(script: str, line: int) -> tuple[int, int] | None:
    """(cell number, line within the cell) of a line of ``notebook_script``'s text."""
    lines = script.splitlines()
    for i in range(min(line, len(lines)) - 1, -1, -1):
        match = re.fullmatch(r"# In\[(\d+)\]:", lines[i])
        if match:
            return int(match.group(1)), line - i - 1
    return None


def prose(cells: list[dict]) -> str:
    """The Markdown cells of a notebook, the post's body."""
    return "\n\n".join(cell_source(c).strip("\n") for c in cells
                       if c.get("cell_type") == "markdown") + "\n"


def script_name(path: Path) -> str:
    """The file name of a notebook's script: ``<slug>.py``, without the date of the post."""
    match = re.match(r"^\d{4}-\d{2}-\d{2}-(.+)$", path.stem)
    return (match.group(1) if match else path.stem) + ".py"


def prose_place(cells: list[dict], line: int) -> tuple[int, int] | None:
    """(cell number, line within the cell) of a line of ``prose(cells)``'s text."""
    at = 1
    for n, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "markdown":
            continue
        length = len(cell_source(cell).strip("\n").split("\n"))
        if line < at + length:
            return (n, line - at + 1) if line >= at else None
        at += length + 1          # the blank line between two cells
    return None


def in_prose_cells(error, rel: str, path: Path):
    """A Markdown error of a notebook post (``rel:line: ...`` of its joined prose) named by
    its cell as Jupyter shows it; any other error as it is."""
    match = re.match(rf"{re.escape(rel)}:(\d+): ", getattr(error, "message", ""))
    if not rel.endswith(".ipynb") or match is None:
        return error
    try:
        cells = load_json(path, rel)["cells"][1:]
    except InputError:
        return error
    place = prose_place(cells, int(match.group(1)))
    if place is not None:
        first = first_line(cell_source(cells[place[0] - 1]))
        error.message = (f"{rel}: cell {place[0]} (`{first}`), line {place[1]}: "
                         + error.message[match.end():])
    return error


def clean_notebook(path: Path) -> bytes:
    """The notebook as its author wrote it, without what Jupyter adds on a run (outputs,
    execution counts, metadata but the kernel's): what a reader downloads, the same bytes
    after a Save in Jupyter."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"] = {"kernelspec": nb.get("metadata", {}).get("kernelspec", {})}
    for cell in nb.get("cells", []):
        cell["metadata"] = {}
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
