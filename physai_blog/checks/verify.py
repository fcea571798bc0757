"""``run SLUG`` and ``verify [SLUG]``: rerun experiments, and compare with what was published.

``verify`` builds the selected posts from scratch in a scratch cache (every run rerun, every
figure redrawn, every page and download rendered; the real cache is neither read nor written,
``site/`` is not written), then compares the result with every file published under
``site/posts/<slug>/``: the page, with the numbers its directives print; ``data/`` (each run's
files and manifest, ``values.csv``, each figure's data zip, member by member); ``code/``; the
figures; ``reproduce.zip``, member by member; and the notebook.  It returns rows of two kinds:

- observables: each value, series and array of each run (as ``verify`` always did);
- files: each difference, naming the file and where in it (CSV row and column, JSON key, zip
  member, the page's printed value, line), or one matching row per file.

Numbers (CSV cells, JSON numbers, npy arrays, numbers in text) match exactly, or within the
relative ``tolerance`` the post (or experiment) sets; everything else byte for byte.  Nothing
is excluded when the tolerance is zero: published manifests already leave out what differs
between two identical builds (wall time, the cache checksum: ``artifacts.UNPUBLISHED``) and
zips have fixed timestamps, so two builds are byte-identical.  With a tolerance, what follows
from numbers that moved within it is accepted, and only that:

- a JSON file is compared by its content (keys, strings, numbers), not its formatting;
- a manifest's ``sha256`` and ``bytes`` of a file, when they are those of the published file
  (itself compared within the tolerance);
- a zip's container, when it is the zip a build writes for its published members;
- a number printed on the page, within the tolerance plus one unit of its last printed digit
  (both sides are rounded);
- figures are not compared (their pixels and coordinates follow the data; the data behind
  each one are compared in its zip).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import html
import io
import json
import math
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from physai_blog.pipeline import Inputs, load_specs, plan, raise_errors
from physai_blog.paths import CACHE_DIR
from physai_blog.runs.cache import Cache
from physai_blog.content.config import default_jobs, load_config
from physai_blog.content.posts import load_posts
from physai_blog.runtime.data import read_scalars
from physai_blog.errors import InputError, PhysaiError
from physai_blog.runs.executor import LocalExecutor
from physai_blog.figures.draw import draw_figures, plan_figures
from physai_blog.runs.plan import RunPlan, execute_runs

MAX_ROWS = 10   # differences listed per published file; past this, one row counts the rest
# A number in text: not part of a word, a hex digest or a version string ("2.13.0").
NUMBER = re.compile(r"(?<![\w.])(-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)(?!\w|\.\d)")
JSON_KEY = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:')
# How render.py marks up what value() and fit() print.
DIRECTIVE = re.compile(r'<a class="value"[^>]*?title="([^"]*)"[^>]*>.*?</a>|'
                       r'<span class="fit" title="([^"]*)">.*?</span>', re.S)


@dataclass
class Drift:
    post: str
    run: str            # the run's label; for a file row, the file's path in the post folder
    observable: str     # for a file row, where in the file
    published: str
    rerun: str
    difference: float
    ok: bool
    file: str = ""      # the published file, relative to site/
    kind: str = "observable"   # or "file"


def _select(root: Path, slug: str | None):
    warnings: list[str] = []
    config = load_config(root)
    posts = [p for p in load_posts(root, warnings) if p.experiment]
    if slug is not None:
        posts = [p for p in posts if p.slug == slug]
        if not posts:
            raise InputError("posts/", None, f"no post with slug {slug!r} has an experiment")
    specs = load_specs(posts, root)
    return config, posts, specs, plan(Inputs(config, posts, specs))


def _experiment_of(root: Path, slug: str) -> list[str]:
    """The ``experiment:`` of the post with this slug, read with a regex (no YAML yet):
    only a hint for starting workers early, so a miss costs nothing."""
    import re

    for path in sorted((root / "posts").glob(f"*{slug}.md")):
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        match = re.search(r"^experiment:\s*['\"]?([^'\"\n#]+?)['\"]?\s*$", head, re.M)
        if match:
            return [match.group(1)]
    return []


def run_post(root: Path | str, slug: str, force: bool = False, jobs: int | None = None,
             on_event=None, figures: bool = False,
             zygote=None) -> tuple[list[RunPlan], list[RunPlan]]:
    """Run one post's experiment (stale runs, or all with ``force``); with ``figures``,
    draw its figures too (into the cache, for the next build)."""
    from physai_blog.build import early_zygote

    root = Path(root).resolve()
    # The workers' fork server imports numpy while this process loads and plans.
    if zygote is None:
        zygote = early_zygote(root, _experiment_of(root, slug), jobs, figures)
    try:
        config, posts, specs, runs = _select(root, slug)
    except BaseException:
        if zygote is not None:
            zygote.close()
        raise
    plans = runs[slug]
    cache = Cache(root / CACHE_DIR)
    with cache.lock():
        if force:  # drop the cached entries; they are replaced when the runs finish
            import shutil

            for plan in plans:
                shutil.rmtree(cache.path("runs", plan.key), ignore_errors=True)
        executor = LocalExecutor(root, cache.root / "tmp", jobs or config.jobs or default_jobs(),
                                 default_jobs(), zygote=zygote)
        try:
            done = execute_runs(plans, cache, executor, on_event)
            if done.errors:
                raise_errors(done.errors)
            if figures:
                drawn = plan_figures(specs[posts[0].experiment], done.runs(plans),
                                     config.figure_style)
                errors = draw_figures(drawn, cache, executor, config.figure_style,
                                      config.timeout, on_event).errors
                if errors:
                    raise_errors(errors)
        finally:
            executor.close()
    return plans, done.executed


def _compare(a: float, b: float, tolerance: float) -> tuple[float, bool]:
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
        diff, ok = _compare(float(old[name]), float(new[name]), tolerance)
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
            diff, ok = _compare(x, y, tolerance)
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


@dataclass
class Fresh:
    """The selected posts built from scratch: every file of the site, by its path in site/."""

    posts: list
    tolerance: dict[str, float]
    runs: dict[str, list[RunPlan]]
    files: dict[str, bytes | Path]
    cache: Cache

    def read(self, rel: str) -> bytes | None:
        value = self.files.get(rel)
        return value if value is None or isinstance(value, bytes) else value.read_bytes()


@contextmanager
def fresh_build(root: Path | str, slug: str | None = None, jobs: int | None = None,
                on_event=None, selected: tuple | None = None) -> Iterator[Fresh]:
    """Rerun and rebuild the selected posts in a scratch cache, removed on exit; the real
    cache is neither read nor written, and nothing is written under ``site/``."""
    from physai_blog.context import BuildOptions, BuildReport, Context
    from physai_blog.pipeline import draw, render_and_gather, run

    root = Path(root).resolve()
    config, posts, specs, runs = selected or _select(root, slug)
    jobs = jobs or config.jobs or default_jobs()
    with tempfile.TemporaryDirectory(prefix="physai-verify-") as scratch:
        cache = Cache(Path(scratch) / "cache")
        executor = LocalExecutor(root, Path(scratch) / "tmp", jobs, default_jobs())
        # keep_going: a claim that fails on the rerun is rendered failing, so it shows up as
        # drift in the page; run and figure errors still stop verify, below.
        options = BuildOptions(root, jobs, keep_going=True)
        ctx = Context(options, config, cache, executor, BuildReport(),
                      on_event or (lambda event, task: None), jobs)
        inputs = Inputs(config, posts, specs)
        try:
            done = run(ctx, inputs, runs)
            if ctx.report.errors:
                raise_errors(ctx.report.errors)
            files = render_and_gather(ctx, inputs, done, draw(ctx, inputs, done))
            posts = [p for p in posts if f"posts/{p.slug}/index.html" in files]
        finally:
            executor.close()
        if ctx.report.errors:
            raise_errors(ctx.report.errors)
        tolerance = {p.slug: p.tolerance if p.tolerance is not None
                     else (specs[p.experiment].tolerance or 0.0) for p in posts}
        yield Fresh(posts, tolerance, runs, files, cache)


def verify(root: Path | str, slug: str | None = None, jobs: int | None = None,
           on_event=None) -> list[Drift]:
    """Rebuild from scratch and compare with everything published; every row returned."""
    root = Path(root).resolve()
    selected = _select(root, slug)
    site = root / "site"
    if not (site / "index.html").exists():
        raise PhysaiError(f"{site}: no published site to verify against; run `physai-blog "
                          "build` first")
    with fresh_build(root, slug, jobs, on_event, selected) as fresh:
        return compare_site(fresh, site)


def compare_site(fresh: Fresh, site: Path) -> list[Drift]:
    """Each run's observables, then each file of each post, against the site at ``site``."""
    rows: list[Drift] = []
    for post in fresh.posts:
        tolerance = fresh.tolerance[post.slug]
        folder = site / "posts" / post.slug
        observed = []
        for plan in fresh.runs[post.slug]:
            base = f"posts/{post.slug}/data/{plan.label}/"
            for name, old, new, diff, ok, rel in compare_run(
                    folder / "data" / plan.label, fresh.cache.path("runs", plan.key), tolerance):
                observed.append(Drift(post.slug, plan.label, name, old, new, diff, ok,
                                      base + rel))
        rows += observed
        # A file whose observables drifted is reported once, by those rows.
        judged = {r.file for r in observed if not r.ok}
        rows += compare_post_files(fresh, post.slug, folder, tolerance, judged)
    return rows


