"""The post and page indexes: a one-post edit reads that post only, and every shortcut they
take gives what the long way gives (a fresh build from an empty cache), or an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TEXT_POST, fresh_site, make_blog, site_files, text_blog
from physai_blog import sealed
from physai_blog.build import build
from physai_blog.content.post_index import PostIndex
from physai_blog.content.posts import load_posts
from physai_blog.errors import InputError
from physai_blog.runs.cache import Cache
from physai_blog.runs.digests import DIGESTS

POST = TEXT_POST


@pytest.fixture
def reads(monkeypatch):
    """The post files read (Path.read_bytes) and the page manifests read, by build."""
    seen = {"posts": [], "manifests": 0}
    read_bytes, get_file = Path.read_bytes, Cache.get_file

    def counting_read(path):
        if path.parent.name == "posts":
            seen["posts"].append(path.name)
        return read_bytes(path)

    def counting_get(cache, kind, key, suffix):
        seen["manifests"] += kind == "pages"
        return get_file(cache, kind, key, suffix)

    monkeypatch.setattr(Path, "read_bytes", counting_read)
    monkeypatch.setattr(Cache, "get_file", counting_get)
    return seen


def test_an_edit_reads_the_edited_post_alone(tmp_path, reads):
    root = text_blog(tmp_path / "blog")
    build(root)
    edited = root / "posts" / "2026-01-03-p3.md"
    edited.write_text(edited.read_text() + "\nAn edit.\n")
    reads["posts"].clear()
    reads["manifests"] = 0
    report = build(root)
    assert reads["posts"] == ["2026-01-03-p3.md"]
    assert reads["manifests"] == 1     # the edited post's (a miss): five known from the index
    assert report.posts and len(report.posts) == 6
    assert "An edit." in (root / "site/posts/p3/index.html").read_text()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_title_edit_reaches_the_site_wide_pages(tmp_path):
    root = text_blog(tmp_path / "blog")
    build(root)
    post = root / "posts" / "2026-01-05-p5.md"
    post.write_text(post.read_text().replace("title: Post 5", "title: Renamed"))
    build(root)
    assert "Renamed" in (root / "site/index.html").read_text()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_post_changed_while_the_build_runs_is_an_error(tmp_path):
    root = text_blog(tmp_path / "blog")
    build(root)
    index = PostIndex(root / ".physai-cache" / "post-index.sealed", DIGESTS.digest, "x")
    load_posts(root, [], index=index)   # learns every post under schema "x"
    index.save()
    index = PostIndex(root / ".physai-cache" / "post-index.sealed", DIGESTS.digest, "x")
    posts = {p.slug: p for p in load_posts(root, [], index=index)}
    assert "_body" in vars(posts["p2"]) and vars(posts["p2"])["_body"] is None  # not read yet
    path = root / "posts" / "2026-01-02-p2.md"
    path.write_text(path.read_text().replace("Body of post 2", "Another body"))
    with pytest.raises(InputError, match="changed while this build ran; build again") as err:
        posts["p2"].body
    assert err.value.message.startswith("posts/2026-01-02-p2.md: changed while")
    assert posts["p4"].body == "\nBody of post 4.\n"   # an unchanged one reads its body


def test_what_a_post_depends_on_outside_its_file_is_checked_each_time(tmp_path):
    root = text_blog(tmp_path / "blog", 2)
    path = root / ".physai-cache" / "post-index.sealed"
    (root / ".physai-cache").mkdir()
    warnings: list[str] = []
    index = PostIndex(path, DIGESTS.digest, "x")
    first = {p.slug: p for p in load_posts(root, warnings, index=index)}
    index.save()
    assert first["p1"].experiment is None
    (root / "experiments" / "p1.py").write_text("from physai_blog import Experiment\n")
    again = {p.slug: p for p in load_posts(root, warnings,
                                           index=PostIndex(path, DIGESTS.digest, "x"))}
    assert again["p1"].experiment == "experiments/p1.py"
    assert again["p2"].experiment is None


def test_warnings_of_an_indexed_post_are_repeated(tmp_path):
    root = make_blog(tmp_path / "blog", {"2026-01-01-w.md": "---\ntitle: W\ndate: 2026-01-01\n"
                                                           "colour: red\n---\n\nBody.\n"},
                     experiments={})
    first = build(root)
    post = root / "posts" / "2026-01-01-w.md"
    (root / "posts" / "2026-01-02-other.md").write_text("---\ntitle: O\ndate: 2026-01-02\n"
                                                        "---\n\nOther.\n")
    again = build(root)
    message = "posts/2026-01-01-w.md:4: unknown front matter key 'colour'"
    assert any(w.startswith(message) for w in first.warnings)
    assert any(w.startswith(message) for w in again.warnings)
    assert post.exists()


def test_a_damaged_or_foreign_index_is_ignored(tmp_path, reads):
    root = text_blog(tmp_path / "blog", 3)
    build(root)
    index = root / ".physai-cache" / "post-index.sealed"
    saved = sealed.read(index)
    assert saved is not None and len(saved["entries"]) == 3
    assert len(PostIndex(index, DIGESTS.digest, saved["header"][1]).store) == 3
    index.write_bytes(index.read_bytes()[:-40])   # truncated: fails its checksum
    (root / "posts" / "2026-01-01-p1.md").write_text(POST.format(i=1, t=5))
    reads["posts"].clear()
    build(root)
    assert sorted(reads["posts"]) == ["2026-01-01-p1.md", "2026-01-02-p2.md",
                                      "2026-01-03-p3.md"]
    assert sealed.read(index) is not None          # written anew
    assert len(PostIndex(index, DIGESTS.digest, "another schema").store) == 0
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_damaged_cached_page_is_rendered_again(tmp_path, reads):
    root = text_blog(tmp_path / "blog", 3)
    build(root)
    page = next(p for p in (root / ".physai-cache" / "pages").glob("*.html")
                if b"Body of post 2" in p.read_bytes())
    page.write_bytes(page.read_bytes().replace(b"Body of post 2", b"Tampered here"))
    (root / "posts" / "2026-01-01-p1.md").write_text(POST.format(i=1, t=5))
    report = build(root)
    assert any("is corrupt" in w and "fails its sha256" in w for w in report.warnings)
    assert "Body of post 2" in (root / "site/posts/p2/index.html").read_text()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_sealed_file_reads_back_only_when_whole_and_ours(tmp_path):
    path = tmp_path / "x.sealed"
    value = {"a": [1, 2.5, "t", None, True], "b": {"c": []}}
    assert sealed.write(path, value) and sealed.read(path) == value
    whole = path.read_bytes()
    head, _, body = whole.partition(b"\n")
    foreign = head.replace(sealed.HEADER, sealed.HEADER.replace(b"physai-sealed 2",
                                                                b"physai-sealed 2 cpython-39"))
    for damaged in (whole[:-1], whole + b"x", foreign + b"\n" + body, b"", b"\n"):
        path.write_bytes(damaged)
        assert sealed.read(path) is None
    assert sealed.read(tmp_path / "missing") is None
    assert not sealed.write(tmp_path / "no-such-folder" / "x.sealed", value)


def test_sealed_entries_encode_again_only_what_changed(tmp_path, monkeypatch):
    path = tmp_path / "x.sealed"
    store = sealed.Entries(path, ["v", 1])
    for key in "abc":
        store.set(key, {"n": key, "list": [1, 2]})
    assert store.save({"a", "b", "c"}) and len(sealed.read(path)["entries"]) == 3
    blobs = sealed.read(path)["entries"]
    stat = path.stat()
    again = sealed.Entries(path, ["v", 1])
    assert again.get("a") == {"n": "a", "list": [1, 2]} and again.get("z") is None
    for key in "ac":                      # held (a) or not (c): a taker's own value
        taken = again.take(key)
        taken["list"].append(9)
        assert again.take(key) == again.get(key) == {"n": key, "list": [1, 2]}
    assert again.save({"a", "b", "c"}) and path.stat().st_ino == stat.st_ino   # not written
    encoded = []
    dumps = sealed.marshal.dumps
    monkeypatch.setattr(sealed.marshal, "dumps", lambda v: encoded.append(v) or dumps(v))
    again.get("b")["list"].append(3)      # changed in place, and said so
    again.changed("b")
    again.set("d", {"n": "d"})
    assert again.save({"a", "b", "d"})     # "c" is dropped
    assert [v for v in encoded if isinstance(v, dict) and "n" in v] == [
        {"n": "b", "list": [1, 2, 3]}, {"n": "d"}]
    kept = sealed.read(path)["entries"]
    assert sorted(kept) == ["a", "b", "d"] and kept["a"] == blobs["a"]   # carried as read
    third = sealed.Entries(path, ["v", 1])
    assert [third.get(k) for k in "abcd"] == [{"n": "a", "list": [1, 2]},
                                               {"n": "b", "list": [1, 2, 3]}, None, {"n": "d"}]
    assert len(sealed.Entries(path, ["v", 2])) == 0                    # another header
    sealed.write(path, {"header": ["v", 1], "entries": {"a": b"\xff not marshal"}})
    assert sealed.Entries(path, ["v", 1]).get("a") is None             # a damaged entry


@pytest.fixture
def renders(monkeypatch):
    """The slugs of the pages rendered, by build."""
    from physai_blog.render.pages import RenderJob

    done: list[str] = []
    real = RenderJob.render

    def counting(job, post, key, converter, fragments=None):
        done.append(post.slug)
        return real(job, post, key, converter, fragments)

    monkeypatch.setattr(RenderJob, "render", counting)
    return done


def test_a_page_with_a_changed_include_is_rendered_once_then_kept(tmp_path, renders):
    root = text_blog(tmp_path / "blog", 2)
    (root / "assets" / "img").mkdir(parents=True)
    (root / "assets/img/pic.png").write_bytes(b"\x89PNG first")
    post = root / "posts" / "2026-01-01-p1.md"
    post.write_text(post.read_text() + '\n{% include figure.liquid path="assets/img/pic.png" %}\n')
    build(root)
    (root / "assets/img/pic.png").write_bytes(b"\x89PNG second, longer")
    renders.clear()
    build(root)
    assert renders == ["p1"]                      # the include changed: rendered again
    renders.clear()
    (root / "posts" / "2026-01-02-p2.md").write_text(POST.format(i=2, t=7))
    build(root)
    assert renders == ["p2"]                      # and then kept, not rendered each build
    assert site_files(root / "site") == fresh_site(root, tmp_path)


@pytest.mark.parametrize("tag", ["{% post_url 2026-01-02-p2 %}", "{%post_url 2026-01-02-p2%}",
                                 "{%- post_url 2026-01-02-p2 -%}"])
def test_a_link_to_a_post_follows_its_new_url_however_the_tag_is_spaced(tmp_path, tag):
    root = text_blog(tmp_path / "blog", 2)
    post = root / "posts" / "2026-01-01-p1.md"
    post.write_text(post.read_text() + f"\nSee [the other]({tag}).\n")
    build(root)
    assert 'href="../../posts/p2/index.html"' in (root / "site/posts/p1/index.html").read_text()
    other = root / "posts" / "2026-01-02-p2.md"
    other.write_text(other.read_text().replace("tags: [t0]", "tags: [t0]\nslug: bee"))
    build(root)
    assert 'href="../../posts/bee/index.html"' in (root / "site/posts/p1/index.html").read_text()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_page_references_are_scanned_again_when_the_site_wide_inputs_change(tmp_path):
    from physai_blog.render.page_index import FILE, PageIndex

    root = text_blog(tmp_path / "blog", 2)
    build(root)
    cache = root / ".physai-cache"
    assert len(PageIndex(cache, "another stamp").store) == 0
    saved = sealed.read(cache / FILE)
    assert len(saved["entries"]) == 2 and len(PageIndex(cache, saved["header"]).store) == 2


def test_a_site_wide_change_renders_indexed_posts_in_workers_reading_each_body_once(
        tmp_path, reads):
    root = text_blog(tmp_path / "blog", 30)   # past PARALLEL_RENDER_MIN: forked workers
    build(root, jobs=2)
    config = root / "physai.yaml"
    config.write_text(config.read_text().replace("Test Blog", "Renamed Blog"))
    reads["posts"].clear()
    build(root, jobs=2)       # every page stale, every post from the index
    # Each body read once, lazily (the page index rescans them: its stamp changed), and
    # inherited by the render workers: once, not also by the load stage.
    assert sorted(reads["posts"]) == sorted(p.name for p in (root / "posts").iterdir())
    page = (root / "site/posts/p17/index.html").read_text()
    assert "Renamed Blog" in page and "Body of post 17." in page
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_no_op_build_keeps_the_digests_of_cached_pages(tmp_path, monkeypatch):
    """The no-op check asks only for the inputs' digests; saving just those dropped every
    cached page's, so the next one-post edit hashed all pages again (0.33 s at 2,000)."""
    from physai_blog.runs import digests

    monkeypatch.setattr(digests, "RACY", 0.0)   # every file counts as settled at once
    root = text_blog(tmp_path / "blog")
    build(root)
    edited = root / "posts" / "2026-01-03-p3.md"
    edited.write_text(edited.read_text() + "\nAn edit.\n")
    build(root)   # checks each cached page by its digest
    kept = root / ".physai-cache" / digests.FILE
    # (the process's own digests: those of other tests' blogs are kept with them)
    pages = {name for name in sealed.read(kept) if name.startswith(f"{root}/") and
             "/pages/" in name}
    assert len(pages) == 5
    for _ in range(2):   # a fresh process, whose no-op check learns one touched post
        monkeypatch.setattr(digests, "DIGESTS", digests.Digests())
        monkeypatch.setattr("physai_blog.runs.fingerprint.DIGESTS", digests.DIGESTS)
        (root / "posts" / "2026-01-02-p2.md").touch()
        assert build(root).up_to_date
        assert pages <= set(sealed.read(kept))


