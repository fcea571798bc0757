"""Markdown with directives and math, to HTML.

The body is scanned once, outside fenced code and inline code, for:

    {{ figure("name") }}  {{ value("x") }}  {{ claim("expr", "text") }}  {{ fit("y", "x") }}
    {% include figure.liquid path="..." %}  {% cite key %}  {{ site.baseurl }}   (al-folio: liquid.py)
    $$ display math $$    $inline math$

Each is replaced by an opaque token, python-markdown renders the rest, and the tokens are
swapped for the HTML of their handler.  So the directives never meet Markdown's escaping,
and every error can name the file line it came from.  Math becomes MathML at build time:
no script, no network, typeset by the browser.

With a ``Fragments`` store (``fragments.py``), the HTML of each formula and fenced code block
is taken from the post's last render when its source is unchanged, so an edit elsewhere in
the post needs neither latex2mathml nor a Pygments lexer.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import re
from dataclasses import dataclass
from difflib import get_close_matches
from html import escape
from pathlib import Path
from typing import Callable

import markdown
import pygments
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.extra import extensions as extra
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.toc import TocExtension
from markdown.preprocessors import Preprocessor

from physai_blog import __version__
from physai_blog.content import pyast
from physai_blog.errors import InputError
from physai_blog.render.directives import BLOCKS
from physai_blog.render.directives import CALLS as DIRECTIVES
from physai_blog.render.fragments import Fragments, dist_version
from physai_blog.render.highlight import Formatters
from physai_blog.render.inline import gate
from physai_blog.render.tokens import TOKEN, swap_back
from physai_blog.render.liquid import (
    FENCE,
    chart_note,
    is_output,
    parse_liquid,
    parse_output,
    prepare,
    unprotect,
)
from physai_blog.render.typography import smarten

try:   # fenced_code's own helper, with the loop mirrored below (Markdown 3.5 on)
    from markdown.extensions.attr_list import get_attrs_and_remainder
except ImportError:  # pragma: no cover - an older Markdown: code blocks are never kept
    get_attrs_and_remainder = None

INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.S)
SCANNER = re.compile(
    # Every alternative starts with one of these: the lookahead lets the regex engine skip
    # the rest of the text quickly (7x faster over a post).
    r"(?=[{$\[])(?:"
    r"(?P<call>\{\{(?P<call_body>.*?)\}\})"
    r"|(?P<tag>\{%(?P<tag_body>.*?)%\})"
    r"|(?P<display>(?<!\\)\$\$(?P<display_body>.+?)(?<!\\)\$\$)"
    r"|(?P<cite>\[(?P<cite_body>@[^\]\n]+)\](?!\())"
    r"|(?P<inline>(?<![\\$\w])\$(?=[^\s$])(?P<inline_body>[^$\n]+?)(?<=[^\s\\])\$(?![\d$])))",
    re.S,
)


@dataclass
class Directive:
    name: str
    args: list
    kwargs: dict
    line: int
    block: bool


Handler = Callable[[Directive], str]


def parse_call(text: str, rel: str, line: int) -> tuple[str, list, dict]:
    """``name("a", k=1)`` with literal arguments only: nothing in a post is executed."""
    try:
        node = pyast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InputError(rel, line, f"cannot parse {{{{ {text.strip()} }}}}: expected a call "
                                    "like figure(\"name\")")
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise InputError(rel, line, f"{{{{ {text.strip()} }}}} is not a directive call; "
                                    f"use one of {', '.join(DIRECTIVES)}")
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise InputError(rel, line, f"arguments of {node.func.id}() must be literals "
                                    "(strings, numbers)")
    if None in kwargs:
        raise InputError(rel, line, f"{node.func.id}(): **kwargs is not allowed here")
    return node.func.id, args, kwargs


def _prose_chunks(body: str):
    """Yield (is_code, text) chunks, fenced code blocks apart."""
    lines = body.splitlines(keepends=True)
    chunk, fence = [], None
    for line in lines:
        match = FENCE.match(line)
        if fence is None and match:
            if chunk:
                yield False, "".join(chunk)
            chunk, fence = [line], match.group(1)
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)) \
                and set(line.strip()) == {fence[0]}:
            chunk.append(line)
            yield True, "".join(chunk)
            chunk, fence = [], None
        else:
            chunk.append(line)
    if chunk:
        yield fence is not None, "".join(chunk)


def _is_block(text: str, start: int, end: int) -> bool:
    before = text.rfind("\n", 0, start)
    after = text.find("\n", end)
    return (not text[before + 1:start].strip()) and (
        not text[end:after if after != -1 else len(text)].strip())


def render_markdown(body: str, rel: str, body_line: int, handlers: dict[str, Handler],
                    math: Callable[[str, bool, int], str],
                    errors: list[InputError] | None = None,
                    converter: Converters | markdown.Markdown | None = None,
                    fragments: Fragments | None = None,
                    dialect: str = "python-markdown") -> tuple[str, str]:
    """(HTML, table of contents HTML) of a post body.  The first bad directive raises; with an
    ``errors`` list, every one is appended there instead and the scan goes on (``doctor``).
    ``fragments``: the post's kept code blocks (its formulas go through ``math``).
    ``dialect``: ``kramdown`` converts with kramdown's rules (``kramdown.py``)."""
    out: list[str] = []
    swaps: dict[str, tuple[str, bool]] = {}
    line = body_line
    kramdown_rules = dialect == "kramdown"
    indent = ""                   # kramdown: a block token keeps its line's indentation
    body, protected = prepare(body, kramdown_rules, rel, body_line)

    def token(html: str, block: bool) -> str:
        key = TOKEN.format(len(swaps))
        swaps[key] = (html, block)
        if not block:
            return key
        blank = indent.rstrip()       # a blank line, inside the blockquotes it is in
        return f"\n{blank}\n{indent}{key}\n{blank}\n{indent}"

    for is_code, chunk in _prose_chunks(body):
        if is_code:               # an al-folio chart stays code, with a note under it
            indent, note = "", chart_note(chunk)
            out.append(chunk + (token(note, True) if note else ""))
            line += chunk.count("\n")
            continue
        pos = 0
        seen, here = 0, line          # newlines counted up to ``seen``, incrementally
        masked = INLINE_CODE.sub(lambda m: "\0" * len(m.group(0)), chunk) \
            if "`" in chunk else chunk
        for match in SCANNER.finditer(masked):
            start, end = match.span()
            out.append(chunk[pos:start])
            here += chunk.count("\n", seen, start)
            seen = start
            block, indent = _placement(match, chunk, kramdown_rules)
            raw = chunk[start:end]
            if ">" in indent and match.group("display"):      # a formula in a blockquote
                raw = re.sub(r"\n[ \t]*(?:>[ \t]?)+", "\n", raw)
            try:
                out.append(_replace(match, raw, rel, here, block, handlers, math, token))
            except InputError as exc:
                if errors is None:
                    raise
                errors.append(exc)
                out.append(token("", block))
            pos = end
        out.append(chunk[pos:])
        line += chunk.count("\n")

    md = _converter(converter, dialect)
    # Typographic quotes and dashes, before the tokens are swapped back (as smarty did).
    html = swap_back(smarten(_convert(md, "".join(out), fragments)), swaps)
    toc = smarten(getattr(md, "toc", ""))
    return (unprotect(html), unprotect(toc)) if protected else (html, toc)


