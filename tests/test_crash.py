"""Crash safety: ``physai-blog build`` killed with SIGKILL at random moments (experiment runs,
figure drawing, rendering, the site swap) never leaves a half site or a bad cache entry.

After each kill: ``site/`` is the complete previous site or the complete new one (every file
matches ``site/.physai-site.json`` and nothing else is there), every cache entry passes
``cache.verify_entry``, and the next build succeeds and equals a clean build.  ``pytest -s``
prints the trials and what each kill hit.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import CONFIG, make_blog
from physai_blog.build import build
from physai_blog.runs.cache import verify_entry

TRIALS = 20
EXPERIMENT = '''\
import time

import numpy as np

from physai_blog import Experiment

exp = Experiment(params={"n": 40, "shift": 0.0, "rate": 1.0}, sweep={"rate": [0.5, 1.0]}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    time.sleep(0.15)
    rng = np.random.default_rng(seed)
    y = 1.0 / (1.0 + params["rate"] * np.arange(params["n"])) + params["shift"]
    for step, v in enumerate(y + 0.01 * rng.standard_normal(params["n"])):
        log.scalars(step=step, loss=float(v))
    log.value("final", float(y[-1]))
    log.array("w", rng.standard_normal(1000))


@exp.figure("loss", caption="Loss.")
def loss(data, fig):
    ax = fig.add_subplot()
    for rate in (0.5, 1.0):
        data.select(rate=rate).band(ax, "loss")
'''
POST = '''\
---
title: Crash {state}
date: 2026-03-01
experiment: experiments/crash.py
params: {{shift: {shift}}}
---

{{{{ figure("loss") }}}}

Final: {{{{ value("final", rate=1.0) }}}}.
'''
STATES = {"A": 0.0, "B": 0.5}


def write_state(root: Path, state: str) -> None:
    (root / "posts/2026-03-01-crash.md").write_text(POST.format(state=state, shift=STATES[state]))


def site_state(site: Path) -> dict | None:
    """The site's manifest if every file matches it and nothing else is there, else None."""
    manifest = json.loads((site / ".physai-site.json").read_text())
    present = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    if present - {".physai-site.json"} != set(manifest):
        return None
    for rel, digest in manifest.items():
        if hashlib.sha256((site / rel).read_bytes()).hexdigest() != digest:
            return None
    return manifest


def bad_cache_entries(cache: Path) -> list[str]:
    bad = []
    for kind in ("runs", "figures"):
        folder = cache / kind
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.is_dir() and verify_entry(entry, entry.name)[0] is None:
                bad.append(f"{kind}/{entry.name}")
    return bad


def moment(cache: Path) -> str:
    """What the killed build was doing, judged from what it had finished."""
    runs = len(list((cache / "runs").glob("*/manifest.json")))
    figures = len(list((cache / "figures").glob("*/manifest.json")))
    if runs < 4:
        return f"during the runs ({runs} of 4 done)"
    if figures < 1:
        return "while drawing"
    return "rendering or writing"


def clean_reference(tmp: Path, state: str) -> dict:
    root = make_blog(tmp / f"ref-{state}", posts={}, experiments={"crash.py": EXPERIMENT},
                     config=CONFIG)
    write_state(root, state)
    build(root, jobs=2)
    return site_state(root / "site")


def test_sigkill_at_random_moments_never_breaks_the_site_or_the_cache(tmp_path):
    rng = random.Random(20260301)
    references = {state: clean_reference(tmp_path, state) for state in STATES}
    assert references["A"] != references["B"]
    root = make_blog(tmp_path / "blog", posts={}, experiments={"crash.py": EXPERIMENT},
                     config=CONFIG)
    write_state(root, "A")
    build(root, jobs=2)
    current = "A"
    start = time.monotonic()
    full = None
    outcomes = {"old site": 0, "new site": 0, "finished": 0}
    stages: dict[str, int] = {}
    for trial in range(TRIALS):
        target = "B" if current == "A" else "A"
        write_state(root, target)
        shutil.rmtree(root / ".physai-cache", ignore_errors=True)  # every stage has to run
        began = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", "from physai_blog.cli.main import run_cli; run_cli()", "build",
             "--root", str(root), "--jobs", "2", "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if full is None:  # the first trial measures a whole build, then kills at random in it
            proc.wait(timeout=120)
            full = time.monotonic() - began
            delay = None
        else:
            delay = rng.uniform(0.05, full)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        killed = proc.returncode == -signal.SIGKILL
        if not killed:   # the machine's load varies: kill within the fastest build seen
            full = min(full, time.monotonic() - began)
        stage = moment(root / ".physai-cache") if killed else "not killed"
        manifest = site_state(root / "site")
        assert manifest is not None, f"trial {trial}: a half-written site"
        if manifest == references[target]:
            outcomes["new site" if killed else "finished"] += 1
            stage = "after the swap" if killed else stage
        else:
            assert manifest == references[current], f"trial {trial}: a site from nowhere"
            assert killed, f"trial {trial}: the build ended without writing the site"
            outcomes["old site"] += 1
        assert bad_cache_entries(root / ".physai-cache") == [], f"trial {trial}"
        build(root, jobs=2)  # recovers: the next build succeeds and equals a clean build
        assert site_state(root / "site") == references[target], f"trial {trial}"
        assert not list(root.glob(".site.*")), f"trial {trial}: a staging folder was left"
        current = target
        stages[stage] = stages.get(stage, 0) + 1
        print(f"trial {trial:2d}: " + (f"killed after {delay:4.2f} s" if delay else "measured")
              + f" of a {full:.2f} s build, {stage}: site "
              + ("new" if manifest == references[target] else "old"))
    print(f"{TRIALS} trials in {time.monotonic() - start:.0f} s: {outcomes}; kills {stages}")
    assert outcomes["old site"] + outcomes["new site"] >= TRIALS // 2, outcomes  # most were kills
