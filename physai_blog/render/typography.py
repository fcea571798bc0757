"""Typographic punctuation as one fast pass over rendered HTML.

``smarten(html)`` does what python-markdown's ``smarty`` extension does (straight quotes to
curly ones, ``--``/``---`` to en/em dashes, ``...`` to an ellipsis, with the same entity names
and the same quote rules) but once, over the HTML that python-markdown produced without it:
smarty adds about ten inline patterns that run on every text node, ~40% of a conversion, while
this pass costs about 0.1 ms per 10 KB page.

Only text changes.  Tags (attribute values included), comments and entities are copied as they
are, and so is everything inside ``pre code kbd samp tt var script style textarea math svg``
(MathML's ``<annotation>`` TeX source included; nested elements of the same name are counted).
One regex finds what can change (a quote, a run of dashes or dots, a backslash-escaped quote)
and what must be stepped over (a comment, a protected element, a tag with such a character
inside); the text between is never seen by Python code.  The character before a quote is found
by looking back from it: through inline tags (``<em>``, ``<a href>``, ``</code>``...) to the
real previous character, so ``"<em>word</em>"`` closes its second quote; a block tag (``<p>``,
``</li>``, ``<td>``, ``<br>``...) or the document start is the start of the text, as the start
of a text node is for smarty (never closing context); ``</math>`` counts as a word.

The quote rules are smarty's, in its order (``p``: the character before the quote):

1. at the start of the text, a quote followed by punctuation then no word character closes
   (``"...`` gives ``&rdquo;&hellip;``, as with smarty);
2. ``"'`` / ``'"`` before a word character open both; after closing context (any ``p`` but
   whitespace, ``( [ { -``, an entity, the start) they close both;
3. ``'`` before two digits and an ``s``, after no word character, is an apostrophe (``'90s``);
4. a quote after whitespace or a dash, before a word character, opens;
5. ``'`` after closing context closes unless whitespace, ``s`` + word break or a digit follows
   (``don't``, ``dogs'.``); ``'`` before whitespace or ``s`` + word break closes (``it's``);
6. ``"`` before whitespace closes, ``"`` after closing context closes;
7. any other quote opens.

Smarty replaces quotes rule by rule, each rule over the whole text node, so a neighbouring quote
is plain punctuation to the rules before the one that replaced it and an opaque placeholder to
the later ones; the pass follows that (the rule number of the last quote is kept).

A backslash-escaped quote (``\\"``, ``\\'``, which python-markdown leaves as it is when smarty,
which registers those escapes, is off) becomes a plain quote, written ``&quot;`` / ``&#39;``
so that ``smarten(smarten(html)) == smarten(html)``.
"""

from __future__ import annotations

import re

__all__ = ["smarten"]

_ATTRS = r"""(?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+"""  # a tag's inside; `>` may sit in quotes

_PROTECTED = ("pre", "code", "kbd", "samp", "script", "style", "math", "tt", "var", "svg",
              "textarea")
_RAW_TEXT = frozenset(("script", "style", "textarea"))  # end at their close tag, no nesting

# Everything the pass stops at.  Every alternative starts with a literal character, so that the
# regex engine skips the text between them on its own (a charset prefix), and the first
# character says which alternative matched.  Text that matches none (most of it) is never seen
# by Python code.
_MAIN = re.compile(
    r"<(?:!--(?:.*?-->|.*)"  # a comment (to its end, or the end of the document)
    r"|(?P<name>(?i:" + "|".join(_PROTECTED) + r"))(?=[\s/>])" + _ATTRS + r">"  # protected
    # any other tag with a quote, dash or dot inside, to step over it whole
    r"|[A-Za-z/!?][^<>\"'.-]*+(?=[-.'\"])" + _ATTRS + r">)"
    r"|'|\""
    r"|--+"
    r"|\.(?:\.+|(?: \.){2,})"  # two dots or more; spaced ones from three (`. ...` is a hellip)
    r"|\\['\"]",
    re.S,
)
# Per protected element, its own tags (and comments, which hide tags), to find where it ends.
# Built on first use (re's own cache keeps them): most pages protect one or two kinds, and
# compiling all at import was ~12 ms of a one-post rebuild.
def _end(name: str) -> re.Pattern:
    return re.compile(r"<!--(?:.*?-->|.*)|<(/?)(?i:" + name + r")(?=[\s/>])" + _ATTRS + r">",
                      re.S)


def _raw_end(name: str) -> re.Pattern:
    return re.compile(r"</(?i:" + name + r")(?=[\s/>])" + _ATTRS + r">")


# Inline elements: looking back from a quote goes through their tags to the text before.
_INLINE = frozenset(
    "a abbr b bdi bdo cite code data del dfn em font i ins kbd mark q s samp small span strike "
    "strong sub sup time tt u var".split())