def compare_post_files(fresh: Fresh, slug: str, folder: Path, tolerance: float,
                       judged: set[str]) -> list[Drift]:
    """One row per difference in each file of the post (built or published), or one
    matching row per file."""
    base = f"posts/{slug}/"
    built = {rel[len(base):] for rel in fresh.files if rel.startswith(base)}
    published = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} \
        if folder.is_dir() else set()
    rules = Rules(tolerance, folder, lambda rel: _read(folder / rel))
    rows = []
    for rel in sorted(built | published):
        if base + rel in judged:
            continue
        found = compare_file(rel, _read(folder / rel) if rel in published else None,
                             fresh.read(base + rel) if rel in built else None, rules)
        if len(found) > MAX_ROWS:
            found = found[:MAX_ROWS] + [("...", f"{len(found) - MAX_ROWS} more", "", math.inf)]
        rows += [Drift(slug, rel, where, old, new, diff, False, base + rel, "file")
                 for where, old, new, diff in found]
        if not found:
            rows.append(Drift(slug, rel, "whole file", "", "", 0.0, True, base + rel, "file"))
    return rows


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
    return _compare_text(a, b, rules.tolerance, _locator(rel, a), rel.endswith(".html"))


def _compare_text(old: str, new: str, tolerance: float, where: Callable[[int], str],
                  printed: bool) -> list[tuple]:
    """Numbers within the tolerance, the text around them exactly (one row at its first
    difference: past it the two texts no longer line up)."""
    a, b = NUMBER.split(old), NUMBER.split(new)   # text, number, text, ..., text
    rows, pa, pb = [], 0, 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and i % 2:
            diff, ok = _numbers(x, y, tolerance, printed)
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
    # Printed numbers are rounded: each is within half a unit of its last digit.
    mantissa, _, exponent = x.lower().partition("e")
    unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2])) if printed else 0.0
    return diff, diff <= tolerance * max(abs(a), abs(b)) + unit


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
    """In a page: the value() or fit() that printed it, else the line."""
    spans = []
    for k, match in enumerate(DIRECTIVE.finditer(text), start=1):
        if match.group(1) is not None:
            label = f"value {k} ({html.unescape(match.group(1)).partition(':')[0]})"
        else:
            title = html.unescape(match.group(2)).partition(",")[0]
            label = f"fit {k} ({title.removeprefix('least-squares fit of ')})"
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
        diff, ok = _compare(float(a), float(b), tolerance)
        if not ok:
            rows.append((path or "(top)", repr(a), repr(b), diff))
    elif a != b or type(a) is not type(b):
        rows.append((path or "(top)", _short(json.dumps(a)), _short(json.dumps(b)), math.inf))


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _members(data: bytes) -> tuple[dict | None, str]:
    """A zip's members (an exception for one that cannot be read), or None and why."""
    import zipfile

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
    from physai_blog.artifacts.downloads import deterministic_zip

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


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def report(rows: list[Drift], verbose: bool = False) -> tuple[list[str], str | None]:
    """The lines ``verify`` prints (the drift table, two summaries) and its error line, None
    when nothing drifted.  Without ``verbose``, rows that match are left out but values."""
    drift = [r for r in rows if not r.ok]
    shown = rows if verbose else [r for r in rows if not r.ok or (
        r.kind == "observable" and r.observable.startswith("value "))]
    lines = []
    if shown:
        width = max(len(f"{r.post}/{r.run}") for r in shown)
        wide = max(28, *(len(r.observable) for r in shown))
        lines.append(f"{'run':<{width}}  {'observable':<{wide}} {'published':>14} "
                     f"{'rerun':>14} {'|diff|':>10}  ok     file")
        lines += [f"{r.post + '/' + r.run:<{width}}  {r.observable:<{wide}} {r.published:>14} "
                  f"{r.rerun:>14} {r.difference:>10.3g}  {'yes  ' if r.ok else 'DRIFT'}  "
                  f"{r.file}" for r in shown]
    observables = [r for r in rows if r.kind == "observable"]
    files, bad = {r.file for r in rows}, {r.file for r in drift}
    lines.append(f"{sum(r.ok for r in observables)} of {len(observables)} observables match "
                 "the published data.")
    lines.append(f"{len(files - bad)} of {len(files)} published files match a fresh build.")
    drifted = sum(not r.ok for r in observables)
    differ = len({r.file for r in drift if r.kind == "file"})
    parts = [f"{drifted} observable(s) drifted from the published data"] if drifted else []
    parts += [f"{differ} published file(s) differ from a fresh build"] if differ else []
    return lines, "; ".join(parts) or None
