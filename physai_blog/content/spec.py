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
from pathlib import Path

from physai_blog.content import pyast
from physai_blog.content.notebook import load_json, notebook_script, script_name
from physai_blog.content.schema import (
    Invalid,
    Option,
    Schema,
    Type,
    did_you_mean,
    number,
    shown,
)
from physai_blog.errors import InputError, collect
from physai_blog.runtime.names import FIGURE_NAME, sweep_cells  # noqa: F401 - re-exported

# Bump when the stored format of runs or figures changes: every cache key includes it.
API_VERSION = "1"
FORMATS = ("svg", "png")


# -- the arguments of Experiment(...), shared with front matter where they mean the same ----------

def _params(value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise Invalid()
    return dict(value)


def _seeds(value) -> list:
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
        raise Invalid()
    twice = [s for i, s in enumerate(value) if s in value[:i]]
    if twice:
        raise Invalid(f"seed {twice[0]} is listed twice")
    return list(value)


def _sweep(value) -> dict:
    if not isinstance(value, dict):
        raise Invalid()
    for key, values in value.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise Invalid(f"{shown(key)} must be a non-empty list of values")
        seen = [repr(v) for v in values]
        twice = [v for i, v in enumerate(values) if repr(v) in seen[:i]]
        if twice:
            raise Invalid(f"{shown(key)} lists {shown(twice[0])} twice")
    return {k: list(v) for k, v in value.items()}


def _resources(value) -> dict:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float, str)) and not isinstance(v, bool)
            for k, v in value.items()):
        raise Invalid()
    return dict(value)


PARAMS = Type("a mapping of names to values", _params, dict)
SEEDS = Type("a non-empty list of non-negative integers", _seeds, list)
RESOURCES = Type("a mapping like {gpu: 1, memory: 8GB}", _resources, dict)

EXPERIMENT = Schema([
    Option("params", PARAMS, {}, "The parameters every run receives (also the first positional "
                                 "argument)."),
    Option("sweep", Type('a mapping like {"weight_decay": [0.1, 1.0]}', _sweep, dict), {},
           "Values to sweep, by param name: one run per cell of their product (and seed)."),
    Option("seeds", SEEDS, [0], "The seeds each cell runs with."),
    Option("timeout", number(unit="seconds"), None,
           "Per-run timeout (a post's `timeout` overrides it); default: physai.yaml's."),
    Option("tolerance", number(positive=False), None,
           "Relative tolerance of `physai-blog verify` (a post's `tolerance` overrides it)."),
    Option("resources", RESOURCES, {},
           "What each run needs, e.g. {\"gpu\": 1}; a post's `resources` add to it."),
], subject="Experiment({key}=...)", unknown="unknown Experiment() argument {key!r}")

#: The keyword arguments ``Experiment(...)`` takes (kept for older imports).
OPTION_KEYS = EXPERIMENT.names


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


@dataclass(kw_only=True)
@EXPERIMENT.attributes
class ExperimentSpec:
    """An experiment as read statically; ``params`` ... ``resources`` are EXPERIMENT's."""

    path: Path
    rel: str
    var: str
    lineno: int
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
        tree = pyast.parse(source, filename=rel)
    except SyntaxError as exc:
        raise InputError(rel, exc.lineno, f"SyntaxError: {exc.msg}")
    assign, var = _experiment_assignment(tree, rel)
    line = assign.value.lineno
    options = _experiment_options(assign.value, rel)
    lines = source.splitlines(keepends=True)
    run, figures, spans = _decorated(tree, var, rel, lines)
    if run is None:
        raise InputError(rel, line, f"no @{var}.run function: decorate the training function")
    # The Experiment(...) statement is keyed by what it means (each run's params and seed),
    # not by its text: adding a sweep value or a seed must not rerun the existing runs.
    spans["figure"].append((assign.lineno, assign.end_lineno))
    return ExperimentSpec(
        path=path, rel=rel, var=var, lineno=line, **options, run_function=run.name,
        run_lineno=run.lineno, figures=figures, run_source=_strip(lines, spans["figure"]),
        shared_source=_strip(lines, spans["figure"] + spans["run"]), source=source)


