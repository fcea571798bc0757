"""The package's shape, kept: each module readable in one sitting, each function short, no
import cycle (counting imports inside functions too: a lazy cycle is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "physai_blog"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "scaffold":
            continue   # templates copied into a user's blog
        name = ".".join(("physai_blog", *rel.with_suffix("").parts)).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text())
    return found


def test_no_module_over_450_lines():
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines())
             for p in PACKAGE.rglob("*.py") if "scaffold" not in p.parts}
    long = {rel: n for rel, n in sizes.items() if n > MAX_MODULE_LINES}
    assert len(sizes) > 40 and not long, long


def test_no_function_over_60_lines():
    long = [f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for name, tree in modules().items() for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long


def imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
            base = node.module or ""
            if node.level:   # relative: resolved against this module's package
                package = name.split(".")[:-node.level] if name in known else []
                base = ".".join([*package, *([base] if base else [])])
            out |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
            if base in known and base != "physai_blog":   # the package root only re-exports
                out.add(base)
    return out - {name}


def test_no_import_cycle():
    trees = modules()
    graph = {name: imports(name, tree, set(trees)) for name, tree in trees.items()}
    state: dict[str, int] = {}   # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert graph["physai_blog.pipeline"]   # the graph is real: the pipeline imports its stages


def test_the_build_process_parses_python_through_one_lock():
    """content/pyast.py serializes ast.parse (CPython 3.11's AST constructor is not
    thread-safe: the executor's threads and the main thread parse at once); a direct call
    elsewhere would bring back "AST constructor recursion depth mismatch". The runtime runs in
    workers, one thread each, and is shipped to readers without the package."""
    direct = sorted(
        f"{name}:{node.lineno}" for name, tree in modules().items()
        if name != "physai_blog.content.pyast" and not name.startswith("physai_blog.runtime")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "parse" and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "ast")
    assert not direct, f"ast.parse called directly (use content.pyast.parse): {direct}"
