"""The HTTP side of ``physai-blog serve``: static files of ``site/`` plus the live-reload
endpoints, on a ``ThreadingHTTPServer`` that carries its DevServer as ``.dev``.

It answers only GET and HEAD, only requests whose ``Host:`` names the address it listens on (a
page on another site that rebinds its DNS name to 127.0.0.1 gets 421), and refuses malformed
requests with a short 4xx answer and one line in the terminal, never a traceback.

The handler reads what it needs from ``self.server.dev`` (``root``, ``state``, ``hosts``,
``port``, ``echo``, ``changed``, ``stopping``) rather than importing ``server.py``, which
imports this module.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path

from physai_blog.paths import CACHE_DIR, SITE_DIR
from physai_blog.runtime.live import running
from physai_blog.serve import reload
from physai_blog.serve.requests import (
    METHODS,
    Refused,
    host_allowed,
    host_name,
    request_path,
)

LINGER_S = 1.0                         # how long a closing connection reads what is still sent


def printable(text: str, limit: int = 160) -> str:
    """``text`` fit for one terminal line: control characters escaped, long text cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def describe(exc: BaseException) -> str:
    """An exception on one line: its type, message and the line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return printable(f"{type(exc).__name__}: {exc}", 300) + where


def stamp() -> str:
    """The time at the start of a terminal line."""
    return time.strftime("%H:%M:%S")


class SiteServer(http.server.ThreadingHTTPServer):
    """The listening socket of one DevServer (``dev``), answered by ``Handler``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dev):
        # per instance, before the socket is made: IPv4 or IPv6 depends on the address
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.dev = dev
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # what escapes the handler's own guard (setup, finish): one line, no traceback
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):   # a client that left is no error
            self.dev.echo(f"[{stamp()}] error answering {client_address[0]}: {describe(exc)}",
                          True)

    def shutdown_request(self, request):
        # A lingering close: read what the client still sends (a refused body, the rest of an
        # over-long line) first, or closing resets the connection and the client may lose the
        # answer before it reads it.
        try:
            request.shutdown(socket.SHUT_WR)
            end = time.monotonic() + LINGER_S
            while (left := end - time.monotonic()) > 0:
                request.settimeout(left)
                if not request.recv(65536):
                    break
        except OSError:
            pass
        self.close_request(request)


