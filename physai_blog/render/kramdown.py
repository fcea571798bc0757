"""kramdown's GFM structure (what al-folio's Jekyll gives a post), as a python-markdown extension.

A post with ``markdown: kramdown`` (front matter or physai.yaml) is converted with python-markdown
plus ``KramdownExtension``, which replaces the rules where the two disagree by kramdown's own
(kramdown 2.4 ``parser/kramdown/list.rb`` and kramdown-parser-gfm 1.1, ported rule for rule):

- lists: an item's content starts at its text's column (``- a`` nests at 2 spaces, ``1. a`` at
  3), a list interrupts a paragraph, a line of another marker without a blank line before it
  is a lazy line of the item, and the first paragraph of an item is bare text unless a blank
  line follows it;
- ``#`` headings need a space after the hashes; their ids are GFM's (``heading-one--two``,
  then ``-1``, ``-2`` for repeats);
- ``~~struck~~`` text; no indented continuation outside lists (kramdown has none).

``$$...$$`` is display math only where it stands alone between block boundaries, and inline
math elsewhere: that rule lives with the other formula rules in ``markup`` (``display_math``).
``tests/test_kramdown.py`` compares the result with Debian's kramdown, element by element.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

from markdown.blockprocessors import BlockProcessor, BlockQuoteProcessor, HashHeaderProcessor
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHilite
from markdown.inlinepatterns import SimpleTagInlineProcessor, SubstituteTagInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

TAIL = r"([\t| ].*)$"                       # kramdown's PATTERN_TAIL, without the newline
LIST_START_UL = re.compile(r"^( {0,3}[+*-])" + TAIL)
LIST_START_OL = re.compile(r"^( {0,3}\d+\.)" + TAIL)
HR_START = re.compile(r"^ {0,3}([*\-_])[ \t]*\1[ \t]*\1(\1|[ \t])*$")
EOB_MARKER = re.compile(r"^\^\s*$")
IAL_ONLY = re.compile(r"^\s*(?:\{:[^}]*\})?\s*$")
# kramdown's paragraph end in GFM mode (besides blank lines): a list, an ATX heading, a
# definition, a blockquote, a code fence, a block attribute list, an end-of-block marker
PARAGRAPH_END = re.compile(r"^(?: {0,3}(?:[+*-]|\d+\.)[\t| ]|#{1,6}[\t ]| {0,3}:[\t| ]| {0,3}>"
                           r"| {0,3}(?:`{3,}|~{3,})|\{:|\^\s*$)")
HTML_BLOCK_EDGE = re.compile(r"^ {0,3}</?(?!(?:a|abbr|b|bdo|br|button|cite|code|del|dfn|em|i|"
                             r"img|input|ins|kbd|label|mark|q|s|samp|script|select|small|span|"
                             r"strike|strong|sub|sup|textarea|tt|u|var)\b)[A-Za-z]")
NON_WORD = re.compile(r"[^\w\- \t]")
BLOCK_IAL = re.compile(r"^ {0,3}\{:(?!:)([^}]*)\}\s*$")
TASK = re.compile(r"\A\s*\[([ xX])\]\s+")
TOC_MARK = "data-kramdown-toc"
QUOTE_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]?)+")
REPEATED_REF = re.compile(r"^(#?)fnref(\d+):(.+)$")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
STASHED = re.compile("\x02[^\x03]*\x03")


def list_start(line: str) -> tuple[str, re.Match] | None:
    for kind, pattern in (("ul", LIST_START_UL), ("ol", LIST_START_OL)):
        match = pattern.match(line)
        if match:
            return kind, match
    return None


def _item_start(kind: str, indentation: int) -> re.Pattern:
    """kramdown's ``fetch_pattern``: the marker of the next item of the same list."""
    spaces = min(max(indentation - 1, 0), 3)
    marker = r"[+*-]" if kind == "ul" else r"\d+\."
    return re.compile(rf"^( {{0,{spaces}}}{marker})" + TAIL)


@dataclass
class Item:
    """One list item as kramdown's scanner leaves it: its content in chunks (a nested list
    found in the content starts a new chunk), and the patterns of its continuation lines."""

    chunks: list[list[str]]
    indentation: int
    nested: bool = False

    def content(self, line: str) -> bool:
        spaces = len(line) - len(line.lstrip(" "))
        return spaces >= self.indentation and bool(line.strip())

    def lazy(self, line: str) -> bool:
        if not line.strip():
            return False
        edge = min(self.indentation, 3)
        head = line[:edge].strip() == "" and line[edge:] or line.lstrip(" ")
        return not (head.startswith("{:") or HTML_BLOCK_EDGE.match(line[:edge].lstrip() + head))


