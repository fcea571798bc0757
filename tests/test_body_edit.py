"""The body-edit build (body_edit.py, output/patch.py): an edit of plain posts' bodies
renders those pages alone and patches the site; its site is, byte for byte, what a full
build from an empty cache gives, and whatever it cannot vouch for goes the full way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import TEXT_POST, fresh_site, site_files, text_blog
from physai_blog import pipeline
from physai_blog.build import build
from physai_blog.errors import PhysaiError
from physai_blog.output import patch

POST = TEXT_POST


@pytest.fixture
def full(monkeypatch):
    """How many builds took the full pipeline."""
    count = {"n": 0}
    real = pipeline.run_pipeline

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", counting)
    return count


def edit(root: Path, i: int, text: str) -> None:
    path = next((root / "posts").glob(f"*-p{i}.md"))
    path.write_text(path.read_text() + text)


def settled(root: Path) -> Path:
    """A blog built twice (the second build leaves the back buffer a body edit patches)."""
    build(root)
    edit(root, 1, "\nA first edit.\n")
    build(root)
    return root


def goes_the_full_way(root: Path, tmp: Path, full: dict, i: int, text: str) -> None:
    """Edit post ``i``: the full pipeline builds, and the site is a full build's."""
    full["n"] = 0
    edit(root, i, text)
    build(root)
    assert full["n"] == 1
    assert site_files(root / "site") == fresh_site(root, tmp)


def test_a_body_edit_renders_that_page_alone_and_gives_the_full_builds_site(tmp_path, full):
    root = settled(text_blog(tmp_path / "blog"))
    full["n"] = 0
    edit(root, 3, "\nA new *paragraph* with $x^2$ and a [link](https://example.org/).\n")
    report = build(root)
    assert full["n"] == 0 and report.ok and not report.up_to_date
    assert report.write.written == 1 and len(report.posts) == 6
    assert site_files(root / "site") == fresh_site(root, tmp_path)
    assert b"A new <em>paragraph</em>" in (root / "site/posts/p3/index.html").read_bytes()
    assert build(root).up_to_date


def test_edits_one_after_another_each_give_the_full_builds_site(tmp_path, full):
    """Body edits between builds that add, remove or retitle posts: the list of where the
    back buffer differs from site/ holds through each kind of write."""
    root = settled(text_blog(tmp_path / "blog"))
    steps = [
        ("body", lambda: edit(root, 2, "\nTwo.\n")),
        ("body", lambda: edit(root, 4, "\nFour.\n")),
        ("body", lambda: edit(root, 2, "\nTwo again.\n")),
        ("full", lambda: (root / "posts/2026-01-09-p9.md").write_text(POST.format(i=9, t=0))),
        ("body", lambda: edit(root, 9, "\nNine.\n")),          # its folder is new to the back
        ("body", lambda: edit(root, 9, "\nNine again.\n")),
        ("full", lambda: (root / "posts/2026-01-05-p5.md").unlink()),
        ("full", lambda: edit(root, 1, "\nOne.\n")),           # the back buffer still has p5
        ("body", lambda: edit(root, 1, "\nOne again.\n")),
        ("full", lambda: edit_title(root, 3)),
        ("body", lambda: edit(root, 3, "\nThree.\n")),
    ]
    for kind, step in steps:
        before = full["n"]
        step()
        report = build(root)
        assert report.ok and full["n"] - before == (kind == "full"), kind
        assert site_files(root / "site") == fresh_site(root, tmp_path), kind


def edit_title(root: Path, i: int) -> None:
    path = next((root / "posts").glob(f"*-p{i}.md"))
    path.write_text(path.read_text().replace(f"title: Post {i}", f"title: Post {i}, renamed"))


@pytest.mark.parametrize("body, error", [
    ("\nSee {% post_url 2026-01-02-p2 %}.\n", None),      # links to another post
    ("\nSee [nothing](../p9/).\n", None),                 # a broken link: a warning
    ("\n{{ value('x') }}\n", "value"),                    # the full build reports it
])
def test_what_a_body_edit_cannot_vouch_for_goes_the_full_way(tmp_path, full, body, error):
    root = settled(text_blog(tmp_path / "blog"))
    full["n"] = 0
    edit(root, 3, body)
    if error is None:
        build(root)
        assert full["n"] == 1
        assert site_files(root / "site") == fresh_site(root, tmp_path)
    else:
        with pytest.raises(PhysaiError, match=error):
            build(root)
        assert full["n"] == 1


def test_a_post_with_an_experiment_goes_the_full_way(sample, full):
    root, _ = sample
    post = root / "posts" / "2026-01-08-decay.md"
    for text in ("\nOne more line.\n", "\nAnd another.\n"):
        build(root)
        post.write_text(post.read_text() + text)
    full["n"] = 0
    build(root)
    assert full["n"] == 1


def test_a_back_buffer_that_does_not_hold_its_record_is_not_swapped_in(tmp_path, full):
    root = settled(text_blog(tmp_path / "blog"))
    back = root / ".physai-cache" / "site-back" / "posts" / "p4" / "index.html"
    back.unlink()                         # replaced, not changed in place: a new inode
    back.write_bytes(b"<p>not our page</p>")
    goes_the_full_way(root, tmp_path, full, 2, "\nTwo.\n")


