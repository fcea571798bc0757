"""Tokens: what the body scan (``markup.render_markdown``) puts in place of each directive,
tag, citation and formula, so that Markdown leaves their HTML alone; swapped back after it."""

from __future__ import annotations

import re

TOKEN = "physaitoken{}x"
# A literal first: the engine finds it by a fast scan (30x faster than a pattern starting
# at "<p>", which every paragraph of the page starts).
FOUND = re.compile(r"physaitoken\d+x")


def swap_back(html: str, swaps: dict[str, tuple[str, bool]]) -> str:
    """Each token's HTML (``swaps``: token -> (HTML, is a block)) in place of the token; a
    block token owns its paragraph (the ``<p>`` and ``</p>`` right around it), an inline
    token alone in one keeps it."""
    if not swaps:
        return html
    out, pos = [], 0
    for match in FOUND.finditer(html):
        if match.group(0) not in swaps:
            continue
        start, end = match.span()
        snippet, block = swaps[match.group(0)]
        if start >= 3 and html.startswith("<p>", start - 3) and html.startswith("</p>", end):
            start, end = start - 3, end + 4
            snippet = snippet if block else f"<p>{snippet}</p>"
        out += (html[pos:start], snippet)
        pos = end
    out.append(html[pos:])
    return "".join(out)
