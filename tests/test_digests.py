"""Input digests are reused by stat signature (runs/digests.py): only while device, inode,
size, mtime and ctime are unchanged, never for a file that had just changed when it was
hashed, and never from a damaged digests file.  So an edit that keeps the size and restores
the mtime is still seen, as when every input was hashed on every build."""

from __future__ import annotations

import os
import time

import pytest

from conftest import make_blog
from physai_blog.build import build
from physai_blog.runs import digests
from physai_blog.runs.digests import FILE, Digests

FAKE = "00" * 32


def settle(monkeypatch) -> None:
    """Files written by the test count as settled at once (RACY is 2 s)."""
    monkeypatch.setattr(digests, "RACY", 0.0)
    time.sleep(0.02)   # past the coarse timestamp tick of the writes before


def test_a_settled_file_is_known_by_its_stat(tmp_path, monkeypatch):
    path = tmp_path / "post.md"
    path.write_text("first version\n")
    settle(monkeypatch)
    known = Digests()
    real = known.digest(path)
    signature, _ = known.known[str(path)]
    known.known[str(path)] = (signature, bytes.fromhex(FAKE))
    assert known.digest(path) == bytes.fromhex(FAKE)        # not read again: same stat
    mtime = path.stat().st_mtime_ns
    time.sleep(0.02)
    path.write_text("other version\n")                      # same size...
    os.utime(path, ns=(mtime, mtime))                        # ...and the old mtime
    assert path.stat().st_mtime_ns == mtime
    assert known.digest(path) not in (real, bytes.fromhex(FAKE))   # the ctime moved


def test_a_file_that_had_just_changed_is_hashed_every_time(tmp_path):
    path = tmp_path / "post.md"
    path.write_text("fresh\n")
    known = Digests()
    assert known.digest(path) is not None
    assert str(path) not in known.known and not known.dirty
    assert known.digest(tmp_path / "missing") is None


@pytest.mark.parametrize("damage", ["body", "checksum", "garbage"])
def test_a_damaged_digests_file_is_ignored(tmp_path, monkeypatch, damage):
    path = tmp_path / "post.md"
    path.write_text("content\n")
    settle(monkeypatch)
    first = Digests()
    real = first.digest(path)
    first.save(tmp_path)
    saved = (tmp_path / FILE).read_bytes()
    checksum, _, body = saved.partition(b"\n")
    assert real in body
    (tmp_path / FILE).write_bytes({
        "body": checksum + b"\n" + body.replace(real, bytes.fromhex(FAKE)),
        "checksum": b"0" * 64 + b"\n" + body, "garbage": b"\xff\x00"}[damage])
    second = Digests()
    second.load(tmp_path)
    assert second.known == {} and second.digest(path) == real


def test_an_edit_that_keeps_size_and_mtime_is_rebuilt(tmp_path, monkeypatch):
    post = "---\ntitle: A post\ndate: 2026-03-01\n---\n\nThe value is 1.\n"
    root = make_blog(tmp_path / "blog", {"2026-03-01-a.md": post}, {})
    settle(monkeypatch)
    build(root)
    assert build(root).up_to_date
    path = root / "posts/2026-03-01-a.md"
    mtime = path.stat().st_mtime_ns
    time.sleep(0.02)
    path.write_text(post.replace("is 1.", "is 2."))
    os.utime(path, ns=(mtime, mtime))
    report = build(root)
    assert not report.up_to_date
    assert "The value is 2." in (root / "site/posts/a/index.html").read_text()


def test_a_fresh_process_stats_instead_of_reading(tmp_path, monkeypatch):
    root = make_blog(tmp_path / "blog", {"2026-03-01-a.md": "---\ntitle: A\ndate: 2026-03-01"
                                                          "\n---\n\nText.\n"}, {})
    settle(monkeypatch)
    build(root)
    saved = (root / ".physai-cache" / FILE).read_bytes()
    assert str(root / "posts/2026-03-01-a.md").encode() in saved
    assert str(root / "physai.yaml").encode() in saved
