"""``[@key]`` citations against the blog's BibTeX file, formatted by pybtex.

Numbered by first appearance in each post; the post ends with its references list.  The
bibliography is parsed once per build, and only when some post cites something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from .errors import InputError


@dataclass
class Bibliography:
    path: Path | None
    rel: str | None
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
        return self._entries

    def check(self, key: str, post_rel: str, line: int) -> None:
        entries = self.entries(post_rel, line)
        if key not in entries:
            hint = get_close_matches(key, list(entries), 1)
            raise InputError(post_rel, line, f"unknown citation key {key!r}"
                             + (f"; did you mean {hint[0]!r}?" if hint else "")
                             + f" (not in {self.rel})")

    def formatted(self, keys: list[str]) -> list[tuple[str, str]]:
        """(key, HTML) of each cited entry, in citation order."""
        from pybtex.plugin import find_plugin

        todo = [k for k in keys if k not in self._formatted]
        if todo:
            style = find_plugin("pybtex.style.formatting", "plain")(
                label_style="number", sorting_style="none")
            for entry in style.format_entries([self._entries[k] for k in todo]):
                self._formatted[entry.key] = entry.text.render_as("html")
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
            parts.append(f'<a href="#ref-{key}">{number}</a>')
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
