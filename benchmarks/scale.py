#!/usr/bin/env python3
"""How cost grows with the work: 200 vs 2,000 text posts, sweeps of 20 vs 400 vs 2,000 cells.

    .venv/bin/python benchmarks/scale.py [--reps N] [--posts 200,2000] [--cells 20,400,2000]

Text corpus (corpus T of run.py, 1,500 words a post): a full build, a no-op build and a build
after one post was edited, each a fresh process.  Sweeps: one post whose experiment has N
trivial cells (a run logs one value), built from an empty cache with ``--jobs 1``; the
per-run overhead is the slope ``(t(N) - t(smallest)) / (N - smallest)``.  Every figure is the
median of --reps; the table gives each as a ratio against the smallest corpus and against
``python -c pass`` measured alongside, then the issue's targets.  Written to
benchmarks/results-scale.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from run import PHYSAI, PY, HERE, Samples, clean, run, snapshot  # noqa: F401 - sys.path set
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
        with edited.open("a") as fh:
            fh.write(f"\nAn edit, number {rep}.\n")
        s.add(f"P{n} edit", run(build, blog).seconds)
        s.add("python", run([PY, "-c", "pass"], blog).seconds)


def bench_cells(base: Path, cells: int, reps: int, s: Samples) -> None:
    blog = base / f"cells{cells}"
    (blog / "posts").mkdir(parents=True)
    (blog / "experiments").mkdir()
    (blog / "physai.yaml").write_text("title: Sweep\nauthor: Bench Author\n")
    (blog / "experiments" / "sweep.py").write_text(TRIVIAL_SWEEP.format(ks=list(range(cells))))
    (blog / "posts" / "2026-02-01-sweep.md").write_text(TRIVIAL_POST)
    build = [PHYSAI, "build", "--root", str(blog), "--jobs", "1", "-q"]
    for _ in range(reps):
        clean(blog / "site", blog / ".physai-cache")
        s.add(f"C{cells} full", run(build, blog).seconds)
        s.add(f"C{cells} noop", run(build, blog).seconds)
        s.add("python", run([PY, "-c", "pass"], blog).seconds)


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
    args = parser.parse_args()
    posts = [int(x) for x in args.posts.split(",")]
    cells = [int(x) for x in args.cells.split(",")]
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
    (HERE / "results-scale.md").write_text(f"# Scale ({args.reps} reps, medians)\n\n{text}")
    print(text)


if __name__ == "__main__":
    main()
