"""physai.yaml is parsed once and kept by its text (content/config.py, through the front matter
cache): an unchanged file is not parsed again, a changed one is, and a damaged cache file is
ignored, with the very errors and lines a first parse gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONFIG, make_blog
from physai_blog.build import build
from physai_blog.content.config import CONFIG_CACHE, load_config
from physai_blog.content.front_matter import MappingCache
from physai_blog.errors import InputError, PhysaiError
from physai_blog.paths import CACHE_DIR

POST = "---\ntitle: A post\ndate: 2026-03-01\n---\n\nSome text.\n"


def blog(tmp_path: Path, config: str = CONFIG) -> Path:
    return make_blog(tmp_path / "blog", {"2026-03-01-a.md": POST}, {}, config=config)


def cache_file(root: Path) -> Path:
    return root / CACHE_DIR / CONFIG_CACHE


def error_of(root: Path) -> list[tuple]:
    """Every error of loading the config: (file, line, message)."""
    with pytest.raises(PhysaiError) as caught:
        load_config(root)
    errors = getattr(caught.value, "errors", [caught.value])
    assert all(isinstance(e, InputError) for e in errors)
    return [(e.path, e.line, e.message) for e in errors]


def test_an_unchanged_config_is_not_parsed_again(tmp_path):
    root = blog(tmp_path)
    build(root)
    assert cache_file(root).is_file()
    post = root / "posts/2026-03-01-a.md"
    post.write_text(post.read_text() + "\nMore text.\n")
    code = ("import sys\nfrom physai_blog.build import build\nbuild(sys.argv[1])\n"
            "print('yaml' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[-1] == "False"


def test_a_changed_config_is_read_again(tmp_path):
    root = blog(tmp_path)
    build(root)
    config = root / "physai.yaml"
    config.write_text(config.read_text().replace("Test Blog", "Renamed Blog"))
    build(root)
    assert "Renamed Blog" in (root / "site/index.html").read_text()
    assert load_config(root).title == "Renamed Blog"


@pytest.mark.parametrize("damage", ["garbage", "tampered", "truncated"])
def test_a_damaged_cache_is_ignored(tmp_path, damage):
    root = blog(tmp_path)
    build(root)
    path = cache_file(root)
    saved = json.loads(path.read_text())
    for entry in saved["entries"].values():
        entry[0]["$map"]["title"] = "Tampered Blog"
    path.write_text({"garbage": "\x00 not json", "tampered": json.dumps(saved),
                     "truncated": path.read_text()[:40]}[damage])
    assert load_config(root).title == "Test Blog"
    assert json.loads(path.read_text())["entries"]          # rewritten whole


BAD = ("title: Test Blog\nauthor: A\ntimeout: soon\nbase_url: https://example.org/t/\n"
       "jobz: 2\n")


@pytest.mark.parametrize("config", [BAD, "title: [unclosed\nauthor: A\n",
                                    "title: T\nnav:\n  - title: x\n    url: javascript:alert(1)\n"])
def test_errors_and_lines_are_those_of_a_first_parse(tmp_path, config):
    root = blog(tmp_path, config)
    (root / CACHE_DIR).mkdir()
    first = error_of(root)                        # no cache file yet
    assert all(line is not None for _, line, _ in first)
    again = error_of(root)                        # a cache file may exist now
    cache_file(root).write_text("\x00 damaged")
    damaged = error_of(root)
    assert first == again == damaged


def test_a_fixed_config_after_a_bad_one(tmp_path):
    root = blog(tmp_path, BAD)
    (root / CACHE_DIR).mkdir()
    first = error_of(root)
    assert [(rel, line) for rel, line, _ in first] == [("physai.yaml", 3), ("physai.yaml", 5)]
    assert "timeout" in first[0][2] and "did you mean 'jobs'" in first[1][2]
    (root / "physai.yaml").write_text(CONFIG)
    assert load_config(root).title == "Test Blog"
    (root / "physai.yaml").write_text(BAD)
    assert error_of(root) == first


def test_a_blog_without_a_cache_folder_gets_none(tmp_path):
    root = blog(tmp_path)
    assert load_config(root).title == "Test Blog"          # as `doctor` reads it
    assert not (root / CACHE_DIR).exists()



def test_a_cached_mapping_keeps_the_file_order_of_its_keys(tmp_path):
    """Validation reports invalid keys in file order: a cached parse must give that order."""
    text = "title: T\ntimeout: soon\nauthor: A\nnav:\n  - url: x\n    title: y\njobz: 1\n"
    first = MappingCache(tmp_path / "m.json")
    fresh, _ = first.load(text, "physai.yaml")
    first.save()
    cached, _ = MappingCache(tmp_path / "m.json").load(text, "physai.yaml")
    assert list(cached) == list(fresh) == ["title", "timeout", "author", "nav", "jobz"]
    assert list(cached["nav"][0]) == ["url", "title"]