def _converter(given: Converters | markdown.Markdown | None, dialect: str) -> markdown.Markdown:
    if isinstance(given, Converters):
        return given.get(dialect)
    if given is not None and dialect == "python-markdown":
        return given
    return new_converter(dialect)


def _convert(md: markdown.Markdown, text: str, fragments: Fragments | None) -> str:
    """Markdown to HTML, with the post's kept code blocks (if ``md`` takes them)."""
    md.reset()
    kept = md.preprocessors[_KeptCode.NAME] if _KeptCode.NAME in md.preprocessors else None
    if kept is not None:
        kept.fragments = fragments
    try:
        return md.convert(text)
    finally:
        if kept is not None:
            kept.fragments = None


def _replace(match: re.Match, raw: str, rel: str, here: int, block: bool, handlers: dict,
             math: Callable, token: Callable[[str, bool], str]) -> str:
    """The token standing for one directive, tag, citation or formula."""
    if match.group("call") and is_output(raw[2:-2]):
        name, args, kwargs = parse_output(raw[2:-2], rel, here)
        return token(_dispatch(handlers, Directive(name, args, kwargs, here, False), rel), False)
    if match.group("call"):
        name, args, kwargs = parse_call(raw[2:-2], rel, here)
        return token(_dispatch(handlers, Directive(name, args, kwargs, here, block), rel),
                     block and name in BLOCKS)
    if match.group("tag"):
        name, args, kwargs = parse_liquid(raw[2:-2], rel, here)
        return token(_dispatch(handlers, Directive(name, args, kwargs, here, block), rel),
                     name in BLOCKS)
    if match.group("cite"):
        return token(_dispatch(handlers, Directive("cite", [match.group("cite_body")], {}, here,
                                                   False), rel), False)
    if match.group("display"):
        return token(math(raw[2:-2], block, here), block)
    return token(math(raw[1:-1], False, here), False)