def test_a_body_edit_keeps_the_fields_validated_before(tmp_path, monkeypatch):
    """A post whose bytes changed but not its front matter keeps the fields its index entry
    has: no YAML parse (the parsed front matter cache keeps only what the last build parsed,
    so editing another post each time parsed, and imported YAML, every time).  A changed
    front matter is parsed again."""
    from physai_blog.content import front_matter

    root = text_blog(tmp_path / "blog")
    build(root)
    parsed = []
    load = front_matter.MappingCache.load

    def counting(cache, text, rel, line=1):
        parsed.extend([rel] if rel.startswith("posts/") else [])   # physai.yaml: each build
        return load(cache, text, rel, line)

    monkeypatch.setattr(front_matter.MappingCache, "load", counting)
    for name in ("2026-01-02-p2.md", "2026-01-04-p4.md"):
        post = root / "posts" / name
        post.write_text(post.read_text() + "\nA body edit.\n")
        assert build(root).warnings == []
    assert parsed == []
    assert "A body edit." in (root / "site/posts/p4/index.html").read_text()
    post = root / "posts" / "2026-01-04-p4.md"
    post.write_text(post.read_text().replace("tags: [t0]", "tags: [t0, new]"))
    build(root)
    assert parsed == ["posts/2026-01-04-p4.md"]
    assert (root / "site/tags/new/index.html").is_file()
    assert site_files(root / "site") == fresh_site(root, tmp_path)


