"""A running experiment's figures inside ``serve``, redrawn from the rows logged so far.

The first build's only run is held at step 5 of 10 (after a checkpoint, which flushes its
series): the server already answers (the run's step and ETA), and the post's figure is served
redrawn from those 6 rows, from ``.physai-cache/preview/``, never ``site/`` or the figures
cache, on the post's page so far (``test_live_values.py``).  Once the run ends the build
publishes the finished figure and the preview is gone.  Then an edit reruns it, held again:
the post's page so far is served with its figure's interactive chart turned off (the preview
is a static image) and its value pending, while the published file keeps both.  Steps are
counted, never timed.
"""

from __future__ import annotations

import json

from conftest import CONFIG, make_blog
from test_live import EXPERIMENT as TRAIN
from test_live import POST as LIVE_POST
from test_serve import get, wait_for

from physai_blog.serve.server import DevServer

EXPERIMENT = TRAIN + '''

@exp.figure("curve", caption="The curve so far.")
def curve(data, fig):
    ax = fig.add_subplot()
    ax.plot(*data.run.series("y"))
    ax.set_title(f"{len(data.run.series('y')[0])} points")
'''
POST = LIVE_POST + '''
{{ figure("curve") }}
'''


def held_run(srv, step=5):
    """The run held at ``step``, once its figure and its page have been previewed."""
    def training():
        runs = json.loads(get(srv.url + "__physai__/runs")[1])
        return runs if runs and runs[0]["step"] == step and runs[0]["preview"] \
            and runs[0]["page"] else None
    return wait_for(training, 120)


def finished(srv, after):
    state = srv.wait_for_build(after, 120)
    wait_for(lambda: not json.loads(get(srv.url + "__physai__/runs")[1])
             and not srv.previews.drawn, 60)
    return state


def test_serve_draws_a_running_runs_figures_from_its_rows_so_far(tmp_path, monkeypatch):
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-live.md": POST},
                     experiments={"live.py": EXPERIMENT},
                     config=CONFIG + 'figure_style: {"axes.facecolor": "#123456"}\n')
    gate = tmp_path / "gate"
    gate.write_text("held")
    monkeypatch.setenv("LIVE_GATE", str(gate))
    srv = DevServer(root, port=0, echo=lambda line, error=False: None, debounce_ms=100)
    srv.start(wait=False)
    try:
        [run] = held_run(srv)   # the first build is still running, and the server answers
        assert run["slug"] == "live" and run["figures"] == ["curve.svg"]
        assert json.loads(get(srv.url + "__physai__/status")[1])["building"] is True
        status, page = get(srv.url + "posts/live/")
        assert status == 200 and 'id="physai-provisional"' in page, "the post so far"
        assert '<img src="figures/curve.svg"' in page and run["path"] == "/posts/live/"
        status, svg = get(srv.url + "posts/live/figures/curve.svg")
        assert status == 200 and "<svg" in svg and "#123456" in svg, "in the blog's style"
        assert (root / ".physai-cache/preview/live/curve.svg").read_text() == svg
        assert not (root / "site/posts/live").exists(), "the site holds only finished runs"
        assert not list((root / ".physai-cache/figures").glob("*"))

        first = srv.state.id
        gate.unlink()
        state = finished(srv, first)
        assert state.error is None and not state.building
        published = (root / "site/posts/live/figures/curve.svg").read_text()
        assert published != svg, "10 points, not the 6 drawn while it trained"
        assert get(srv.url + "posts/live/figures/curve.svg")[1] == published
        assert not (root / ".physai-cache/preview/live").exists()

        gate.write_text("held")
        script = root / "experiments/live.py"
        script.write_text(script.read_text().replace('"steps": 10', '"steps": 12'))
        [run] = held_run(srv)
        assert run["total"] == 12 and isinstance(run["eta_s"], float)
        status, page = get(srv.url + "posts/live/")
        assert status == 200 and 'id="physai-provisional"' in page
        assert 'class="physai-pending" title="pending: no run has logged &#x27;last&#x27;' in page
        assert "data-chart" not in page, "a running post shows its redrawn images"
        assert "data-chart" in (root / "site/posts/live/index.html").read_text()
        now = get(srv.url + "posts/live/figures/curve.svg")[1]
        assert now != published and now == svg, "the same 6 rows draw the same figure"
        assert (root / "site/posts/live/figures/curve.svg").read_text() == published
        first = srv.state.id
        gate.unlink()
        assert finished(srv, first).error is None
        assert get(srv.url + "posts/live/figures/curve.svg")[1] != published
    finally:
        gate.unlink(missing_ok=True)
        srv.stop()
