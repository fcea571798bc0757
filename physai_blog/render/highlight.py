"""Pygments formatters for code blocks, made once per converter.

codehilite makes a new ``HtmlFormatter`` for every code block, and each one builds the style's
whole stylesheet in its constructor (~0.45 ms: a few percent of rendering a post with one code
block).  A formatter holds only its options, so blocks with the same options share one.
"""

from __future__ import annotations


class Formatters:
    """codehilite's ``pygments_formatter``: called as ``(lang_str=..., **options)`` for each
    block; returns the HTML formatter for those options, as codehilite's default ("html")
    would make it (which ignores ``lang_str``)."""

    def __init__(self):
        self.made: dict[str, object] = {}

    def __call__(self, lang_str: str = "", **options):
        key = repr(sorted(options.items()))
        if key not in self.made:
            from pygments.formatters.html import HtmlFormatter  # edge: only for a code block

            self.made[key] = HtmlFormatter(**options)
        return self.made[key]