def test_a_file_removed_from_the_site_comes_back(tmp_path, full):
    root = settled(text_blog(tmp_path / "blog"))
    (root / "site" / "posts" / "p4" / "index.html").unlink()
    for text in ("\nTwo.\n", "\nTwo again.\n", "\nAnd again.\n"):
        edit(root, 2, text)
        build(root)
        assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_body_edit_stopped_before_its_swap_leaves_the_site_as_it_was(tmp_path, monkeypatch):
    root = settled(text_blog(tmp_path / "blog"))
    before = site_files(root / "site")

    def stopped(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(patch, "swap", stopped)
    edit(root, 2, "\nTwo.\n")
    with pytest.raises(KeyboardInterrupt):
        build(root)
    assert site_files(root / "site") == before
    monkeypatch.undo()
    build(root)
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_body_edit_keeps_the_indexes_of_every_other_post(tmp_path, full, monkeypatch):
    """It saves the post and page indexes whole: the next full build still knows every
    other post (reads only the post it must)."""
    root = settled(text_blog(tmp_path / "blog"))
    edit(root, 2, "\nTwo.\n")
    build(root)
    read, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes",
                        lambda path: read.append(path.name) or real(path))
    edit_title(root, 4)
    build(root)
    # (read once by the body-edit build, which declines a front matter edit)
    assert {name for name in read if name.endswith(".md")} == {"2026-01-04-p4.md"}
    assert os.path.exists(root / "site/posts/p4/index.html")


def test_a_post_whose_source_the_site_publishes_goes_the_full_way(tmp_path, full):
    """A link to a post's .md publishes that file: its copy in the site changes too."""
    root = text_blog(tmp_path / "blog")
    edit(root, 1, "\nIts [source](/posts/2026-01-03-p3.md).\n")
    settled(root)
    goes_the_full_way(root, tmp_path, full, 3, "\nThree.\n")
    assert build(root).up_to_date


def test_a_post_a_notebook_reads_goes_the_full_way(tmp_path, full, monkeypatch):
    """A notebook's ``inputs:`` naming a post: its run reads that file."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    root = text_blog(tmp_path / "blog")
    code = ("from physai_blog.runtime import notebook as nb\n"
            "nb.log_value('words', len(open('2026-01-03-p3.md').read().split()))\n")
    book = new_notebook(cells=[
        new_raw_cell("---\ntitle: Words\ndate: 2026-02-10\ninputs: [2026-01-03-p3.md]\n---"),
        new_markdown_cell("p3 has {{ value('words') }} words."), new_code_cell(code)])
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(book, root / "posts/2026-02-10-words.ipynb")
    settled(root)
    goes_the_full_way(root, tmp_path, full, 3, "\nmany more words in post three now\n")


def test_a_file_written_into_the_site_or_the_back_buffer_is_not_published(tmp_path, full):
    root = settled(text_blog(tmp_path / "blog"))
    (root / "site" / "CNAME").write_text("blog.example.org\n")   # the next back buffer's
    for text in ("\nTwo.\n", "\nTwo again.\n"):
        edit(root, 2, text)
        build(root)
        assert site_files(root / "site") == fresh_site(root, tmp_path)
    stray = root / ".physai-cache/site-back/posts/p4/index.html.99999.tmp"
    stray.write_text("half-written")         # a stopped build's leftover
    goes_the_full_way(root, tmp_path, full, 2, "\nAnd again.\n")


def test_an_input_saved_after_the_check_is_not_rendered_under_the_old_key(tmp_path, full,
                                                                           monkeypatch):
    """physai.yaml saved between the no-op check and the read: the page it gives must not be
    kept under the key of the config the check saw (a later build would find it there)."""
    from physai_blog import body_edit

    root = settled(text_blog(tmp_path / "blog"))
    config = root / "physai.yaml"
    before, real = config.read_text(), body_edit.load_config

    def racing(path):
        config.write_text(before.replace("Test Blog", "Renamed Blog"))
        return real(path)

    monkeypatch.setattr(body_edit, "load_config", racing)
    full["n"] = 0
    edit(root, 3, "\nThree.\n")
    build(root)
    assert full["n"] == 1
    monkeypatch.undo()
    build(root)                              # the new config: every page again
    config.write_text(before)                # undone: the pages as they were
    build(root)
    assert b"Renamed Blog" not in (root / "site/posts/p3/index.html").read_bytes()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_back_buffer_it_cannot_write_is_left_to_the_full_write(tmp_path, full):
    root = settled(text_blog(tmp_path / "blog"))
    edit(root, 3, "\nThree.\n")
    build(root)                               # the back buffer's p3 is due next time
    page = root / ".physai-cache/site-back/posts/p3/index.html"
    page.unlink()
    page.mkdir()                              # a folder where the file belongs
    goes_the_full_way(root, tmp_path, full, 3, "\nThree again.\n")
    full["n"] = 0
    edit(root, 3, "\nAnd again.\n")
    build(root)
    assert full["n"] == 0                     # repaired: a body edit again
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_new_version_of_a_rendering_library_is_a_change(monkeypatch):
    from physai_blog.runs import fingerprint

    before = fingerprint.head({})
    found = fingerprint.installed_versions()
    assert found["markdown"] and found["pygments"] and found["jinja2"]
    monkeypatch.setattr(fingerprint, "installed_versions",
                        lambda: {**found, "pygments": "0.0"})
    assert fingerprint.head({}) != before
