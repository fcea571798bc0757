"""Numbers in prose: values over seeds and sweep cells, power-law fits, and checked claims.

Pure Python (no numpy), so rendering a cached build stays light.  Claims are evaluated by a
small AST interpreter: arithmetic, comparisons, and/or/not, a few math functions; no names
outside the experiment's values, no attribute access, no ``eval``.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from dataclasses import dataclass, field
from difflib import get_close_matches

from physai_blog.content import pyast
from physai_blog.errors import InputError


@dataclass
class RunValues:
    label: str
    cell: dict
    seed: int
    values: dict
    params: dict = field(default_factory=dict)   # the run's own: base params with its cell


@dataclass
class Observables:
    """The values of every run of one post's experiment."""

    runs: list[RunValues]
    sweep: dict = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted({name for run in self.runs for name in run.values})

    def select(self, cell: dict, rel: str, line: int) -> list[RunValues]:
        for key, value in cell.items():
            if key not in self.sweep:
                axes = ", ".join(self.sweep) or "none"
                raise InputError(rel, line, f"{key!r} is not a sweep axis (sweep axes: {axes})")
            if not any(_same(value, v) for v in self.sweep[key]):
                raise InputError(rel, line, f"{key}={value!r} is not in the sweep "
                                            f"{key}: {self.sweep[key]}")
        return [r for r in self.runs if all(_same(r.cell.get(k), v) for k, v in cell.items())]

    def param_names(self) -> list[str]:
        return sorted({name for run in self.runs for name in run.params})

    def check_name(self, name: str, rel: str, line: int, params: bool = False) -> None:
        """``name`` is a logged value (or, with ``params``, a parameter); else the error."""
        names = self.names()
        if name in names or (params and name in self.param_names()):
            return
        known = names + (self.param_names() if params else [])
        hint = get_close_matches(name, known, 1)
        raise InputError(rel, line, f"unknown value {name!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else "")
                         + f" (values: {', '.join(names) or 'none logged'}"
                         + (f"; params: {', '.join(self.param_names()) or 'none'}" if params
                            else "") + ")")

    def param(self, name: str, cell: dict, rel: str, line: int) -> tuple[object, RunValues]:
        """A parameter of one cell (the same on every seed) and the first run that has it."""
        params = self.param_names()
        if name not in params:
            hint = get_close_matches(name, params, 1)
            raise InputError(rel, line, f"unknown parameter {name!r}"
                             + (f"; did you mean {hint[0]!r}?" if hint else "")
                             + f" (params: {', '.join(params) or 'none'})")
        runs = self.select(cell, rel, line)
        seen = {repr(r.params.get(name)) for r in runs}
        if len(seen) > 1:
            axis = name if name in self.sweep else next(a for a in self.sweep if a not in cell)
            raise InputError(rel, line, f"param {name!r} varies over the sweep; name a cell, "
                                        f"e.g. param({name!r}, {axis}={self.sweep[axis][0]!r})")
        return runs[0].params.get(name), runs[0]

    def lookup(self, run: RunValues, name: str, rel: str, line: int):
        """A bare name in a claim: the run's logged value, or else its parameter."""
        if name in run.values:
            if name in run.params:
                raise ClaimError(f"{name!r} is both a logged value and a parameter of run "
                                 f"{run.label}; log it under another name")
            return run.values[name]
        if name in run.params:
            value = run.params[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ClaimError(f"parameter {name!r} is {value!r}, not a number")
            return value
        self.check_name(name, rel, line, params=True)
        raise ClaimError(f"run {run.label} has no value {name!r}")

    def value(self, name: str, cell: dict, rel: str, line: int) -> list[float]:
        """The value over the seeds of one cell; every sweep axis must be pinned."""
        self.check_name(name, rel, line)
        runs = self.select(cell, rel, line)
        free = [axis for axis in self.sweep if axis not in cell and len(self.sweep[axis]) > 1]
        if free:
            raise InputError(rel, line, f"value {name!r} varies over the sweep; name a cell, "
                                        f"e.g. value({name!r}, {free[0]}={self.sweep[free[0]][0]!r})")
        return [r.values[name] for r in runs if name in r.values]


def observables(runs: list, cache, sweep: dict) -> Observables:
    """The values of ``runs`` (the run stage's Runs), read from their cache entries."""
    out = []
    for run in runs:
        path = cache.path("runs", run.key) / "values.json"
        values = json.loads(path.read_text()) if path.exists() else {}
        out.append(RunValues(run.label, run.cell, run.seed, values, run.params))
    return Observables(out, sweep)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == b or math.isclose(a, b, rel_tol=1e-12)
    return a == b


# -- formatting ----------------------------------------------------------------------------------

def format_number(x: float, fmt: str | None = None) -> str:
    if fmt:
        return format(x, fmt)
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10000 else str(int(x))
    return f"{x:.3g}"


def summarize(xs: list[float]) -> dict:
    n = len(xs)
    stats = _statistics()
    return {"n": n, "mean": stats.fmean(xs), "std": stats.stdev(xs) if n > 1 else 0.0,
            "min": min(xs), "max": max(xs)}


def _statistics():
    """The standard library's statistics (its exact stdev), loaded with the first value."""
    import statistics   # edge: decimal and fractions, only once a value is summarized

    return statistics


def format_values(xs: list[float], fmt: str | None = None) -> str:
    """One number, or "mean ± std (n=3)" over seeds."""
    if len(xs) == 1:
        return format_number(xs[0], fmt)
    s = summarize(xs)
    std_fmt = fmt
    if fmt is None:
        std_fmt = ".2g"
        mean_text = format_number(s["mean"]) if not s["mean"].is_integer() else f"{s['mean']:.4g}"
    else:
        mean_text = format(s["mean"], fmt)
    return f"{mean_text} ± {format(s['std'], std_fmt)} (n={s['n']})"


# -- power-law fits ------------------------------------------------------------------------------

# two-sided 95 % Student-t quantiles by degrees of freedom (normal beyond 30)
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def t95(df: int) -> float:
    if df >= 30:
        return 1.96 if df > 120 else 2.0
    return _T95.get(df) or _T95[max(k for k in _T95 if k <= df)]


@dataclass
class Fit:
    exponent: float
    ci95: float
    prefactor: float
    points: int


def power_law(points: list[tuple[float, float]]) -> Fit:
    """Least squares of log y on log x: y = c * x**exponent, with a 95 % interval."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    n = len(pts)
    if n < 3 or len({p[0] for p in pts}) < 2:
        xs = sorted({x for x, y in points if x > 0 and y > 0})
        raise ValueError(f"a power-law fit needs at least 3 positive points at 2 or more x "
                         f"values; it had {n} of {len(points)} point(s) positive, at x = "
                         f"{', '.join(format_number(x) for x in xs) or 'none'}")
    mx = _statistics().fmean(p[0] for p in pts)
    my = _statistics().fmean(p[1] for p in pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    intercept = my - slope * mx
    resid = sum((p[1] - intercept - slope * p[0]) ** 2 for p in pts)
    se = math.sqrt(resid / (n - 2) / sxx) if n > 2 else float("inf")
    return Fit(slope, t95(n - 2) * se, math.exp(intercept), n)


def fit_points(obs: Observables, y: str, x: str, cell: dict, rel: str, line: int,
               seed: int | None = None) -> list[tuple[float, float]]:
    obs.check_name(y, rel, line)
    if x not in obs.sweep:
        raise InputError(rel, line, f"fit over {x!r}: not a sweep axis "
                                    f"(sweep axes: {', '.join(obs.sweep) or 'none'})")
    fixed = {k: v for k, v in cell.items() if k != x}
    runs = obs.select(fixed, rel, line)
    return [(float(r.cell[x]), float(r.values[y])) for r in runs
            if y in r.values and (seed is None or r.seed == seed)]


def fit(obs: Observables, y: str, x: str, cell: dict, rel: str, line: int,
        seed: int | None = None, what: str = "fit") -> Fit:
    """The power law of ``y`` over the sweep axis ``x``, pooled over every seed of the cells
    (``seed``: that seed's runs only).  ``fit()`` in prose and ``exponent()`` in claims both
    come here; ``what`` names the one at fault in the error."""
    points = fit_points(obs, y, x, cell, rel, line, seed)
    try:
        return power_law(points)
    except ValueError as exc:
        scope = f" (seed {seed} only)" if seed is not None else " (pooled over seeds)"
        raise InputError(rel, line, f"{what}({y!r}, {x!r}){scope}: {exc}")


# -- claims --------------------------------------------------------------------------------------

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod,
           ast.FloorDiv: operator.floordiv}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FUNCTIONS = {"abs": abs, "log": math.log, "log10": math.log10, "exp": math.exp,
              "sqrt": math.sqrt}
AGGREGATES = {"mean": lambda xs: _statistics().fmean(xs),
              "std": lambda xs: _statistics().stdev(xs) if len(xs) > 1 else 0.0,
              "median": lambda xs: _statistics().median(xs)}
CLAIM_FUNCTIONS = sorted([*_FUNCTIONS, *AGGREGATES, "min", "max", "exponent", "at"])


class ClaimSyntaxError(Exception):
    pass


def parse_claim(expr: str) -> ast.Expression:
    try:
        tree = pyast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ClaimSyntaxError(f"cannot parse claim {expr!r}: {exc.msg}")
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ClaimSyntaxError(f"cannot parse claim {expr!r}: {exc.__class__.__name__}")
    for node in ast.walk(tree):
        allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp,
                   ast.USub, ast.UAdd, ast.Not, ast.Compare, ast.Name, ast.Load, ast.Constant,
                   ast.Call, ast.keyword, *_BINARY, *_COMPARE)
        if not isinstance(node, allowed):
            raise ClaimSyntaxError(f"claim {expr!r}: {type(node).__name__} is not allowed "
                                   "(use numbers, value names, arithmetic, comparisons, "
                                   f"and/or/not, {', '.join(CLAIM_FUNCTIONS)})")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name)
                                           or node.func.id not in CLAIM_FUNCTIONS):
            name = ast.unparse(node.func)
            raise ClaimSyntaxError(f"claim {expr!r}: unknown function {name}() "
                                   f"(available: {', '.join(CLAIM_FUNCTIONS)})")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
            raise ClaimSyntaxError(f"claim {expr!r}: constant {node.value!r} is not allowed")
    return tree


@dataclass
class ClaimScope:
    """What a claim sees while it is evaluated for one run."""

    obs: Observables
    run: RunValues
    rel: str
    line: int


class ClaimError(Exception):
    pass


def evaluate(node: ast.AST, scope: ClaimScope):
    if isinstance(node, ast.Expression):
        return evaluate(node.body, scope)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.obs.lookup(scope.run, node.id, scope.rel, scope.line)
    if isinstance(node, ast.BoolOp):
        results = [evaluate(v, scope) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        value = evaluate(node.operand, scope)
        if not isinstance(node.op, ast.Not):
            value = _number(value)
        return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}[
            type(node.op)](value)
    if isinstance(node, ast.BinOp):
        left, right = _number(evaluate(node.left, scope)), _number(evaluate(node.right, scope))
        if isinstance(node.op, ast.Pow):  # in floats: `10 ** 10 ** 10` must not build a huge int
            left = float(left)
        try:
            return _BINARY[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError, TypeError, ValueError) as exc:
            raise ClaimError(f"{exc.__class__.__name__}: {exc}")
    if isinstance(node, ast.Compare):
        left = evaluate(node.left, scope)
        for op, comp in zip(node.ops, node.comparators):
            right = evaluate(comp, scope)
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                left, right = _number(left), _number(right)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        return _call(node, scope)
    raise ClaimError(f"{type(node).__name__} is not allowed")


def _number(value):
    """Arithmetic is on numbers only (a quoted string is a value name for at/exponent)."""
    if isinstance(value, (int, float)):
        return value
    raise ClaimError(f"{value!r} is not a number (value names are written without quotes)")


def _literal(node: ast.AST, name: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise ClaimError(f"the arguments of {name}() must be literals: quoted value names and "
                         "numbers")


def _call(node: ast.Call, scope: ClaimScope):
    name = node.func.id
    kwargs = {k.arg: _literal(k.value, name) for k in node.keywords}
    if None in kwargs:
        raise ClaimError(f"{name}(): **kwargs is not allowed")
    per_seed = kwargs.pop("per_seed", False) if name == "exponent" else False
    if name in ("exponent", "at"):
        args = [_literal(a, name) for a in node.args]
        if not args or not all(isinstance(a, str) for a in args):
            raise ClaimError(f"{name}() takes value names as strings, e.g. "
                             + ('exponent("t_grok", "weight_decay")' if name == "exponent"
                                else 'at("t_grok", weight_decay=1.0)'))
        if name == "exponent":
            if len(args) != 2 or kwargs or not isinstance(per_seed, bool):
                raise ClaimError('exponent() takes two names and optionally per_seed=True: '
                                 'exponent("t_grok", "weight_decay")')
            return fit(scope.obs, args[0], args[1], scope.run.cell, scope.rel, scope.line,
                       seed=scope.run.seed if per_seed else None, what="exponent").exponent
        cell = {**scope.run.cell, **kwargs}
        runs = [r for r in scope.obs.select(cell, scope.rel, scope.line) if r.seed == scope.run.seed]
        if len(runs) != 1:
            raise ClaimError(f"at({args[0]!r}, ...) must name one sweep cell")
        return scope.obs.lookup(runs[0], args[0], scope.rel, scope.line)
    if kwargs:
        raise ClaimError(f"{name}() takes no keyword arguments")
    if name in AGGREGATES or (name in ("min", "max") and len(node.args) == 1):
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise ClaimError(f"{name}() over seeds takes one value name, e.g. {name}(t_grok)")
        value = node.args[0].id
        scope.obs.check_name(value, scope.rel, scope.line, params=True)
        runs = scope.obs.select(scope.run.cell, scope.rel, scope.line)
        xs = [scope.obs.lookup(r, value, scope.rel, scope.line) for r in runs
              if value in r.values or value in r.params]
        if not xs:
            raise ClaimError(f"no run of this cell has a value {value!r}")
        fn = AGGREGATES.get(name) or {"min": min, "max": max}[name]
        return fn(xs)
    args = [evaluate(a, scope) for a in node.args]
    if name in ("min", "max"):
        if not args:
            raise ClaimError(f"{name}() needs arguments")
        return (min if name == "min" else max)(_number(a) for a in args)
    try:
        return _FUNCTIONS[name](*args)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ClaimError(f"{name}(): {exc}")


@dataclass
class ClaimCheck:
    """One claim checked on every run in scope: per run, its verdict and the numbers."""

    expr: str
    text: str
    cell: dict
    rows: list[dict]

    @property
    def holds(self) -> bool:
        return all(row["holds"] for row in self.rows)

    def failures(self) -> list[dict]:
        return [row for row in self.rows if not row["holds"]]

    def failure_summary(self) -> str:
        """"false on 3 of 9 runs, e.g. wd-2.0_seed-0: t_grok = 50"."""
        bad = self.failures()
        numbers = ", ".join(f"{k} = {show_number(v)}" for k, v in bad[0]["numbers"].items())
        return f"false on {len(bad)} of {len(self.rows)} runs, e.g. {bad[0]['run']}: {numbers}"


def show_number(v) -> str:
    """A number (or truth value) as claims show it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return format_number(v) if isinstance(v, (int, float)) else str(v)


def _sides(tree: ast.Expression) -> list[tuple[str, ast.AST]]:
    """The sub-expressions worth showing: both sides of each comparison (or the whole)."""
    out = []
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                if not isinstance(part, ast.Constant):
                    out.append((ast.unparse(part), part))
    return out or [(ast.unparse(tree.body), tree.body)]


def check_claim(obs: Observables, expr: str, text: str, cell: dict, rel: str, line: int) -> ClaimCheck:
    try:
        tree = parse_claim(expr)
    except ClaimSyntaxError as exc:
        raise InputError(rel, line, str(exc))
    runs = obs.select(cell, rel, line)
    if not runs:
        raise InputError(rel, line, f"claim {expr!r}: no runs to check it on")
    rows = []
    for run in runs:
        scope = ClaimScope(obs, run, rel, line)
        try:
            verdict = bool(evaluate(tree, scope))
            shown = {label: evaluate(node, scope) for label, node in _sides(tree)}
        except ClaimError as exc:
            raise InputError(rel, line, f"claim {expr!r} on run {run.label}: {exc}")
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            raise InputError(rel, line, f"claim {expr!r} on run {run.label}: "
                                        f"{exc.__class__.__name__}: {exc}")
        rows.append({"run": run.label, "cell": run.cell, "seed": run.seed, "holds": verdict,
                     "numbers": shown})
    return ClaimCheck(expr, text, cell, rows)
