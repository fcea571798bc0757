"""al-folio's Liquid inside a post: what Jekyll makes of it before kramdown, done here.

Tags become directives (checked by ``directives.RULES``, rendered by ``media.AlFolio``):

    {% include figure.liquid path="..." caption="..." %}   video.liquid, audio.liquid
    {% cite key1 key2 %}   {% reference key %}   {% link path %}   {% post_url name %}

and ``{{ site.baseurl }}``, ``{{ page.title }}``, ``{{ '/x.pdf' | relative_url }}`` (Liquid
output, not a directive call) the ``liquid`` directive.  The block tags are rewritten before the
scan, line for line (so every error keeps its line): ``{% highlight lang %}`` ...
``{% endhighlight %}`` becomes a code fence, and the text between ``{% raw %}`` and
``{% endraw %}`` is hidden from the scan (``protect``; ``unprotect`` gives it back in the HTML).
With the ``kramdown`` dialect this happens inside code fences too, as Jekyll does; otherwise only
in prose.  al-folio's chart fences (``plotly``, ``mermaid``, ...) stay code, with a note.
"""

from __future__ import annotations

import re
import shlex
from html import escape

from physai_blog.errors import InputError

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INCLUDES = {"figure.liquid": "include_figure", "figure.html": "include_figure",
            "video.liquid": "include_video", "video.html": "include_video",
            "audio.liquid": "include_audio", "audio.html": "include_audio"}
UNDERSTOOD = ("include figure.liquid / video.liquid / audio.liquid, cite, reference, link, "
              "post_url, raw, highlight")
VARIABLES = ("site.baseurl", "site.url", "site.title", "site.description", "page.title",
             "page.description", "page.date")
FILTERS = ("relative_url", "absolute_url")
OUTPUT = re.compile(r"^\s*(?:(?:site|page|include|layout|content|paginator)\b|['\"][^'\"]*['\"]\s*\|)")
FILTERED = re.compile(r"""^\s*(['"])(?P<path>[^'"]*)\1\s*\|\s*(?P<filter>\w+)\s*$""")
HIGHLIGHT = re.compile(r"^(\s*)\{%-?\s*highlight\s+([\w+#.-]+)(?:\s+[\w=\"]+)*\s*-?%\}\s*$")
END_HIGHLIGHT = re.compile(r"^(\s*)\{%-?\s*endhighlight\s*-?%\}\s*$")
RAW = re.compile(r"\{%-?\s*(raw|endraw)\s*-?%\}")
SITE_URL = re.compile(r"\{\{\s*site\.url\s*\}\}(?=\{\{\s*site\.baseurl\s*\}\})")
PROTECT = str.maketrans({"{": "\ue000", "}": "\ue001", "$": "\ue002", "@": "\ue003",
                         "\\": "\ue004"})
UNPROTECT = str.maketrans({v: k for k, v in PROTECT.items()})
CHARTS = ("plotly", "vega_lite", "echarts", "chartjs", "mermaid", "geojson", "typograms",
          "pseudocode", "diff2html", "tikzjax")


def is_output(text: str) -> bool:
    """``{{ text }}`` is Liquid output (a variable, a filtered literal), not a directive call."""
    return bool(OUTPUT.match(text))


def parse_output(text: str, rel: str, line: int) -> tuple[str, list, dict]:
    """``{{ site.baseurl }}`` and its kin, as the ``liquid`` directive."""
    expr = text.strip()
    if expr in VARIABLES:
        return "liquid", [expr], {}
    match = FILTERED.match(expr)
    if match and match.group("filter") in FILTERS:
        return "liquid", [match.group("filter"), match.group("path")], {}
    raise InputError(rel, line, f"unsupported Liquid output {{{{ {expr} }}}}; physai-blog "
                                f"understands {', '.join(VARIABLES)} and 'path' | relative_url "
                                "(or absolute_url)")


