"""Interactive figures in a real browser (Debian's chromium via Playwright): hover reads the
exact numbers of the figure's data, legend entries hide exactly their lines, keys and reset
work, from file:// and under a sub-path, with no console error and no request elsewhere."""

from __future__ import annotations

import csv
import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from conftest import CONFIG, SAMPLE, make_blog
from physai_blog.build import build

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
from test_browser import ARTIFACTS, CHROMIUM, QuietHandler, Visit, browser  # noqa: E402,F401

if not Path(CHROMIUM).exists():   # pragma: no cover - test_browser skips the module first
    pytest.skip("no chromium", allow_module_level=True)

EXPERIMENT = '''\
import numpy as np
from physai_blog import Experiment

exp = Experiment(params={"n": 40, "rate": 0.1}, sweep={"rate": [0.1, 0.3]}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    rng = np.random.default_rng(seed)
    for step in range(1, params["n"] + 1):
        log.scalars(step=step, loss=float(np.exp(-params["rate"] * step) + 0.05 * rng.random()))
    log.value("final", float(np.exp(-params["rate"] * params["n"])))


@exp.figure("loss", caption="Loss, one line per seed.")
def loss(data, fig):
    ax = fig.add_subplot()
    colors = {0.1: "#ff0000", 0.3: "#0000ff"}
    for cell, runs in data.by_cell():
        for i, run in enumerate(runs):
            ax.plot(*run.series("loss"), color=colors[cell["rate"]], lw=2,
                    label=f"rate {cell['rate']}" if i == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(title="rate")


@exp.figure("panels", caption="Two panels stay a static image.")
def panels(data, fig):
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [0, 1])
    right.plot([0, 1], [1, 0])
'''
POST = '''\
---
title: Charts
date: 2026-02-01
experiment: experiments/charts.py
---

{{ figure("loss") }}

{{ figure("panels") }}

Final: {{ value("final", rate=0.1) }}, as grokking papers report [@power2022grokking], with a
step of $2/\\eta$ and {{ claim("final > 0", "it is positive", rate=0.1) }}{{ claim("final < 1", "below one", rate=0.1) }}.
'''
NEXT = '''\
---
title: Next
date: 2026-02-02
---

{{ figure("charts:loss") }}
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_blog(tmp_path_factory.mktemp("charts") / "blog",
                     {"2026-02-01-charts.md": POST, "2026-02-02-next.md": NEXT},
                     {"charts.py": EXPERIMENT},
                     config=CONFIG + "bibliography: references.bib\n")
    shutil.copy(SAMPLE / "references.bib", root / "references.bib")
    report = build(root, jobs=1)
    assert report.static_figures == {
        "charts/panels": "2 panels (only single-panel figures are interactive)"}
    return root / "site"


@pytest.fixture(scope="module")
def sub_path_url(site, tmp_path_factory):
    """The site served under /a/sub/path/, as on a project page."""
    top = tmp_path_factory.mktemp("served")
    shutil.copytree(site, top / "a" / "sub" / "path")
    handler = functools.partial(QuietHandler, directory=str(top))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/a/sub/path/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page_of(browser):  # noqa: F811
    opened = []

    def open_(url, **context):
        v = Visit(browser, url, viewport={"width": 900, "height": 900}, **context)
        opened.append(v)
        v.page.locator("figure[data-chart]").first.scroll_into_view_if_needed()
        v.page.wait_for_selector("#fig-loss.has-chart .u-over", timeout=15000)
        return v

    yield open_
    for v in opened:
        v.close()


def elsewhere(v) -> list[str]:
    """Requests that left the page's origin (file:// pages may load only file:// URLs)."""
    return [u for u in v.requests if not u.startswith(("file://", "data:", "blob:"))
            and urlsplit(u).hostname != "127.0.0.1"]


def runs_of(site: Path) -> dict[tuple[str, int], list[dict]]:
    out = {}
    for folder in sorted((site / "posts/charts/data").iterdir()):
        if folder.is_dir():
            rate, seed = re.match(r"rate-([\d.]+)_seed-(\d+)", folder.name).groups()
            with (folder / "scalars.csv").open() as fh:
                out[(rate, int(seed))] = list(csv.DictReader(fh))
    return out


def hover(v, fx: float, fy: float) -> dict | None:
    box = v.page.locator("#fig-loss .u-over").bounding_box()
    v.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    return v.page.evaluate("""() => { const t = document.querySelector('#fig-loss .chart-tip');
        return t.hidden ? null : {text: t.innerText, x: t.dataset.x, y: t.dataset.y}; }""")


def red_and_blue(v) -> tuple[int, int]:
    return tuple(v.page.evaluate("""() => {
        const c = document.querySelector('#fig-loss canvas'), ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let red = 0, blue = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) red++;
            if (d[i + 2] > 200 && d[i] < 80 && d[i + 1] < 80) blue++;
        }
        return [red, blue]; }"""))


def test_hover_shows_the_exact_numbers_of_the_figure_data(site, page_of):
    v = page_of((site / "posts/charts/index.html").as_uri())
    runs = runs_of(site)
    seen = 0
    for fx in (0.05, 0.2, 0.4, 0.6, 0.8):
        for fy in (0.1, 0.3, 0.5, 0.7, 0.9):
            tip = hover(v, fx, fy)
            if tip is None:
                continue
            rate, seed = re.search(r"rate = ([\d.]+) · seed (\d+)", tip["text"]).groups()
            rows = runs[(rate, int(seed))]
            assert any(float(r["step"]) == float(tip["x"]) and float(r["loss"]) == float(tip["y"])
                       for r in rows), (tip, rows)
            assert f"step = {tip['x']}" in tip["text"] and f"loss = {tip['y']}" in tip["text"]
            seen += 1
    assert seen >= 3, "hovering the chart shows its points"
    assert v.errors == [] and elsewhere(v) == []


def test_a_legend_entry_hides_exactly_its_lines(site, page_of):
    v = page_of((site / "posts/charts/index.html").as_uri())
    red, blue = red_and_blue(v)
    assert red > 100 and blue > 100
    button = v.page.locator("#fig-loss .chart-legend button", has_text="rate 0.1")
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    hidden = red_and_blue(v)
    assert hidden[0] == 0 and blue <= hidden[1] < blue * 1.1   # blue only gains what red hid
    button.press("Enter")        # the legend works from the keyboard too
    assert button.get_attribute("aria-pressed") == "true"
    assert red_and_blue(v) == (red, blue)


def test_keys_read_points_and_zoom_and_reset_restores_the_drawn_view(site, page_of):
    v = page_of((site / "posts/charts/index.html").as_uri())
    scales = "() => { const u = document.querySelector('#fig-loss .chart').physaiChart.u; " \
             "return [u.scales.x.min, u.scales.x.max, u.scales.y.min, u.scales.y.max]; }"
    drawn = v.page.evaluate(scales)
    v.page.focus("#fig-loss .chart-plot")
    v.page.keyboard.press("ArrowRight")
    assert "step = " in v.page.inner_text("#fig-loss .chart-tip")
    v.page.keyboard.press("+")
    zoomed = v.page.evaluate(scales)
    assert zoomed[1] - zoomed[0] < drawn[1] - drawn[0]
    box = v.page.locator("#fig-loss .u-over").bounding_box()
    v.page.mouse.move(box["x"] + 50, box["y"] + 50)
    v.page.mouse.down()
    v.page.mouse.move(box["x"] + 200, box["y"] + 200, steps=5)
    v.page.mouse.up()
    assert v.page.evaluate(scales) != zoomed
    v.page.click("#fig-loss .chart-reset")
    assert v.page.evaluate(scales) == drawn


def test_an_unmappable_figure_stays_its_image(site, page_of):
    v = page_of((site / "posts/charts/index.html").as_uri())
    v.page.locator("#fig-panels").scroll_into_view_if_needed()
    v.page.wait_for_timeout(300)
    assert v.page.locator("#fig-panels .chart").count() == 0
    assert v.page.locator("#fig-panels img").is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_under_a_sub_path_in_both_themes(sub_path_url, page_of, scheme):
    v = page_of(sub_path_url + "posts/charts/index.html", color_scheme=scheme)
    assert v.page.locator("#fig-loss img").is_hidden()
    background = v.page.evaluate("""() => getComputedStyle(
        document.querySelector('#fig-loss .chart-plot')).backgroundColor""")
    assert background == "rgba(0, 0, 0, 0)", "the chart is drawn on the page, not on a card"
    axis = v.page.evaluate("() => getComputedStyle(document.body).color")
    assert axis  # the axes take the page's text colour (chart.js theme())
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.locator("#fig-loss").screenshot(path=str(ARTIFACTS / f"chart-{scheme}.png"))
    assert v.errors == [] and elsewhere(v) == []
    print_media = v.page.evaluate("""() => { const s = [...document.styleSheets].flatMap(
        x => [...x.cssRules]).find(r => r.media && r.media.mediaText === 'print');
        return s ? s.cssText : ''; }""")
    assert ".chart { display: none; }" in print_media


def test_the_explorer_plots_a_chosen_series_for_a_chosen_seed(site, page_of):
    v = page_of((site / "posts/charts/index.html").as_uri())
    v.page.locator("#explore").scroll_into_view_if_needed()
    v.page.wait_for_selector("#explore .u-over", timeout=15000)
    assert "1 series (loss)" in v.page.inner_text("#explore .explore-list")
    v.page.select_option("#explore-y", "loss")
    v.page.uncheck("#explore-cells-0")           # rate 0.1 off: only rate 0.3
    v.page.uncheck("#explore-seeds-0")           # seed 0 off: only seed 1
    v.page.check("#explore-yscale-log")
    spec = v.page.evaluate("() => document.querySelector('#explore .chart').physaiChart.spec")
    (line,) = spec["series"]
    assert spec["runs"][line["run"]]["seed"] == 1 and spec["runs"][line["run"]]["cell"] == {
        "rate": 0.3} and spec["y"]["scale"] == "log"
    rows = runs_of(site)[("0.3", 1)]
    assert line["y"] == [float(r["loss"]) for r in rows]
    v.page.focus("#explore .chart-plot")
    v.page.keyboard.press("ArrowRight")
    tip = v.page.inner_text("#explore .chart-tip")
    assert "rate = 0.3 · seed 1" in tip and f"loss = {rows[1]['loss']}" in tip
    v.page.check("#explore-mode-value")
    spec = v.page.evaluate("() => document.querySelector('#explore .chart').physaiChart.spec")
    assert spec["x"]["label"] == "rate" and spec["series"][0]["y"] == [
        float(np.exp(-0.3 * 40))]
    assert v.errors == [] and elsewhere(v) == []
    v.page.locator("#explore").screenshot(path=str(ARTIFACTS / "explorer.png"))


def test_reading_a_post_like_an_article(site, page_of):
    """Citations show their reference, figures enlarge, BibTeX wraps, adjacent claims stay
    apart, a post without authors is the site author's, a slash fraction is tight."""
    html = (site / "posts/charts/index.html").read_text()
    assert '<span class="authors">Test Author</span>' in html
    assert "<author><name>Test Author</name></author>" in (site / "feed.xml").read_text()
    assert '<mo lspace="0" rspace="0">&#x0002F;</mo>' in html
    assert re.search(r"it is positive</a> <a class=\"claim ", html)
    v = page_of((site / "posts/charts/index.html").as_uri())
    v.page.hover("span.cite a")
    assert "Grokking" in v.page.inner_text("#cite-pop")
    v.page.mouse.move(0, 0)
    assert v.page.locator("#cite-pop").count() == 0
    v.page.focus("span.cite a")                      # from the keyboard too
    assert "Grokking" in v.page.inner_text("#cite-pop")
    v.page.keyboard.press("Escape")
    assert v.page.locator("#cite-pop").count() == 0

    v.page.locator("#fig-panels").scroll_into_view_if_needed()
    v.page.click("#fig-panels img")
    assert "enlarged" in v.page.get_attribute("#fig-panels", "class")
    width = v.page.evaluate("document.querySelector('#fig-panels img').getBoundingClientRect().width")
    assert width > 700
    v.page.keyboard.press("Escape")
    assert "enlarged" not in v.page.get_attribute("#fig-panels", "class")
    v.page.click("#fig-loss .chart-enlarge")
    assert "enlarged" in v.page.get_attribute("#fig-loss", "class")
    v.page.click("#fig-loss .fig-close")
    assert "enlarged" not in v.page.get_attribute("#fig-loss", "class")

    bib = v.page.evaluate("""() => { const p = document.querySelector('.cite-block pre');
        return [getComputedStyle(p).whiteSpace, p.scrollWidth - p.clientWidth]; }""")
    assert bib == ["pre-wrap", 0]
    assert v.errors == [] and elsewhere(v) == []


def test_an_embedded_figure_is_interactive_in_the_post_that_embeds_it(site, browser):  # noqa: F811
    v = Visit(browser, (site / "posts/next/index.html").as_uri(),
              viewport={"width": 900, "height": 900})
    try:
        v.page.wait_for_selector("#fig-charts--loss.has-chart .u-over", timeout=15000)
        assert v.page.locator("#fig-charts--loss .chart-legend button").count() == 2
        assert v.page.get_attribute("#fig-charts--loss .embed-source", "href") == \
            "../../posts/charts/index.html"
        assert v.errors == [] and elsewhere(v) == []
    finally:
        v.close()