def _experiment_assignment(tree: ast.Module, rel: str) -> tuple[ast.Assign, str]:
    """The one top-level ``var = Experiment(...)``, and ``var``."""
    found = [(n, t.id) for n in tree.body
             if isinstance(n, ast.Assign) and _is_experiment_call(n.value)
             for t in n.targets if isinstance(t, ast.Name)]
    if not found:
        raise InputError(rel, None, "no `exp = Experiment(...)` at the top level of the script")
    if len(found) > 1:
        raise InputError(rel, found[1][0].lineno, "more than one Experiment(...) in one script")
    return found[0]


def _experiment_options(call: ast.Call, rel: str) -> dict:
    """The arguments of ``Experiment(...)``, read as literals and checked against EXPERIMENT."""
    if len(call.args) > 1:
        raise InputError(rel, call.lineno, "Experiment() takes params as its only positional "
                                           "argument; pass the rest by keyword")
    given = [("params", node) for node in call.args] + [
        (kw.arg or f"**{ast.unparse(kw.value)}", kw.value) for kw in call.keywords]
    data, lines, errors = {}, {}, []
    for name, node in given:
        lines[name] = node.lineno
        try:  # an unknown argument is reported as unknown, whatever its value
            data[name] = _literal(node, rel, f"Experiment({name}=...)") if name in EXPERIMENT \
                else None
        except InputError as exc:
            errors.append(exc)
    values, invalid = EXPERIMENT.validate(data, lines, rel)
    collect(errors + invalid)
    check_sweep(values["sweep"], values["params"], rel, lines.get("sweep", call.lineno))
    return values


def _decorated(tree: ast.Module, var: str, rel: str, lines: list[str]):
    """(the ``@var.run`` function or None, the ``@var.figure`` specs by name, the line spans
    of each kind, decorators included)."""
    run, figures = None, {}
    spans: dict[str, list[tuple[int, int]]] = {"run": [], "figure": []}
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            kind, dcall = _decorator_target(dec, var)
            if kind is None:
                continue
            span = (min(d.lineno for d in node.decorator_list), node.end_lineno)
            if kind == "run":
                if run is not None:
                    raise InputError(rel, node.lineno, f"a second @{var}.run function "
                                     f"({node.name}); one experiment has one run function")
                run = node
            elif kind == "figure":
                fig = _figure_spec(dcall, node, rel, "".join(lines[span[0] - 1:span[1]]))
                if fig.name in figures:
                    raise InputError(rel, dec.lineno, f"figure {fig.name!r} is defined twice")
                figures[fig.name] = fig
            else:
                raise InputError(rel, dec.lineno, f"unknown decorator @{var}.{kind}; "
                                 "use @exp.run or @exp.figure(\"name\", caption=...)")
            spans[kind].append(span)
    return run, figures, spans


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


def check_sweep(sweep: dict, params: dict, rel: str, line: int) -> None:
    """Every swept key is a param (the sweep's own shape is EXPERIMENT's to check)."""
    for key in sweep:
        if key not in params:
            raise InputError(rel, line, f"sweep key {key!r} is not one of the params "
                             f"{sorted(params)}" + did_you_mean(key, params))


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


def local_deps(path: Path, root: Path, text: str | None = None) -> dict[str, str]:
    """sha256 of every project-local module the script imports, transitively (``text``: the
    script's own source, when it is not the file's bytes, as for a notebook)."""
    search = [path.parent, root]
    seen: dict[Path, str] = {}
    todo = [path]
    while todo:
        current = todo.pop()
        try:
            source = text.encode() if current == path and text is not None \
                else current.read_bytes()
            tree = pyast.parse(source)
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
    if path.suffix == ".ipynb":   # a notebook post whose code cells are the experiment
        source = notebook_script(load_json(path, rel)["cells"][1:], rel)
        spec = parse_spec(source, rel, path.resolve().with_name(script_name(path)))
    else:
        spec = parse_spec(source, rel, path.resolve())
    spec.deps = local_deps(path.resolve(), root.resolve(), source)
    return spec