def test_a_post_from_the_index_is_the_post_read_from_its_file(tmp_path):
    """Every attribute as Post(...) gives it, and no two posts share a default list."""
    root = text_blog(tmp_path / "blog", 3)
    (root / "posts" / "2026-01-02-p2.md").write_text(
        "---\ntitle: Two\ndate: 2026-01-02\ndescription: d\nparams: {lr: 0.1}\n---\n\nBody.\n")
    path = root / ".physai-cache" / "post-index.sealed"
    path.parent.mkdir()
    DIGESTS.load(root / ".physai-cache")
    read = load_posts(root, [], index=PostIndex(path, DIGESTS.digest, "s"))
    indexed = load_posts(root, [], index=PostIndex(path, DIGESTS.digest, "s"))
    for a, b in zip(read, indexed):
        assert b.sha256 is not None and a.body == b.body and a.source == b.source
        assert isinstance(b.source, Path)
        assert {**vars(a), "_source": None} == {**vars(b), "_source": None}
    indexed[0].tags.append("new")
    assert indexed[1].tags != indexed[0].tags and indexed[2].authors is not indexed[1].authors
    # A body edit keeps the fields validated before (the post gets a copy of the entry,
    # which is written back for the new bytes): still the post read from its file.
    two = root / "posts" / "2026-01-02-p2.md"
    two.write_text(two.read_text() + "\nMore.\n")
    edited = load_posts(root, [], index=PostIndex(path, DIGESTS.digest, "s"))
    again = load_posts(root, [], index=PostIndex(path, DIGESTS.digest, "s"))
    for a, b, c in zip(load_posts(root, []), edited, again):
        assert a.body == b.body == c.body
        assert {**vars(a), "_source": None, "_body": None, "sha256": None} == \
            {**vars(b), "_source": None, "_body": None, "sha256": None} == \
            {**vars(c), "_source": None, "_body": None, "sha256": None}
    assert again[1].params == {"lr": 0.1} and again[1].sha256 == edited[1].sha256


