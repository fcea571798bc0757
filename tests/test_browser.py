"""The built site in a real browser: Debian's chromium, headless, driven by Playwright.

Skipped (with the reason) when Playwright or /usr/bin/chromium is missing; `make setup`
installs chromium where it can (root or sudo).  Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(__file__).parent / "artifacts"

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="Playwright is not installed (pip install -e '.[test]')")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make setup` as root, or "
                "`sudo apt-get install chromium`) to run the browser tests", allow_module_level=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site_url(built_sample):
    root, _ = built_sample
    handler = functools.partial(QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        except Exception as exc:  # pragma: no cover - a broken install
            pytest.skip(f"chromium does not start: {exc}")
        yield browser
        browser.close()


class Visit:
    """A page with every request and console error recorded."""

    def __init__(self, browser, url: str, **context):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"{r.status} {r.url}"))
        self.response = self.page.goto(url, wait_until="load")

    def load_images(self) -> list[dict]:
        """Scroll every image into view (they are lazy) and report how each loaded."""
        return self.page.evaluate("""async () => {
            const out = [];
            for (const img of Array.from(document.images)) {
                img.scrollIntoView();
                try { await img.decode(); } catch (e) {}
                out.push({src: img.currentSrc || img.src, alt: img.alt, width: img.naturalWidth});
            }
            window.scrollTo(0, 0);
            return out;
        }""")

    def external(self) -> list[str]:
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:"))
                and urlsplit(u).hostname not in ("127.0.0.1", "localhost")]

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_(url, **context):
        v = Visit(browser, url, **context)
        opened.append(v)
        return v

    yield open_
    for v in opened:
        v.close()


def test_post_page_in_the_browser(visit, site_url):
    v = visit(site_url + "posts/decay/index.html", color_scheme="light")
    assert v.response.status == 200
    images = v.load_images()
    assert images, "the post has figures"
    for img in images:
        assert img["width"] > 0, f"figure did not load: {img['src']}"
        assert img["alt"], f"figure without alt text: {img['src']}"

    # every data and code link answers 200
    links = v.page.eval_on_selector_all(
        "a[href]", "els => els.map(a => a.href)")
    downloads = sorted({u for u in links if "/posts/decay/data/" in u or "/posts/decay/code/" in u})
    assert len(downloads) >= 5
    for url in downloads:
        status = v.context.request.get(url).status
        assert status == 200, f"{url} -> {status}"

    # math is typeset MathML: laid out boxes, the TeX annotation not shown
    math = v.page.evaluate("""() => Array.from(document.querySelectorAll('math')).map(m => {
        const r = m.getBoundingClientRect();
        const a = m.querySelector('annotation');
        return {w: r.width, h: r.height, display: m.getAttribute('display'),
                annotation: a ? a.getBoundingClientRect().width : 0};
    })""")
    assert any(m["display"] == "block" for m in math) and any(m["display"] == "inline" for m in math)
    for m in math:
        assert m["w"] > 0 and m["h"] > 0 and m["annotation"] == 0, m
    text = v.page.inner_text("article")
    assert "\\frac" not in text and "\\int" not in text

    # the copy button works (clipboard API or its fallback)
    v.page.click("button.copy")
    v.page.wait_for_function("document.querySelector('button.copy').textContent === 'Copied'",
                             timeout=5000)

    assert v.external() == [], "requests outside localhost"
    assert v.errors == [], "console errors"
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "post-light.png"), full_page=True)


def test_dark_mode_follows_the_system(visit, site_url):
    url = site_url + "posts/decay/index.html"
    colors = {}
    for scheme in ("light", "dark"):
        v = visit(url, color_scheme=scheme)
        v.load_images()
        colors[scheme] = v.page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
                                                   getComputedStyle(document.body).color]""")
        ARTIFACTS.mkdir(exist_ok=True)
        v.page.screenshot(path=str(ARTIFACTS / f"post-{scheme}.png"), full_page=True)
        assert v.errors == [] and v.external() == []
    assert colors["light"][0] != colors["dark"][0]
    assert colors["light"][1] != colors["dark"][1]


@pytest.mark.parametrize("page", ["index.html", "archive/index.html", "tags/toy/index.html",
                                  "posts/notes/index.html"])
def test_other_pages_are_clean_and_fit_a_phone(visit, site_url, page):
    v = visit(site_url + page, viewport={"width": 375, "height": 740})
    assert v.response.status == 200
    for img in v.load_images():
        assert img["width"] > 0, img
    overflow = v.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page} scrolls sideways on a phone by {overflow}px"
    assert v.errors == [] and v.external() == []


