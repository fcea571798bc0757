"""A post of many runs stays readable: a 300-cell sweep (the limits scale to 2,000).

values.csv keeps every run (it is the raw data); the page shows the first 40 rows of the
seed table, folds the next ones in a <details> element and leaves the rest to values.csv
(500 rows at most in the page); the explorer's script shares its row budget among the runs,
so each run's 1,000 rows are thinned there and kept whole in data/.
"""

from __future__ import annotations

import csv
import json
import re

from conftest import CONFIG, make_blog

from physai_blog.artifacts import explore
from physai_blog.build import build

CELLS = 300
EXPERIMENT = f'''\
from physai_blog import Experiment

exp = Experiment(params={{"a": 0}}, sweep={{"a": {list(range(CELLS))}}}, seeds=[0])


@exp.run
def train(params, seed, log):
    for step in range(1000):
        log.scalars(step=step, y=float(params["a"] * step))
    log.value("v", float(params["a"]))
    log.value("w", float(-params["a"]))
'''
POST = '''\
---
title: Many
date: 2026-03-01
experiment: experiments/many.py
---

First cell: {{ value("v", a=0) }}.
'''


def test_a_300_cell_sweep_keeps_its_page_short_and_its_data_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(explore, "TOTAL_ROWS", 60_000)   # 200 rows a run here
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-many.md": POST},
                     experiments={"many.py": EXPERIMENT}, config=CONFIG)
    report = build(root)
    assert not report.errors and len(report.runs_executed) == CELLS
    post = root / "site/posts/many"
    with (post / "data/values.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == CELLS, "values.csv holds every run"

    page = (post / "index.html").read_text()
    section = page[page.index('id="seed-sensitivity"'):page.index('id="explore"')]
    shown, folded = section.split('<details class="seed-table-more">')
    assert len(re.findall("<tr><td>", shown)) == 40
    assert len(re.findall("<tr><td>", folded)) == 460
    assert f"The next 460 of {2 * CELLS} rows" in folded
    assert f"The last {2 * CELLS - 500} rows are left out of the page" in folded
    assert "<td><code>v</code></td><td>a=0</td>" in shown
    assert "<td><code>w</code></td><td>a=299</td>" not in page, "past the page's 500 rows"

    script = (post / "data/explorer.js").read_text()
    data = json.loads(script[len("physaiExplore("):-len(");\n")])
    assert len(data["runs"]) == CELLS
    for run in data["runs"]:
        assert run["rows"] == 1000 and len(run["scalars"]["step"]) <= 200 + 4
    [one] = [r for r in data["runs"] if r["cell"] == {"a": 7}]
    assert one["scalars"]["step"][0] == 0 and one["scalars"]["step"][-1] == 999
    label = one["label"]
    assert len((post / "data" / label / "scalars.csv").read_text().splitlines()) == 1001


def test_a_short_seed_table_is_not_folded(tmp_path):
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-many.md": POST},
                     experiments={"many.py": EXPERIMENT.replace(str(list(range(CELLS))), "[0, 1, 2]")},
                     config=CONFIG)
    assert not build(root).errors
    page = (root / "site/posts/many/index.html").read_text()
    assert len(re.findall("<tr><td><code>", page)) == 6 and "seed-table-more" not in page
