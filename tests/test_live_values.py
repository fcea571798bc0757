"""A running experiment's numbers inside ``serve``, from the values logged so far.

Three seeds run one at a time (``jobs=1``); each logs ``early`` at step 3 of 10 and is then
held by a gate file of its own, with no checkpoint: the value reaches the live folder through
the throttled flush alone.  While seed 0 is held, the post is served with ``early`` from 1 of
3 seeds, marked running, and ``final`` and a claim on it pending.  Released, seed 0 is read
from the cache and seed 1 is held: the numbers come from 2 of 3 seeds.  The published site
holds none of it; once every seed is released the build's page, with the final numbers and
no mark, replaces the provisional one.  Steps are counted, never timed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import CONFIG, FAST_EXPERIMENT, FAST_POST, make_blog
from test_serve import get, wait_for

from physai_blog.build import build
from physai_blog.paths import THEME
from physai_blog.render.markup import Converters
from physai_blog.render.page import environment
from physai_blog.runtime import live
from physai_blog.serve.provisional import FINISHED, RUNNING, RunState, render_page
from physai_blog.serve.server import DevServer

EXPERIMENT = '''\
import os
import time
from pathlib import Path

from physai_blog import Experiment

exp = Experiment(params={"steps": 10}, seeds=[0, 1, 2])


@exp.run
def train(params, seed, log):
    gate = Path(os.environ["LIVE_GATES"]) / f"seed-{seed}"
    log.progress(0, total=params["steps"])
    for step in range(params["steps"]):
        log.scalars(step=step, y=float(step))
        if step == 3:
            log.value("early", 100.0 + seed)
            while gate.exists():     # held while the test looks
                time.sleep(0.02)
    log.value("final", 200.0 + seed)
'''
POST = '''\
---
title: Values
date: 2026-03-02
experiment: experiments/values.py
---

Early: {{ value("early") }}. Final: {{ value("final") }}.

{{ claim("early >= 100", "early is at least 100") }}
{{ claim("final > early", "final beats early") }}
'''
# In the page's own markup (the reload script served with every page names them too)
MARKS = ('id="physai-provisional"', 'class="physai-running', 'class="physai-pending"',
         "claim-running", "claim-pending")


def provisional(srv, step_of: str, *expected: str) -> str:
    """The served page once it shows ``expected`` with the held run at step 3."""
    def ready():
        runs = json.loads(get(srv.url + "__physai__/runs")[1])
        if not runs or runs[0]["run"] != step_of or runs[0]["step"] != 3 or not runs[0]["page"]:
            return None
        status, page = get(srv.url + "posts/values/")
        return page if status == 200 and all(e in page for e in expected) else None
    return wait_for(ready, 120)


def number(page: str, n: int) -> str:
    """The n-th number of the prose, with its tag."""
    start = page.index(f'id="physai-live-{n}"')
    return page[page.rindex("<", 0, start):page.index(">", page.index("</", start)) + 1]


def site_text(root) -> str:
    return "".join(p.read_text(errors="replace") for p in (root / "site").rglob("*")
                   if p.is_file() and p.suffix in (".html", ".js", ".json", ".csv"))


def gated_server(tmp_path, monkeypatch) -> tuple[DevServer, Path]:
    """serve started on the values blog, its first build under way with every seed held at
    its gate file (unlink ``gates/seed-N`` to let seed N finish)."""
    root = make_blog(tmp_path / "blog", posts={"2026-03-02-values.md": POST},
                     experiments={"values.py": EXPERIMENT}, config=CONFIG)
    gates = tmp_path / "gates"
    gates.mkdir()
    for seed in range(3):
        (gates / f"seed-{seed}").write_text("held")
    monkeypatch.setenv("LIVE_GATES", str(gates))
    srv = DevServer(root, port=0, jobs=1, echo=lambda line, error=False: None,
                    debounce_ms=100)
    srv.start(wait=False)
    return srv, gates


def test_serve_shows_a_running_posts_numbers_so_far_and_publishes_only_finished_ones(
        tmp_path, monkeypatch):
    srv, gates = gated_server(tmp_path, monkeypatch)
    root = srv.root
    try:
        page = provisional(srv, "values seed-0", ">100<")
        early, final = number(page, 1), number(page, 2)
        assert 'class="physai-running value"' in early and ">100<" in early
        assert 'title="running: step 3 of 10, 2 not started, from 1 of 3 seeds;' in early
        assert 'class="physai-pending"' in final and "no run has logged &#x27;final&#x27;" in final
        assert "claim-running physai-running" in number(page, 3)
        assert "claim-pending physai-pending" in number(page, 4), "never failed"
        assert "claim-fail" not in page and "1 of 2 claims hold so far, 1 pending" in page
        assert "0 of 3 runs finished; 1 training (seed-0 at step 3 of 10); 2 not started" in page
        kept = (root / ".physai-cache/preview/values/index.html").read_text()
        assert ">100<" in kept
        assert not (root / "site/posts/values").exists(), "the site holds only finished runs"

        (gates / "seed-0").unlink()
        page = provisional(srv, "values seed-1", "100 ± 0.71 (n=2)")
        assert ("running: step 3 of 10, 1 not started, 1 finished, from 2 of 3 seeds"
                in number(page, 1))
        final = number(page, 2)
        assert ">200<" in final and "from 1 of 3 seeds" in final, "seed 0's, from the cache"
        assert "claim-running" in number(page, 4), "checked on the run that has both values"
        assert "2 of 2 claims hold so far, 0 pending" in page
        assert srv.state.building and not (root / "site/posts/values").exists()

        first = srv.state.id
        for seed in (1, 2):
            (gates / f"seed-{seed}").unlink()
        state = srv.wait_for_build(first, 120)
        assert state.error is None and not state.building
        status, page = get(srv.url + "posts/values/")
        assert status == 200 and "101 ± 1 (n=3)" in page and "201 ± 1 (n=3)" in page
        assert not any(mark in page for mark in MARKS), "the build's page, not the preview"
        assert not (root / ".physai-cache/preview/values").exists()
        assert not any(mark in site_text(root) for mark in MARKS)
    finally:
        for gate in gates.iterdir():
            gate.unlink()
        srv.stop()


def test_live_flushes_what_a_throttled_update_held_back_and_nothing_once_closed(
        tmp_path, monkeypatch):
    monkeypatch.setattr(live, "EVERY_S", 0.05)
    folder = tmp_path / "live"
    run = live.Live(folder, "post seed-0")
    run.flushed -= live.EVERY_S   # an interval into the run: the first update writes at once
    rows = [{"step": 0, "y": 1.0}]
    run.update(rows, ["step", "y"], {"a": 1})
    assert json.loads((folder / "values.json").read_text()) == {"a": 1}
    rows.append({"step": 1, "y": 2.0})
    run.update(rows, ["step", "y"], {"a": 2})     # within the interval: held back
    wait_for(lambda: json.loads((folder / "values.json").read_text()) == {"a": 2}, 10)
    assert (folder / "scalars.csv").read_text() == "step,y\n0,1.0\n1,2.0\n"
    assert json.loads((folder / "progress.json").read_text())["step"] == 1

    run.update(rows, ["step", "y"], {"a": 3})
    run.update(rows, ["step", "y"], {"a": 4})     # held back, then the run ends
    run.close()
    time.sleep(0.3)   # several intervals: a timer left armed would have written by now
    assert json.loads((folder / "values.json").read_text()) in ({"a": 2}, {"a": 3})
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "no temp file"


SWEEP_EXPERIMENT = '''\
from physai_blog import Experiment

exp = Experiment(params={"n": 1}, sweep={"n": [1, 2, 4, 8]}, seeds=[0])


@exp.run
def train(params, seed, log):
    log.value("y", 3.0 * params["n"] ** 2)
'''
SWEEP_POST = '''\
---
title: Sweep
date: 2026-03-03
experiment: experiments/sweep.py
---

At n=1: {{ value("y", n=1) }}; at n=8: {{ value("y", n=8) }}; exponent {{ fit("y", "n") }};
as the other post found, {{ value("fast:total") }}.

{{ claim('exponent("y", "n") > 1.9', "y grows as n squared") }}
'''


def test_a_sweeps_fit_and_claim_are_pending_until_three_cells_logged_then_running(tmp_path):
    """The library function serve calls, on a built sweep whose last cells are made to look
    unfinished: their cache entries stand in for live folders holding what they logged."""
    root = make_blog(tmp_path / "blog", posts={"2026-03-03-sweep.md": SWEEP_POST,
                                               "2026-02-01-fast.md": FAST_POST},
                     experiments={"sweep.py": SWEEP_EXPERIMENT, "fast.py": FAST_EXPERIMENT},
                     config=CONFIG)
    build(root, jobs=1)
    cache = root / ".physai-cache"
    runs = []
    for key in (cache / "runs").iterdir():
        manifest = json.loads((key / "manifest.json").read_text())
        if manifest["experiment"] != "experiments/sweep.py":
            continue
        runs.append([str(key), f"n-{manifest['cell']['n']}_seed-0", manifest["params"],
                     manifest["cell"], 0])
    runs.sort(key=lambda run: run[3]["n"])
    preview = {"post": "posts/2026-03-03-sweep.md", "experiment": "experiments/sweep.py",
               "sweep": {"n": [1, 2, 4, 8]}, "runs": runs}
    empty = tmp_path / "not-logged-yet"
    empty.mkdir()

    def page(*logged: bool) -> str:   # the first two cells finished, the others running
        states = [RunState(run[1], Path(run[0]), FINISHED) for run in runs[:2]]
        states += [RunState(run[1], Path(run[0]) if has else empty, RUNNING, 7, 10)
                   for run, has in zip(runs[2:], logged)]
        html, folder = render_page(root, preview, states)
        assert folder == "posts/sweep/"
        return html.decode()

    html = page(False, False)
    assert 'class="value" href="data/values.csv" title="y, n=1">3<' in html, "final: unmarked"
    assert 'title="pending: no run has logged &#x27;y&#x27; yet (step 7 of 10)">pending' in html
    assert "a power-law fit needs at least 3 positive points" in html
    assert "claim-pending physai-pending" in html and "claim-fail" not in html
    assert "2 of 4 runs finished; 2 training (n-4_seed-0 at step 7 of 10, n-8_seed-0 at" in html
    assert '>5</a><sup class="embed-note">' in html, "another post's, as its build has it"

    html = page(True, True)
    assert "physai-pending" not in html.split('id="physai-provisional"')[1].split("</div>")[1]
    assert ('class="physai-running value" href="data/values.csv" title="running: step 7 of '
            '10, from 1 of 1 seed; y, n=8">192<') in html
    assert ('class="physai-running fit" title="running: n-4_seed-0 at step 7 of 10, '
            'n-8_seed-0 at step 7 of 10, 2 finished, from 4 of 4 runs;') in html
    assert ">2.00 ± 0.00<" in html and "claim-running physai-running" in html
    assert not (root / ".physai-cache/preview").exists(), "the caller writes the page"

    # serve keeps one Jinja environment from page to page: an edited template still shows
    template = root / "templates/post.html"
    template.parent.mkdir()
    template.write_text((THEME / "templates/post.html").read_text().replace(
        '<article class="post">', '<article class="post" data-look="one">'))
    states = [RunState(run[1], Path(run[0]), FINISHED) for run in runs]
    env, converter = environment(root), Converters()
    assert 'data-look="one"' in render_page(root, preview, states, env, converter)[0].decode()
    template.write_text(template.read_text().replace('"one"', '"two"'))
    os.utime(template, ns=(time.time_ns() + 10**9,) * 2)
    html = render_page(root, preview, states, env, converter)[0].decode()
    assert 'data-look="two"' in html
    assert "physai-running" not in html.split('class="post-body"')[1], "all finished: final"
