"""What each run of a sweep leaves on disk besides its cache entry: nothing.

A worker serves the runs of a sweep one after the other in one scratch folder, their current
directory: each run finds it empty, whatever the one before wrote there, and nothing of it is
left once the build ends.  A sweep has one ``preview.json`` (for serve), gone with it; a run
links it into its live folder when it makes one, a second in: short runs make none.  Files
are counted, never timed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import CONFIG, make_blog

from physai_blog.build import build
from physai_blog.runs import executor as executor_module
from physai_blog.runtime.live import Live

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
            for task in tasks:
                path = task.payload["preview"]
                stat = os.stat(path)
                previews.append({"path": path, "inode": stat.st_ino,
                                 "runs": len(json.loads(Path(path).read_text())["runs"])})
            live = root / ".physai-cache/live"
            previews.append({"live folders": len(list(live.iterdir())) if live.exists() else 0})
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
    *runs, folders = previews
    assert len(runs) == 4 and len({(p["path"], p["inode"]) for p in runs}) == 1
    assert all(p["runs"] == 4 for p in runs) and folders == {"live folders": 0}
    assert not Path(runs[0]["path"]).exists(), "the sweep's preview outlived it"
    assert not (root / ".physai-cache/live").exists() or \
        not list((root / ".physai-cache/live").iterdir())


def test_a_run_makes_its_live_folder_a_second_in_with_its_sweeps_preview(tmp_path):
    preview = tmp_path / "preview.json"
    preview.write_text('{"runs": []}')
    run = Live(tmp_path / "live", "post k-0", str(preview))
    run.update([{"step": 0, "y": 1.0}], ["step", "y"], {"a": 1.0})
    run.close()
    assert not (tmp_path / "live").exists(), "a run shorter than a second made its folder"
    run = Live(tmp_path / "live", "post k-1", str(preview))
    run.flushed -= 1.0   # a second into the run
    run.update([{"step": 0, "y": 1.0}], ["step", "y"], {"a": 1.0})
    run.close()
    assert os.stat(tmp_path / "live/preview.json").st_ino == os.stat(preview).st_ino
    assert json.loads((tmp_path / "live/values.json").read_text()) == {"a": 1.0}
    forced = Live(tmp_path / "other", "post k-2")   # a checkpoint writes at once
    forced.update([{"step": 0, "y": 1.0}], ["step", "y"], force=True)
    forced.close()
    assert (tmp_path / "other/scalars.csv").read_text() == "step,y\n0,1.0\n"

