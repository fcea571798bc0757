"""Front matter parsed once and kept by the hash of its text: a cached parse is exactly the
fresh one, whatever YAML types it holds; a damaged cache file is ignored."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from physai_blog.content.front_matter import MappingCache
from physai_blog.content.yamlio import load_mapping

FRONT = """title: "It's a post: déjà vu"
date: 2026-01-02
updated: 2026-01-03 10:20:30+02:00
tags: [a, b]
authors:
  - Ada
  - name: Bob
    affiliation: Lab
params: {lr: 0.001, steps: 100, big: 123456789012345678901234567890, flag: true, none: null}
ratio: .inf
nan: .nan
seeds: [0, 1, 2]
"""


def same(a, b) -> bool:
    """Equal, with the same types all the way down (1 != 1.0 != True here)."""
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_a_cached_parse_is_the_fresh_parse(tmp_path):
    path = tmp_path / "front-matter.json"
    fresh = load_mapping(FRONT, "posts/x.md", 2)
    first = MappingCache(path)
    assert same(first.load(FRONT, "posts/x.md", 2)[0], fresh[0])
    first.save()
    second = MappingCache(path)
    assert len(second.entries) == 1
    data, lines = second.load(FRONT, "posts/x.md", 2)
    assert same(data, fresh[0]) and lines == fresh[1]
    assert lines["date"] == 3                        # file lines, not front matter lines
    assert isinstance(data["date"], dt.date) and data["updated"].utcoffset().seconds == 7200


def test_unused_entries_are_dropped_and_a_damaged_file_is_ignored(tmp_path):
    path = tmp_path / "front-matter.json"
    cache = MappingCache(path)
    cache.load("title: A\n", "a.md")
    cache.load("title: B\n", "b.md")
    cache.save()
    cache = MappingCache(path)
    cache.load("title: A\n", "a.md")
    cache.save()
    assert len(json.loads(path.read_text())["entries"]) == 1
    saved = json.loads(path.read_text())
    key = next(iter(saved["entries"]))
    saved["entries"][key][0]["$map"]["title"] = "Tampered"
    path.write_text(json.dumps(saved))
    assert MappingCache(path).load("title: A\n", "a.md")[0] == {"title": "A"}  # checksum


def test_what_json_cannot_hold_is_parsed_every_time(tmp_path):
    path = tmp_path / "front-matter.json"
    cache = MappingCache(path)
    text = "title: T\nblob: !!binary aGVsbG8=\nset: !!set {a, b}\n"
    data, _ = cache.load(text, "x.md")
    assert data["blob"] == b"hello" and data["set"] == {"a", "b"}
    cache.save()
    assert not path.exists() or json.loads(path.read_text())["entries"] == {}


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.floats(allow_nan=False), st.dates())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner,
                                                 max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcdefghij_", min_size=1, max_size=8), values,
                       max_size=5))
def test_any_mapping_round_trips_through_the_cache(tmp_path_factory, mapping):
    import yaml

    text = yaml.safe_dump(mapping, allow_unicode=True)
    fresh = load_mapping(text, "x.md")
    path = tmp_path_factory.mktemp("fm") / "front-matter.json"
    cache = MappingCache(path)
    cache.load(text, "x.md")
    cache.save()
    cached = MappingCache(path).load(text, "x.md")
    assert same(cached[0], fresh[0]) and cached[1] == fresh[1]
