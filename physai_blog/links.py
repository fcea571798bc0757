"""The one rule for links whose URL comes from data (a bibliography, front matter, notebooks).

A URL becomes an ``href`` only with a scheme that cannot run anything (``http``, ``https``,
``mailto``; ``doi:10.x/y`` becomes ``https://doi.org/10.x/y``) or as a relative path to the
blog's own files.  Anything else is shown as text by the caller, with ``unsafe_link_warning``:
``javascript:``, ``data:``, ``vbscript:``, ``file:``, ... and what a browser still reads as
them (any case, behind whitespace or control characters, with tabs or newlines inside the
scheme, behind HTML entities or percent escapes).  Allowing a short list, never blocking a
known-bad one, is what keeps the variants nobody thought of out.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

SCHEMES = ("http", "https", "mailto")
DOI_RESOLVER = "https://doi.org/"
ALLOWED = "http, https, mailto, doi:, or a relative path"

# C0 and C1 controls and DEL: no link of ours has them; a browser drops or ignores some
# (``java\tscript:`` is ``javascript:`` to it), so a URL with any is not a link at all
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What a browser drops before reading the scheme: tabs and newlines anywhere, C0 controls and
# spaces at both ends
IGNORED_INSIDE = re.compile(r"[\t\n\r]")
EDGES = "".join(map(chr, range(0x21)))
# A scheme is whatever precedes the first ':' that comes before any '/', '?' or '#'
SCHEME = re.compile(r"([^/?#]*):")


def _scheme(form: str) -> str | None:
    """The scheme a browser would read in ``form``, lowercased; None for a relative path."""
    match = SCHEME.match(IGNORED_INSIDE.sub("", form).strip(EDGES))
    return match.group(1).lower() if match else None


def _allowed(form: str) -> bool:
    scheme = _scheme(form)
    if scheme is None:
        # "//host/x" (and "\\host", "/\host": a browser reads "\" as "/") leaves the site
        return not form.replace("\\", "/").strip(EDGES).startswith("//")
    return scheme in SCHEMES or scheme == "doi"


def safe_href(url) -> str | None:
    """The ``href`` for ``url``, or None where it must be shown as text.  The result is not
    escaped: the caller escapes it, as any attribute value."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or CONTROL.search(text):
        return None
    # The raw text and what an HTML parser or a URL decoder could make of it must all be safe
    # (an href is entity-decoded before it is read as a URL)
    forms = {text, html.unescape(text), unquote(text), unquote(html.unescape(text))}
    if not all(_allowed(form) for form in forms):
        return None
    if _scheme(text) == "doi":
        doi = text[len("doi:"):].strip().lstrip("/")
        return DOI_RESOLVER + doi if doi else None
    return text


def unsafe_link_warning(where: str, what: str, url: str) -> str:
    """The warning for a URL ``safe_href`` refused, e.g. ``references.bib: entry smith2020:
    url 'javascript:alert(3)' is not a safe link (...); shown as text``."""
    return f"{where}: {what} {url!r} is not a safe link (allowed: {ALLOWED}); shown as text"


def link_html(url, text_html: str, attrs: str = "") -> str:
    """``<a href>`` around ``text_html`` (already HTML) where ``url`` is safe, else the text."""
    href = safe_href(url)
    if href is None:
        return text_html
    return f'<a href="{html.escape(href, quote=True)}"{attrs}>{text_html}</a>'
