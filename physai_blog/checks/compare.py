"""Comparing one published file with the same file of a fresh build: numbers within a
tolerance (CSV cells, JSON numbers, npy arrays, the measured numbers a page prints), everything
else byte for byte; each difference located (CSV row and column, JSON key and line, zip member,
the page's printed value).  ``verify.py`` says which differences a tolerance accepts.

A tolerance covers a number in text only where the number is measured: a CSV cell, or on a
page one of the spans that print runs' values (below, ``_measured``).  Every other number of
a page (figure and reference numbers, dates, years, counts of seeds and runs, the parameters
``param()`` prints: inputs, not measurements) and every number of code, READMEs and
requirements must match exactly, whatever the tolerance."""

from __future__ import annotations

import bisect
import csv
import hashlib
import html
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from physai_blog.artifacts.downloads import deterministic_zip
from physai_blog.checks.observables import _short, compare_number

MAX_ROWS = 10   # differences listed per published file; past this, one row counts the rest
# A number in text: not part of a word, a hex digest or a version string ("2.13.0").
NUMBER = re.compile(r"(?<![\w.])(-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)(?!\w|\.\d)")
JSON_KEY = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:')
# How render/page.py marks up what value(), param() and fit() print: (kind, title, text).
DIRECTIVE = re.compile(r'<a class="(value|param)"[^>]*?title="([^"]*)"[^>]*>(.*?)</a>|'
                       r'<span class="(fit)" title="([^"]*)">(.*?)</span>', re.S)
