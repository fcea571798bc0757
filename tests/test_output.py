"""The write stage: the back buffer is brought up to date in place, and whatever happened to it
(or to site/) in between, the new site holds exactly the files of the build."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from physai_blog import sealed
from physai_blog.runs import digests
from physai_blog.output import tree
from physai_blog.output.write import SITE_MANIFEST, write_site


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
            if p.is_file() and not p.is_symlink()}


def assert_exact(site: Path, files: dict[str, bytes]) -> None:
    """site/ holds these files and nothing else, its manifest lists them, no symlinks."""
    found = site_files(site)
    manifest = json.loads(found.pop(SITE_MANIFEST))
    assert found == files
    assert manifest == {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    assert not [p for p in site.rglob("*") if p.is_symlink()]


def site_v(n: int) -> dict[str, bytes]:
    files = {f"posts/p{i}/index.html": f"<p>post {i}</p>".encode() for i in range(30)}
    files["posts/p3/index.html"] = f"<p>post 3, version {n}</p>".encode()
    files["index.html"] = f"index {n}".encode()
    files["assets/style.css"] = b"body{}"
    return files


def test_a_one_file_edit_replaces_one_file_and_keeps_the_old_site_as_back_buffer(tmp_path):
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    for n in range(4):
        report = write_site(site, site_v(n), state)
        assert_exact(site, site_v(n))
        if n >= 2:   # the back buffer is in use: only what changed is written
            assert report.written == 2 and report.swapped
    back = state.parent / "site-back"
    assert_exact(back, site_v(2))               # the site before, kept for the next build
    # Unchanged files are shared with the site (hard links), not copied.
    assert os.stat(back / "posts/p0/index.html").st_ino == os.stat(site / "posts/p0/index.html").st_ino
    assert not list(tmp_path.glob(".site.*"))
    unchanged = write_site(site, site_v(3), state)
    assert unchanged.written == 0 and not unchanged.swapped


def test_a_tampered_back_buffer_or_site_never_leaks_into_the_new_site(tmp_path):
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"do not touch")
    write_site(site, site_v(0), state)
    write_site(site, site_v(1), state)
    back = state.parent / "site-back"
    # In the back buffer: a file edited in place (same size), a foreign file, a folder where
    # a file belongs, a symlink out of the tree, a missing file.
    edited = back / "posts/p5/index.html"
    edited.write_bytes(edited.read_bytes().replace(b"5", b"X"))
    (back / "posts/p6/stray.html").write_bytes(b"stray")
    (back / "posts/p7/index.html").unlink()
    (back / "posts/p7/index.html").mkdir()
    (back / "posts/p7/index.html/deep.txt").write_bytes(b"deep")
    (back / "posts/p8/index.html").unlink()
    (back / "posts/p8/index.html").symlink_to(outside)
    (back / "assets/style.css").unlink()
    # In site/: an unchanged file edited in place (it must not be linked into the new site).
    live = site / "posts/p9/index.html"
    live.write_bytes(live.read_bytes().replace(b"9", b"Y"))
    write_site(site, site_v(2), state)
    assert_exact(site, site_v(2))
    assert outside.read_bytes() == b"do not touch"


def test_a_lost_or_garbled_state_file_costs_speed_not_correctness(tmp_path):
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    write_site(site, site_v(0), state)
    write_site(site, site_v(1), state)
    state.write_text("{not json")
    write_site(site, site_v(2), state)
    assert_exact(site, site_v(2))
    sealed.write(state, {"site": {"index.html": [[1, 2, 3, "x"]]}, "sources": []})
    write_site(site, site_v(3), state)
    assert_exact(site, site_v(3))
    # Records of another format (lists, as before they were packed): none of them matches.
    stat = os.lstat(site / "index.html")
    listed = [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
              hashlib.sha256(site_v(3)["index.html"]).hexdigest()]
    sealed.write(state, {"site": {"index.html": [listed]}, "sources": {},
                         "trees": {"site": {"files": [], "folders": {"posts": [1, 2, 3]}}}})
    write_site(site, site_v(4), state)
    assert_exact(site, site_v(4))
    state.unlink()
    write_site(site, site_v(5), state)
    assert_exact(site, site_v(5))


def test_files_read_from_the_cache_are_hashed_only_when_they_change(tmp_path):
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    page = tmp_path / "cache" / "page.html"
    page.write_bytes(b"<p>one</p>")
    write_site(site, {"index.html": page}, state)
    sources = sealed.read(state)["sources"]
    assert sources[str(page)][3] == hashlib.sha256(b"<p>one</p>").hexdigest()
    page.unlink()                                # a new entry at the same path
    page.write_bytes(b"<p>two</p>")
    write_site(site, {"index.html": page}, state)
    assert_exact(site, {"index.html": b"<p>two</p>"})


def test_files_from_the_cache_are_hard_linked_and_others_copied(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    (cache / "pages").mkdir(parents=True)
    page = cache / "pages" / "index.html"
    page.write_bytes(b"<p>cached</p>")
    elsewhere = tmp_path / "include.html"             # a blog file (al-folio include)
    elsewhere.write_bytes(b"<p>include</p>")
    files = {"index.html": page, "include.html": elsewhere, "feed.xml": b"<feed/>"}
    write_site(site, files, cache / "site-files.sealed", link_from=cache)
    assert_exact(site, {"index.html": b"<p>cached</p>", "include.html": b"<p>include</p>",
                        "feed.xml": b"<feed/>"})
    assert os.stat(site / "index.html").st_ino == os.stat(page).st_ino
    assert os.stat(site / "include.html").st_ino != os.stat(elsewhere).st_ino   # never the blog's


def test_folder_records_spare_the_listing_and_any_change_to_a_folder_voids_them(
        tmp_path, monkeypatch):
    monkeypatch.setattr(digests, "RACY", 0.0)     # folders count as settled at once
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    listed, one_level = [], []
    real_listing, real_one = tree.listing, tree._lists_only
    monkeypatch.setattr(tree, "listing", lambda folder: listed.append(folder.name)
                        or real_listing(folder))
    monkeypatch.setattr(tree, "_lists_only", lambda path, *a: one_level.append(path)
                        or real_one(path, *a))
    for n in range(3):
        write_site(site, site_v(n), state)
        time.sleep(0.02)                          # past the timestamp tick of the writes
    listed.clear()
    one_level.clear()
    write_site(site, site_v(3), state)            # nothing touched: the records hold
    assert listed == [] and assert_exact(site, site_v(3)) is None
    assert one_level == [str(state.parent / "site-back")]   # its top folder alone
    back = state.parent / "site-back"
    tampers = (lambda: (back / "posts/p6/stray.html").write_bytes(b"stray"),
               lambda: (back / "stray.txt").write_bytes(b"stray"),
               lambda: (back / "posts/p7/index.html").unlink(),
               lambda: (back / "posts/p8/index.html").rename(back / "posts/p8/x.html"),
               lambda: os.symlink("/etc/hostname", back / "posts/p9/link.html"))
    for version, tamper in enumerate(tampers, start=4):
        time.sleep(0.02)   # RACY is 0 here: the tick of the last write must have passed
        tamper()
        listed.clear()
        write_site(site, site_v(version), state)
        assert listed == ["site-back"]            # the tampered back buffer, listed in full
        assert_exact(site, site_v(version))


def test_a_file_added_to_an_unchanged_site_is_seen(tmp_path):
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    write_site(site, site_v(0), state)
    write_site(site, site_v(1), state)
    assert not write_site(site, site_v(1), state).swapped     # nothing to do
    (site / "posts/p3/stray.html").write_bytes(b"from an experiment")
    assert write_site(site, site_v(1), state).swapped
    assert_exact(site, site_v(1))


def test_a_one_file_edit_stats_only_the_folders_it_changed_and_records_them_as_they_are(
        tmp_path, monkeypatch):
    monkeypatch.setattr(digests, "RACY", 0.0)     # folders count as settled at once
    site, state = tmp_path / "site", tmp_path / "cache" / "site-files.sealed"
    state.parent.mkdir()
    for n in range(3):
        write_site(site, site_v(n), state)
        time.sleep(0.02)                          # past the timestamp tick of the writes
    recording, stats = [], []
    real_record, real_lstat = tree.record, os.lstat

    def record(*args, **kwargs):
        recording.append(True)
        try:
            return real_record(*args, **kwargs)
        finally:
            recording.clear()

    monkeypatch.setattr(tree, "record", record)
    monkeypatch.setattr(os, "lstat", lambda path, *a, **k: (stats.append(str(path)) if recording
                                                            else None) or real_lstat(path, *a, **k))
    files = site_v(3)
    files["posts/p31/index.html"] = b"<p>a new post</p>"
    write_site(site, files, state)
    assert_exact(site, files)
    # posts/p3 (its page replaced), posts/p31 (new) and posts (a folder added): not all 32
    assert sorted(p.rsplit("/", 2)[-2:][-1] for p in stats) == ["p3", "p31", "posts"]
    monkeypatch.setattr(os, "lstat", real_lstat)
    kept = sealed.read(state)["trees"]["site"]
    assert kept == real_record(site, {**files, SITE_MANIFEST: b""})   # as a full record says


def test_a_page_the_caller_vouches_for_is_linked_without_a_stat(tmp_path, monkeypatch):
    site, cache = tmp_path / "site", tmp_path / "cache"
    (cache / "pages").mkdir(parents=True)
    page = cache / "pages" / "key.html"
    page.write_bytes(b"<p>cached</p>")
    stats, real_stat = [], os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: stats.append(str(path))
                        or real_stat(path, *a, **k))
    files = {"posts/a/index.html": str(page), "index.html": b"<p>index</p>"}
    sha = hashlib.sha256(b"<p>cached</p>").hexdigest()
    vouched = {"posts/a/index.html": (str(page), sha)}
    write_site(site, files, cache / "site-files.sealed", link_from=cache, vouched=vouched)
    assert str(page) not in stats
    assert_exact(site, {"posts/a/index.html": b"<p>cached</p>", "index.html": b"<p>index</p>"})
    assert os.stat(site / "posts/a/index.html").st_ino == os.stat(page).st_ino
    # Unchanged since: the site is checked by size, which for a vouched page takes a stat.
    assert not write_site(site, files, cache / "site-files.sealed", link_from=cache,
                          vouched=vouched).swapped
    (site / "posts/a/index.html").write_bytes(b"<p>edited in site/</p>")
    page.unlink()
    page.write_bytes(b"<p>cached</p>")            # the cache entry, put back
    assert write_site(site, files, cache / "site-files.sealed", link_from=cache,
                      vouched=vouched).swapped
    assert_exact(site, {"posts/a/index.html": b"<p>cached</p>", "index.html": b"<p>index</p>"})
    # A file put at that site path after all (an included file of the same name): its own
    # bytes, not the page's digest.
    other = tmp_path / "include.html"
    other.write_bytes(b"<p>another file</p>")
    write_site(site, {**files, "posts/a/index.html": other}, cache / "site-files.sealed",
               link_from=cache, vouched=vouched)
    assert_exact(site, {"posts/a/index.html": b"<p>another file</p>",
                        "index.html": b"<p>index</p>"})


def test_the_manifest_is_the_json_of_the_digests():
    from physai_blog.output.write import manifest_of

    for digests in ({}, {"a": "1"}, {"posts/é\"x\\/index.html": "ab", "index.html": "cd",
                                     "b\n": "\u2028"}):
        assert manifest_of(digests) == (json.dumps(digests, sort_keys=True, indent=0)
                                      + "\n").encode()