def parse_liquid(text: str, rel: str, line: int) -> tuple[str, list, dict]:
    """A Liquid tag of al-folio, as a directive: (name, args, kwargs)."""
    shown = f"{{% {text.strip()} %}}"
    try:
        words = shlex.split(text.strip().strip("-").strip())
    except ValueError as exc:
        raise InputError(rel, line, f"cannot parse {shown}: {exc}")
    tag, rest = (words[0], words[1:]) if words else ("", [])

    def fail(message: str):
        raise InputError(rel, line, message)

    if tag == "include":
        if not rest or rest[0] not in INCLUDES:
            fail(f"unsupported include in {shown}; physai-blog renders "
                 "figure.liquid, video.liquid and audio.liquid")
        return INCLUDES[rest[0]], [], _parameters(rest[0], rest[1:], fail)
    if tag == "cite":
        if not rest or any(word.startswith("-") for word in rest):
            fail(f"{shown}: write {{% cite key %}} or {{% cite key1 key2 %}} (jekyll-scholar's "
                 "options, such as --file, are not supported)")
        return "cite", ["; ".join(f"@{key}" for key in rest)], {}
    if tag in ("reference", "link", "post_url"):
        if len(rest) != 1:
            fail(f"{shown}: {tag} takes one {'key' if tag == 'reference' else 'path'}")
        return tag, rest, {}
    if tag in ("raw", "endraw"):
        fail(f"{shown} without its {'{% endraw %}' if tag == 'raw' else '{% raw %}'}")
    if tag in ("highlight", "endhighlight"):
        fail(f"{shown} must stand on a line of its own (with its code on the lines between "
             "{% highlight lang %} and {% endhighlight %})")
    fail(f"unsupported Liquid tag {shown}; physai-blog understands {UNDERSTOOD}")


def _parameters(include: str, words: list[str], fail) -> dict:
    kwargs = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            fail(f"{include} argument {word!r} must be key=value")
        kwargs[key] = value
    return kwargs


def prepare(body: str, everywhere: bool, rel: str, body_line: int) -> tuple[str, bool]:
    """(the body with its block tags rewritten, whether any raw text was protected).
    ``everywhere``: inside code fences too (Jekyll's order: Liquid first, then kramdown)."""
    if "{%" not in body and "site.url" not in body:
        return body, False
    out, fence, raw, protected, opened = [], None, False, False, 0
    for number, line in enumerate(body.splitlines(keepends=True)):
        match = FENCE.match(line)
        in_code = fence is not None
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.strip() and set(line.strip()) == {fence[0]} and \
                len(line.strip()) >= len(fence):
            fence = None
        if in_code and not everywhere and not raw:
            out.append(line)
            continue
        was = raw
        line, raw, hid = _raw(line, raw)
        protected, opened = protected or hid, number if raw and not was else opened
        if not raw:
            text = line.rstrip("\r\n")
            text = HIGHLIGHT.sub(r"\1```\2", END_HIGHLIGHT.sub(r"\1```", SITE_URL.sub("", text)))
            line = text + line[len(line.rstrip("\r\n")):]
        out.append(line)
    if raw:
        raise InputError(rel, body_line + opened, "{% raw %} without its {% endraw %}")
    return "".join(out), protected


def _raw(line: str, raw: bool) -> tuple[str, bool, bool]:
    """One line with its raw markers dropped and the text between them protected."""
    if not raw and "raw" not in line:
        return line, raw, False
    parts, pos, hid = [], 0, raw
    for match in RAW.finditer(line):
        if (match.group(1) == "raw") == raw:    # a marker that does not toggle: kept as text
            continue
        text = line[pos:match.start()]
        parts.append(text.translate(PROTECT) if raw else text)
        raw, pos, hid = not raw, match.end(), True
    tail = line[pos:]
    parts.append(tail.translate(PROTECT) if raw else tail)
    return "".join(parts), raw, hid


def unprotect(html: str) -> str:
    return html.translate(UNPROTECT)


def chart_note(chunk: str) -> str | None:
    """The note under an al-folio chart fence (shown as its source), or None."""
    info = FENCE.sub("", chunk.split("\n", 1)[0]).strip().split(" ")[0].lower()
    if info not in CHARTS:
        return None
    return (f'<p class="chart-note">An al-folio <code>{escape(info)}</code> block, shown as '
            "its source: physai-blog does not draw it (its figures come from "
            "<code>{{ figure(...) }}</code>).</p>")