def _placement(match: re.Match, text: str, kramdown_rules: bool) -> tuple[bool, str]:
    """(whether the match is a block of its own, the indentation its block token keeps).
    ``$$`` is always display math by physai's rule, only between blank lines by kramdown's;
    with kramdown's rules a block token keeps the indentation of its line (a list item's)."""
    start, end = match.span()
    block = _is_block(text, start, end)
    if match.group("display") and kramdown_rules:
        from physai_blog.render.kramdown import math_block

        block = math_block(text, start, end)
    elif match.group("display"):
        block = True
    prefix = text[text.rfind("\n", 0, start) + 1:start]
    quoted = not prefix.replace(">", "").strip()          # indentation, or quote markers
    return block, prefix if kramdown_rules and quoted else ""


class Converters:
    """A build's Markdown converters, one per dialect, each made on first use."""

    def __init__(self):
        self.made: dict[str, markdown.Markdown] = {}

    def get(self, dialect: str) -> markdown.Markdown:
        if dialect not in self.made:
            self.made[dialect] = new_converter(dialect)
        return self.made[dialect]


def new_converter(dialect: str = "python-markdown") -> markdown.Markdown:
    """A Markdown converter; building one costs more than converting a post, so a build
    makes one per process and passes it to ``render_markdown`` (which resets it).

    Extensions are given as instances: by name, python-markdown first scans the entry
    points of every installed package (importlib.metadata, ~40 ms per process): those of
    "extra", "codehilite" (its formatters shared, ``highlight.py``), "toc" and "sane_lists"
    (kramdown's rules for the ``kramdown`` dialect); no "smarty" (typography.smarten).  Around
    fenced_code, two preprocessors take code blocks from, and give them to, post fragments."""
    if dialect == "kramdown":
        from physai_blog.render.kramdown import KramdownExtension

        rules = KramdownExtension()
    else:
        rules = SaneListExtension()
    md = markdown.Markdown(
        extensions=[*(importlib.import_module(f"markdown.extensions.{name}").makeExtension()
                      for name in extra),
                    CodeHiliteExtension(css_class="highlight", guess_lang=False,
                                        pygments_formatter=Formatters()),
                    TocExtension(permalink=False, toc_depth="2-3"), rules],
        output_format="html")
    gate(md)   # inline patterns searched only where they can match (inline.py)
    kept = _KeptCode(md)
    md.preprocessors.register(kept, _KeptCode.NAME, 26)           # fenced_code is 25
    md.preprocessors.register(_KeepCode(md, kept), "physai_keep_code", 24)
    return md


class _KeptCode(Preprocessor):
    """Just before fenced_code: every fenced block whose HTML the post kept goes into the
    stash as fenced_code would put it there; the others are left to fenced_code, in order.
    The loop is fenced_code's own (its regex, its skip of a bad attribute list, the same
    placeholder lines), so fenced_code then meets exactly the blocks it would have met and
    no others: a placeholder holds no fence."""

    NAME = "physai_kept_code"

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self.fragments: Fragments | None = None
        self.missed: list[str] = []
        self.stashed: int | None = None

    def run(self, lines: list[str]) -> list[str]:
        self.missed, self.stashed = [], None
        if self.fragments is None or get_attrs_and_remainder is None or \
                not any("```" in line or "~~~" in line for line in lines):
            return lines
        pattern = self.md.preprocessors["fenced_code_block"].FENCED_BLOCK_RE
        text, index = "\n".join(lines), 0
        while match := pattern.search(text, index):
            if match.group("attrs"):
                _, remainder = get_attrs_and_remainder(match.group("attrs"))
                if remainder:
                    index = match.end("attrs")
                    continue
            html = self.fragments.get("code", match.group(0))
            if html is None:
                self.missed.append(match.group(0))
                index = match.end()
                continue
            placeholder = self.md.htmlStash.store(html)
            text = f"{text[:match.start()]}\n{placeholder}\n{text[match.end():]}"
            index = match.start() + 1 + len(placeholder)
        self.stashed = len(self.md.htmlStash.rawHtmlBlocks)
        return text.split("\n")


