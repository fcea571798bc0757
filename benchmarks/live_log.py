"""What serve's live view of a run costs the run: ``log.scalars`` (and a ``log.value`` every
100 steps) with a live folder, against the same calls with none (a script run on its own),
interleaved repetition by repetition.

    .venv/bin/python benchmarks/live_log.py [--steps 50000] [--reps 7]

With a live folder each call hands its observables to ``runtime/live.py``, which writes them
at most once a second (from a timer thread once the interval has not passed); the ratio is
the per-call overhead of that hand-over.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from physai_blog.runtime.experiment import Log
from physai_blog.runtime.live import Live


def one(folder: Path, steps: int, live: bool) -> float:
    log = Log(folder / "out", live=Live(folder / "live", "bench seed-0") if live else None)
    start = time.perf_counter()
    for step in range(steps):
        log.scalars(step=step, loss=1.0 / (step + 1), acc=0.5)
        if step % 100 == 0:
            log.value("best", step * 0.5)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for live in (False, True):
                times[live].append(one(Path(tmp) / f"{rep}-{live}", args.steps, live))
    alone, with_live = (statistics.median(times[k]) for k in (False, True))
    print(f"{'per call':<22} {'no live folder':>15} {'live folder':>12} {'ratio':>7}")
    print(f"{'log.scalars':<22} {alone / args.steps * 1e6:>12.2f} µs "
          f"{with_live / args.steps * 1e6:>9.2f} µs {with_live / alone:>7.2f}")


if __name__ == "__main__":
    main()
