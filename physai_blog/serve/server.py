"""``physai-blog serve``: build, serve ``site/`` on loopback, rebuild on change, reload the page.

Three threads around one ``ThreadingHTTPServer`` (standard library only, plus ``watchfiles``):

* watchers: ``posts/``, ``experiments/``, ``templates/`` recursively and the blog folder itself
  (not recursively) for ``physai.yaml``, the bibliography and folders created later;
* the builder: waits for a change, calls ``build.build`` (the cache makes it incremental) and
  publishes a new *build id*, whether the build worked or failed;
* the server: static files of ``site/``; into every HTML *response* (never the files on disk)
  it injects a small script that listens on ``/__physai__/events`` (Server-Sent Events) and
  reloads the page when the build id changes, and, while the last build failed, an overlay
  with the error.  The terminal shows the same error; the server keeps running.

It binds to 127.0.0.1 by default and refuses any other address unless asked for one explicitly.
It answers only GET and HEAD, only requests whose ``Host:`` names the address it listens on (a
page on another site that rebinds its DNS name to 127.0.0.1 gets 421), and refuses malformed
requests with a short 4xx answer and one line in the terminal, never a traceback.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Callable
from urllib.parse import unquote_to_bytes

from physai_blog.errors import PhysaiError

ENDPOINT = "/__physai__/"
WATCHED_DIRS = ("posts", "experiments", "templates")
WATCHED_FILES = ("physai.yaml",)
# Longest request target answered (414 beyond): site paths are short, so 2048 bytes is ample
# for any real page and far below what the standard library would read (64 KiB).
MAX_TARGET = 2048
METHODS = "GET, HEAD"                  # the preview is read-only
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
LINGER_S = 1.0                         # how long a closing connection reads what is still sent


class ServeError(PhysaiError):
    """The server cannot start (address refused or in use)."""


def is_loopback(host: str) -> bool:
    """True if every address ``host`` names is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback
                               for info in infos)


class Refused(Exception):
    """A request this server does not answer: the status and why (one line)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status, self.why = status, why


def request_path(target: str) -> str:
    """The percent-decoded path of a request target, or ``Refused`` with the 4xx to answer."""
    if len(target) > MAX_TARGET:
        raise Refused(414, f"the request target is longer than {MAX_TARGET} bytes")
    if "\x00" in target:
        raise Refused(400, "NUL byte in the request target")
    if not target.startswith("/"):
        raise Refused(400, "the request target is not a path")
    # browsers percent-encode everything else, so the raw target and its decoding agree
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise Refused(400, "raw control, space or non-ASCII byte in the request target")
    path = target.split("?", 1)[0].split("#", 1)[0]
    if BAD_PERCENT.search(path):
        raise Refused(400, "invalid percent-encoding in the path")
    try:
        path = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the path is not UTF-8 once percent-decoded") from None
    if "\x00" in path:
        raise Refused(400, "NUL byte in the path")
    if any(c < " " or c == "\x7f" for c in path):
        raise Refused(400, "control character in the path")
    if ".." in re.split(r"[/\\]", path):   # backslashes too: a separator on other systems
        raise Refused(400, "'..' segment in the path")
    return path


def host_name(name: str) -> str | None:
    """``name`` as ``Host:`` names are compared: lower case, IP addresses in their one spelling
    (IPv6 in brackets); None if it is not a name."""
    name = name.strip().lower()
    bracketed = name.startswith("[") and name.endswith("]")
    try:
        address = ipaddress.ip_address(name[1:-1] if bracketed else name)
    except ValueError:
        return None if not name or "[" in name or ":" in name else name
    if address.version == 6:
        return f"[{address.compressed}]"
    return None if bracketed else str(address)


def host_names(host: str, bound: str) -> frozenset[str]:
    """The names a request to this server may give in ``Host:``: the address it listens on,
    the host it was given (``--host``) and ``localhost`` when it listens on loopback."""
    names = {host_name(host), host_name(bound)}
    address = ipaddress.ip_address(bound.split("%")[0])
    if address.is_loopback:
        names.add("localhost")
    elif address.is_unspecified:   # every address, loopback among them
        names |= {"127.0.0.1", "localhost"} | ({"[::1]"} if address.version == 6 else set())
    return frozenset(names - {None})


def host_allowed(value: str, names: frozenset[str], port: int) -> bool:
    """True if the ``Host:`` value ``host[:port]`` names one of ``names`` and, if it has a
    port, ``port`` (no port: the client used the default one; the name is what matters)."""
    value = value.strip()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        name += bracket
    else:
        name = value.partition(":")[0]
        rest = value[len(name):]
    if rest and not rest.startswith(":"):
        return False
    digits = rest[1:]
    if digits and not (digits.isascii() and digits.isdigit() and int(digits) == port):
        return False
    return host_name(name) in names


def printable(text: str, limit: int = 160) -> str:
    """``text`` fit for one terminal line: control characters escaped, long text cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def describe(exc: BaseException) -> str:
    """An exception on one line: its type, message and the line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return printable(f"{type(exc).__name__}: {exc}", 300) + where


@dataclass
class BuildState:
    id: str
    error: str | None = None
    seconds: float = 0.0


# -- what is injected into served HTML ---------------------------------------------------------
RELOAD_SCRIPT = """<script>/* physai-blog serve: live reload (not in the built files) */
(function () {
  var build = %s;
  function connect() {
    var source = new EventSource("%sevents");
    source.onmessage = function (event) {
      var state = JSON.parse(event.data);
      if (state.build !== build) { source.close(); window.location.reload(); }
    };
    source.onerror = function () { source.close(); setTimeout(connect, 1000); };
  }
  connect();
  var close = document.getElementById("physai-error-close");
  if (close) close.onclick = function () {
    document.getElementById("physai-error").style.display = "none";
  };
})();
</script>"""

OVERLAY = """<div id="physai-error" role="alert" style="position:fixed;inset:auto 0 0 0;max-height:70vh;
overflow:auto;z-index:2147483647;margin:0;padding:1rem 1.25rem;background:#2b0d0d;color:#ffe9e9;
border-top:4px solid #ff5c5c;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;
box-shadow:0 -4px 24px rgba(0,0,0,.35)">
<button id="physai-error-close" type="button" aria-label="Hide" style="float:right;
background:none;border:1px solid #ff9a9a;color:#ffe9e9;border-radius:4px;cursor:pointer">hide</button>
<strong style="font-family:system-ui,sans-serif;font-size:14px">Build failed</strong>
<span style="opacity:.75"> &mdash; the page shows the last good build; fix the error and save.</span>
<pre style="white-space:pre-wrap;margin:.6rem 0 0;background:none;color:inherit">%s</pre></div>"""

ERROR_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>physai-blog serve</title><body style="font-family:system-ui,sans-serif;margin:2rem">
<h1>%s</h1><p>%s</p></body></html>"""


