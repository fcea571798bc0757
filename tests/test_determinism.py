"""Two clean builds, in different folders, by different processes with different
``PYTHONHASHSEED``s, give byte-identical sites (``diff -r`` finds nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import CONFIG, make_blog

SWEEP = '''\
import numpy as np

from physai_blog import Experiment

exp = Experiment(params={"n": 30, "rate": 0.5}, sweep={"rate": [0.25, 0.5, 1.0]}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    rng = np.random.default_rng(seed)
    y = 1.0 / (1.0 + params["rate"] * np.arange(params["n"])) + 0.01 * rng.standard_normal(params["n"])
    for step, v in enumerate(y):
        log.scalars(step=step, loss=float(v))
    log.value("final", float(y[-1]))
    log.value("t_half", 1.0 / params["rate"])
    log.array("noise", rng.standard_normal((3, 4)))
    seen = {f"k{i}" for i in range(20)}          # set order must not leak into anything
    log.value("keys", float(len(seen)))


@exp.figure("loss", caption="Loss; band = min..max over seeds.")
def loss(data, fig):
    ax = fig.add_subplot()
    for rate in [0.25, 0.5, 1.0]:
        data.select(rate=rate).band(ax, "loss", label=f"rate {rate}")
    ax.legend()


@exp.figure("final", caption="Final loss.", format="png")
def final(data, fig):
    ax = fig.add_subplot()
    ax.plot([0.25, 0.5, 1.0], [data.select(rate=r).runs[0].values["final"] for r in [0.25, 0.5, 1.0]])
'''

POST = '''\
---
title: Sweeping a rate <&>
date: 2026-03-01
description: Deterministic output.
tags: [toy, sweep, "ünïcode"]
categories: [demo]
authors: [Ada Lovelace, Émilie du Châtelet]
experiment: experiments/sweep.py
---

The loss decays as $L = 1/(1 + r t)$.

{{ figure("loss") }}

{{ figure("final") }}

At rate 1 the half-life is {{ value("t_half", rate=1.0) }} and the final loss is
{{ value("final", rate=1.0, fmt=".3f") }}; {{ fit("t_half", "rate") }}.
{{ claim("t_half > 0", "half-lives are positive") }}
{{ claim("at('t_half', rate=0.25) > at('t_half', rate=1.0)", "slower at small rates") }}
'''

NOTES = '''\
---
title: Notes
date: 2026-02-01
tags: [notes, toy]
experiment: none
---

Text only, with a table:

| a | b |
|---|---|
| 1 | 2 |
'''


def _build(root: Path, hashseed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    result = subprocess.run(
        [sys.executable, "-c", "from physai_blog.cli.main import run_cli; run_cli()", "build",
         "--root", str(root), "--jobs", "2"],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_clean_builds_are_byte_identical_across_folders_and_hash_seeds(tmp_path):
    roots = []
    for name, seed in (("first", "1"), ("second-folder", "4242")):
        root = make_blog(tmp_path / name / "blog",
                         posts={"2026-03-01-sweep.md": POST, "2026-02-01-notes.md": NOTES},
                         experiments={"sweep.py": SWEEP}, config=CONFIG)
        _build(root, seed)
        roots.append(root)
    diff = subprocess.run(["diff", "-r", str(roots[0] / "site"), str(roots[1] / "site")],
                          capture_output=True, text=True)
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout[:3000]
    files = [p for p in (roots[0] / "site").rglob("*") if p.is_file()]
    assert len(files) > 40
    assert any(p.suffix == ".png" for p in files) and any(p.suffix == ".zip" for p in files)
