"""The site config, ``physai.yaml``: typed, validated up front, every error with file and line.

Parsed as front matter is, through a ``MappingCache`` (``.physai-cache/physai-yaml.json``,
keyed by the file's text): a build whose physai.yaml did not change does not import YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from physai_blog.content.schema import (
    MARKDOWN,
    POSITIVE_INTEGER,
    REQUIRED,
    Invalid,
    Option,
    Schema,
    Type,
    choice,
    mapping,
    number,
    text,
)
from physai_blog.content.front_matter import MappingCache
from physai_blog.errors import InputError, collect
from physai_blog.links import safe_href
from physai_blog.paths import CACHE_DIR, DEFAULT_PERMALINK, permalink_problem

CONFIG_FILE = "physai.yaml"
CONFIG_CACHE = "physai-yaml.json"   # in the blog's cache folder


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


def _nav(value) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise Invalid()
    if not all(isinstance(item, dict) and set(item) == {"title", "url"} for item in value):
        raise Invalid("each nav entry needs exactly `title` and `url`")
    for item in value:   # a link from data: only the schemes a reader can trust
        if safe_href(str(item["url"])) is None:
            raise Invalid(f"nav url {str(item['url'])!r} is not a safe link (allowed: http, "
                          "https, mailto, doi:, or a relative path)")
    return tuple(NavLink(str(item["title"]), str(item["url"])) for item in value)


def _permalink(value) -> str:
    if not isinstance(value, str):
        raise Invalid()
    problem = permalink_problem(value.strip())
    if problem:
        raise Invalid(problem)
    return value.strip()



SITE = Schema([
    Option("title", text(), REQUIRED, "Name of the blog: the header, page titles, the feed."),
    Option("author", text(), "Anonymous",
           "Default author of every post (front matter `authors` overrides it)."),
    Option("description", text(), "", "One-line description shown on the index and in the feed."),
    Option("base_url", text(), "https://example.org/",
           "Absolute URL the site is published at; for citations and the feed, never for links."),
    Option("bibliography", text(name="a path to a .bib file"), None,
           "A BibTeX file for `[@key]` citations, relative to the blog root."),
    Option("nav", Type("a list of {title, url}", _nav, tuple), (),
           "Extra links in the header: a list of {title, url}."),
    Option("timeout", number(unit="seconds"), 600.0,
           "Default per-run timeout (front matter `timeout` overrides it)."),
    Option("max_output_mb", number(unit="megabytes"), 512.0,
           "Largest stored output of one run (front matter `max_output_mb` overrides it)."),
    Option("jobs", POSITIVE_INTEGER, None,
           "Parallel experiment workers; default: the number of cores."),
    Option("language", text(), "en", "Language of the pages (`<html lang>`)."),
    Option("footer", text(), "", "Footer text, e.g. a license line."),
    Option("figure_style", mapping("a mapping of matplotlib rcParams"), {},
           "matplotlib rcParams applied to every figure (part of every figure's cache key)."),
    Option("executor", choice("executor", "local", "dask"), "local",
           "Where runs execute: `local` (a process pool on this machine) or `dask`."),
    Option("scheduler", text(name="an address like tcp://host:8786"), None,
           "Dask scheduler address; default: a LocalCluster (or `cluster`)."),
    Option("cluster", mapping("a mapping like {kind: slurm, cores: 8, memory: 16GB}"), {},
           "A cluster to start for the dask executor: {kind: local|slurm|pbs|..., its options}."),
    Option("permalink", Type("a pattern like /blog/:year/:title/", _permalink, str),
           DEFAULT_PERMALINK, "Where each post is published, with Jekyll's placeholders "
           "(`:year`, `:month`, `:day`, `:title`, `:categories`); al-folio's is "
           "`/blog/:year/:title/`."),
    Option("markdown", MARKDOWN,
           "python-markdown", "How posts' Markdown is read: `kramdown` gives al-folio posts the "
           "structure Jekyll's kramdown (GFM) gives them (front matter `markdown` overrides it)."),
], subject="key {key!r}", expected="{subject}: expected {text}, got {value}")


@dataclass(frozen=True, kw_only=True)
@SITE.attributes
class SiteConfig:
    """The options of ``physai.yaml``: one attribute per option of ``SITE``."""


def load_config(root: Path) -> SiteConfig:
    path = root / CONFIG_FILE
    rel = CONFIG_FILE
    if not path.is_file():
        raise InputError(rel, None, f"no {CONFIG_FILE} in {root}: is this a physai-blog folder? "
                                    "(create one with `physai-blog new`)")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(rel, exc.object[: exc.start].count(b"\n") + 1, "not valid UTF-8")
    except OSError as exc:
        raise InputError(rel, None, f"cannot read: {exc.strerror or exc}")
    cache = root / CACHE_DIR
    # Kept only where a build made the cache folder (build.py, before loading): `doctor` or
    # `verify` on a blog without one writes nothing.
    mappings = MappingCache(cache / CONFIG_CACHE if cache.is_dir() else None)
    data, lines = mappings.load(source, rel)
    mappings.save()
    values, errors = SITE.validate(data, lines, rel)
    collect(errors)
    return SiteConfig(**values)