def inject(html: bytes, state: BuildState) -> bytes:
    """The page with the reload script (and the error overlay, if the last build failed)."""
    extra = ""
    if state.error:
        extra += OVERLAY % escape(state.error)
    extra += RELOAD_SCRIPT % (json.dumps(state.id), ENDPOINT)
    data = extra.encode()
    lower = html.lower()
    at = lower.rfind(b"</body>")
    if at == -1:
        at = lower.rfind(b"</html>")
    if at == -1:
        return html + data
    return html[:at] + data + html[at:]


class DevServer:
    """The server, the watchers and the builder of one blog.  ``start()``, then ``stop()``."""

    def __init__(self, root: Path | str = ".", host: str = "127.0.0.1", port: int = 8000,
                 allow_public: bool = False, jobs: int | None = None,
                 echo: Callable[..., None] | None = None,
                 build: Callable | None = None, debounce_ms: int = 200):
        self.root = Path(root).resolve()
        self.host, self.port = host, port
        if not is_loopback(host) and not allow_public:
            raise ServeError(f"refusing to serve on {host}: not a loopback address "
                             "(pass --host explicitly to expose the site on your network)")
        self.jobs = jobs
        #: ``echo(line, error=False)``: the terminal (errors go to stderr in the CLI)
        self.echo = echo or (lambda line, error=False: print(line, flush=True))
        self._build = build
        self.debounce_ms = debounce_ms
        self.token = uuid.uuid4().hex[:8]
        self.count = 0
        self.state = BuildState(id=f"{self.token}-0", error="building…")
        self.changed = threading.Condition()
        self.dirty = threading.Event()
        self.stopping = threading.Event()
        self.rewatch = threading.Event()
        self.threads: list[threading.Thread] = []
        self.httpd: http.server.ThreadingHTTPServer | None = None
        self.hosts: frozenset[str] = frozenset()   # the Host: names answered (see host_names)
        self._local = None   # the session's LocalExecutor (see _executor)

    # -- building ------------------------------------------------------------------------------
    def build_once(self, reason: str = "") -> BuildState:
        start = time.perf_counter()
        error = None
        try:
            if self._build is not None:
                self._build(self.root)
                summary = ""
            else:
                from physai_blog.build import build

                report = build(self.root, jobs=self.jobs, keep_going=False,
                               executor=self._executor())
                summary = (f"{len(report.posts)} post(s), {len(report.runs_executed)} of "
                           f"{report.runs_total} run(s) executed, {len(report.figures_drawn)} of "
                           f"{report.figures_total} figure(s) drawn")
                for warning in report.warnings:
                    self.echo(f"warning: {warning}", True)
                problems = report.failed_claims + [e.format_message() for e in report.errors]
                if problems:
                    error = "\n".join(problems)
        except PhysaiError as exc:
            error = exc.format_message()
        except Exception:  # a bug must not take the server down: show it like a build error
            error = "internal error (please report it):\n" + traceback.format_exc()
        seconds = time.perf_counter() - start
        with self.changed:
            self.count += 1
            self.state = BuildState(f"{self.token}-{self.count}", error, seconds)
            self.changed.notify_all()
        stamp = time.strftime("%H:%M:%S")
        why = f" ({reason})" if reason else ""
        if error:
            self.echo(f"[{stamp}] build failed in {seconds:.2f} s{why}:\nError: {error}", True)
        else:
            self.echo(f"[{stamp}] built in {seconds:.2f} s{why}: {summary}".rstrip(": "))
        return self.state

    def _builder(self) -> None:
        while not self.stopping.is_set():
            if not self.dirty.wait(timeout=0.5):
                continue
            # let a burst of saves settle, then build once for all of them
            while True:
                self.dirty.clear()
                if self.stopping.wait(self.debounce_ms / 1000) or not self.dirty.is_set():
                    break
            if self.stopping.is_set():
                return
            self.build_once(self._reason)

    _reason = ""

    def _changed(self, changes) -> None:
        paths = {path for _, path in changes}
        names = sorted(os.path.relpath(p, self.root) for p in
                       ({p for p in paths if os.path.exists(p)} or paths))
        self._reason = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.dirty.set()

    # -- watching ------------------------------------------------------------------------------
    def _watch_top(self) -> None:
        """The blog folder, not recursively: physai.yaml, the bibliography, new folders."""
        from watchfiles import watch

        def wanted(change, path: str) -> bool:
            name = os.path.basename(path)
            return name in WATCHED_FILES or name in WATCHED_DIRS or name.endswith(".bib")

        for changes in watch(self.root, watch_filter=wanted, recursive=False,
                             stop_event=self.stopping, debounce=100, rust_timeout=500,
                             raise_interrupt=False):
            if any(os.path.basename(p) in WATCHED_DIRS for _, p in changes):
                self.rewatch.set()
            self._changed(changes)

    def _watch_dirs(self) -> None:
        """posts/, experiments/, templates/, recursively (restarted when one appears)."""
        from watchfiles import watch

        stop = _AnyEvent(self.stopping, self.rewatch)
        while not self.stopping.is_set():
            self.rewatch.clear()
            dirs = [self.root / d for d in WATCHED_DIRS if (self.root / d).is_dir()]
            if not dirs:
                stop.wait(0.5)
                continue
            for changes in watch(*dirs, stop_event=stop, debounce=100, rust_timeout=500,
                                 raise_interrupt=False):
                self._changed(changes)

    # -- serving -------------------------------------------------------------------------------
    def start(self, initial_build: bool = True) -> None:
        handler = _handler(self)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        dev = self

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                # what escapes the handler's own guard (setup, finish): one line, no traceback
                exc = sys.exc_info()[1]
                if not isinstance(exc, ConnectionError):   # a client that left is no error
                    dev.echo(f"[{time.strftime('%H:%M:%S')}] error answering "
                             f"{client_address[0]}: {describe(exc)}", True)

            def shutdown_request(self, request):
                # A lingering close: read what the client still sends (a refused body, the
                # rest of an over-long line) first, or closing resets the connection and the
                # client may lose the answer before it reads it.
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

        try:
            self.httpd = Server((self.host.strip("[]"), self.port), handler)
        except OSError as exc:
            raise ServeError(f"cannot serve on {self.host}:{self.port}: {exc.strerror or exc}"
                             + (" (try another --port)" if self.port else ""))
        self.port = self.httpd.server_address[1]
        self.hosts = host_names(self.host, self.httpd.server_address[0])
        for target in (self._watch_top, self._watch_dirs, self._builder):
            thread = threading.Thread(target=target, daemon=True, name=f"physai-{target.__name__}")
            thread.start()
            self.threads.append(thread)
        if initial_build:
            self.build_once("start")
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                  daemon=True, name="physai-http")
        thread.start()
        self.threads.append(thread)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def wait_for_build(self, after: str, timeout: float = 30.0) -> BuildState:
        """Block until the build id differs from ``after`` (for tests and tools)."""
        with self.changed:
            self.changed.wait_for(lambda: self.state.id != after, timeout)
            return self.state

    def _executor(self):
        """One local executor for the whole session: its fork server stays warm (numpy,
        matplotlib, torch imported once), so an edited figure redraws in a fraction of a
        second.  None (the build makes its own) when the blog runs elsewhere (dask)."""
        from physai_blog.content.config import default_jobs, load_config
        from physai_blog.errors import PhysaiError

        try:
            if load_config(self.root).executor != "local":
                return None
        except PhysaiError:
            return None   # the build reports the config error
        if self._local is None:
            from physai_blog.runs.executor import LocalExecutor

            self._local = LocalExecutor(self.root, self.root / ".physai-cache" / "tmp",
                                        self.jobs or default_jobs(), default_jobs(),
                                        persistent=True)
        return self._local

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self._local is not None:
            self._local.close()
            self._local = None

    def serve_forever(self) -> None:
        """Start, block until Ctrl+C, stop."""
        self.start()
        try:
            while not self.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


