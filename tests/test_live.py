"""Watching a run while it trains, inside ``serve``.

The author edits the experiment while ``serve`` runs; the rebuild's run is held at step 5 of
12 (after a checkpoint, which flushes its series).  Meanwhile ``/__physai__/runs`` reports it
running with its step, total and an ETA, its rows so far are in the cache's live folder, the
served page carries the script that shows it, and the published site still holds only the
previous, finished run.  Once the run ends the live folder is gone and the site has all 12
rows.  Steps are counted, never timed.
"""

from __future__ import annotations

import json
import time

from conftest import CONFIG, make_blog
from test_serve import get, start_server, wait_for

EXPERIMENT = '''\
import os
import time
from pathlib import Path

from physai_blog import Experiment

exp = Experiment(params={"steps": 10}, seeds=[0])


@exp.run
def train(params, seed, log):
    gate = Path(os.environ["LIVE_GATE"])
    log.progress(0, total=params["steps"])
    for step in range(params["steps"]):
        log.scalars(step=step, y=float(step * step))
        if step == 5:
            log.checkpoint({"step": step + 1})
            while gate.exists():     # held while the test looks
                time.sleep(0.02)
    log.value("last", float(params["steps"]))
'''
POST = '''\
---
title: Live
date: 2026-03-01
experiment: experiments/live.py
---

Last: {{ value("last") }}.
'''


def published_rows(root) -> int:
    return len((root / "site/posts/live/data/seed-0/scalars.csv").read_text().splitlines()) - 1


def test_serve_shows_a_run_while_it_trains_and_publishes_it_only_when_done(tmp_path,
                                                                            monkeypatch):
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-live.md": POST},
                     experiments={"live.py": EXPERIMENT}, config=CONFIG)
    gate = tmp_path / "gate"
    monkeypatch.setenv("LIVE_GATE", str(gate))
    srv = start_server(root)
    try:
        assert srv.state.error is None and published_rows(root) == 10
        first = srv.state.id
        gate.write_text("held")
        script = root / "experiments/live.py"
        script.write_text(script.read_text().replace('"steps": 10', '"steps": 12'))

        def training():
            _, body = get(srv.url + "__physai__/runs")
            runs = json.loads(body)
            return runs if runs and runs[0]["step"] == 5 else None

        [run] = wait_for(training, 120)
        assert run["run"] == "live seed-0" and run["total"] == 12 and run["rows"] == 6
        assert isinstance(run["eta_s"], float) and run["eta_s"] >= 0
        live = root / ".physai-cache/live" / run["key"] / "scalars.csv"
        assert live.read_text().splitlines()[-1] == "5,25.0"
        status, page = get(srv.url + "posts/live/")
        assert status == 200 and "__physai__/runs" in page and "physai-running" in page
        assert published_rows(root) == 10, "the site holds only finished runs"
        assert "physai-running" not in (root / "site/posts/live/index.html").read_text()

        gate.unlink()
        state = srv.wait_for_build(first, 120)
        deadline = time.monotonic() + 120
        while state.id == first or json.loads(get(srv.url + "__physai__/runs")[1]):
            assert time.monotonic() < deadline, "the rebuild did not finish"
            state = srv.wait_for_build(state.id, 1)
        assert state.error is None
        assert published_rows(root) == 12
        assert not list((root / ".physai-cache/live").glob("*"))
    finally:
        gate.unlink(missing_ok=True)
        srv.stop()


def test_the_eta_counts_down_between_updates_and_a_quiet_run_shows_as_stalled(tmp_path):
    from physai_blog.runtime.live import STALLED_S, running

    folder = tmp_path / "live" / "k1"
    folder.mkdir(parents=True)
    # 10 steps of 100 in 20 s: 2 s a step, 180 s to go at the last update
    (folder / "progress.json").write_text(json.dumps(
        {"run": "seed 0", "step": 10, "total": 100, "rows": 10, "started": 1000.0,
         "updated": 1020.0}))
    [at_update] = running(tmp_path / "live", now=1020.0)
    [later] = running(tmp_path / "live", now=1050.0)
    assert at_update["eta_s"] == 180.0 and not at_update["stalled"]
    assert later["eta_s"] == 150.0 and later["quiet_s"] == 30.0     # counted down
    [quiet] = running(tmp_path / "live", now=1020.0 + STALLED_S + 1)
    assert quiet["stalled"] and quiet["eta_s"] is None
    # a slow run (30 s a step) is not stalled after a minute of quiet: five steps' time is
    (folder / "progress.json").write_text(json.dumps(
        {"run": "seed 0", "step": 2, "total": 10, "rows": 2, "started": 1000.0,
         "updated": 1060.0}))
    [slow] = running(tmp_path / "live", now=1060.0 + 100)
    assert not slow["stalled"] and slow["eta_s"] == 140.0
    [hung] = running(tmp_path / "live", now=1060.0 + 151)
    assert hung["stalled"]
