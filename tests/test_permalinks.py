"""Permalinks (``permalink:`` in physai.yaml, Jekyll's placeholders) and a post's links to the
blog's own pages and files: rewritten relative, checked on every build."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from conftest import CONFIG, FAST_EXPERIMENT, FAST_POST, cli, make_blog
from physai_blog.build import build
from physai_blog.errors import InputError
from physai_blog.paths import post_dir, up_to_root

ALFOLIO = CONFIG + "permalink: /blog/:year/:title/\n"
LINKING = '''\
---
title: Linking
date: 2025-11-30
---

See [the fast post](/blog/2026/fast/) and [its values](/t/blog/2026/fast/data/values.csv).

![a picture](/assets/img/pic.png)

A [missing post](/blog/2026/nowhere/) and a [missing file](notes.txt).
'''


def test_post_dir_fills_jekylls_placeholders():
    post = SimpleNamespace(slug="x", date=dt.date(2026, 3, 7), categories=["ML", "ml", "toy"])
    assert post_dir(post) == "posts/x/"
    assert post_dir(post, "/blog/:year/:title/") == "blog/2026/x/"
    assert post_dir(post, "/:categories/:year/:month/:day/:title/") == "ml/toy/2026/03/07/x/"
    assert post_dir(post, "/:short_year/:i_month/:i_day/:slug/") == "26/3/7/x/"
    post.categories = []   # no categories: the empty segment goes, as in Jekyll
    assert post_dir(post, "/:categories/:title/") == "x/"
    assert up_to_root("blog/2026/x/") == "../../../" and up_to_root("") == ""


@pytest.mark.parametrize("pattern, problem", [
    ("/blog/:year/", "must contain :title"),
    ("/blog/:title", "must end with '/'"),
    ("/blog/:week/:title/", "unknown placeholder ':week'"),
])
def test_a_bad_permalink_is_one_line_naming_the_file(tmp_path, pattern, problem):
    root = make_blog(tmp_path / "b", posts={}, experiments={},
                     config=CONFIG + f"permalink: {pattern}\n")
    with pytest.raises(InputError) as info:
        build(root)
    assert f"physai.yaml:4: key 'permalink': {problem}" in str(info.value.message)


@pytest.fixture(scope="module")
def alfolio_blog(tmp_path_factory):
    root = make_blog(tmp_path_factory.mktemp("permalinks") / "blog", config=ALFOLIO,
                     posts={"2026-02-01-fast.md": FAST_POST, "2025-11-30-linking.md": LINKING},
                     experiments={"fast.py": FAST_EXPERIMENT})
    (root / "assets/img").mkdir(parents=True)
    (root / "assets/img/pic.png").write_bytes(b"\x89PNG not really")
    return root, build(root)


def test_a_migrated_blog_keeps_every_url(alfolio_blog):
    root, report = alfolio_blog
    site = root / "site"
    post = site / "blog/2026/fast"
    for rel in ("index.html", "data/values.csv", "reproduce.zip", "fast.ipynb",
                "figures/curve.svg", "data/curve.zip", "code/curve.py"):
        assert (post / rel).is_file(), rel
    assert not (site / "posts").exists()
    page = (post / "index.html").read_text()
    assert "https://example.org/t/blog/2026/fast/" in page          # the citation block
    assert 'href="../../../assets/style.css"' in page
    assert 'href="blog/2026/fast/index.html"' in (site / "index.html").read_text()
    assert 'href="../blog/2026/fast/index.html"' in (site / "archive/index.html").read_text()
    assert "<id>https://example.org/t/blog/2026/fast/</id>" in (site / "feed.xml").read_text()
    assert sorted(report.posts) == ["fast", "linking"]


def test_root_relative_links_become_relative_and_are_published(alfolio_blog):
    root, _ = alfolio_blog
    page = (root / "site/blog/2025/linking/index.html").read_text()
    assert 'href="../../../blog/2026/fast/index.html"' in page
    assert 'href="../../../blog/2026/fast/data/values.csv"' in page   # base_url's path too
    assert 'src="../../../assets/img/pic.png"' in page
    assert (root / "site/assets/img/pic.png").read_bytes() == b"\x89PNG not really"


def test_every_link_that_resolves_to_nothing_is_a_warning_with_its_line(alfolio_blog):
    _, report = alfolio_blog
    broken = [w for w in report.warnings if "resolves to nothing" in w]
    assert broken == [
        "posts/2025-11-30-linking.md:10: link '/blog/2026/nowhere/' resolves to nothing in "
        "the site (no blog/2026/nowhere/index.html)",
        "posts/2025-11-30-linking.md:10: link 'notes.txt' resolves to nothing in the site "
        "(no blog/2025/linking/notes.txt)"]


def test_a_no_op_build_warns_again_and_the_cli_shows_it(alfolio_blog):
    root, _ = alfolio_blog
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    assert "linking.md:10: link '/blog/2026/nowhere/' resolves to nothing" in result.output


def test_verify_finds_a_post_where_its_permalink_put_it(alfolio_blog):
    from physai_blog.checks.verify import report, verify

    root, _ = alfolio_blog
    rows = verify(root, "fast", jobs=1)
    lines, error = report(rows)
    assert error is None and rows and all(r.file.startswith("blog/2026/fast/") for r in rows)


def test_a_post_the_permalink_puts_into_a_folder_of_the_site_is_an_error(tmp_path):
    post = "---\ntitle: Archive\ndate: 2026-01-01\n---\n\nText.\n"
    root = make_blog(tmp_path / "b", posts={"2026-01-01-archive.md": post}, experiments={},
                     config=CONFIG + "permalink: /:title/\n")
    with pytest.raises(InputError) as info:
        build(root)
    assert str(info.value.message).startswith(
        "posts/2026-01-01-archive.md:1: permalink '/:title/' puts this post at archive/, "
        "inside the site's own archive/ folder")
