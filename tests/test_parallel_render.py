"""Many stale pages are rendered in forked workers: same bytes, same errors as one process."""

from __future__ import annotations

from conftest import cli, make_blog
from physai_blog.build import build
from physai_blog.render.pages import PARALLEL_RENDER_MIN

POST = """---
title: Post {i}
date: 2026-01-{day:02d}
tags: [t{tag}]
---

## Heading {i}

Some *prose* with $x_{i}^2$ math, a [link](https://example.org/{i}) and code:

```python
print({i})
```

$$\\sum_{{k=1}}^{{{i}}} k$$
"""


def blog(tmp_path, name, n, broken=None):
    posts = {f"2026-01-{i % 28 + 1:02d}-p{i}.md": POST.format(i=i, day=i % 28 + 1, tag=i % 3)
             for i in range(n)}
    if broken is not None:
        posts[f"2026-01-{broken % 28 + 1:02d}-p{broken}.md"] += '\n{{ figure("nope") }}\n'
    return make_blog(tmp_path / name, posts, {})


def snapshot(root):
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_parallel_rendering_gives_the_same_site(tmp_path):
    n = PARALLEL_RENDER_MIN + 6
    one, two = blog(tmp_path, "one", n), blog(tmp_path, "two", n)
    build(one, jobs=1)
    report = build(two, jobs=2)
    assert len(report.posts) == n
    assert snapshot(one) == snapshot(two)
    assert "<mfrac>" not in snapshot(two)["posts/p3/index.html"].decode() and \
        "<munderover>" in snapshot(two)["posts/p3/index.html"].decode()


def test_errors_from_render_workers_name_file_and_line(tmp_path):
    root = blog(tmp_path, "bad", PARALLEL_RENDER_MIN + 6, broken=7)
    result = cli("build", "--root", root, "--jobs", "2")
    assert result.exit_code == 1
    assert "Error: posts/2026-01-08-p7.md:17: figure() needs an experiment, and this post has none" in result.output


def test_site_pages_drawn_while_workers_render_are_those_the_pages_give(tmp_path):
    """While workers render, the build process draws the site-wide pages for the posts it
    expects to be published (cached by what they show); the render stage then finds them.
    A page that fails makes the build fail with site/ as it was, and the next good build
    gives what one process gives."""
    n = PARALLEL_RENDER_MIN + 6
    one, two = blog(tmp_path, "one", n), blog(tmp_path, "two", n)
    build(two, jobs=2)
    assert len(list((two / ".physai-cache" / "site-pages").iterdir())) == 1
    before = snapshot(two)
    post = two / "posts" / "2026-01-08-p7.md"
    good = post.read_text()
    post.write_text(good.replace("## Heading 7", "## Heading 7, edited") +
                    '\n{{ figure("nope") }}\n')
    for other in sorted((two / "posts").glob("*.md"))[:PARALLEL_RENDER_MIN]:
        other.write_text(other.read_text() + "\nAn edit.\n")   # enough stale pages to fork
    result = cli("build", "--root", two, "--jobs", "2")
    assert result.exit_code == 1 and "figure() needs an experiment" in result.output
    assert snapshot(two) == before
    for path in sorted((two / "posts").glob("*.md")):
        (one / "posts" / path.name).write_text(path.read_text())
    post.write_text(good)
    (one / "posts" / post.name).write_text(good)
    build(one, jobs=1)
    build(two, jobs=2)
    assert snapshot(two) == snapshot(one)
