"""A post's formulas and code blocks are kept from its last render (render/fragments.py).

Rendering with kept fragments gives the bytes rendering without them gives, whatever the
fences look like; a damaged, foreign or stale fragment file is ignored; an error is never
kept; an edit that leaves the math and code alone loads neither latex2mathml nor a Pygments
lexer in a fresh process; forked render workers hand their fragments back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_blog
from physai_blog.build import build
from physai_blog.errors import InputError
from physai_blog.render.fragments import BUCKETS, FOLDER, FragmentStore, Fragments, bucket_of
from physai_blog.render.markup import (fragment_salt, latex_to_mathml, new_converter,
                                       render_markdown)
from physai_blog.render.pages import PARALLEL_RENDER_MIN

CONVERTER = new_converter()


def render(body: str, fragments: Fragments | None = None) -> tuple[str, str]:
    def math(tex, display, line):
        return latex_to_mathml(tex, display, "posts/p.md", line, fragments)

    return render_markdown(body, "posts/p.md", 1, {}, math, converter=CONVERTER,
                           fragments=fragments)


FENCES = ["```", "````", "~~~", "```python", "``` python", "```{.python}", "~~~ {.python .x}",
          '```python hl_lines="1"', '```{.python hl_lines="2" linenums="1"}', "```{.python",
          "```{ bad attrs } }", "```python foo", "```  ", "  ```", "    ```", "```text",
          "```unknownlang"]
LINES = ["", "x = 1", "print('$a$')", "def f():", "    return 2", "plain prose here",
         "- a list item", "  ```", "> quoted", "1. one", "$x^2$ and $$y$$", "`inline`",
         "## A heading", "<div>raw</div>", "\t\ttabbed", "</code></pre>"]
CLOSES = ["```", "````", "~~~", "``` ", "  ```", "~~~~", "```python", ""]
blocks = st.builds(lambda fence, lines, close: "\n".join([fence, *lines, close]),
                   st.sampled_from(FENCES), st.lists(st.sampled_from(LINES), max_size=4),
                   st.sampled_from(CLOSES))
bodies = st.lists(st.one_of(blocks, blocks, st.sampled_from(FENCES), st.sampled_from(LINES)),
                  max_size=12).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(bodies, st.integers(0, 3))
def test_kept_fragments_give_the_same_bytes(body, keep_every):
    cold = render(body)
    first = Fragments()
    assert render(body, first) == cold                     # misses: typeset, then kept
    assert render(body, Fragments(dict(first.used))) == cold   # every one kept
    some = {k: v for i, (k, v) in enumerate(sorted(first.used.items()))
            if keep_every and i % keep_every == 0}
    assert render(body, Fragments(some)) == cold           # some kept, the rest typeset


def test_the_kept_html_is_what_the_render_used():
    body = "Text $a+b$.\n\n```python\nx = 1\n```\n\n$$\\frac{1}{2}$$\n"
    fragments = Fragments()
    html, _ = render(body, fragments)
    assert sorted(key.split("\0")[0] for key in fragments.used) == ["code", "math", "math"]
    for value in fragments.used.values():
        assert value in html or value.strip() in html


def test_a_formula_error_is_never_kept():
    fragments = Fragments()
    for _ in range(2):
        with pytest.raises(InputError) as caught:
            render("Fine $x$.\n\nBroken on line 3: $\\frac{1}{$ here.\n", fragments)
        assert caught.value.line == 3 and "unbalanced braces" in caught.value.message
    assert all("frac" not in key for key in fragments.used)


POST = """---
title: Math and code
date: 2026-03-01
---

A formula $E = m c^2$ and a display one:

$$\\int_0^1 x\\,dx = \\frac{1}{2}$$