class _AnyEvent:
    """An event that is set when any of several events is (for watchfiles' stop_event)."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not self.is_set() and time.monotonic() < end:
            time.sleep(0.05)
        return self.is_set()


def _handler(server: DevServer):
    site = server.root / "site"

    class Handler(http.server.SimpleHTTPRequestHandler):
        server_version = "physai-blog"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

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
            hosts = self.headers.get_all("Host") or []
            if len(hosts) > 1:
                raise Refused(400, "more than one Host header")
            if not hosts:
                if self.request_version != "HTTP/1.0":   # HTTP/1.1 requires Host
                    raise Refused(400, "no Host header")
                return   # HTTP/1.0 need not send one (browsers always do)
            if not host_allowed(hosts[0], server.hosts, server.port):
                answered = " or ".join(f"{name}:{server.port}" for name in sorted(server.hosts))
                raise Refused(421, f"Host {hosts[0]} is not this server (it answers {answered})")

        def send_error(self, code, message=None, explain=None, allow=None):
            """Every error is a short plain-text answer; all but "not found" (a page not built
            yet, a favicon) also leave one line in the terminal."""
            if code != 404:
                self.note(code, message)
            self.answer(code, message, allow)

        def note(self, code: int, why: str | None):
            phrase = self.responses.get(code, ("Error",))[0]
            request = printable(getattr(self, "requestline", ""))
            line = f"[{time.strftime('%H:%M:%S')}] {code} {phrase}: \"{request}\""
            server.echo(line + (f": {printable(why, 300)}" if why else ""), True)

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

        def do_GET(self):
            path = self.decoded
            if path.startswith(ENDPOINT):
                return self.api(path[len(ENDPOINT):])
            try:
                return self.page(path)
            except (BrokenPipeError, ConnectionResetError):
                return None

        def do_HEAD(self):
            if self.decoded.startswith(ENDPOINT):
                return self.send_error(405, "the live-reload endpoints answer only GET",
                                       allow="GET")
            return super().do_HEAD()

        def page(self, path: str):
            # os.path, not Path: a name too long for the file system is "not there", no error
            target = Path(self.translate_path(self.path))
            if os.path.isdir(target) and path.endswith("/"):
                target = target / "index.html"
            if target.suffix.lower() in (".html", ".htm") and os.path.isfile(target):
                return self.send_html(target.read_bytes())
            if not os.path.exists(target) and (path.endswith("/") or path.endswith(".html")):
                state = server.state
                if state.error:  # nothing built yet, or a page the failing build lacks
                    body = ERROR_PAGE % ("Build failed", "The site has no page here yet.")
                    return self.send_html(body.encode(), 404)
            return super().do_GET()

        def send_html(self, body: bytes, status: int = 200):
            body = inject(body, server.state)
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def api(self, name: str):
            if name == "status":
                state = server.state
                body = json.dumps({"build": state.id, "error": state.error,
                                   "seconds": state.seconds}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif name == "events":
                self.events()
            else:
                self.send_error(404)

        def events(self):
            """Server-Sent Events: the build state now, then at every new build."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            last = None
            try:
                while not server.stopping.is_set():
                    with server.changed:
                        server.changed.wait_for(
                            lambda: server.state.id != last or server.stopping.is_set(), 15)
                        state = server.state
                    if server.stopping.is_set():
                        break
                    if state.id != last:
                        message = json.dumps({"build": state.id, "error": state.error})
                        self.wfile.write(f"retry: 1000\ndata: {message}\n\n".encode())
                        last = state.id
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            self.close_connection = True

    return Handler
