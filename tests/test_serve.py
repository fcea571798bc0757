"""`physai-blog serve`: loopback only, live rebuilds, reload script and error overlay in responses."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request

import pytest
from conftest import FAST_POST, make_blog

from physai_blog.serve.reload import BuildState, inject
from physai_blog.serve.requests import is_loopback
from physai_blog.serve.server import DevServer, ServeError


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def start_server(root, initial_build: bool = True, **kwargs) -> DevServer:
    """A started server whose terminal lines are collected in ``.lines``."""
    lines = []
    srv = DevServer(root, port=0, echo=lambda line, error=False: lines.append(line),
                    debounce_ms=100, **kwargs)
    srv.start(initial_build)
    srv.lines = lines
    return srv


@pytest.fixture
def server(tmp_path):
    srv = start_server(make_blog(tmp_path / "blog"))
    yield srv
    srv.stop()


def test_serves_the_built_site_with_reload_script_only_in_responses(server):
    assert server.httpd.server_address[0] == "127.0.0.1"
    assert server.state.error is None, server.lines
    status, html = get(server.url + "posts/fast/index.html")
    assert status == 200 and "Total:" in html
    assert 'new EventSource("/__physai__/events")' in html and server.state.id in html
    on_disk = (server.root / "site/posts/fast/index.html").read_text()
    assert "EventSource" not in on_disk and "__physai__" not in on_disk
    status, index = get(server.url)
    assert status == 200 and "EventSource" in index
    status, css = get(server.url + "assets/style.css")
    assert status == 200 and "EventSource" not in css
    state = json.loads(get(server.url + "__physai__/status")[1])
    assert state == {"build": server.state.id, "error": None, "building": False,
                     "seconds": state["seconds"]}


def test_a_change_rebuilds_and_the_page_changes(server):
    before = server.state.id
    post = server.root / "posts/2026-02-01-fast.md"
    post.write_text(FAST_POST.replace("Total:", "Grand total:"))
    state = server.wait_for_build(before)
    assert state.id != before and state.error is None
    assert "Grand total:" in get(server.url + "posts/fast/index.html")[1]


def test_a_failing_build_shows_an_overlay_and_the_server_keeps_running(server):
    before = server.state.id
    post = server.root / "posts/2026-02-01-fast.md"
    post.write_text(FAST_POST + '\n{{ figure("nope") }}\n')
    state = server.wait_for_build(before)
    assert state.error and "unknown figure 'nope'" in state.error
    assert any("build failed" in line for line in server.lines)
    status, html = get(server.url + "posts/fast/index.html")
    assert status == 200 and 'id="physai-error"' in html and "unknown figure" in html
    assert "Total:" in html                      # the last good build is still served
    post.write_text(FAST_POST)
    state = server.wait_for_build(state.id)
    assert state.error is None
    assert 'id="physai-error"' not in get(server.url + "posts/fast/index.html")[1]


def test_events_stream_announces_builds(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/__physai__/events")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    first = b""
    while not first.endswith(b"\n\n"):
        first += response.read(1)
    assert json.loads(first.decode().split("data: ")[1])["build"] == server.state.id
    before = server.state.id
    (server.root / "physai.yaml").write_text((server.root / "physai.yaml").read_text()
                                             + "description: changed\n")
    server.wait_for_build(before)
    second = b""
    while not second.endswith(b"\n\n"):
        second += response.read(1)
    assert json.loads(second.decode().split("data: ")[1])["build"] == server.state.id
    conn.close()


def test_binds_only_to_loopback_unless_asked(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    with pytest.raises(ServeError, match="not a loopback address"):
        DevServer(tmp_path, host="0.0.0.0", port=0)
    DevServer(tmp_path, host="0.0.0.0", port=0, allow_public=True)   # explicit: allowed


def test_inject_places_script_before_body_end():
    page = b"<html><body><p>x</p></body></html>"
    out = inject(page, BuildState("abc-1", error="posts/a.md:3: <bad>"))
    assert out.startswith(b"<html><body><p>x</p><div id=\"physai-error\"")
    assert b"posts/a.md:3: &lt;bad&gt;" in out and out.endswith(b"</script></body></html>")
