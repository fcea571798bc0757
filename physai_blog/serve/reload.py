"""Live reload: what is injected into every served HTML *response* (never the files on disk)
and the Server-Sent Events stream that tells the open page a new build is there.

The page remembers the build id it was served with and reloads when ``/__physai__/events``
reports another one; while the last build failed it also shows an overlay with the error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from typing import Iterator

ENDPOINT = "/__physai__/"
KEEP_ALIVE_S = 15          # a comment this often notices a closed tab (the write fails)


@dataclass
class BuildState:
    """The last build: its id (new at every build, failed or not), its error, its time."""

    id: str
    error: str | None = None
    seconds: float = 0.0
    building: bool = False   # the first build has not finished yet


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
  var banner = null;   /* runs training now: step, ETA (never in the published site) */
  function poll() {
    fetch("%sruns").then(function (r) { return r.json(); }).then(function (runs) {
      if (!runs.length) { if (banner) banner.style.display = "none"; return; }
      if (!banner) {
        banner = document.createElement("div");
        banner.id = "physai-running";
        banner.setAttribute("role", "status");
        banner.style.cssText = "position:fixed;top:0;right:0;z-index:2147483646;padding:.4rem .8rem;" +
          "background:#0d2b1a;color:#e9ffef;font:12px/1.5 ui-monospace,Menlo,monospace;" +
          "border-bottom-left-radius:6px;white-space:pre";
        document.body.appendChild(banner);
      }
      banner.style.display = "block";
      runs.forEach(mark);
      banner.textContent = runs.map(function (run) {
        var at = run.step === null ? run.rows + " rows" : "step " + run.step +
          (run.total ? "/" + run.total : "");
        return "running " + run.run + ": " + at + progress(run);
      }).join("\\n");
    }).catch(function () {}).then(function () { setTimeout(poll, 2000); });
  }
  function progress(run) {   /* a run that has gone quiet says so instead of a stale ETA */
    if (run.stalled) return ", nothing logged for " + Math.round(run.quiet_s) + " s (stalled?)";
    return run.eta_s === null ? "" : ", ETA " + Math.round(run.eta_s) + " s";
  }
  function label(run) {
    return "running: step " + (run.step === null ? "?" : run.step) +
      (run.total ? "/" + run.total : "") + progress(run);
  }
  function tag(after, text) {   /* one "running" label after an element, kept up to date */
    var el = after.nextElementSibling;
    if (!el || el.className !== "physai-running-label") {
      el = document.createElement("span");
      el.className = "physai-running-label";
      el.style.cssText = "margin-left:.3em;padding:0 .3em;border-radius:3px;" +
        "background:#0d2b1a;color:#e9ffef;font:11px/1.6 ui-monospace,Menlo,monospace";
      after.parentNode.insertBefore(el, after.nextSibling);
    }
    el.textContent = text;
  }
  var shown = {};
  function mark(run) {   /* this post's figures and values come from a run still training */
    var box = document.getElementById("physai-previews");
    if (box && run.preview !== null) run.figures.forEach(function (file) {
      var id = "physai-preview-" + run.slug + "-" + file;
      if (document.getElementById(id)) return;
      var fig = document.createElement("figure"), img = document.createElement("img");
      fig.id = id;
      img.src = "/posts/" + run.slug + "/figures/" + file;
      img.alt = run.run + ": " + file + " so far";
      img.style.maxWidth = "100%%";
      fig.appendChild(img);
      box.appendChild(fig);
    });
    if (run.page !== null && here(run)) page(run);
    if (!box && window.location.pathname.indexOf("/posts/" + run.slug + "/") !== 0) return;
    document.querySelectorAll("figure img").forEach(function (img) {
      tag(img, label(run));
      if (run.preview !== null && shown[img.src.split("?")[0]] !== run.preview) {
        shown[img.src.split("?")[0]] = run.preview;
        img.src = img.src.split("?")[0] + "?preview=" + run.preview;
      }
    });
    if (!document.getElementById("physai-provisional"))   /* else marked by serve */
      document.querySelectorAll("a.value").forEach(function (a) { tag(a, label(run)); });
  }
  function here(run) {
    var path = window.location.pathname;
    return run.path !== null && (path === run.path || path === run.path + "index.html");
  }
  var fetching = false;
  function page(run) {   /* a post still training: its page with the numbers so far */
    var own = document.getElementById("physai-provisional");
    if (!own) {   /* the build's page (or Building...): serve has the provisional one now */
      var key = "physai-page " + run.path + " " + run.page;
      try {
        if (sessionStorage.getItem(key)) return;
        sessionStorage.setItem(key, "1");
      } catch (e) { return; }
      window.location.reload();
      return;
    }
    if (fetching || own.getAttribute("data-version") === run.page) return;
    fetching = true;
    fetch(window.location.pathname, {cache: "no-store"}).then(function (r) {
      return r.text();
    }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var next = doc.getElementById("physai-provisional");
      if (!next) return;   /* the build's page: the event stream reloads into it */
      if (next.getAttribute("data-layout") !== own.getAttribute("data-layout")) {
        window.location.reload();   /* the post's text changed: its numbers moved */
        return;
      }
      doc.querySelectorAll('[id^="physai-live-"], #physai-provisional, #claims, ' +
                           '#seed-sensitivity').forEach(function (el) {
        var old = document.getElementById(el.id);
        if (old) old.replaceWith(document.importNode(el, true));
      });
    }).catch(function () {}).then(function () { fetching = false; });
  }
  poll();
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


PREVIEWS = '</p><div id="physai-previews"></div><p>'   # a first build's figures, drawn so far

BUILDING = """<div id="physai-building" role="status" style="position:fixed;inset:auto 0 0 0;
z-index:2147483647;padding:.6rem 1.25rem;background:#0d1f2b;color:#e9f6ff;
font:13px/1.5 ui-monospace,Menlo,Consolas,monospace">Building&hellip; the page reloads when the
first build is done (runs training now are listed at the top right).</div>"""


def live_page(html: bytes, path: str, runs: list[dict]) -> bytes:
    """A post page while one of its runs trains: its figures are static images (the previews
    ``preview.py`` redraws), not the interactive charts of the last finished build."""
    if any(path.startswith(f"/posts/{run['slug']}/") for run in runs):
        html = re.sub(rb' data-chart="[^"]*"', b"", html)
    return html


def inject(html: bytes, state: BuildState) -> bytes:
    """The page with the reload script (and the error overlay, if the last build failed)."""
    extra = BUILDING if state.building else ""
    if state.error:
        extra += OVERLAY % escape(state.error)
    extra += RELOAD_SCRIPT % (json.dumps(state.id), ENDPOINT, ENDPOINT)
    data = extra.encode()
    lower = html.lower()
    at = lower.rfind(b"</body>")
    if at == -1:
        at = lower.rfind(b"</html>")
    if at == -1:
        return html + data
    return html[:at] + data + html[at:]


def status(state: BuildState) -> bytes:
    """``/__physai__/status``: the build state as JSON (for tools and tests)."""
    return json.dumps({"build": state.id, "error": state.error, "building": state.building,
                       "seconds": state.seconds}).encode()


def events(dev) -> Iterator[bytes]:
    """Server-Sent Events: the build state now, then at every new build, until the server stops.

    ``dev`` is the DevServer, duck-typed (``state``, ``changed``, ``stopping``) so that this
    module need not import the server that imports it.
    """
    last = None
    while not dev.stopping.is_set():
        with dev.changed:
            dev.changed.wait_for(lambda: dev.state.id != last or dev.stopping.is_set(),
                                 KEEP_ALIVE_S)
            state = dev.state
        if dev.stopping.is_set():
            return
        if state.id != last:
            message = json.dumps({"build": state.id, "error": state.error})
            last = state.id
            yield f"retry: 1000\ndata: {message}\n\n".encode()
        else:
            yield b": keep-alive\n\n"