def first_line(marker: str, rest: str) -> tuple[str, int]:
    """kramdown's ``parse_first_list_line``: the item's first text and its content column."""
    if IAL_ONLY.match(rest):
        return rest.strip(), 4
    return rest.lstrip(), len(marker) + len(rest) - len(rest.lstrip(" "))


@dataclass
class Scan:
    items: list[Item] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)
    eob: bool = False


def scan_list(lines: list[str]) -> Scan:
    """Split ``lines`` (the first one starts a list) into the list's items and the lines after
    it, as kramdown's ``parse_list`` does."""
    kind, _ = list_start(lines[0])
    start = LIST_START_UL if kind == "ul" else LIST_START_OL
    scan, item, last_blank = Scan(), None, False
    for index, line in enumerate(lines):
        match = start.match(line)
        if last_blank and HR_START.match(line):
            scan.rest = lines[index:]
            return scan
        if EOB_MARKER.match(line):
            scan.rest, scan.eob = lines[index + 1:], True
            return scan
        if match:
            text, indentation = first_line(match.group(1), match.group(2))
            item = Item([[text]], indentation, nested=bool(list_start(text)))
            scan.items.append(item)
            start = _item_start(kind, indentation)
        elif item.content(line) or (not last_blank and item.lazy(line)):
            indented = line.startswith(" " * item.indentation)
            text = line[item.indentation:] if indented else line
            if not item.nested and indented and list_start(text):
                item.chunks.append([])
                item.nested = True
            elif item.nested and not indented and list_start(text):
                text = " " * (item.indentation + 4) + text
            item.chunks[-1].append(text)
        elif not line.strip():
            item.nested = True
            item.chunks[-1].append("")
        else:
            scan.rest = lines[index:]
            return scan
        last_blank = not line.strip()
    return scan


def _first_paragraph(item: Item) -> tuple[bool, bool]:
    """(a blank line follows the item's first paragraph, nothing else follows that blank)."""
    lines = item.chunks[0]
    end = 1
    while end < len(lines) and lines[end].strip() and not PARAGRAPH_END.match(lines[end]) \
            and not HTML_BLOCK_EDGE.match(lines[end]):
        end += 1
    blank = end < len(lines) and not lines[end].strip()
    after = [line for chunk in item.chunks for line in chunk][end:]
    return blank, blank and not any(line.strip() for line in after)


class ListProcessor(BlockProcessor):
    """kramdown's lists (see the module docstring), in place of python-markdown's."""

    def test(self, parent, block: str) -> bool:
        return list_start(block.split("\n", 1)[0]) is not None

    def run(self, parent, blocks: list[str]) -> None:
        lines = "\n\n".join(blocks).split("\n")
        scan = scan_list(lines)
        blocks[:] = "\n".join(scan.rest).split("\n\n") if scan.rest else []
        kind, _ = list_start(lines[0])
        element = etree.SubElement(parent, kind)
        if scan.rest and (ial := BLOCK_IAL.match(scan.rest[0])):     # {:toc}, {: .class}
            _apply_ial(element, ial.group(1))
            blocks[:] = "\n".join(scan.rest[1:]).split("\n\n") if scan.rest[1:] else []
        settled = []          # per item: its first child is no paragraph, or a bare one
        for number, item in enumerate(scan.items):
            li = etree.SubElement(element, "li")
            for chunk in item.chunks:
                self.parser.parseBlocks(li, "\n".join(chunk).rstrip("\n").split("\n\n"))
            last = number == len(scan.items) - 1
            blank, only = _first_paragraph(item)
            starts = len(li) > 0 and li[0].tag == "p"
            bare = starts and (not blank or (last and only and not scan.eob)) and \
                (not last or number == 0 or any(settled))
            settled.append(not starts or bare)
            if starts and TASK.match(li[0].text or ""):
                _task(element, li, li[0])
            if bare:
                paragraph = li[0]
                li.text = paragraph.text
                for child in list(paragraph):         # a task's checkbox
                    li.insert(0, child)
                li.remove(paragraph)


