"""Which run a drawn series came from: its sweep cell and seed, found in the figure's data.

A plotting function draws numbers, not runs; the chart wants to say "seed 2 of λ = 0.1" on
hover.  A series is matched against what the figure read (never reading more: the figure's data
download holds exactly what it read): a line whose y values all occur in one run's logged
column is that run's; a line equal to the mean (or min, or mean - std) over one cell's seeds is
that cell's; a marker whose value is one run's logged value is that run's.  No match, or more
than one, and the series carries no identity: a wrong seed on hover is worse than none.
"""

from __future__ import annotations

import json

import numpy as np

from physai_blog.runtime.data import ARRAYS, Data

POINTWISE_MAX = 500   # per-point matching for marker series up to this many points


class Identities:
    def __init__(self, data: Data | None):
        self.runs = list(data.runs) if data is not None else []
        self.arrays = [_arrays_read(r) for r in self.runs]

    def table(self) -> list[dict]:
        return [{"label": r.label, "cell": r.cell, "seed": r.seed} for r in self.runs]

    def _loaded(self, attr: str) -> list[tuple[int, dict]]:
        return [(i, getattr(r, attr)) for i, r in enumerate(self.runs)
                if getattr(r, attr) is not None]

    def of(self, x: np.ndarray, y: np.ndarray) -> dict:
        """The identity of a series: {"run", "column"}, {"cell", "seeds", "stat", "column"},
        {"points": [run index or None]} or {}."""
        if len(y) == 0 or not self.runs:
            return {}
        if len(y) > 1 and len(set(y.tolist())) > 1:
            # a cell's statistic first: a band's lower edge may be one seed's values throughout
            found = self._cell_stat(x, y) or self._run_column(x, y) or self._array(y)
            if found:
                return found
        if len(y) <= POINTWISE_MAX:
            points = [self._value_owner(float(v)) for v in y]
            if any(p is not None for p in points):
                return {"points": points}
        return {}

    def _run_column(self, x, y) -> dict | None:
        hits = []
        for i, columns in self._loaded("_scalars"):
            xs_ok = any(np.isin(x, col).all() for col in columns.values())
            cols = [name for name, col in columns.items() if np.isin(y, col).all()]
            if xs_ok and cols:
                hits.append((i, cols))
        if len(hits) != 1:
            return None
        i, cols = hits[0]
        return {"run": i, **({"column": cols[0]} if len(cols) == 1 else {})}

    def _array(self, y) -> dict | None:
        """A series drawn from one run's logged array (the x is the author's: an index,
        offset for grouped bars), or from a statistic of one cell's arrays."""
        hits = [{"run": i, "column": name} for i, arrays in enumerate(self.arrays)
                for name, a in arrays.items() if a.shape == y.shape and np.array_equal(a, y)]
        if len(hits) == 1:
            return hits[0]
        groups: dict[str, list[int]] = {}
        for i, arrays in enumerate(self.arrays):
            if arrays:
                groups.setdefault(json.dumps(self.runs[i].cell, sort_keys=True), []).append(i)
        found = []
        for members in (m for m in groups.values() if len(m) > 1):
            for name in set.intersection(*(set(self.arrays[i]) for i in members)):
                stack = [self.arrays[i][name] for i in members]
                if any(a.shape != y.shape for a in stack):
                    continue
                stacked = np.stack(stack)
                for stat, values in (("mean", stacked.mean(0)), ("min", stacked.min(0)),
                                     ("max", stacked.max(0))):
                    if np.allclose(values, y, rtol=1e-12, atol=0):
                        found.append({"cell": self.runs[members[0]].cell, "column": name,
                                      "stat": stat, "seeds": [self.runs[i].seed for i in members]})
                        break
        return found[0] if len(found) == 1 else None

    def _cell_stat(self, x, y) -> dict | None:
        groups: dict[str, list] = {}
        for i, _ in self._loaded("_scalars"):
            groups.setdefault(json.dumps(self.runs[i].cell, sort_keys=True), []).append(i)
        found = []
        for members in groups.values():
            if len(members) < 2:
                continue
            for column, stat in _stats(Data([self.runs[i] for i in members]), x, y):
                found.append({"cell": self.runs[members[0]].cell, "column": column,
                              "stat": stat, "seeds": [self.runs[i].seed for i in members]})
        return found[0] if len(found) == 1 else None

    def _value_owner(self, v: float) -> int | None:
        owners = {i for i, values in self._loaded("_values")
                  if any(isinstance(val, (int, float)) and float(val) == v
                         for val in values.values())}
        owners |= {i for i, cols in self._loaded("_scalars")
                   if any(np.isin(v, col) for col in cols.values())} if not owners else set()
        return owners.pop() if len(owners) == 1 else None


def _stats(group: Data, x, y):
    """(column, stat) pairs whose statistic over the group's seeds, against some x column,
    is exactly the series (x, y)."""
    first = group.runs[0]._scalars
    for xcol, xvalues in first.items():
        if not np.isin(x, xvalues).all():
            continue
        for column in first:
            if column == xcol:
                continue
            xs, ys = group.series(column, xcol)
            if len(xs) != len(x) or not np.array_equal(xs, x):
                continue
            with np.errstate(all="ignore"):
                mean, sd = np.nanmean(ys, axis=0), np.nanstd(ys, axis=0)
                stats = {"mean": mean, "min": np.nanmin(ys, axis=0),
                         "max": np.nanmax(ys, axis=0), "mean-std": mean - sd}
            for stat, values in stats.items():
                if np.allclose(values, y, rtol=1e-12, atol=0):
                    yield column, stat
                    break


def _arrays_read(run) -> dict[str, np.ndarray]:
    """The 1-D arrays of ``run`` its figure read (loaded again, never adding to its reads)."""
    out = {}
    prefix = f"{run.label}/{ARRAYS}/"
    for read in sorted(run.reads):
        if read.startswith(prefix) and read.endswith(".npy"):
            name = read[len(prefix):-4]
            try:
                a = np.load(run.path / ARRAYS / f"{name}.npy", allow_pickle=False)
            except (OSError, ValueError):
                continue
            if a.ndim == 1 and np.issubdtype(a.dtype, np.number):
                out[name] = a.astype(float)
    return out