# In a value's title, the measured part ("final_loss: over 2 seed(s), min 0.0958, max 0.112");
# in its text, the count of seeds that is not ("0.104 ± 0.012 (n=2)").
VALUE_RANGE = re.compile(r", min (.*?), max (.*)$", re.S)
SEED_COUNT = re.compile(r" \(n=\d+\)$")
# The tables of post.html that print runs' values: each claim's numbers per run
# ("final_loss = 0.0958, 3 * k = 15": the values, not the names) and the seed-sensitivity
# table's mean, std, min, max and std/mean (not its cell or its n).
CLAIM_TABLE = re.compile(r'<table class="claim-table">.*?</table>', re.S)
CLAIM_ROW = re.compile(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>")
CLAIM_NUMBER = re.compile(r" = (.*?)(?=, (?:(?! = ).)*? = |$)")
SEED_TABLE = re.compile(r'<table class="seed-table">.*?</table>', re.S)
SEED_ROW = re.compile(r"<tr><td><code>[^<]*</code></td><td>[^<]*</td><td>[^<]*</td>"
                      r"((?:<td>[^<]*</td>){5})</tr>")


@dataclass(frozen=True)
class Rules:
    """How a post's published files are compared, and where the files beside one are read."""

    tolerance: float
    folder: Path                              # the post's published folder
    beside: Callable[[str], bytes | None]     # published files in the same tree (or zip)

    def inside(self, members: dict) -> "Rules":
        return Rules(self.tolerance, self.folder,
                     lambda rel: members.get(rel) if isinstance(members.get(rel), bytes) else None)

    def listed(self, manifest: str, name: str) -> bytes | None:
        """A file a manifest lists: beside it, else in the post's ``data/<run>/`` (a figure's
        zip holds only the files the figure read)."""
        if name.startswith("/") or ".." in PurePosixPath(name).parts:
            return None
        parent = PurePosixPath(manifest).parent
        found = self.beside((parent / name).as_posix())
        return found if found is not None else _read(self.folder / "data" / parent.name / name)


def compare_file(rel: str, old: bytes | None, new: bytes | None,
                 rules: Rules) -> list[tuple[str, str, str, float]]:
    """(where, published, rebuilt, difference) for each difference; [] when they match."""
    if old is None or new is None:
        return [("whole file", "missing" if old is None else "present",
                 "built" if old is None else "not built", math.inf)]
    if old == new or (rules.tolerance and PurePosixPath(rel).parent.name == "figures"):
        return []
    if rel.endswith(".zip"):
        return _compare_zip(old, new, rules)
    if rel.endswith(".npy"):
        return _compare_npy(old, new, rules.tolerance)
    try:
        a, b = old.decode(), new.decode()
    except UnicodeDecodeError:
        k = _common(old, new)
        return [(f"byte {k}", old[k:k + 1].hex() or "end", new[k:k + 1].hex() or "end",
                 math.inf)]
    if rules.tolerance and rel.endswith((".json", ".ipynb")):
        return _compare_json(a, b, rel, rules)
    if rules.tolerance and rel.endswith(".html"):
        return _compare_text(a, b, _locator(rel, a), _page_numbers(a, b, rules.tolerance))
    # A CSV holds runs' numbers, as written, and so does the explorer's data (a script of
    # them); code, READMEs and requirements hold none.
    tolerance = rules.tolerance if rel.endswith((".csv", "data/explorer.js")) else 0.0
    return _compare_text(a, b, _locator(rel, a),
                         lambda x, y, pa, pb: _numbers(x, y, tolerance, printed=False))


# Whether two spellings of numbers, at these offsets of the two texts, match: (|diff|, ok).
Judge = Callable[[str, str, int, int], tuple[float, bool]]


def _page_numbers(old: str, new: str, tolerance: float) -> Judge:
    """A measured number (``_measured``, on both pages) within the tolerance plus its
    rounding; any other number exactly."""
    spans_old, spans_new = _measured(old), _measured(new)

    def judge(x: str, y: str, pa: int, pb: int) -> tuple[float, bool]:
        if _within(spans_old, pa, pa + len(x)) and _within(spans_new, pb, pb + len(y)):
            return _numbers(x, y, tolerance, printed=True)
        return _numbers(x, y, 0.0, printed=False)

    return judge


def _measured(page: str) -> list[tuple[int, int]]:
    """The stretches of a page that print runs' values, sorted: a value's text (but its
    "(n=2)") and the min and max in its title, a fit's text, each claim's numbers per run and
    the seed table's mean, std, min, max and std/mean.  A param() prints an input: not here.
    (A blog's own post.html that marks its tables up otherwise leaves them exact.)"""
    spans = []
    for match in DIRECTIVE.finditer(page):
        if match.group(1) == "value":
            title = VALUE_RANGE.search(match.group(2))
            if title:
                base = match.start(2)
                spans += [(base + title.start(1), base + title.end(1)),
                          (base + title.start(2), base + title.end(2))]
            count = SEED_COUNT.search(match.group(3))
            spans.append((match.start(3), match.start(3) + count.start() if count
                          else match.end(3)))
        elif match.group(4) == "fit":
            spans.append((match.start(6), match.end(6)))
    for table in CLAIM_TABLE.finditer(page):
        for row in CLAIM_ROW.finditer(page, table.start(), table.end()):
            base = row.start(1)
            spans += [(base + m.start(1), base + m.end(1))
                      for m in CLAIM_NUMBER.finditer(row.group(1))]
    for table in SEED_TABLE.finditer(page):
        spans += [(row.start(1), row.end(1))
                  for row in SEED_ROW.finditer(page, table.start(), table.end())]
    return sorted(spans)


def _within(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    k = bisect.bisect_right(spans, (start, math.inf)) - 1
    return k >= 0 and spans[k][0] <= start and end <= spans[k][1]


def _compare_text(old: str, new: str, where: Callable[[int], str],
                  numbers: Judge) -> list[tuple]:
    """Numbers as ``numbers`` judges them (given both spellings and their offsets), the text
    around them exactly (one row at its first difference: past it the two texts no longer
    line up)."""
    a, b = NUMBER.split(old), NUMBER.split(new)   # text, number, text, ..., text
    rows, pa, pb = [], 0, 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and i % 2:
            diff, ok = numbers(x, y, pa, pb)
            if not ok:
                rows.append((where(pa), x, y, diff))
        elif x != y:
            k = _common(x, y)
            return rows + [(where(pa + k), _snippet(old, pa + k), _snippet(new, pb + k),
                            math.inf)]
        pa, pb = pa + len(x), pb + len(y)
    if len(a) != len(b):
        rows.append((where(pa), _snippet(old, pa), _snippet(new, pb), math.inf))
    return rows


def _numbers(x: str, y: str, tolerance: float, printed: bool) -> tuple[float, bool]:
    """Two different spellings of numbers: their difference, and whether it is tolerated."""
    try:
        a, b = float(x), float(y)
    except ValueError:
        return math.inf, False
    diff = abs(a - b)
    if not tolerance:
        return diff, False
    # Printed numbers are rounded: each is within half a unit of its last digit, so two
    # printings of values within the tolerance are within it plus half of each unit.
    rounding = (_unit(x) + _unit(y)) / 2 if printed else 0.0
    return diff, diff <= tolerance * max(abs(a), abs(b)) + rounding


def _unit(printed: str) -> float:
    """One unit of the last digit of a printed number ("0.104": 0.001, "1.5e-05": 1e-06)."""
    mantissa, _, exponent = printed.lower().partition("e")
    return 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


def _locator(rel: str, text: str) -> Callable[[int], str]:
    """Where an offset of a published text file is, in the terms of its format."""
    lines = text.split("\n")
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(offset: int) -> int:
        return bisect.bisect_right(starts, offset) - 1

    if rel.endswith(".csv"):
        return lambda offset: _csv_where(lines, line(offset), offset - starts[line(offset)])
    if rel.endswith((".json", ".ipynb")):
        return lambda offset: _json_where(lines, line(offset))
    if rel.endswith(".html"):
        return _html_where(text, line)
    return lambda offset: f"line {line(offset) + 1}"


def _csv_where(lines: list[str], n: int, column_offset: int) -> str:
    try:
        column = max(0, len(next(csv.reader([lines[n][:column_offset]]), [])) - 1)
        if n == 0:
            return f"header, column {column + 1}"
        header = next(csv.reader([lines[0]]), [])
        label = next(csv.reader([lines[n]]), [""])[0]
    except csv.Error:
        return f"line {n + 1}"
    name = header[column] if column < len(header) else f"#{column + 1}"
    return f"row {n} ({label}), column {name}"


def _json_where(lines: list[str], n: int) -> str:
    """The key path of a line of indented JSON (as every published JSON file is)."""
    path, limit = [], None
    for i in range(n, -1, -1):
        match = JSON_KEY.match(lines[i])
        if limit is None:   # the line's own key, else the keys of its parents
            limit = len(lines[i]) - len(lines[i].lstrip()) + (1 if match else 0)
        if match and len(match.group(1)) < limit:
            path.append(match.group(2))
            limit = len(match.group(1))
    return f"{'.'.join(reversed(path)) or '(top)'}, line {n + 1}"


def _html_where(text: str, line: Callable[[int], int]) -> Callable[[int], str]:
    """In a page: the value(), param() or fit() that printed it, else the line."""
    spans = []
    for k, match in enumerate(DIRECTIVE.finditer(text), start=1):
        if match.group(1) == "value":
            label = f"value {k} ({html.unescape(match.group(2)).partition(':')[0]})"
        elif match.group(1) == "param":
            label = f"param {k} ({html.unescape(match.group(2)).removeprefix('parameter ')})"
        else:
            label = f"fit {k} ({html.unescape(match.group(5)).partition(':')[0]})"
        spans.append((match.start(), match.end(), label))

    def where(offset: int) -> str:
        inside = [label for start, end, label in spans if start <= offset < end]
        return ", ".join(inside + [f"line {line(offset) + 1}"])

    return where


def _compare_json(old: str, new: str, rel: str, rules: Rules) -> list[tuple]:
    """With a tolerance: by content (keys, strings, numbers within it), not formatting."""
    try:
        a = json.loads(old)
    except ValueError as exc:
        return [("whole file", _short(f"not JSON ({exc})"), "JSON", math.inf)]
    b = json.loads(new)
    if rel.endswith("manifest.json"):
        _adopt_checksums(a, b, rel, rules)
    rows: list[tuple] = []
    _walk(a, b, "", rules.tolerance, rows)
    return rows


def _adopt_checksums(old, new, rel: str, rules: Rules) -> None:
    """A file's sha256 and size follow its numbers: where the published manifest gives those
    of the published file (compared within the tolerance itself), take the rebuilt ones."""
    files = old.get("files") if isinstance(old, dict) else None
    fresh = new.get("files") if isinstance(new, dict) else None
    if not isinstance(files, dict) or not isinstance(fresh, dict):
        return
    for name, entry in files.items():
        data = rules.listed(rel, name)
        if data is not None and isinstance(entry, dict) and isinstance(fresh.get(name), dict) \
                and entry.get("sha256") == hashlib.sha256(data).hexdigest() \
                and entry.get("bytes") == len(data):
            files[name] = {**entry, "sha256": fresh[name].get("sha256"),
                           "bytes": fresh[name].get("bytes")}


def _walk(a, b, path: str, tolerance: float, rows: list) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                rows.append((where, "present" if key in a else "missing",
                             "present" if key in b else "missing", math.inf))
            else:
                _walk(a[key], b[key], where, tolerance, rows)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}[{i}]", tolerance, rows)
    elif _is_number(a) and _is_number(b):
        diff, ok = compare_number(float(a), float(b), tolerance)
        if not ok:
            rows.append((path or "(top)", repr(a), repr(b), diff))
    elif a != b or type(a) is not type(b):
        rows.append((path or "(top)", _short(json.dumps(a)), _short(json.dumps(b)), math.inf))


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _members(data: bytes) -> tuple[dict | None, str]:
    """A zip's members (an exception for one that cannot be read), or None and why."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except Exception as exc:  # noqa: BLE001 - a damaged zip fails in many ways
        return None, str(exc)
    members: dict = {}
    for name in names:
        try:
            members[name] = zf.read(name)
        except Exception as exc:  # noqa: BLE001 - ditto (bad CRC, bad deflate stream, ...)
            members[name] = exc
    return members, ""


def _compare_zip(old: bytes, new: bytes, rules: Rules) -> list[tuple]:
    """Member by member, then the container (headers, order, timestamps)."""
    published, why = _members(old)
    if published is None:
        return [("whole file", _short(f"not a zip ({why})"), "zip", math.inf)]
    built, _ = _members(new)
    inner = rules.inside(published)
    rows = []
    for name in sorted(set(published) | set(built)):
        if isinstance(published.get(name), Exception):
            rows.append((f"{name}: whole member", _short(f"unreadable ({published[name]})"),
                         "", math.inf))
            continue
        rows += [(f"{name}: {where}", a, b, d) for where, a, b, d in
                 compare_file(name, published.get(name), built.get(name), inner)]
    if not rows and old != deterministic_zip(published):
        rows.append(("zip container", "differs", "as a build writes it", math.inf))
    return rows


def _compare_npy(old: bytes, new: bytes, tolerance: float) -> list[tuple]:
    """The header exactly; the numbers within the tolerance (of the largest, as for arrays
    in ``compare_run``); anything else byte for byte."""
    import numpy as np

    try:
        a = np.load(io.BytesIO(old), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - a damaged header fails in many ways
        return [("whole file", _short(f"unreadable ({exc})"), "", math.inf)]
    b = np.load(io.BytesIO(new), allow_pickle=False)
    if old[:len(old) - a.nbytes] != new[:len(new) - b.nbytes] or a.shape != b.shape:
        return [("header", f"{a.dtype} {a.shape}", f"{b.dtype} {b.shape}", math.inf)]
    if a.dtype.kind not in "biuf" or not a.size:
        k = _common(old, new)
        return [(f"byte {k}", old[k:k + 1].hex(), new[k:k + 1].hex(), math.inf)]
    x, y = a.astype(float).ravel(), b.astype(float).ravel()
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    diff = np.nan_to_num(np.where(same, 0.0, np.abs(x - y)), nan=math.inf)
    worst = int(np.argmax(diff))
    scale = float(np.nanmax(np.abs(np.concatenate([x, y])))) if np.isfinite(x).any() else 0.0
    if same.all():   # equal numbers, different bytes (-0.0, a NaN payload)
        k = _common(old, new)
        return [(f"byte {k}", old[k:k + 1].hex(), new[k:k + 1].hex(), math.inf)]
    if tolerance and diff[worst] <= tolerance * scale:
        return []
    where = f"element {tuple(int(i) for i in np.unravel_index(worst, a.shape))}"
    return [(where, repr(x[worst]), repr(y[worst]), float(diff[worst]))]


def _common(a, b) -> int:
    """The length of the common prefix of two strings (or byte strings)."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _snippet(text: str, offset: int) -> str:
    """The text from a little before ``offset``, so that a changed digit shows its number."""
    return repr(text[max(0, offset - 6):offset + 14]) if offset < len(text) else "(end)"


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None