def _apply_ial(element, text: str) -> None:
    """A block attribute list on ``element``: ``toc`` (kramdown's table of contents, filled
    in by ``Toc``), ``.class``, ``#id``, ``key="value"``."""
    for word in re.findall(r'[\w-]+="[^"]*"|[\w-]+=\S+|\S+', text):
        if word == "toc":
            element.set(TOC_MARK, "1")
        elif word.startswith("."):
            element.set("class", " ".join(filter(None, (element.get("class"), word[1:]))))
        elif word.startswith("#"):
            element.set("id", word[1:])
        elif "=" in word:
            key, _, value = word.partition("=")
            element.set(key, value.strip('"'))


def _task(element, li, paragraph) -> None:
    """GFM's task list item: ``[ ]`` or ``[x]`` becomes a disabled checkbox."""
    match = TASK.match(paragraph.text)
    box = etree.Element("input", {"type": "checkbox", "class": "task-list-item-checkbox",
                                  "disabled": "disabled"})
    if match.group(1) != " ":
        box.set("checked", "checked")
    box.tail = paragraph.text[match.end():]
    paragraph.text = ""
    paragraph.insert(0, box)
    li.set("class", "task-list-item")
    element.set("class", "task-list")


class Toc(Treeprocessor):
    """A list marked ``{:toc}`` becomes the table of contents of the post's headings."""

    def run(self, root) -> None:
        marked = [e for e in root.iter() if e.get(TOC_MARK)]
        if not marked:
            return
        headings = [e for e in root.iter() if e.tag in HEADINGS and e.get("id")]
        for element in marked:
            element.clear()
            element.tag = "ul"
            element.set("id", "markdown-toc")
            stack = [(0, element)]          # (level, the list or the item under it)
            for heading in headings:
                level = int(heading.tag[1])
                while len(stack) > 1 and stack[-1][0] >= level:
                    stack.pop()
                holder = stack[-1][1]
                if holder.tag != "ul":
                    holder = holder.find("ul") if holder.find("ul") is not None else \
                        etree.SubElement(holder, "ul")
                li = etree.SubElement(holder, "li")
                link = etree.SubElement(li, "a", {"href": f"#{heading.get('id')}"})
                link.text = "".join(heading.itertext())
                stack.append((level, li))


class NoMarkdown(Preprocessor):
    """kramdown's ``{::nomarkdown}`` ... ``{:/nomarkdown}``: the text between, as it is."""

    SPAN = re.compile(r"\{::nomarkdown\}(.*?)\{:/nomarkdown\}", re.S)

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "{::nomarkdown}" not in text:
            return lines
        return self.SPAN.sub(lambda m: self.md.htmlStash.store(m.group(1).strip("\n")),
                             text).split("\n")


class GfmHeaderProcessor(HashHeaderProcessor):
    """ATX headings as GFM has them: ``#tag`` is text, ``# Tag`` a heading; closing hashes only
    after a space (``C#`` keeps its hash)."""

    RE = re.compile(r"(?:^|\n)(?P<level>#{1,6})[\t ]+(?P<header>[^\n]*?)(?:[\t ]+#+)?[\t ]*"
                    r"(?:\n|$)")


class GfmIds(Treeprocessor):
    """GFM's heading ids (kramdown-parser-gfm's ``generate_gfm_header_id``), before ``toc``
    runs (it keeps an id it finds); a footnote's second reference is ``fnref:x:1``, as
    kramdown names it (python-markdown: ``fnref2:x``)."""

    def run(self, root) -> None:
        seen: dict[str, int] = {}
        for element in root.iter():
            for key, prefix in (("id", ""), ("href", "#")):
                match = REPEATED_REF.match(element.get(key, ""))
                if match and match.group(1) == prefix:
                    element.set(key, f"{prefix}fnref:{match.group(3)}:{int(match.group(2)) - 1}")
            if element.tag not in HEADINGS or "id" in element.attrib:
                continue
            text = STASHED.sub("", "".join(element.itertext()))
            text = text.replace("---", "\u2014").replace("--", "\u2013").replace("...", "\u2026")
            slug = NON_WORD.sub("", text.lower()).replace(" ", "-").replace("\t", "-")
            count = seen.get(slug, -1) + 1
            seen[slug] = count
            element.set("id", f"{slug}-{count}" if count else slug)