# Elements that stand for a word (a quote after `$x$` closes): where a look back stops.
_WORDLIKE = frozenset(("math", "svg"))
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9:-]*)")
_ENTITY = re.compile(r"&(#?[A-Za-z0-9]{1,30});")
# What an entity before a quote counts as (smarty sees an entity as an opaque placeholder, so
# "other" by default; a no-break space as whitespace, dashes as dashes, &amp; &lt; &gt; as the
# characters they stand for, since python-markdown writes a plain `&` in text that way).
_OTHER = "\x03"  # neither space, nor word, nor closing context: smarty's placeholder end
_ENTITY_CHAR = {"amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "#160": "\xa0",
                "ndash": "\u2013", "mdash": "\u2014", "#8211": "\u2013", "#8212": "\u2014"}

# Characters before a quote that are not "closing context" (smarty's closeClass complement).
_NOT_CLOSE = frozenset(" \t\r\n[{(-\x02\x03")
_LOOK_BACK = frozenset(("", ">", ";", "'", '"'))  # before a quote: _before() must look further
_DASH_CHARS = frozenset("\u2013\u2014")
# Rule 1: punctuation (smarty's punctClass; `<` is a tag here, and `--`/`---` are dashes that
# smarty has replaced before, but not a longer run) then no word break.
_START_PUNCT = re.compile(r"""(?:[!"#$%'()*+,./:;=>?@\[\\\]^_`{|}~]|-(?!-)|-(?=---))\B""")
# Whitespace that smarty's rule 8 (``\s'`` before a word character, not a decade) or rule 12
# (``\s"`` before a word character) swallows into its placeholder, hiding it from later rules.
_TAKEN_BY_8 = re.compile(r"\s'(?!\d\ds)\w")
_TAKEN_BY_8_OR_12 = re.compile(r"\s(?:'(?!\d\ds)|\")\w")
_DECADE = re.compile(r"\d\ds")
_SPACE_OR_S = re.compile(r"\s|s\b")
_SPACE_S_OR_DIGIT = re.compile(r"\s|s\b|\d")

_LSQUO, _RSQUO, _LDQUO, _RDQUO = "&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"
_ESCAPED = {"'": "&#39;", '"': "&quot;"}


def _before(html: str, i: int) -> tuple[str, int]:
    """The character that counts as the one before ``html[i]`` and its index: ('', -1) at the
    start of the text (document start or a block tag), else a real character, or ``_OTHER``
    for an entity or an escaped quote."""
    j = i - 1
    while j >= 0:
        c = html[j]
        if c == ">":
            if html.endswith("--", 0, j):  # a comment: look on before it
                k = html.rfind("<!--", 0, j - 1)
                if k >= 0:
                    j = k - 1
                    continue
            k = html.rfind("<", 0, j)
            m = _TAG_NAME.match(html, k) if k >= 0 else None
            if m is None:
                return c, j
            name = m.group(1).lower()
            if name in _INLINE:
                j = k - 1
                continue
            if name in _WORDLIKE and html[k + 1] == "/":
                return "x", j
            return "", -1
        if c == ";":
            k = html.rfind("&", max(0, j - 31), j)
            if k >= 0:
                m = _ENTITY.fullmatch(html, k, j + 1)
                if m is not None:
                    return _ENTITY_CHAR.get(m.group(1).lower(), _OTHER), j
            return c, j
        if (c == "'" or c == '"') and j > 0 and html[j - 1] == "\\":
            return _OTHER, j
        return c, j
    return "", -1


# Smarty applies its quote rules one after another, each to the whole text, and a quote it has
# replaced is an opaque placeholder to the later rules.  So a quote just before this one counts
# as "closing context" (a plain character) only for the rules that run before the one that
# replaced it.  The rules, by number: 1 ' at the start, 2 " at the start, 3-6 the pairs, 7 the
# decade, 8-11 ', 12-15 ".
def _closes_after(p: str, before_rule: int, rule: int) -> bool:
    """Whether ``p`` is smarty's closing context (closeClass) when rule ``rule`` runs; a quote
    ``p`` is only until the rule ``before_rule`` that replaced it has run."""
    if p == "'" or p == '"':
        return before_rule > rule
    return bool(p) and p not in _NOT_CLOSE