def test_a_site_page_damaged_in_place_is_drawn_again_though_known_by_its_stat(tmp_path,
                                                                                monkeypatch):
    """The site-wide pages are verified by stat signature (not read and hashed at every
    build): an edit in place of the cache entry changes its ctime, and it is drawn again."""
    import os
    import time

    from physai_blog.runs import digests

    monkeypatch.setattr(digests, "RACY", 0.0)    # every file counts as settled at once
    root = text_blog(tmp_path / "blog", 3)
    build(root)
    time.sleep(0.02)
    post = root / "posts" / "2026-01-01-p1.md"
    post.write_text(post.read_text() + "\nMore of post 1.\n")
    build(root)                                  # the entry's files are known by stat now
    from physai_blog.runs import cache as cache_module

    hashed, real = [], cache_module.file_sha256
    monkeypatch.setattr(cache_module, "file_sha256", lambda path: hashed.append(str(path)) or
                        real(path))
    time.sleep(0.02)
    post.write_text(post.read_text() + "\nAnd more.\n")
    build(root)
    assert not [p for p in hashed if "/site-pages/" in p]    # known by their stat
    entry, = (root / ".physai-cache" / "site-pages").glob("*/index.html")
    text, before = entry.read_bytes(), entry.stat()
    assert b"Post 2" in text
    with open(entry, "r+b") as fh:               # same size, same inode...
        fh.write(text.replace(b"Post 2", b"Post X", 1))
    os.utime(entry, ns=(before.st_atime_ns, before.st_mtime_ns))   # ...and mtime put back
    time.sleep(0.02)
    post.write_text(post.read_text() + "\nAnd again.\n")
    # A full build, one that uses the site-wide pages (a body-edit build keeps site/'s
    # copies, which are not hard links of this entry: it never reads it)
    (root / ".physai-cache" / "edit-base.sealed").unlink()
    report = build(root)
    assert any("site-pages" in w and "fails its sha256" in w for w in report.warnings)
    assert b"Post X" not in (root / "site" / "index.html").read_bytes()
    assert site_files(root / "site") == fresh_site(root, tmp_path)
