"""``[@key]`` citations against the blog's BibTeX file, formatted by pybtex.

Numbered by first appearance in each post; the post ends with its references list.  The
bibliography is parsed once per build, and only when some post cites something.  A link in an
entry is a link only where ``links.safe_href`` allows it; any other is shown as text, with one
warning per entry when the file is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from html import escape
from pathlib import Path
from typing import Callable

from physai_blog.errors import InputError
from physai_blog.links import link_html, safe_href, unsafe_link_warning


@dataclass
class Bibliography:
    path: Path | None
    rel: str | None
    #: Receives one line per entry whose url is not a safe link (the build's report.warnings).
    warn: Callable[[str], None] | None = None
    _entries: dict | None = field(default=None, repr=False)
    _formatted: dict = field(default_factory=dict, repr=False)

    def entries(self, post_rel: str, line: int) -> dict:
        if self.path is None:
            raise InputError(post_rel, line, "citations need a BibTeX file: set "
                                             "`bibliography: references.bib` in physai.yaml")
        if self._entries is None:
            from pybtex.database import parse_file
            from pybtex.scanner import PybtexError

            if not self.path.is_file():
                raise InputError("physai.yaml", None, f"bibliography {self.rel!r} not found")
            try:
                self._entries = dict(parse_file(str(self.path), bib_format="bibtex").entries)
            except (PybtexError, UnicodeDecodeError) as exc:
                raise InputError(self.rel, getattr(exc, "lineno", None),
                                 f"cannot read the bibliography: {exc}")
            self._check_links()
        return self._entries

    def preload(self) -> None:
        """Read the file now, in this process: its warnings then reach ``warn`` even when the
        pages that cite it come from the cache or from forked render workers (which inherit
        the parsed file).  A file that cannot be read is left to the posts that cite it."""
        if self.path is not None and self._entries is None:
            try:
                self.entries(self.rel, None)
            except InputError:
                pass

    def _check_links(self) -> None:
        """Warn once per read of the file, cited or not.  Only ``url`` is an href as written:
        the style puts doi, eprint and pubmed behind an https:// resolver."""
        for key, entry in self._entries.items():
            url = entry.fields.get("url")
            if url is not None and safe_href(url) is None and self.warn:
                self.warn(unsafe_link_warning(self.rel, f"entry {key}: url", url))

    def check(self, key: str, post_rel: str, line: int) -> None:
        entries = self.entries(post_rel, line)
        if key not in entries:
            hint = get_close_matches(key, list(entries), 1)
            raise InputError(post_rel, line, f"unknown citation key {key!r}"
                             + (f"; did you mean {hint[0]!r}?" if hint else "")
                             + f" (not in {self.rel})")

    def formatted(self, keys: list[str]) -> list[tuple[str, str]]:
        """(key, HTML) of each cited entry, in citation order."""
        from pybtex.backends.html import Backend
        from pybtex.plugin import find_plugin

        class SafeLinks(Backend):
            # pybtex writes the url into href="" as it is: no scheme check, no escaping
            @staticmethod
            def format_href(url, text, external=False):
                if not text:
                    return ""
                return link_html(url, text, ' target="_blank"' if external else "")

        todo = [k for k in keys if k not in self._formatted]
        if todo:
            style = find_plugin("pybtex.style.formatting", "plain")(
                label_style="number", sorting_style="none")
            for entry in style.format_entries([self._entries[k] for k in todo]):
                self._formatted[entry.key] = entry.text.render(SafeLinks())
        return [(k, self._formatted[k]) for k in keys]


@dataclass
class Citations:
    """The citations of one post, numbered by first appearance."""

    bib: Bibliography
    post_rel: str
    order: list[str] = field(default_factory=list)

    def cite(self, keys: list[str], line: int) -> str:
        parts = []
        for key in keys:
            self.bib.check(key, self.post_rel, line)
            if key not in self.order:
                self.order.append(key)
            number = self.order.index(key) + 1
            # a BibTeX key may hold quotes and angle brackets
            parts.append(f'<a href="#ref-{escape(key)}">{number}</a>')
        return f'<span class="cite">[{", ".join(parts)}]</span>'

    def references(self) -> list[dict]:
        if not self.order:
            return []
        return [{"key": key, "number": i + 1, "html": html}
                for i, (key, html) in enumerate(self.bib.formatted(self.order))]


def parse_keys(text: str, post_rel: str, line: int) -> list[str]:
    """``@a; @b`` -> ["a", "b"]."""
    keys = []
    for part in text.split(";"):
        part = part.strip()
        if not part.startswith("@") or len(part) < 2 or " " in part:
            raise InputError(post_rel, line, f"bad citation [{text}]: write [@key] or "
                                             "[@key1; @key2]")
        keys.append(part[1:])
    return keys
