"""The raw observables of an experiment, as figure functions and readers see them.

A *run* is one (sweep cell, seed).  Its files are plain: ``scalars.csv`` (time series),
``values.json`` (numbers quoted in prose) and ``arrays/<name>.npy``.  ``Data`` is the set of
runs a figure function receives: every cell and every seed, with helpers to select a cell,
stack a series over seeds and draw a mean with a band.  It records which files were read, so a
figure's "data" download holds exactly the files behind it.

numpy is imported here; this module is only loaded inside experiment workers and notebooks.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SCALARS = "scalars.csv"
VALUES = "values.json"
ARRAYS = "arrays"
MANIFEST = "manifest.json"


def read_scalars(path: Path) -> dict[str, np.ndarray]:
    """Columns of a scalars CSV as float arrays; an empty cell (not logged that row) is NaN."""
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    columns = {name: np.full(len(body), np.nan) for name in header}
    for i, row in enumerate(body):
        for name, cell in zip(header, row):
            if cell != "":
                columns[name][i] = float(cell)
    return columns


@dataclass
class Run:
    """One (sweep cell, seed) run: its parameters and lazily read observables."""

    path: Path
    label: str
    params: dict
    cell: dict
    seed: int
    reads: set = field(default_factory=set, repr=False)
    _scalars: dict | None = field(default=None, repr=False)
    _values: dict | None = field(default=None, repr=False)

    def _touch(self, name: str) -> Path:
        self.reads.add(f"{self.label}/{name}")
        return self.path / name

    @property
    def scalars(self) -> dict[str, np.ndarray]:
        """All logged time series, column name -> array (NaN where a row did not log it)."""
        if self._scalars is None:
            self._scalars = read_scalars(self._touch(SCALARS))
        return self._scalars

    @property
    def values(self) -> dict[str, float]:
        if self._values is None:
            path = self._touch(VALUES)
            self._values = json.loads(path.read_text()) if path.exists() else {}
        return self._values

    def series(self, name: str, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of one series, keeping only rows where it was logged."""
        columns = self.scalars
        if name not in columns:
            raise KeyError(f"no series {name!r} in run {self.label}; logged: {sorted(columns)}")
        y = columns[name]
        xs = columns[x] if x in columns else np.arange(len(y), dtype=float)
        keep = ~np.isnan(y)
        return xs[keep], y[keep]

    def array(self, name: str) -> np.ndarray:
        path = self._touch(f"{ARRAYS}/{name}.npy")
        if not path.exists():
            raise KeyError(f"no array {name!r} in run {self.label}")
        return np.load(path, allow_pickle=False)


class AmbiguousParam(LookupError):
    """A parameter read from a selection whose cells disagree on it."""

    def __str__(self) -> str:
        return self.args[0]


class Params(Mapping):
    """The parameters of a selection of runs.  A key on which its runs agree reads as that
    value; a swept key that differs between its cells raises, naming the cells: reading the
    base value there would draw the wrong line without a word."""

    def __init__(self, runs: list[Run], base: dict):
        self._runs, self._base = runs, dict(base)

    def _keys(self) -> list[str]:
        keys = dict.fromkeys(self._base)
        for run in self._runs:
            keys.update(dict.fromkeys(run.params))
        return list(keys)

    def __getitem__(self, key: str):
        if not self._runs:
            return self._base[key]
        values = {json.dumps(r.params.get(key), sort_keys=True, default=repr): r
                  for r in self._runs if key in r.params}
        if not values:
            raise KeyError(key)
        if len(values) > 1:
            shown = ", ".join(f"{key}={r.params[key]!r}" for r in values.values())
            first = next(iter(values.values())).params[key]
            raise AmbiguousParam(
                f"params[{key!r}] differs between the cells of this selection ({shown}); "
                f"select one cell first, e.g. data.select({key}={first!r}).params[{key!r}], "
                f"or loop over data.by_cell()")
        return next(iter(values.values())).params[key]

    def __contains__(self, key) -> bool:
        return key in self._keys()

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return f"Params({self._keys()})"


class Data:
    """Every run of an experiment (all sweep cells and seeds), as handed to figure functions."""

    def __init__(self, runs: list[Run], sweep: dict | None = None, params: dict | None = None):
        self.runs = runs
        self.sweep = dict(sweep or {})
        self._base = dict(params or {})

    @property
    def params(self) -> Params:
        """This selection's parameters: ``data.select(lr=0.1).params["lr"]`` is 0.1, and
        ``data.params["lr"]`` over several lr cells is an error, never the base value."""
        return Params(self.runs, self._base)

    # -- selection ---------------------------------------------------------------------------
    def __iter__(self):
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    def cells(self) -> list[dict]:
        """The sweep cells, in sweep order (one empty cell when there is no sweep)."""
        seen, out = set(), []
        for run in self.runs:
            key = json.dumps(run.cell, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(run.cell)
        return out

    def select(self, **cell) -> "Data":
        """The runs of one sweep cell (or several, if only some sweep axes are named)."""
        runs = [r for r in self.runs if all(_same(r.cell.get(k), v) for k, v in cell.items())]
        if not runs:
            raise KeyError(f"no runs with {cell}; cells are {self.cells()}")
        return Data(runs, self.sweep, self._base)

    def by_cell(self) -> list[tuple[dict, "Data"]]:
        return [(cell, self.select(**cell)) for cell in self.cells()]

    @property
    def run(self) -> Run:
        """The single run, when there is exactly one."""
        if len(self.runs) != 1:
            raise ValueError(f"{len(self.runs)} runs here; select a cell and seed first")
        return self.runs[0]

    # -- observables over runs ----------------------------------------------------------------
    def values(self, name: str) -> np.ndarray:
        """One value over every run, in run order."""
        return np.array([r.values[name] for r in self.runs], dtype=float)

    def series(self, name: str, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """A series stacked over runs: (x, Y) with Y of shape (runs, len(x)); NaN-padded."""
        pairs = [r.series(name, x) for r in self.runs]
        xs = np.unique(np.concatenate([p[0] for p in pairs])) if pairs else np.array([])
        stacked = np.full((len(pairs), len(xs)), np.nan)
        for i, (px, py) in enumerate(pairs):
            stacked[i, np.searchsorted(xs, px)] = py
        return xs, stacked

    def arrays(self, name: str) -> np.ndarray:
        return np.stack([r.array(name) for r in self.runs])

    def band(self, ax, name: str, x: str = "step", stat: str = "minmax", label=None, **style):
        """Draw the mean over runs with a shaded band (min..max, or +-1 std with stat="std")."""
        xs, ys = self.series(name, x)
        with np.errstate(all="ignore"):
            mean = np.nanmean(ys, axis=0)
            if stat == "std":
                sd = np.nanstd(ys, axis=0)
                low, high = mean - sd, mean + sd
            elif stat == "minmax":
                low, high = np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
            else:
                raise ValueError(f"stat must be 'minmax' or 'std', not {stat!r}")
        (line,) = ax.plot(xs, mean, label=label if label is not None else name, **style)
        if len(self.runs) > 1:
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        return line

    @property
    def reads(self) -> set:
        out = set()
        for r in self.runs:
            out |= r.reads
        return out


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0) or a == b
    return a == b


def load_data(entries: list[tuple[Path, str, dict, dict, int]], sweep=None, params=None) -> Data:
    """Data from (path, label, params, cell, seed) tuples, sharing one read log."""
    reads: set = set()
    runs = [Run(path, label, p, cell, seed, reads) for path, label, p, cell, seed in entries]
    return Data(runs, sweep, params)
