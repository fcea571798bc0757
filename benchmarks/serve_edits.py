"""Edits inside `physai-blog serve` against the same edits through a fresh `physai-blog build`,
on corpus E, alone (run.py measures the same as its V rows, within the whole table).

    .venv/bin/python benchmarks/serve_edits.py [--reps 5]

Everything goes through the command line: one `physai-blog serve --port 0` session on a copy
of corpus E (its rebuild times are the ones it prints), and a fresh `physai-blog build` per edit
on the original, interleaved with it.  `serve` keeps the pipeline imported and one worker pool
whose fork server has numpy and matplotlib; a fresh command pays a new interpreter, the imports
and new workers each time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import run as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="physai-serve-bench-"))
    try:
        print(bench.snapshot(tmp))
        steps = bench.corpora.calibrate_steps(0.5)
        blog = bench.corpora.write_experiment_corpus(tmp / "E", 10, 0.5, steps)["physai"]
        s, checks = bench.Samples(), []
        bench.bench_serve(blog, tmp / "V", args.reps, s, checks, print)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bad = [f"{name}: got {got}, expected {want}" for name, got, want in checks if got != want]
    print(f"\n{'case':<28} {'serve':>9} {'save->built':>12} {'fresh build':>12} {'ratio':>7}")
    for name, key in (("figure-only edit (0 runs)", "V figure"),
                      ("one experiment edited", "V edit")):
        warm, wall, cold = (statistics.median(s[key + k]) for k in ("", " wall", " fresh"))
        print(f"{name:<28} {warm:>7.3f} s {wall:>10.3f} s {cold:>10.3f} s {warm / cold:>6.2f}x")
    print("(runs, figures) as expected" if not bad else "UNEXPECTED:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    main()
