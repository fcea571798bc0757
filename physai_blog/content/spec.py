"""Read an experiment script *statically*: its params, sweep, seeds and figures.

The build never imports an experiment to learn its shape.  ``Experiment(...)`` and
``@exp.figure(...)`` take literals, read here from the AST, so planning a build (and every
cached build) costs a parse, not an ``import torch``.  The source is also split so that cache
keys follow what matters: a run's key covers the script *without* its figure functions (so
restyling a figure never reruns training) and every project-local module it imports.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from physai_blog.errors import InputError
from physai_blog.runtime.names import FIGURE_NAME, sweep_cells  # noqa: F401 - re-exported

# Bump when the stored format of runs or figures changes: every cache key includes it.
API_VERSION = "1"
FORMATS = ("svg", "png")
OPTION_KEYS = ("params", "sweep", "seeds", "timeout", "tolerance", "resources")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FigureSpec:
    name: str
    caption: str
    alt: str | None
    format: str
    size: tuple | None
    function: str
    lineno: int
    source: str


@dataclass
class ExperimentSpec:
    path: Path
    rel: str
    var: str
    lineno: int
    params: dict
    sweep: dict
    seeds: list
    timeout: float | None
    tolerance: float | None
    resources: dict
    run_function: str
    run_lineno: int
    figures: dict[str, FigureSpec]
    run_source: str
    shared_source: str
    source: str
    deps: dict[str, str] = field(default_factory=dict)

    def cells(self) -> list[dict]:
        return sweep_cells(self.sweep)


def _literal(node: ast.AST, rel: str, what: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise InputError(rel, node.lineno,
                         f"{what} must be a literal (numbers, strings, lists, dicts) so the build "
                         "can read it without running the script")


def _is_experiment_call(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "Experiment") or (
        isinstance(func, ast.Attribute) and func.attr == "Experiment")


def _decorator_target(dec, var: str):
    """'run' for ``@var.run``, ('figure', call) for ``@var.figure(...)``, else None."""
    if isinstance(dec, ast.Attribute) and isinstance(dec.value, ast.Name) and dec.value.id == var:
        return dec.attr, None
    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) \
            and isinstance(dec.func.value, ast.Name) and dec.func.value.id == var:
        return dec.func.attr, dec
    return None, None


def _strip(lines: list[str], spans: list[tuple[int, int]]) -> str:
    drop = set()
    for start, end in spans:
        drop.update(range(start - 1, end))
    return "".join(line for i, line in enumerate(lines) if i not in drop)


def parse_spec(source: str, rel: str, path: Path) -> ExperimentSpec:
    """Parse an experiment's source; every problem is an InputError naming file and line."""
    try:
        tree = ast.parse(source, filename=rel)
    except SyntaxError as exc:
        raise InputError(rel, exc.lineno, f"SyntaxError: {exc.msg}")

    found = [(n, t.id) for n in tree.body if isinstance(n, ast.Assign) and _is_experiment_call(n.value)
             for t in n.targets if isinstance(t, ast.Name)]
    if not found:
        raise InputError(rel, None, "no `exp = Experiment(...)` at the top level of the script")
    if len(found) > 1:
        raise InputError(rel, found[1][0].lineno, "more than one Experiment(...) in one script")
    assign, var = found[0]
    call: ast.Call = assign.value
    options = {}
    if call.args:
        if len(call.args) > 1:
            raise InputError(rel, call.lineno, "Experiment() takes params as its only positional "
                                               "argument; pass the rest by keyword")
        options["params"] = _literal(call.args[0], rel, "Experiment(params=...)")
    for kw in call.keywords:
        if kw.arg not in OPTION_KEYS:
            hint = get_close_matches(kw.arg or "", OPTION_KEYS, 1)
            raise InputError(rel, kw.value.lineno, f"unknown Experiment() argument {kw.arg!r}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""))
        options[kw.arg] = _literal(kw.value, rel, f"Experiment({kw.arg}=...)")
    params = options.get("params") or {}
    sweep = options.get("sweep") or {}
    seeds = options.get("seeds", [0])
    line = call.lineno
    check_params(params, rel, line)
    check_sweep(sweep, params, rel, line)
    check_seeds(seeds, rel, line, "Experiment(seeds=...)")

    # The Experiment(...) statement is keyed by what it means (each run's params and seed),
    # not by its text: adding a sweep value or a seed must not rerun the existing runs.
    run_fn, run_line, figures = None, 0, {}
    spans = {"run": [], "figure": [(assign.lineno, assign.end_lineno)]}
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            kind, dcall = _decorator_target(dec, var)
            if kind is None:
                continue
            start = min(d.lineno for d in node.decorator_list)
            span = (start, node.end_lineno)
            if kind == "run":
                if run_fn is not None:
                    raise InputError(rel, node.lineno, f"a second @{var}.run function "
                                     f"({node.name}); one experiment has one run function")
                run_fn, run_line = node.name, node.lineno
                spans["run"].append(span)
            elif kind == "figure":
                fig = _figure_spec(dcall, node, rel, "".join(lines[span[0] - 1:span[1]]))
                if fig.name in figures:
                    raise InputError(rel, dec.lineno, f"figure {fig.name!r} is defined twice")
                figures[fig.name] = fig
                spans["figure"].append(span)
            else:
                raise InputError(rel, dec.lineno, f"unknown decorator @{var}.{kind}; "
                                 "use @exp.run or @exp.figure(\"name\", caption=...)")
    if run_fn is None:
        raise InputError(rel, line, f"no @{var}.run function: decorate the training function")
    return ExperimentSpec(
        path=path, rel=rel, var=var, lineno=line, params=params, sweep=sweep, seeds=list(seeds),
        timeout=options.get("timeout"), tolerance=options.get("tolerance"),
        resources=options.get("resources") or {}, run_function=run_fn, run_lineno=run_line,
        figures=figures, run_source=_strip(lines, spans["figure"]),
        shared_source=_strip(lines, spans["figure"] + spans["run"]), source=source)


def _figure_spec(dcall: ast.Call | None, node, rel: str, source: str) -> FigureSpec:
    if dcall is None or not dcall.args:
        raise InputError(rel, node.lineno, "@exp.figure needs a name: @exp.figure(\"accuracy\", "
                                           "caption=\"...\")")
    name = _literal(dcall.args[0], rel, "the figure name")
    kwargs = {kw.arg: _literal(kw.value, rel, f"figure {kw.arg}=") for kw in dcall.keywords}
    if len(dcall.args) > 1:
        kwargs.setdefault("caption", _literal(dcall.args[1], rel, "the figure caption"))
    if not isinstance(name, str) or not FIGURE_NAME.match(name):
        raise InputError(rel, dcall.lineno, f"figure name {name!r}: use letters, digits, - and _")
    unknown = set(kwargs) - {"caption", "alt", "format", "size"}
    if unknown:
        raise InputError(rel, dcall.lineno, f"unknown @exp.figure argument {sorted(unknown)[0]!r}")
    fmt = kwargs.get("format", "svg")
    if fmt not in FORMATS:
        raise InputError(rel, dcall.lineno, f"figure format {fmt!r}: use one of {list(FORMATS)}")
    caption = kwargs.get("caption", "")
    if not isinstance(caption, str):
        raise InputError(rel, dcall.lineno, "figure caption must be a string")
    size = kwargs.get("size")
    return FigureSpec(name=name, caption=caption, alt=kwargs.get("alt"), format=fmt,
                      size=tuple(size) if size else None, function=node.name,
                      lineno=node.lineno, source=source)


def check_params(params, rel, line) -> None:
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise InputError(rel, line, "params must be a mapping of names to values")


def check_sweep(sweep, params, rel, line) -> None:
    if not isinstance(sweep, dict):
        raise InputError(rel, line, "sweep must be a mapping like {\"weight_decay\": [0.1, 1.0]}")
    for key, values in sweep.items():
        if key not in params:
            hint = get_close_matches(str(key), list(params), 1)
            raise InputError(rel, line, f"sweep key {key!r} is not one of the params "
                             f"{sorted(params)}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
        if not isinstance(values, (list, tuple)) or not values:
            raise InputError(rel, line, f"sweep {key!r} must be a non-empty list of values")
        if len({repr(v) for v in values}) != len(values):
            raise InputError(rel, line, f"sweep {key!r} lists a value twice")


def check_seeds(seeds, rel, line, what) -> None:
    if not isinstance(seeds, (list, tuple)) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise InputError(rel, line, f"{what} must be a non-empty list of non-negative integers")
    if len(set(seeds)) != len(seeds):
        raise InputError(rel, line, f"{what} lists a seed twice")


# -- project-local imports ------------------------------------------------------------------------

def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _resolve(name: str, search: list[Path]) -> list[Path]:
    parts = name.split(".")
    if parts[0] == "physai_blog":  # the API itself is covered by API_VERSION
        return []
    for base in search:
        found = []
        for i in range(1, len(parts) + 1):
            stem = base.joinpath(*parts[:i])
            if (stem / "__init__.py").is_file():
                found.append(stem / "__init__.py")
            elif stem.with_suffix(".py").is_file():
                found.append(stem.with_suffix(".py"))
                break
            else:
                break
        if found:
            return found
    return []


def local_deps(path: Path, root: Path) -> dict[str, str]:
    """sha256 of every project-local module the script imports, transitively."""
    search = [path.parent, root]
    seen: dict[Path, str] = {}
    todo = [path]
    while todo:
        current = todo.pop()
        try:
            source = current.read_bytes()
            tree = ast.parse(source)
        except (OSError, SyntaxError, ValueError):
            continue
        if current != path:
            seen[current] = sha256(source)
        for name in sorted(_imported_names(tree)):
            for dep in _resolve(name, search):
                dep = dep.resolve()
                if dep not in seen and dep != path and dep not in todo:
                    todo.append(dep)
    return {_rel(p, root): h for p, h in sorted(seen.items())}


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def load_spec(path: Path, root: Path) -> ExperimentSpec:
    """Read and parse an experiment script (UTF-8), with its project-local dependencies."""
    rel = _rel(path, root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(rel, None, f"cannot read the experiment: {exc.strerror}")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(rel, line, "not valid UTF-8")
    spec = parse_spec(source, rel, path.resolve())
    spec.deps = local_deps(path.resolve(), root.resolve())
    return spec
