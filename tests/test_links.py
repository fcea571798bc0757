"""Only safe links come from data: the rule (links.py), the bibliography, a built page."""

from __future__ import annotations

import re

import pytest

from conftest import CONFIG, make_blog
from physai_blog.build import build
from physai_blog.errors import InputError
from physai_blog.links import link_html, safe_href, unsafe_link_warning
from physai_blog.render.references import Bibliography, Citations

WARNING = ("references.bib: entry smith2020: url 'javascript:alert(3)' is not a safe link "
           "(allowed: http, https, mailto, doi:, or a relative path); shown as text")


@pytest.mark.parametrize("url, href", [
    ("https://example.org/a/b?x=1#y", "https://example.org/a/b?x=1#y"),
    ("http://example.org", "http://example.org"),
    ("HTTPS://Example.org/", "HTTPS://Example.org/"),
    ("mailto:ada@example.org", "mailto:ada@example.org"),
    ("doi:10.1073/pnas.1903070116", "https://doi.org/10.1073/pnas.1903070116"),
    ("DOI: 10.1000/182", "https://doi.org/10.1000/182"),
    ("  https://example.org/  ", "https://example.org/"),
    ("https://example.org/?to=javascript:alert(1)", "https://example.org/?to=javascript:alert(1)"),
    ("https://example.org/a&amp;b", "https://example.org/a&amp;b"),
    ("../../assets/paper.pdf", "../../assets/paper.pdf"),
    ("files/paper.pdf#page=3", "files/paper.pdf#page=3"),
    ("files/a%3Ab.pdf", "files/a%3Ab.pdf"),      # an escaped ':' after a '/' is no scheme
    ("/assets/paper.pdf", "/assets/paper.pdf"),
    ("#ref-smith2020", "#ref-smith2020"),
    ("?page=2", "?page=2"),
])
def test_safe_links_become_hrefs(url, href):
    assert safe_href(url) == href


@pytest.mark.parametrize("url", [
    "javascript:alert(3)",
    "JaVaScRiPt:alert(3)",
    " javascript:alert(3)",
    "\x01javascript:alert(3)",
    "\x00javascript:alert(3)",
    "java\tscript:alert(3)",
    "java\nscript:alert(3)",
    "javascript\r:alert(3)",
    "java script:alert(3)",                  # what pybtex makes of a tab in a .bib field
    "javascript :alert(3)",
    "\u00a0javascript:alert(3)",
    "java\u200bscript:alert(3)",
    "jav&#x09;ascript:alert(3)",
    "&Tab;javascript:alert(3)",
    "&#106;avascript:alert(3)",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(3)",
    "javascript&colon;alert(3)",
    "javascript&#58;alert(3)",
    "javascript%3Aalert(3)",
    "%6Aavascript:alert(3)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(3)</script>",
    "vbscript:msgbox(3)",
    "file:///etc/passwd",
    "ftp://example.org/paper.pdf",
    "about:blank",
    "//evil.example/x",
    "\\\\evil.example\\x",
    "/\\evil.example",
    "https\x00://example.org",
    "doi:",
    "",
    "   ",
    None,
    42,
])
def test_anything_else_is_text(url):
    assert safe_href(url) is None


def test_link_html_escapes_the_href_and_leaves_unsafe_ones_as_text():
    assert link_html('https://x.org/a" onclick="alert(3)', "t") == \
        '<a href="https://x.org/a&quot; onclick=&quot;alert(3)">t</a>'
    assert link_html("javascript:alert(3)", "javascript:alert(3)") == "javascript:alert(3)"
    assert unsafe_link_warning("references.bib", "entry smith2020: url",
                               "javascript:alert(3)") == WARNING


BIB = r"""
@misc{smith2020,
  title  = {An Unsafe Link},
  author = {Smith, Jane},
  year   = {2020},
  url    = {javascript:alert(3)}
}
@misc{quote2021,
  title  = {A Quoted Link},
  author = {Quote, Ada},
  year   = {2021},
  url    = {https://example.org/a" onmouseover="alert(4)},
  doi    = {10.1000/"182}
}
@misc{doi2022,
  title  = {A DOI as the url},
  author = {Doe, John},
  year   = {2022},
  url    = {doi:10.1000/182}
}
@misc{a"b<c>,
  title  = {An Odd Key},
  author = {Odd, Key},
  year   = {2023}
}
"""


def test_bibliography_links_are_safe_and_the_unsafe_one_is_warned_about(tmp_path):
    (tmp_path / "references.bib").write_text(BIB)
    warnings: list[str] = []
    bib = Bibliography(tmp_path / "references.bib", "references.bib", warnings.append)
    bib.preload()
    bib.entries("posts/x.md", 1)          # read once: one warning per entry, not per use
    assert warnings == [WARNING]
    html = dict(bib.formatted(["smith2020", "quote2021", "doi2022"]))
    assert "URL: javascript:alert(3)." in html["smith2020"] and "href" not in html["smith2020"]
    assert '<a href="https://example.org/a&quot; onmouseover=&quot;alert(4)">' in html["quote2021"]
    assert '<a href="https://doi.org/10.1000/&quot;182">' in html["quote2021"]
    assert '<a href="https://doi.org/10.1000/182">doi:10.1000/182</a>' in html["doi2022"]
    cite = Citations(bib, "posts/x.md").cite(['a"b<c>'], 1)
    assert 'href="#ref-a&quot;b&lt;c&gt;"' in cite


def test_preload_leaves_an_unreadable_bibliography_to_the_posts_that_cite_it(tmp_path):
    bib = Bibliography(tmp_path / "missing.bib", "missing.bib", [].append)
    bib.preload()
    with pytest.raises(InputError, match="bibliography 'missing.bib' not found"):
        bib.entries("posts/x.md", 3)


POST = """\
---
title: Citing
date: 2026-02-01
experiment: none
---

As shown before [@smith2020].
"""


@pytest.fixture
def unsafe_blog(tmp_path):
    root = make_blog(tmp_path / "blog", posts={"2026-02-01-citing.md": POST}, experiments={},
                     config=CONFIG + "bibliography: references.bib\n")
    (root / "references.bib").write_text(BIB)
    return root, build(root, jobs=1)


def test_an_unsafe_bibliography_url_is_shown_as_text(unsafe_blog):
    root, _ = unsafe_blog
    page = (root / "site/posts/citing/index.html").read_text()
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", page, re.IGNORECASE)
    assert '<li id="ref-smith2020">' in page and "URL: javascript:alert(3)." in page


def test_an_unsafe_bibliography_url_is_in_the_build_warnings(unsafe_blog):
    _, report = unsafe_blog
    assert WARNING in report.warnings


def test_a_nav_url_with_an_unsafe_scheme_is_refused_with_its_line(tmp_path):
    from conftest import CONFIG, make_blog
    from physai_blog.build import build
    from physai_blog.errors import PhysaiError

    config = CONFIG + "nav:\n  - {title: Home, url: /}\n  - {title: x, url: 'javascript:alert(1)'}\n"
    root = make_blog(tmp_path / "blog", config=config)
    with pytest.raises(PhysaiError) as caught:
        build(root)
    assert caught.value.message.startswith("physai.yaml:4: ")
    assert "nav url 'javascript:alert(1)' is not a safe link" in caught.value.message
