#!/usr/bin/env python3
"""How cost grows with the work: 200 vs 2,000 text posts, sweeps of 20 vs 400 vs 2,000 cells.

    .venv/bin/python benchmarks/scale.py [--reps N] [--posts 200,2000] [--cells 20,400,2000]
    .venv/bin/python benchmarks/scale.py --ab NAME=CODE_DIR ... [--reps N] [--cells ...]

Text corpus (corpus T of run.py, 1,500 words a post): a full build, a no-op build and a build
after one post was edited (a second edit: the author's loop), each a fresh process.  Sweeps: one post whose experiment has N
trivial cells (a run logs one value), built from an empty cache with ``--jobs 1``; the
per-run overhead is the slope ``(t(N) - t(smallest)) / (N - smallest)``.  Every figure is the
median of --reps; the table gives each as a ratio against the smallest corpus and against
``python -c pass`` measured alongside, then the issue's targets.  Written to the top of
benchmarks/results-scale.md (the sections below it are kept).  ``--ab``: only the sweeps,
each version of the code in turn (``cells_ab``), printed for the A/B section of that file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from run import ENV, PHYSAI, PY, HERE, Samples, clean, run, snapshot  # noqa: F401 - sys.path set
import corpora

TRIVIAL_SWEEP = '''\
from physai_blog import Experiment

exp = Experiment(params={{"k": 0}}, sweep={{"k": {ks!r}}}, seeds=[0])


@exp.run
def train(params, seed, log):
    log.value("k2", float(params["k"] ** 2))
'''
TRIVIAL_POST = ("---\ntitle: Sweep\ndate: 2026-02-01\nexperiment: experiments/sweep.py\n---\n\n"
                "k=1 squared: {{ value(\"k2\", k=1) }}.\n")


def bench_posts(base: Path, n: int, reps: int, s: Samples) -> None:
    blog = corpora.write_text_corpus(base / f"posts{n}", n, 1500)["physai"]
    edited = sorted((blog / "posts").glob("*.md"))[n // 2]
    build = [PHYSAI, "build", "--root", str(blog), "-q"]
    for rep in range(reps):
        clean(blog / "site", blog / ".physai-cache")
        s.add(f"P{n} full", run(build, blog).seconds)
        s.add(f"P{n} noop", run(build, blog).seconds)
        # The author's loop: an edit after an edit (the first one after a build from an
        # empty cache goes the full way: there is no back buffer to patch yet)
        for edit in ("first", "again"):
            with edited.open("a") as fh:
                fh.write(f"\nAn edit, {edit}, number {rep}.\n")
            seconds = run(build, blog).seconds
        s.add(f"P{n} edit", seconds)
        s.add("python", run([PY, "-c", "pass"], blog).seconds)


def cells_blog(base: Path, cells: int, tag: str = "") -> Path:
    """A blog of one post whose experiment is a sweep of ``cells`` trivial runs, new for each
    build from an empty cache: deleting the last build's cache first would time that
    deletion too (on ext4 without a journal, this machine's, every inode freed in the last
    one to five minutes slows each file made after it; a 2,000-cell cache holds ~15,000)."""
    blog = base / f"cells{cells}{tag}"
    (blog / "posts").mkdir(parents=True)
    (blog / "experiments").mkdir()
    (blog / "physai.yaml").write_text("title: Sweep\nauthor: Bench Author\n")
    (blog / "experiments" / "sweep.py").write_text(TRIVIAL_SWEEP.format(ks=list(range(cells))))
    (blog / "posts" / "2026-02-01-sweep.md").write_text(TRIVIAL_POST)
    return blog


def bench_cells(base: Path, cells: int, reps: int, s: Samples) -> None:
    for rep in range(reps):
        blog = cells_blog(base, cells, f"-{rep}")
        build = [PHYSAI, "build", "--root", str(blog), "--jobs", "1", "-q"]
        s.add(f"C{cells} full", run(build, blog).seconds)
        s.add(f"C{cells} noop", run(build, blog).seconds)
        s.add("python", run([PY, "-c", "pass"], blog).seconds)


def cells_ab(base: Path, versions: list[str], cells: list[int], reps: int) -> str:
    """The sweeps built by each version (NAME=CODE_DIR, a checkout holding physai_blog/),
    interleaved: every rep builds every cell count with every version in turn, each a fresh
    process from an empty cache (``python -m physai_blog``, the copy compiled first), and
    ``python -c pass`` once.  A table of medians and per-run slopes, each version's slope as a
    ratio to the first version's and to ``python -c pass``."""
    names = []
    for version in versions:
        name, _, code = version.partition("=")
        dest = base / "code" / name
        shutil.copytree(Path(code) / "physai_blog", dest / "physai_blog",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([PY, "-m", "compileall", "-q", str(dest)], check=True)
        names.append((name, {**ENV, "PYTHONPATH": str(dest)}))
    s = Samples()
    for rep in range(reps):
        for n in cells:
            for name, env in names:
                blog = cells_blog(base, n, f"-{name}-{rep}")
                build = [PY, "-m", "physai_blog", "build", "--root", str(blog), "--jobs", "1",
                         "-q"]
                s.add(f"{name} C{n}", run(build, blog, env).seconds)
        s.add("python", run([PY, "-c", "pass"], base).seconds)
        print(f"rep {rep + 1} of {reps}: " + ", ".join(
            f"{k} {v[-1]:.2f}" for k, v in s.items() if k != "python"), flush=True)
    med = {name: statistics.median(values) for name, values in s.items()}
    small = cells[0]
    rows = ["| version | " + " | ".join(f"{n} cells s" for n in cells) + " | " +
            " | ".join(f"ms per run {small} -> {n}" for n in cells[1:]) +
            f" | vs {names[0][0]} | vs `python -c pass` |",
            "|---" * (len(cells) * 2 + 2) + "|"]
    slope = {name: [(med[f"{name} C{n}"] - med[f"{name} C{small}"]) / (n - small)
                    for n in cells[1:]] for name, _ in names}
    for name, _ in names:
        rows.append(f"| {name} | " + " | ".join(f"{med[f'{name} C{n}']:.2f}" for n in cells)
                    + " | " + " | ".join(f"{x * 1000:.2f}" for x in slope[name])
                    + f" | {slope[name][-1] / slope[names[0][0]][-1]:.2f}"
                    + f" | {slope[name][-1] / med['python']:.3f} |")
    rows.append(f"\n`python -c pass`: {med['python'] * 1000:.1f} ms (median of {reps}); the "
                f"ratios are of the slopes to {cells[-1]} cells.")
    samples = "; ".join(f"{k} " + " ".join(f"{x:.2f}" for x in v) for k, v in s.items())
    return "\n".join(rows) + f"\n\nsamples (s): {samples}\n"


def table(s: Samples, posts: list[int], cells: list[int]) -> str:
    med = {name: statistics.median(values) for name, values in s.items()}
    py = med["python"]
    rows = ["| case | seconds | vs smallest | vs `python -c pass` |", "|---|---|---|---|"]
    for kind in ("full", "noop", "edit"):
        for n in posts:
            rows.append(f"| {n} posts, {kind} | {med[f'P{n} {kind}']:.3f} | "
                        f"{med[f'P{n} {kind}'] / med[f'P{posts[0]} {kind}']:.2f} | "
                        f"{med[f'P{n} {kind}'] / py:.1f} |")
    for kind in ("full", "noop"):
        for n in cells:
            rows.append(f"| {n} cells, {kind} | {med[f'C{n} {kind}']:.3f} | "
                        f"{med[f'C{n} {kind}'] / med[f'C{cells[0]} {kind}']:.2f} | "
                        f"{med[f'C{n} {kind}'] / py:.1f} |")
    lines = ["", "| per-run overhead | ms per run | vs `python -c pass` |", "|---|---|---|"]
    for n in cells[1:]:
        slope = (med[f"C{n} full"] - med[f"C{cells[0]} full"]) / (n - cells[0])
        lines.append(f"| {cells[0]} -> {n} cells | {slope * 1000:.2f} | {slope / py:.3f} |")
    big = posts[-1]
    targets = ["", f"Targets (issue 16): one edit at {big} posts <= 0.35 s: "
               f"{med[f'P{big} edit']:.3f} s; no-op at {big} posts <= 0.2 s: "
               f"{med[f'P{big} noop']:.3f} s; per-run overhead at {cells[-1]} cells <= 5 ms."]
    return "\n".join(rows + lines + targets) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--posts", default="200,2000")
    parser.add_argument("--cells", default="20,400,2000")
    parser.add_argument("--ab", nargs="+", metavar="NAME=CODE_DIR",
                        help="only the sweeps, built by each version in turn (printed)")
    args = parser.parse_args()
    posts = [int(x) for x in args.posts.split(",")]
    cells = [int(x) for x in args.cells.split(",")]
    if args.ab:
        with tempfile.TemporaryDirectory(prefix="physai-scale-ab-") as tmp:
            print(cells_ab(Path(tmp), args.ab, cells, args.reps))
        return
    s = Samples()
    with tempfile.TemporaryDirectory(prefix="physai-scale-") as tmp:
        base = Path(tmp)
        print(f"code: {snapshot(base)}", flush=True)
        for n in posts:
            print(f"{n} posts ...", flush=True)
            bench_posts(base, n, args.reps, s)
        for n in cells:
            print(f"{n} cells ...", flush=True)
            bench_cells(base, n, args.reps, s)
    text = table(s, posts, cells)
    results = HERE / "results-scale.md"
    kept = results.read_text().partition("\n## ")   # the A/B sections below stay
    results.write_text(f"# Scale ({args.reps} reps, medians)\n\n{text}\n"
                       + (f"## {kept[2]}" if kept[1] else ""))
    print(text)


if __name__ == "__main__":
    main()
