"""Checkpoint and resume: a run killed half-way continues from its last checkpoint.

A torch run (a small MLP, SGD, dropout: every step draws from torch's, numpy's and python's
RNGs) checkpoints after each step.  The build is SIGKILLed (with its workers, as when the
machine dies) while the run is held at step 6 of 12; the next build resumes it at step 6, and
the site it publishes is byte for byte the site of a build that was never interrupted.  Steps
are counted (each appends a line to a file), never timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONFIG, make_blog
from physai_blog.build import build
from test_stop import alive, descendants, snapshot, wait_for

torch = pytest.importorskip("torch")

EXPERIMENT = '''\
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

from physai_blog import Experiment

exp = Experiment(params={"steps": 12}, seeds=[0])


@exp.run
def train(params, seed, log):
    marks = Path(os.environ["CKPT_MARKS"])
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Dropout(0.3),
                                torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = 0
    state = log.resume()
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["step"]
    for step in range(start, params["steps"]):
        with marks.open("a") as fh:
            fh.write(f"{step}\\n")
        while step == 6 and marks.with_name("gate").exists():   # held for the kill
            time.sleep(0.02)
        x = torch.randn(8, 4) + float(np.random.rand()) + random.random()
        loss = ((model(x) - 1.0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.scalars(step=step, loss=loss)
        log.checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1})
    log.value("final", loss)
    log.array("w", model[0].weight)
'''
POST = '''\
---
title: Resumed
date: 2026-03-01
experiment: experiments/ckpt.py
{extra}
---

Final loss: {{{{ value("final") }}}}.
'''


def steps(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().splitlines()] if path.exists() else []


def blog(path: Path, extra: str = "") -> Path:
    return make_blog(path, posts={"2026-03-01-resumed.md": POST.format(extra=extra)},
                     experiments={"ckpt.py": EXPERIMENT}, config=CONFIG)


def test_a_run_killed_half_way_resumes_and_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("/proc is Linux's")
    reference, root = blog(tmp_path / "reference"), blog(tmp_path / "blog")
    marks = tmp_path / "marks.txt"
    monkeypatch.setenv("CKPT_MARKS", str(marks))
    build(reference, jobs=1)
    assert steps(marks) == list(range(12))
    marks.unlink()

    gate = tmp_path / "gate"
    gate.write_text("held")
    proc = subprocess.Popen(
        [sys.executable, "-m", "physai_blog", "build", "--root", str(root), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: steps(marks) == list(range(7)), "the run to reach step 6")
        saved = list((root / ".physai-cache/checkpoints").glob("*/checkpoint.pkl"))
        assert len(saved) == 1
        workers = descendants(proc.pid)
        for pid in [proc.pid, *workers]:     # the machine dies
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to be gone", 10)
    assert not (root / ".physai-cache/runs").exists() or \
        not list((root / ".physai-cache/runs").iterdir())

    gate.unlink()
    marks.unlink()
    report = build(root, jobs=1)
    assert steps(marks) == list(range(6, 12)), "resumed at the step after the last checkpoint"
    assert len(report.runs_executed) == 1
    assert snapshot(root / "site") == snapshot(reference / "site")
    assert list((root / ".physai-cache/checkpoints").iterdir()) == [], "kept after the run"
    run_files = {p.name for p in (root / ".physai-cache/runs").rglob("*") if p.is_file()}
    assert run_files == {"scalars.csv", "values.json", "w.npy", "manifest.json"}


def test_checkpoints_of_runs_no_post_has_are_deleted(tmp_path, monkeypatch):
    root = blog(tmp_path / "blog")
    monkeypatch.setenv("CKPT_MARKS", str(tmp_path / "marks.txt"))
    stale = root / ".physai-cache/checkpoints" / ("0" * 64)
    stale.mkdir(parents=True)
    (stale / "checkpoint.pkl").write_bytes(b"old")
    build(root, jobs=1)
    assert not stale.exists()


def test_a_checkpoint_over_the_output_limit_is_an_error_naming_the_line(tmp_path, monkeypatch):
    big = EXPERIMENT.replace('"step": step + 1}', '"step": step + 1, "junk": bytes(2_000_000)}')
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-resumed.md": POST.format(
        extra="max_output_mb: 1")}, experiments={"ckpt.py": big}, config=CONFIG)
    monkeypatch.setenv("CKPT_MARKS", str(tmp_path / "marks.txt"))
    report = build(root, jobs=1, keep_going=True)
    [error] = report.errors
    line = big.splitlines().index(next(s for s in big.splitlines() if "log.checkpoint(" in s)) + 1
    assert error.message == (
        f"experiments/ckpt.py:{line}: checkpoint is 2.0 MB, over the limit of 1 MB "
        "(`max_output_mb` covers checkpoints too) (seed 0, post posts/2026-03-01-resumed.md)")
