"""`physai-blog serve` over a real socket: malformed requests, other methods and other hosts get
a short 4xx and one terminal line (never a traceback), and the server keeps answering."""

from __future__ import annotations

import http.client
import socket

import pytest
from conftest import make_blog
from test_serve import start_server

from physai_blog.serve import reload
from physai_blog.serve.requests import MAX_TARGET, Refused, host_allowed, host_names, request_path
from physai_blog.serve.server import ServeError

GOOD = "/posts/fast/index.html"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One built blog for the whole module (started like test_serve.py's fixture)."""
    srv = start_server(make_blog(tmp_path_factory.mktemp("requests") / "blog"))
    assert srv.state.error is None, srv.lines
    yield srv
    srv.stop()


def raw(port: int, data: bytes, host: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """Send ``data`` as is; the status, headers (lower-case names) and body of the answer."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):   # the server closes after every answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def ask(server, method: str = "GET", path: str = GOOD, host: str | None = "default",
        body: bytes | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", f"127.0.0.1:{server.port}" if host == "default" else host)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response, data


def refused(server, capfd, send, head: bool = False) -> tuple[int, dict, bytes]:
    """Run ``send()``; check the answer is short plain text, that the terminal got exactly one
    line and no traceback, and that the server still answers a good request."""
    before = len(server.lines)
    status, headers, body = send()
    new = server.lines[before:]
    assert len(new) == 1 and "\n" not in new[0], new
    assert new[0].split("] ", 1)[1].startswith(f"{status} "), new
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"" if head else len(body) < 400 and body.startswith(f"{status} ".encode())
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Traceback" not in "".join(new)
    good, _, page = ask(server)
    assert good == 200 and b"Total:" in page
    return status, headers, body


def request_line(target: bytes, method: bytes = b"GET", port: int = 0) -> bytes:
    return method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port


MALFORMED = {
    "percent-NUL": (b"/posts/fast/index.html%00.txt", 400),
    "raw NUL": (b"/posts/a\x00b", 400),
    "dot-dot": (b"/../../etc/passwd", 400),
    "encoded dot-dot": (b"/%2e%2e/%2E%2e/etc/passwd", 400),
    "half-encoded dot-dot": (b"/posts/.%2e/.%2E/x", 400),
    "encoded slash dot-dot": (b"/posts/..%2f..%2fetc", 400),
    "backslash dot-dot": (b"/posts\\..\\..\\etc", 400),
    "encoded backslash dot-dot": (b"/posts/..%5c..%5cetc", 400),
    "bad percent": (b"/posts/%zz", 400),
    "truncated percent": (b"/posts/%4", 400),
    "not UTF-8": (b"/posts/%ff%fe", 400),
    "truncated UTF-8": (b"/posts/%c3", 400),
    "encoded newline": (b"/posts/a%0d%0aSet-Cookie:x", 400),
    "raw non-ASCII": ("/posts/é".encode(), 400),
    "absolute form": (b"http://evil.example/", 400),
    "long path": (b"/" + b"a" * 3000, 414),
    "path just over the limit": (b"/" + b"a" * MAX_TARGET, 414),
    "longer than the standard library reads": (b"/" + b"a" * 70000, 414),
    # the server reads the rest before closing, or the client gets a reset, not the 414
    "megabytes long": (b"/" + b"a" * 3_000_000, 414),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_targets_get_a_4xx_and_one_line(server, capfd, case):
    target, expected = MALFORMED[case]
    status, _, _ = refused(server, capfd, lambda: raw(server.port,
                                                       request_line(target, port=server.port)))
    assert status == expected


def test_a_target_at_the_limit_is_answered(server):
    assert ask(server, path="/" + "a" * (MAX_TARGET - 1))[0] == 404


BAD_LINES = {
    "garbage": (b"GARBAGE\r\n\r\n", 400),
    "empty line": (b"\r\n", 400),
    "bad version": (b"GET / HTTP/1.x\r\nHost: 127.0.0.1\r\n\r\n", 400),
    "HTTP/2 text": (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
    "too many words": (b"GET / / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    "HTTP/0.9": (b"GET /\r\n\r\n", 400),
    "no Host on HTTP/1.1": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "two Host headers": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: localhost\r\n\r\n", 400),
    "header line too long": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"x" * 70000
                             + b"\r\n\r\n", 431),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_malformed_request_lines_get_an_error_and_one_line(server, capfd, case):
    data, expected = BAD_LINES[case]
    assert refused(server, capfd, lambda: raw(server.port, data))[0] == expected


def test_http_1_0_without_host_is_answered(server):
    status, _, body = raw(server.port, b"GET " + GOOD.encode() + b" HTTP/1.0\r\n\r\n")
    assert status == 200 and b"Total:" in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "BREW"])
def test_other_methods_get_405_with_allow(server, capfd, method):
    def send():
        status, response, body = ask(server, method, body=b"x" * 100)
        return status, {k.lower(): v for k, v in response.getheaders()}, body

    status, headers, _ = refused(server, capfd, send)
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_head_is_answered_and_the_event_stream_is_get_only(server, capfd):
    status, response, body = ask(server, "HEAD")
    assert status == 200 and body == b"" and response.getheader("Content-Type").startswith("text/html")

    def send():
        status, response, body = ask(server, "HEAD", "/__physai__/events")
        return status, {k.lower(): v for k, v in response.getheaders()}, body

    status, headers, _ = refused(server, capfd, send, head=True)
    assert status == 405 and headers["allow"] == "GET"


def test_only_hosts_naming_the_listening_address_are_answered(server, capfd):
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", "127.0.0.1",
                 "localhost", f"127.0.0.1:0{port}", f"localhost:{port} "):
        status, _, page = ask(server, host=host)
        assert status == 200 and b"Total:" in page, host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}",
                 f"localhost:{port + 1}", "localhost:80", f"[::1]:{port}",
                 f"127.0.0.1.evil.example:{port}", f"localhost.evil.example:{port}",
                 f"localhost:{port}x", "localhost:x", f"127.1:{port}", f"user@localhost:{port}",
                 ""):
        def send():
            status, response, body = ask(server, host=host)
            return status, {k.lower(): v for k, v in response.getheaders()}, body

        status, _, body = refused(server, capfd, send)
        assert status == 421, host
        assert f"127.0.0.1:{port}".encode() in body   # says which Host it answers


@pytest.mark.parametrize("path", ["/__physai__/events", "/__physai__/status", "/"])
def test_a_rebinding_page_cannot_reach_the_endpoints(server, capfd, path):
    def send():
        status, response, body = ask(server, path=path, host=f"evil.example:{server.port}")
        return status, {k.lower(): v for k, v in response.getheaders()}, body

    assert refused(server, capfd, send)[0] == 421


def test_a_bug_while_answering_is_a_500_and_one_line(server, capfd, monkeypatch):
    def boom(html, state):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(reload, "inject", boom)   # the handler looks it up there
    before = len(server.lines)
    status, headers, body = raw(server.port, request_line(GOOD.encode(), port=server.port))
    new = server.lines[before:]
    assert status == 500 and body == b"500 Internal Server Error: see the terminal\n"
    assert len(new) == 1 and "RuntimeError: injected failure (test_serve_requests.py:" in new[0]
    assert "Traceback" not in capfd.readouterr().err
    monkeypatch.undo()
    assert ask(server)[0] == 200


def test_a_client_that_leaves_early_leaves_no_trace(server, capfd):
    before = len(server.lines)
    for data in (b"", request_line(GOOD.encode(), port=server.port)):   # never reads
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(data)
    assert ask(server)[0] == 200
    assert server.lines[before:] == [] and "Traceback" not in capfd.readouterr().err


def test_a_server_bound_to_localhost_or_ipv6_loopback_answers_its_names(tmp_path):
    root = make_blog(tmp_path / "blog")
    srv = start_server(root, initial_build=False, host="localhost")
    try:
        for host, expected in ((f"localhost:{srv.port}", 200), (f"127.0.0.1:{srv.port}", 200),
                               (f"evil.example:{srv.port}", 421)):
            assert ask(srv, path="/__physai__/status", host=host)[0] == expected, host
    finally:
        srv.stop()
    try:
        srv = start_server(root, initial_build=False, host="::1")
    except ServeError:
        pytest.skip("no IPv6 loopback here")
    try:
        for host, expected in ((f"[::1]:{srv.port}", 200), (f"localhost:{srv.port}", 200),
                               (f"[0:0::1]:{srv.port}", 200), (f"127.0.0.1:{srv.port}", 421),
                               (f"[::2]:{srv.port}", 421)):
            conn = http.client.HTTPConnection("::1", srv.port, timeout=10)
            conn.putrequest("GET", "/__physai__/status", skip_host=True)
            conn.putheader("Host", host)
            conn.endheaders()
            assert conn.getresponse().status == expected, host
            conn.close()
    finally:
        srv.stop()


def test_host_names_and_host_allowed():
    assert host_names("127.0.0.1", "127.0.0.1") == {"127.0.0.1", "localhost"}
    assert host_names("localhost", "127.0.0.1") == {"127.0.0.1", "localhost"}
    assert host_names("::1", "::1") == {"[::1]", "localhost"}
    assert host_names("[::1]", "::1") == {"[::1]", "localhost"}
    # --host H: H itself (and the address it bound), not localhost
    assert host_names("myhost.lan", "192.168.1.5") == {"myhost.lan", "192.168.1.5"}
    assert host_names("0.0.0.0", "0.0.0.0") == {"0.0.0.0", "127.0.0.1", "localhost"}
    names = host_names("myhost.lan", "192.168.1.5")
    assert host_allowed("MyHost.lan:8000", names, 8000)
    assert host_allowed("192.168.1.5", names, 8000)
    assert not host_allowed("myhost.lan:8001", names, 8000)
    assert not host_allowed("localhost:8000", names, 8000)
    assert not host_allowed("[::1]:8000", host_names("::1", "::1"), 8001)
    assert not host_allowed("[::1:8000", host_names("::1", "::1"), 8000)
    assert not host_allowed("[127.0.0.1]:8000", host_names("127.0.0.1", "127.0.0.1"), 8000)


def test_request_path():
    assert request_path("/posts/a%20b/?x=%zz") == "/posts/a b/"   # the query is not decoded
    assert request_path("/caf%C3%A9/") == "/café/"
    assert request_path("/a..b/.../x") == "/a..b/.../x"           # only whole '..' segments
    for target, status in (("/a/%2e%2E/b", 400), ("/a%00", 400), ("/" + "x" * 5000, 414)):
        with pytest.raises(Refused) as info:
            request_path(target)
        assert info.value.status == status