def _single(html: str, i: int, nxt: str, p: str, before_rule: int) -> tuple[str, int]:
    """The entity for the ``'`` at ``i``, before ``nxt`` and after ``p``, and the number of the
    rule that chose it."""
    if not p and _START_PUNCT.match(html, i + 1):
        return _RSQUO, 1
    if not (p.isalnum() or p == "_") and _DECADE.match(html, i + 1):
        return _RSQUO, 7
    if (p.isspace() or p in _DASH_CHARS) and (nxt.isalnum() or nxt == "_"):
        return _LSQUO, 8
    if nxt.isspace() and _TAKEN_BY_8.match(html, i + 1):  # as if followed by a placeholder
        return (_RSQUO, 9) if _closes_after(p, before_rule, 9) else (_LSQUO, 11)
    if _closes_after(p, before_rule, 9) and not _SPACE_S_OR_DIGIT.match(html, i + 1):
        return _RSQUO, 9
    if _SPACE_OR_S.match(html, i + 1):
        return _RSQUO, 10
    return _LSQUO, 11


def _double(html: str, i: int, nxt: str, p: str, before_rule: int) -> tuple[str, int]:
    """The entity for the ``"`` at ``i``, before ``nxt`` and after ``p``, and the number of the
    rule that chose it."""
    if not p and _START_PUNCT.match(html, i + 1):
        return _RDQUO, 2
    if (p.isspace() or p in _DASH_CHARS) and (nxt.isalnum() or nxt == "_"):
        return _LDQUO, 12
    if nxt.isspace() and not _TAKEN_BY_8_OR_12.match(html, i + 1):
        return _RDQUO, 13
    if _closes_after(p, before_rule, 14):
        return _RDQUO, 14
    return _LDQUO, 15


def _pair(html: str, i: int, p: str, before_rule: int) -> tuple[str, int] | None:
    """The two entities for ``"'`` or ``'"`` at ``i`` when one of smarty's pair rules applies."""
    after = html[i + 2:i + 3]
    double_first = html[i] == '"'
    if after.isalnum() or after == "_":
        return (_LDQUO + _LSQUO, 3) if double_first else (_LSQUO + _LDQUO, 4)
    rule = 6 if double_first else 5
    if _closes_after(p, before_rule, rule):
        return (_RDQUO + _RSQUO, 6) if double_first else (_RSQUO + _RDQUO, 5)
    return None


def _protected_end(html: str, start: int, name: str) -> int:
    """Where the protected element ``name``, whose start tag ends at ``start``, ends (after its
    end tag, counting nested elements of the same name; the end of ``html`` if it never does)."""
    if name in _RAW_TEXT:  # no tags inside: the first end tag ends it
        m = _raw_end(name).search(html, start)
        return m.end() if m else len(html)
    depth = 1
    for m in _end(name).finditer(html, start):
        if m.group(1):
            depth -= 1
            if depth == 0:
                return m.end()
        elif m.group(1) is not None and not m.group().endswith("/>"):
            depth += 1
    return len(html)


def smarten(html: str) -> str:
    """``html`` with typographic quotes, dashes and ellipses in its text (see the module)."""
    out = []
    done = 0  # html[:done] is in `out`
    last_quote, last_rule = -1, 99  # the index of the last quote replaced, and its rule
    search = _MAIN.search
    m = search(html)
    while m is not None:
        i = m.start()
        c = html[i]
        if c == "'" or c == '"':
            p = html[i - 1] if i else ""
            if p in _LOOK_BACK:  # a tag, an entity, a quote, or nothing: look further
                p, j = _before(html, i)
            else:
                j = i - 1
            before_rule = last_rule if j == last_quote else 99  # 99: a quote never replaced
            nxt = html[i + 1:i + 2]
            chosen = None
            if nxt == ("'" if c == '"' else '"') and (p or not _START_PUNCT.match(html, i + 1)):
                chosen = _pair(html, i, p, before_rule)
            if chosen is None:
                entity, last_rule = (_single if c == "'" else _double)(html, i, nxt, p,
                                                                        before_rule)
                last_quote = i
                end = i + 1
            else:
                entity, last_rule = chosen
                last_quote = i + 1
                end = i + 2
            out.append(html[done:i])
            out.append(entity)
            done = end
            m = search(html, end)
            continue
        end = m.end()
        if c == "<":
            name = m.group("name")
            if name is not None and not html.endswith("/>", 0, end):
                end = _protected_end(html, end, name.lower())
        elif c == "-":
            if end - i == 2 or end - i == 3:
                out.append(html[done:i])
                out.append("&ndash;" if end - i == 2 else "&mdash;")
                done = end
        elif c == ".":
            if html.count(".", i, end) == 3:  # `...` or `. . .`, not more dots
                out.append(html[done:i])
                out.append("&hellip;")
                done = end
        else:  # a backslash-escaped quote
            out.append(html[done:i])
            out.append(_ESCAPED[html[i + 1]])
            done = end
        m = search(html, end)
    if not out:
        return html
    out.append(html[done:])
    return "".join(out)
