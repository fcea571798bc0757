#!/usr/bin/env python3
"""A/B of one-edit and no-op rebuilds of built blogs, two versions of the code interleaved.

    .venv/bin/python benchmarks/scale_ab.py [--reps N] NAME=CODE_DIR:BLOG ...

Each NAME is a checkout of the package (CODE_DIR holds ``physai_blog/``, compiled) and a blog
it has fully built once (its own cache: cache keys may differ between versions).  Each rep, in
turn for every NAME: append a line to the middle post, build (a fresh process: "edit"), build
again ("noop"); and ``python -c pass`` as the floor.  Prints medians and each NAME's ratio to
the first one, measured alongside on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], env: dict, cwd: Path) -> float:
    """Seconds of one command, run in ``cwd`` (``python -m`` puts the working folder first
    on sys.path: a checkout there would shadow PYTHONPATH's)."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("pairs", nargs="+", help="NAME=CODE_DIR:BLOG")
    args = parser.parse_args()
    cases = []
    for pair in args.pairs:
        name, _, rest = pair.partition("=")
        code, _, blog = rest.partition(":")
        post = sorted(Path(blog, "posts").glob("*.md"))
        cases.append((name, code, Path(blog), post[len(post) // 2]))
    samples: dict[str, list[float]] = {}
    for rep in range(args.reps):
        for name, code, blog, post in cases:
            env = {**os.environ, "PYTHONPATH": str(Path(code).resolve())}
            build = [sys.executable, "-m", "physai_blog", "build", "--root", str(blog), "-q"]
            with post.open("a") as fh:
                fh.write(f"\nAn A/B edit, number {rep}.\n")
            samples.setdefault(f"{name} edit", []).append(timed(build, env, blog))
            samples.setdefault(f"{name} noop", []).append(timed(build, env, blog))
        samples.setdefault("python", []).append(timed([sys.executable, "-c", "pass"], os.environ,
                                                       cases[0][2]))
    med = {k: statistics.median(v) for k, v in samples.items()}
    first = cases[0][0]
    print(f"| case | median s ({args.reps} reps) | vs {first} | vs `python -c pass` |")
    print("|---|---|---|---|")
    for kind in ("edit", "noop"):
        for name, *_ in cases:
            m = med[f"{name} {kind}"]
            print(f"| {name} {kind} | {m:.3f} | {m / med[f'{first} {kind}']:.2f} | "
                  f"{m / med['python']:.1f} |")
    print(f"| python -c pass | {med['python']:.3f} | | 1.0 |")
    print("\nsamples: " + "; ".join(f"{k} " + " ".join(f"{x:.2f}" for x in v)
                                     for k, v in samples.items()))


if __name__ == "__main__":
    main()