class KramdownExtension(Extension):
    """The rules above, registered over python-markdown's own."""

    def extendMarkdown(self, md) -> None:
        parser = md.parser
        for name in ("olist", "ulist", "indent", "hashheader"):
            if name in parser.blockprocessors:
                parser.blockprocessors.deregister(name)
        parser.blockprocessors.register(ListProcessor(parser), "kramdown_list", 40)
        parser.blockprocessors.register(ParagraphEnd(parser), "kramdown_paragraph_end", 12)
        parser.blockprocessors.register(GfmHeaderProcessor(parser), "hashheader", 70)
        parser.blockprocessors.register(NestedFence(parser), "kramdown_fence", 85)
        parser.blockprocessors.register(Blockquote(parser), "quote", 20)
        md.ESCAPED_CHARS.extend(c for c in "$|=~\"':" if c not in md.ESCAPED_CHARS)
        md.inlinePatterns.register(
            SimpleTagInlineProcessor(r"(~~)(?!\s|~)(.+?)(?<=[^\s~])~~", "del"), "gfm_del", 65)
        md.treeprocessors.register(GfmIds(md), "gfm_ids", 6)
        md.treeprocessors.register(Toc(md), "kramdown_toc", 4)
        md.preprocessors.register(NoMarkdown(md), "kramdown_nomarkdown", 29)
        md.inlinePatterns.register(SubstituteTagInlineProcessor(r"\\\n", "br"), "gfm_br", 185)


class Blockquote(BlockQuoteProcessor):
    """A blank line ends a blockquote: the next ``>`` starts another (python-markdown merges
    the two)."""

    def run(self, parent, blocks: list[str]) -> None:
        previous = self.lastChild(parent)
        if previous is None or previous.tag != "blockquote":
            super().run(parent, blocks)
            return
        marker = etree.SubElement(parent, "hr")     # not a blockquote, so not merged into
        super().run(parent, blocks)
        parent.remove(marker)


class NestedFence(BlockProcessor):
    """A code fence inside a list item or a blockquote (python-markdown's fenced_code finds
    only those at the left margin), highlighted as fenced_code highlights it."""

    OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`\n]*$")

    def test(self, parent, block: str) -> bool:
        return bool(self.OPEN.match(block.split("\n", 1)[0]))

    def run(self, parent, blocks: list[str]):
        lines = "\n\n".join(blocks).split("\n")
        fence, lang = self.OPEN.match(lines[0]).groups()
        end = next((i for i, line in enumerate(lines[1:], 1)
                    if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}), None)
        if end is None:
            return False
        code = "\n".join(lines[1:end]) + "\n"
        html = CodeHilite(code, lang=lang or None, css_class="highlight", guess_lang=False,
                          use_pygments=True).hilite()
        etree.SubElement(parent, "p").text = self.parser.md.htmlStash.store(html)
        rest = "\n".join(lines[end + 1:])
        blocks[:] = rest.split("\n\n") if rest else []


class ParagraphEnd(BlockProcessor):
    """A paragraph ends at a line that starts a list (GFM): the block is split there, and the
    paragraph processor gets its first part."""

    def test(self, parent, block: str) -> bool:
        return any(list_start(line) for line in block.split("\n")[1:])

    def run(self, parent, blocks: list[str]):
        lines = blocks[0].split("\n")
        cut = next(i for i, line in enumerate(lines) if i and list_start(line))
        blocks[0:1] = ["\n".join(lines[:cut]), "\n".join(lines[cut:])]
        return False


def math_block(text: str, start: int, end: int) -> bool:
    """kramdown's math rule: ``$$...$$`` at ``text[start:end]`` is display math only where it
    opens its line after a blank line (or the start) and a blank line (or the end) follows
    its closing line; anywhere else it is inline math.  Inside a blockquote, lines are read
    without their ``>`` markers."""
    line_start = text.rfind("\n", 0, start) + 1
    if unquoted(text[line_start:start]).strip():
        return False
    before = text[:line_start - 1].rsplit("\n", 1)[-1] if line_start else ""
    if line_start and unquoted(before).strip():
        return False
    line_end = text.find("\n", end)
    if text[end:line_end if line_end != -1 else len(text)].strip():
        return False
    if line_end == -1:
        return True
    following = unquoted(text[line_end + 1:].split("\n", 1)[0])
    return not following.strip() or following.lstrip().startswith("{:") or \
        bool(EOB_MARKER.match(following))


def unquoted(line: str) -> str:
    """A line without the ``>`` markers of the blockquotes it is in."""
    return QUOTE_MARKERS.sub("", line, count=1)
