"""Inline patterns are searched only on text where they can match (render/inline.py): the
HTML is byte for byte python-markdown's own, for every inline construct and random text."""

from __future__ import annotations

import random
import re

import markdown
import pytest

from physai_blog.render import inline
from physai_blog.render.markup import new_converter

CASES = [
    "plain prose, nothing to find", "a `code` span and ``two `ticks` `` and \\\\`not code`",
    "escaped \\*stars\\* and \\_under\\_ and \\[bracket\\] and \\\\ slash",
    "*em* **strong** ***both*** _em_ __strong__ ___both___ a_b_c snake_case_name 2*3*4",
    "not * strong * here, nor _ this _", "[a link](https://x.org/a_b) and [ref][r] and [r]",
    "![an image](img.png \"t\") and ![ref image][r] and ![r] and !not an image",
    "<https://example.org/x_y> and <mailto:a@b.c> and <a@b.c> and a@b.c and < x@y >",
    "<span class=\"x\">inline *html*</span> <!-- a comment --> <?php x ?> <br/> 1 < 2 > 0",
    "&amp; &#123; &#x1F600; &nosuch; & alone; AT&T", "two spaces at the end  \nof a line",
    "a footnote[^1] and [^missing] and [^]\n\n[^1]: The note, with *em*.",
    "[r]: https://example.org/ref \"Ref\"", "mixed: *[em link](x)* `a*b` <b>**x**</b> &copy;",
    "nested **strong *em* strong** and *em **strong** em*", "unclosed *em and **strong and `tick",
    "a [link with `code` and *em*](u) then ![img *x*](i)", "line one\nline two\n\nnew para",
    "| a | b |\n|---|---|\n| *x* | `y` |", "> quote with [link](u) and _em_\n>\n> more",
    "- item *one*\n- item [two](u)\n  continued  \n  line",
]
ALPHABET = ["a", " ", "*", "_", "`", "\\", "[", "]", "(", ")", "!", "<", ">", "&", ";", "#",
            "@", ":", "//", "  \n", "\n", "\n\n", "^", "x", "http", "b c", '"', "=", "-", "|"]


@pytest.mark.parametrize("dialect", ["python-markdown", "kramdown"])
def test_gated_patterns_give_python_markdown_s_own_html(dialect, monkeypatch):
    from physai_blog.render import markup

    gated = new_converter(dialect)
    monkeypatch.setattr(markup, "gate", lambda md: [])   # the same converter, ungated
    plain = markup.new_converter(dialect)
    rng = random.Random(16)
    texts = CASES + ["\n\n".join(CASES)] + [
        "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 60))) for _ in range(600)]
    for text in texts:
        gated.reset()
        plain.reset()
        assert gated.convert(text) == plain.convert(text), text


def test_each_listed_pattern_is_gated_on_the_version_it_was_written_for():
    """Another python-markdown version's changed pattern is left alone (searched as always);
    on the version NEEDS was read from, all of them are gated."""
    names = inline.gate(markdown.Markdown(extensions=["extra"]))
    if markdown.__version__ != "3.11.3":
        pytest.skip(f"NEEDS lists python-markdown 3.11.3's patterns; this is "
                    f"{markdown.__version__} ({len(names)} of {len(inline.NEEDS)} gated)")
    assert names == list(inline.NEEDS)


def test_a_changed_pattern_is_not_gated():
    md = markdown.Markdown()
    md.inlinePatterns["link"].compiled_re = re.compile(r"\[|<")
    assert "link" not in inline.gate(md) and "reference" in inline.gate(markdown.Markdown())
