"""Edits inside `physai-blog serve` (a warm process with a persistent executor) against the
same edits through a fresh `physai-blog build`, measured in the same run on corpus E.

    .venv/bin/python benchmarks/serve_edits.py [--reps 5]

`serve` keeps one LocalExecutor for the session, whose fork server has numpy and matplotlib
imported; a cold command pays a new interpreter, the imports and a new worker each time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpora import write_experiment_corpus  # noqa: E402

CLI = [str(Path(sys.executable).parent / "physai-blog"), "build", "-q"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    from physai_blog.build import build
    from physai_blog.executor import LocalExecutor

    with tempfile.TemporaryDirectory(prefix="physai-serve-bench-") as tmp:
        root = write_experiment_corpus(Path(tmp), 10, 0.5, 1500)["physai"].resolve()
        script = root / "experiments" / "exp0.py"
        executor = LocalExecutor(root, root / ".physai-cache" / "tmp", 2, 2, persistent=True)
        build(root, executor=executor)
        counter = iter(range(10_000))

        def figure_edit():
            text = re.sub(r"lw=[0-9.]+", f"lw={1.5 + next(counter) / 1000}", script.read_text())
            script.write_text(text)

        def experiment_edit():
            text = re.sub(r'"r": [0-9.]+', f'"r": {3.61 + next(counter) / 100000}',
                          script.read_text(), count=1)
            script.write_text(text)

        rows = []
        for name, edit in (("figure-only edit (0 runs)", figure_edit),
                           ("one experiment edited", experiment_edit)):
            warm, cold, compute = [], [], []
            for _ in range(args.reps):
                edit()
                start = time.perf_counter()
                report = build(root, executor=executor)
                warm.append(time.perf_counter() - start)
                compute.extend(report.run_seconds.values())
                edit()
                start = time.perf_counter()
                # A fresh process each time: no build server (README "Fast rebuilds").
                subprocess.run(CLI + ["--root", str(root)], check=True,
                               env=dict(os.environ))
                cold.append(time.perf_counter() - start)
            rows.append((name, statistics.median(warm), statistics.median(cold),
                         statistics.median(compute) if compute else 0.0))
        executor.close()
    print(f"{'case':<28} {'serve (warm)':>13} {'fresh build':>12} {'ratio':>7} {'compute':>8}")
    for name, warm, cold, compute in rows:
        print(f"{name:<28} {warm:>11.3f} s {cold:>10.3f} s {warm / cold:>6.2f}x "
              f"{compute:>6.2f} s")


if __name__ == "__main__":
    main()