class Handler(http.server.SimpleHTTPRequestHandler):
    """One request: checked (``parse_request``), then a page, a file or a live-reload endpoint."""

    server_version = "physai-blog"

    def __init__(self, request, client_address, server: SiteServer):
        # the base class handles the request inside __init__, so the folder is passed here
        super().__init__(request, client_address, server, directory=str(server.dev.root / SITE_DIR))

    def log_message(self, format, *args):  # quiet: the terminal is for builds
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        self.started = True
        super().end_headers()

    def handle_one_request(self):
        self.started = False   # whether this answer's headers have gone out
        try:
            super().handle_one_request()
        except ConnectionError:   # the client left: nobody to answer, nothing to report
            self.close_connection = True
        except Exception as exc:  # a bug: a 500 and one line, never a traceback
            self.close_connection = True
            self.note(500, describe(exc))
            if not self.started:
                self._headers_buffer = []
                try:
                    self.answer(500, "see the terminal")
                except OSError:
                    pass

    # -- who may ask what ----------------------------------------------------------------------
    def parse_request(self):
        """The standard parsing, then who may ask (Host:), how (GET, HEAD) and for what."""
        if not super().parse_request():
            if not self.requestline.strip():   # the standard parser just hangs up on it
                self.send_error(400, "empty request line")
            return False
        try:
            if self.request_version == "HTTP/0.9":   # no headers, no status line: no Host
                raise Refused(400, "HTTP/0.9 is not supported")
            self.check_host()
            if self.command not in METHODS.split(", "):
                raise Refused(405, f"only {METHODS} are answered")
            self.decoded = request_path(self.path)
        except Refused as refused:
            self.send_error(refused.status, refused.why,
                            allow=METHODS if refused.status == 405 else None)
            return False
        return True

    def check_host(self):
        dev = self.server.dev
        hosts = self.headers.get_all("Host") or []
        if len(hosts) > 1:
            raise Refused(400, "more than one Host header")
        if not hosts:
            if self.request_version != "HTTP/1.0":   # HTTP/1.1 requires Host
                raise Refused(400, "no Host header")
            return   # HTTP/1.0 need not send one (browsers always do)
        # Bound to every address (--host 0.0.0.0): the address this connection reached is a
        # name of this server too; DNS names other than localhost stay refused (rebinding).
        names = dev.hosts | {host_name(self.connection.getsockname()[0])} - {None}
        if not host_allowed(hosts[0], names, dev.port):
            answered = " or ".join(f"{name}:{dev.port}" for name in sorted(dev.hosts))
            raise Refused(421, f"Host {hosts[0]} is not this server (it answers {answered})")

    # -- errors --------------------------------------------------------------------------------
    def send_error(self, code, message=None, explain=None, allow=None):
        """Every error is a short plain-text answer; all but "not found" (a page not built
        yet, a favicon) also leave one line in the terminal."""
        if code != 404:
            self.note(code, message)
        self.answer(code, message, allow)

    def note(self, code: int, why: str | None):
        phrase = self.responses.get(code, ("Error",))[0]
        request = printable(getattr(self, "requestline", ""))
        line = f"[{stamp()}] {code} {phrase}: \"{request}\""
        self.server.dev.echo(line + (f": {printable(why, 300)}" if why else ""), True)

    def answer(self, code: int, message: str | None, allow: str | None = None):
        if self.request_version == "HTTP/0.9":   # a bad first line: still give a status line
            self.request_version = "HTTP/1.0"
        phrase = self.responses.get(code, ("Error",))[0]
        body = f"{code} {phrase}" + (f": {printable(message, 300)}" if message else "")
        body = (body + "\n").encode()
        self.close_connection = True
        self.send_response(code, phrase)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    # -- answers -------------------------------------------------------------------------------
    def do_GET(self):
        path = self.decoded
        if path.startswith(reload.ENDPOINT):
            return self.api(path[len(reload.ENDPOINT):])
        try:
            return self.page(path)
        except (BrokenPipeError, ConnectionResetError):
            return None

    def do_HEAD(self):
        if self.decoded.startswith(reload.ENDPOINT):
            return self.send_error(405, "the live-reload endpoints answer only GET", allow="GET")
        return super().do_HEAD()

    def page(self, path: str):
        preview = self.preview(path)
        if preview is not None:   # a running post's figure, redrawn from its partial data
            return self.send_body(preview.read_bytes(), self.guess_type(str(preview)))
        previews = getattr(self.server.dev, "previews", None)
        provisional = previews.page(path) if previews is not None else None
        if provisional is not None:   # a running post's page, its numbers so far
            return self.send_html(reload.live_page(provisional, path, self.running()))
        # os.path, not Path: a name too long for the file system is "not there", no error
        target = Path(self.translate_path(self.path))
        if os.path.isdir(target) and path.endswith("/"):
            target = target / "index.html"
        if target.suffix.lower() in (".html", ".htm") and os.path.isfile(target):
            return self.send_html(reload.live_page(target.read_bytes(), path, self.running()))
        if not os.path.exists(target) and (path.endswith("/") or path.endswith(".html")):
            state = self.server.dev.state
            if state.building:   # the first build has not finished: watch it from here
                body = reload.ERROR_PAGE % ("Building…", "The first build is running; this "
                                            "page appears when it is done." + reload.PREVIEWS)
                return self.send_html(body.encode(), 404)
            if state.error:  # a page the failing build lacks
                body = reload.ERROR_PAGE % ("Build failed", "The site has no page here yet.")
                return self.send_html(body.encode(), 404)
        return super().do_GET()

    def preview(self, path: str):
        parts = path.strip("/").split("/")
        previews = getattr(self.server.dev, "previews", None)
        if previews is None or len(parts) != 4 or parts[0] != "posts" or parts[2] != "figures":
            return None
        return previews.file(parts[1], parts[3])

    def running(self) -> list[dict]:
        """The runs training now (``runtime/live.py``), each with its post's slug, the
        version of its figures' preview and of its provisional page, and where that page is
        (``preview.py``)."""
        previews = getattr(self.server.dev, "previews", None)
        versions = previews.state() if previews is not None else {}
        runs = running(self.server.dev.root / CACHE_DIR / "live")
        for run in runs:
            run["slug"] = run["run"].split(" ")[0]
            run["preview"], run["figures"], run["page"], run["path"] = versions.get(
                run["slug"], (None, [], None, None))
        return runs

    def send_html(self, body: bytes, status: int = 200):
        self.send_body(reload.inject(body, self.server.dev.state), "text/html; charset=utf-8",
                       status)

    def send_body(self, body: bytes, content_type: str, status: int = 200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def api(self, name: str):
        if name == "status":
            self.send_body(reload.status(self.server.dev.state), "application/json")
        elif name == "runs":   # runs training now, with step and ETA (runtime/live.py)
            self.send_body(json.dumps(self.running()).encode(), "application/json")
        elif name == "events":
            self.events()
        else:
            self.send_error(404)

    def events(self):
        """The live-reload event stream (see ``reload.events``), until the client leaves."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for message in reload.events(self.server.dev):
                self.wfile.write(message)
                self.wfile.flush()
        except OSError:   # the tab closed (broken pipe, reset)
            pass
        self.close_connection = True
