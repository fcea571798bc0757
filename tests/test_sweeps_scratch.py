"""What each run of a sweep leaves on disk besides its cache entry: nothing.

A worker serves the runs of a sweep one after the other in one scratch folder, their current
directory: each run finds it empty, whatever the one before wrote there, and nothing of it is
left once the build ends.  While the sweep is about to train, every run's live folder holds
the same ``preview.json`` (one file, linked), never a copy per run of a list of all runs.
Files are counted, never timed.
"""

from __future__ import annotations

import json
import os

from conftest import CONFIG, make_blog

from physai_blog.build import build
from physai_blog.runs import executor as executor_module

EXPERIMENT = '''\
import os

from physai_blog import Experiment

exp = Experiment(params={"k": 0}, sweep={"k": [0, 1, 2, 3]}, seeds=[0])


@exp.run
def train(params, seed, log):
    log.value("found", float(len(os.listdir("."))))   # what the runs before left here
    open("scratch.txt", "w").write("x")
    os.mkdir("scratch")
    open("scratch/deep.txt", "w").write("x")
    open("../beside.txt", "w").write("x")
    log.scalars(step=0, y=float(params["k"]))
    log.value("k", float(params["k"]))


@exp.figure("ys", caption="The ys.")
def ys(data, fig):
    fig.add_subplot().plot([0, 1])
'''
POST = '''\
---
title: Scratch
date: 2026-03-01
experiment: experiments/sweep.py
---

{{ figure("ys") }} First: {{ value("found", k=0) }}.
'''


def test_each_run_finds_its_folder_empty_and_nothing_is_left(tmp_path, monkeypatch):
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-scratch.md": POST},
                     experiments={"sweep.py": EXPERIMENT}, config=CONFIG)
    previews: list[dict] = []
    execute = executor_module.LocalExecutor.execute

    def looking(self, tasks, on_event=None, finished=None):
        if tasks and tasks[0].kind == "run":   # the sweep is about to train
            for folder in sorted((root / ".physai-cache/live").iterdir()):
                stat = os.stat(folder / "preview.json")
                runs = json.loads((folder / "preview.json").read_text())["runs"]
                previews.append({"inode": stat.st_ino, "links": stat.st_nlink,
                                 "runs": len(runs)})
        return execute(self, tasks, on_event, finished)

    monkeypatch.setattr(executor_module.LocalExecutor, "execute", looking)
    report = build(root, jobs=1)
    assert not report.errors and len(report.runs_executed) == 4
    entries = sorted((root / ".physai-cache/runs").iterdir())
    found = [json.loads((entry / "values.json").read_text())["found"] for entry in entries]
    assert found == [0.0] * 4, "a run found what the one before it left"
    leftovers = [p.name for p in (root / ".physai-cache").rglob("*")
                 if p.name in ("scratch.txt", "deep.txt", "beside.txt")]
    assert leftovers == []
    assert not list((root / ".physai-cache/tmp").iterdir())
    assert len(previews) == 4 and len({p["inode"] for p in previews}) == 1
    assert all(p["links"] == 4 and p["runs"] == 4 for p in previews)
    assert not (root / ".physai-cache/live").exists() or \
        not list((root / ".physai-cache/live").iterdir())