```python
def energy(m, c):
    return m * c ** 2
```
"""


def text_blog(path: Path) -> Path:
    return make_blog(path, {"2026-03-01-math.md": POST}, {})


def site_files(root: Path) -> dict[str, bytes]:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
            if p.is_file() and p.name != ".physai-site.json"}


def fresh_build(root: Path, tmp: Path) -> dict[str, bytes]:
    """The same blog built from nothing, elsewhere."""
    copy = tmp / f"fresh-{root.name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".physai-cache"))
    build(copy)
    return site_files(copy)


def loaded_by_a_build(root: Path) -> set[str]:
    """The modules a fresh process loaded to build ``root``."""
    code = ("import sys\nfrom physai_blog.build import build\nbuild(sys.argv[1], jobs=1)\n"
            "print(sorted(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout
    return set(eval(out.splitlines()[-1]))


def buckets(root: Path) -> list[Path]:
    return sorted((root / ".physai-cache" / FOLDER).glob("*.json"))


def test_an_edit_that_keeps_math_and_code_loads_neither_library(tmp_path):
    root = text_blog(tmp_path / "blog")
    build(root)
    post = root / "posts/2026-03-01-math.md"
    post.write_text(post.read_text() + "\nOne more sentence.\n")
    loaded = loaded_by_a_build(root)
    assert "latex2mathml" not in loaded and "pygments.lexers.python" not in loaded
    assert site_files(root) == fresh_build(root, tmp_path)
    post.write_text(post.read_text() + "\nA new formula $p = m v$.\n")   # a miss loads it
    assert "latex2mathml" in loaded_by_a_build(root)
    assert site_files(root) == fresh_build(root, tmp_path)


@pytest.mark.parametrize("damage", ["checksum", "salt", "garbage", "empty"])
def test_a_damaged_fragment_file_is_ignored_and_rewritten(tmp_path, damage):
    root = text_blog(tmp_path / "blog")
    build(root)
    (path,) = buckets(root)
    checksum, _, body = path.read_bytes().partition(b"\n")
    saved = json.loads(body)
    for post in saved["posts"].values():
        for key in post:
            post[key] = "<b>TAMPERED</b>"
    if damage == "salt":
        saved["salt"] = "another version of markup.py"
    new_body = json.dumps(saved).encode()
    if damage == "salt":    # a whole, checksummed file: only its salt is wrong
        import hashlib

        checksum = hashlib.sha256(new_body).hexdigest().encode()
    path.write_bytes({"checksum": checksum + b"\n" + new_body, "salt": checksum + b"\n" + new_body,
                      "garbage": b"\x00\xff not json", "empty": b""}[damage])
    post = root / "posts/2026-03-01-math.md"
    post.write_text(post.read_text() + "\nAn edit.\n")
    build(root)
    page = (root / "site/posts/math/index.html").read_text()
    assert "TAMPERED" not in page and "<math" in page and 'class="highlight"' in page
    assert site_files(root) == fresh_build(root, tmp_path)
    assert "TAMPERED" not in path.read_text()                 # rewritten whole


def test_a_store_keeps_what_each_post_used_and_drops_deleted_posts(tmp_path):
    a = "posts/a.md"
    b = next(f"posts/b{i}.md" for i in range(1000) if bucket_of(f"posts/b{i}.md") == bucket_of(a))
    store = FragmentStore(tmp_path, "salt", [a, b])
    store.keep(a, {"math\0x": "<x/>"})
    store.keep(b, {"math\0y": "<y/>"})
    store.save()
    again = FragmentStore(tmp_path, "salt", [a])               # b was deleted
    assert again.post(b).kept == {"math\0y": "<y/>"}           # still there until written
    again.keep(a, {"math\0x2": "<x2/>"})
    again.save()
    third = FragmentStore(tmp_path, "salt", [a])
    assert third.post(a).kept == {"math\0x2": "<x2/>"} and third.post(b).kept == {}
    assert FragmentStore(tmp_path, "other salt", [a]).post(a).kept == {}


def test_render_workers_hand_their_fragments_back(tmp_path):
    n = PARALLEL_RENDER_MIN + 4
    posts = {f"2026-01-{i % 28 + 1:02d}-p{i}.md":
             POST.replace("Math and code", f"Post {i}").replace("m c^2", f"m_{{{i}}} c^2")
             for i in range(n)}
    root = make_blog(tmp_path / "blog", posts, {})
    build(root, jobs=2)
    kept = {}
    for path in buckets(root):
        kept.update(json.loads(path.read_bytes().partition(b"\n")[2])["posts"])
    assert len(kept) == n and all(len(used) == 3 for used in kept.values())
    assert len(buckets(root)) <= BUCKETS
    config = root / "physai.yaml"      # a new title: every page is rendered again...
    config.write_text(config.read_text().replace("Test Blog", "Retitled Blog"))
    loaded = loaded_by_a_build(root)   # ...with every formula and code block kept
    assert "latex2mathml" not in loaded and "pygments.lexers.python" not in loaded
    assert site_files(root) == fresh_build(root, tmp_path)
    assert fragment_salt() == fragment_salt()


def test_shared_formatters_give_codehilite_s_own_html():
    """Code blocks share one Pygments formatter per set of options (``highlight.py``): the
    HTML is byte for byte what codehilite's own formatter per block gives, for blocks with
    and without highlighted lines or a language."""
    import markdown
    from markdown.extensions.codehilite import CodeHiliteExtension

    from physai_blog.render.highlight import Formatters

    text = "\n\n".join([
        "```python\nx = 1\n```", '```python hl_lines="2"\na = 1\nb = 2\n```',
        "```python\ndef f():\n    return 2\n```", "```\nplain text\n```",
        "```nosuchlanguage\nstill text\n```", "```python\ny = [1, 2]\n```"])
    html = {}
    for name, extra in (("own", {}), ("shared", {"pygments_formatter": Formatters()})):
        md = markdown.Markdown(extensions=["fenced_code", CodeHiliteExtension(
            css_class="highlight", guess_lang=False, **extra)])
        html[name] = md.convert(text)
    assert html["shared"] == html["own"]
    assert html["own"].count('class="hll"') == 1