class _KeepCode(Preprocessor):
    """Just after fenced_code: the HTML it stashed for the blocks ``_KeptCode`` missed, one
    per block in order, is kept in the post's fragments (nothing is kept if the count
    differs)."""

    def __init__(self, md: markdown.Markdown, kept: _KeptCode):
        super().__init__(md)
        self.kept = kept

    def run(self, lines: list[str]) -> list[str]:
        kept = self.kept
        if kept.fragments is not None and kept.stashed is not None:
            new = self.md.htmlStash.rawHtmlBlocks[kept.stashed:]
            if len(new) == len(kept.missed) and all(isinstance(h, str) for h in new):
                for source, html in zip(kept.missed, new):
                    kept.fragments.put("code", source, html)
        return lines


@functools.lru_cache(maxsize=None)
def fragment_salt() -> str:
    """What the HTML of a formula or code block depends on besides its source: this module
    (the converter's options, the MathML post-processing) and the libraries' versions."""
    try:
        code = Path(__file__).read_bytes()
    except OSError:
        code = __version__.encode()
    versions = f"{markdown.__version__}\0{pygments.__version__}\0{dist_version('latex2mathml')}"
    return hashlib.sha256(code + b"\0" + versions.encode()).hexdigest()


def _dispatch(handlers: dict[str, Handler], directive: Directive, rel: str) -> str:
    handler = handlers.get(directive.name)
    if handler is None:
        hint = get_close_matches(directive.name, list(handlers), 1)
        raise InputError(rel, directive.line, f"unknown directive {directive.name}()"
                         + (f"; did you mean {hint[0]}()?" if hint else
                            f"; available: {', '.join(sorted(handlers))}"))
    return handler(directive)


def latex_to_mathml(tex: str, display: bool, rel: str, line: int,
                    fragments: Fragments | None = None) -> str:
    """MathML for a TeX formula; a formula the converter cannot read is an error at its line.
    ``fragments``: the post's kept formulas (an error is never kept)."""
    source = ("display\0" if display else "inline\0") + tex
    if fragments is not None and (html := fragments.get("math", source)) is not None:
        return html
    try:
        html = _mathml(tex, display)
    except _MathError as exc:
        raise InputError(rel, line, f"cannot typeset math ${tex.strip()}$: {exc}")
    if fragments is not None:
        fragments.put("math", source, html)
    return html


class _MathError(Exception):
    pass


@functools.lru_cache(maxsize=8192)
def _mathml(tex: str, display: bool) -> str:
    """Pure and memoized: the same formula recurs across posts and rebuilds."""
    from latex2mathml.converter import convert

    def fail(why: str):
        raise _MathError(why)

    depth = 0
    for match in re.finditer(r"\\\\|\\[{}]|[{}]", tex):
        if match.group() in ("{", "}"):
            depth += 1 if match.group() == "{" else -1
            if depth < 0:
                fail("unbalanced braces (a '}' without its '{')")
    if depth:
        fail("unbalanced braces (a '{' is never closed)")
    try:
        # MathJax's equation labels (al-folio's posts have them): no numbering in MathML
        plain = re.sub(r"\\label\{[^{}]*\}|\\(?:nonumber|notag)\b", "", tex.strip())
        mathml = convert(plain, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - the converter raises many kinds
        fail(f"{exc.__class__.__name__} {exc}".strip())
    # A slash between two symbols (2/\eta) is a fraction, typeset tight, not an operator
    # with the wide spacing of a relation.
    mathml = mathml.replace("<mo>&#x0002F;</mo>", '<mo lspace="0" rspace="0">&#x0002F;</mo>')
    unknown = re.search(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>", mathml)
    if unknown:
        fail(f"unknown command {unknown.group(1)}")
    # Keep the TeX source (for copy/paste and screen readers) in a MathML annotation.
    head, _, rest = mathml.partition(">")
    inner = rest.rsplit("</math>", 1)[0]
    annotated = (f'{head}><semantics>{inner}<annotation encoding="application/x-tex">'
                 f"{escape(tex.strip())}</annotation></semantics></math>")
    if display:
        return f'<div class="math display">{annotated}</div>'
    return f'<span class="math inline">{annotated}</span>'