def test_post_fits_a_phone(visit, site_url):
    v = visit(site_url + "posts/decay/index.html", viewport={"width": 375, "height": 740})
    overflow = v.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the post scrolls sideways on a phone by {overflow}px"


def test_serve_reloads_the_open_page_and_shows_build_errors(visit, tmp_path):
    from conftest import FAST_POST, make_blog

    from physai_blog.serve.server import DevServer

    root = make_blog(tmp_path / "blog")
    server = DevServer(root, port=0, echo=lambda line, error=False: None, debounce_ms=100)
    server.start()
    try:
        v = visit(server.url + "posts/fast/index.html")
        assert "Total:" in v.page.inner_text("article")
        v.page.wait_for_timeout(300)          # let the event stream connect
        post = root / "posts/2026-02-01-fast.md"
        post.write_text(FAST_POST.replace("Total:", "Sum of it all:"))
        v.page.wait_for_function("document.body.innerText.includes('Sum of it all:')",
                                 timeout=30000)
        post.write_text(FAST_POST + '\n{{ value("nope") }}\n')
        v.page.wait_for_selector("#physai-error", timeout=30000)
        assert "nope" in v.page.inner_text("#physai-error")
        assert "Sum of it all:" in v.page.inner_text("article")   # the last good build stays
        post.write_text(FAST_POST)
        v.page.wait_for_function("!document.getElementById('physai-error') && "
                                 "document.body.innerText.includes('Total:')", timeout=30000)
        assert v.external() == [] and v.errors == []
    finally:
        server.stop()


def test_serve_shows_a_first_builds_running_figure_then_the_finished_page(visit, tmp_path,
                                                                           monkeypatch):
    from conftest import CONFIG, make_blog
    from test_live_figures import EXPERIMENT, POST

    from physai_blog.serve.server import DevServer

    root = make_blog(tmp_path / "blog", posts={"2026-03-01-live.md": POST},
                     experiments={"live.py": EXPERIMENT}, config=CONFIG)
    gate = tmp_path / "gate"
    gate.write_text("held")
    monkeypatch.setenv("LIVE_GATE", str(gate))
    server = DevServer(root, port=0, echo=lambda line, error=False: None, debounce_ms=100)
    server.start(wait=False)
    try:
        v = visit(server.url + "posts/live/")
        assert "Building…" in v.page.inner_text("h1")
        # the page reloads into the post so far: its figure drawn from the rows logged
        v.page.wait_for_selector("#physai-provisional", timeout=60000)
        assert v.page.inner_text("h1") == "Live"
        label = v.page.wait_for_selector("figure .physai-running-label")
        assert label.inner_text().startswith("running: step 5/10")
        [image] = [i for i in v.load_images() if "/figures/curve.svg" in i["src"]]
        assert image["width"] > 0, "the figure drawn from the rows so far"
        gate.unlink()
        v.page.wait_for_function("document.body.innerText.includes('Last: 10')", timeout=60000)
        assert v.page.query_selector(".physai-running-label") is None
        assert v.page.query_selector("#physai-provisional") is None
        assert v.page.query_selector("figure img[src='figures/curve.svg']") is not None
        assert v.external() == []
    finally:
        gate.unlink(missing_ok=True)
        server.stop()


def test_serve_updates_a_running_posts_numbers_in_the_open_page(visit, tmp_path, monkeypatch):
    from test_live_values import gated_server

    server, gates = gated_server(tmp_path, monkeypatch)
    try:
        v = visit(server.url + "posts/values/")
        v.page.wait_for_function("(document.getElementById('physai-live-1') || {}).innerText "
                                 "=== '100'", timeout=60000)
        early = v.page.query_selector("#physai-live-1")
        assert "running: step 3 of 10" in early.get_attribute("title")
        assert "physai-running" in early.get_attribute("class")
        assert v.page.inner_text("#physai-live-2") == "pending"
        v.page.evaluate("window.physaiSamePage = true")
        (gates / "seed-0").unlink()
        v.page.wait_for_function("document.getElementById('physai-live-1').innerText === "
                                 "'100 ± 0.71 (n=2)'", timeout=60000)
        assert v.page.evaluate("window.physaiSamePage") is True, "swapped, not reloaded"
        assert v.page.inner_text("#physai-live-2") == "200"
        assert "1 of 3 runs finished" in v.page.inner_text("#physai-provisional")
        for seed in (1, 2):
            (gates / f"seed-{seed}").unlink()
        v.page.wait_for_function("document.body.innerText.includes('101 ± 1 (n=3)')",
                                 timeout=60000)
        assert v.page.query_selector("#physai-provisional") is None
        assert v.page.query_selector(".physai-running, .physai-pending") is None
        assert v.external() == []
    finally:
        for gate in gates.iterdir():
            gate.unlink()
        server.stop()
