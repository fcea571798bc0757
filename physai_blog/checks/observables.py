"""One run's observables, published against rerun: each value, series and array, exactly or
within the relative tolerance (the rows ``verify`` always had)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from physai_blog.runtime.data import read_scalars


def compare_number(a: float, b: float, tolerance: float) -> tuple[float, bool]:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0, True
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    return diff, diff <= tolerance * scale


def _values_rows(published: Path, rerun: Path, tolerance: float) -> list[tuple]:
    old = json.loads(published.read_text()) if published.exists() else {}
    new = json.loads(rerun.read_text()) if rerun.exists() else {}
    rows = []
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            rows.append((f"value {name}", repr(old.get(name, "missing")),
                         repr(new.get(name, "missing")), math.inf, False))
            continue
        diff, ok = compare_number(float(old[name]), float(new[name]), tolerance)
        rows.append((f"value {name}", repr(old[name]), repr(new[name]), diff, ok))
    return rows


def _series_rows(published: Path, rerun: Path, tolerance: float) -> list[tuple]:
    old_s, new_s = read_scalars(published), read_scalars(rerun)
    rows = []
    for name in sorted(set(old_s) | set(new_s)):
        a, b = old_s.get(name), new_s.get(name)
        if a is None or b is None or a.shape != b.shape:
            rows.append((f"series {name}", "shape " + str(getattr(a, "shape", None)),
                         "shape " + str(getattr(b, "shape", None)), math.inf, False))
            continue
        worst = (0.0, True, 0)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            diff, ok = compare_number(x, y, tolerance)
            if (not ok, diff) > (not worst[1], worst[0]):
                worst = (diff, ok, i)
        rows.append((f"series {name}[{worst[2]}]", repr(float(a[worst[2]])),
                     repr(float(b[worst[2]])), worst[0], worst[1]))
    return rows


def _array_row(name: str, pa: Path, pb: Path, tolerance: float) -> tuple:
    import numpy as np

    if not pa.exists() or not pb.exists():
        return (f"array {name}", "present" if pa.exists() else "missing",
                "present" if pb.exists() else "missing", math.inf, False)
    a, b = np.load(pa, allow_pickle=False), np.load(pb, allow_pickle=False)
    if a.shape != b.shape:
        return (f"array {name}", str(a.shape), str(b.shape), math.inf, False)
    diff = float(np.max(np.abs(a.astype(float) - b.astype(float)))) if a.size else 0.0
    scale = float(max(np.max(np.abs(a)), np.max(np.abs(b)))) if a.size else 0.0
    return (f"array {name}", f"max |x| {scale:.6g}", "", diff,
            diff == 0 or diff <= tolerance * scale)


def compare_run(published: Path, rerun: Path, tolerance: float) -> list[tuple]:
    """(observable, published, rerun, difference, ok, file) for each value, series and array
    of a run, ``file`` relative to the run's folder.  A published file that cannot be read
    is one drifting row."""
    if not published.is_dir():
        return [("(run folder)", "missing", "present", math.inf, False, "")]
    parts = [(_values_rows, "values.json"), (_series_rows, "scalars.csv")]
    arrays = sorted({p.name for d in (published, rerun) for p in (d / "arrays").glob("*.npy")})
    parts += [(lambda a, b, t, n=name: [_array_row(n, a, b, t)], f"arrays/{name}")
              for name in arrays]
    rows = []
    for part, rel in parts:
        try:
            rows += [(*row, rel) for row in part(published / rel, rerun / rel, tolerance)]
        except Exception as exc:  # noqa: BLE001 - a damaged file fails in parser-specific ways
            rows.append((f"{rel} unreadable", _short(str(exc)), "", math.inf, False, rel))
    return rows


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
