"""Posts: Markdown files with YAML front matter, read and validated up front.

Every error names the file and the line (of the file, not of the front matter block), and all
the errors of all posts are collected before the build stops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.front_matter import MappingCache
from physai_blog.content.notebook import experiment_var, notebook_script, prose, read_notebook
from physai_blog.content.post_index import PostIndex, front_key
from physai_blog.content.schema import (
    ANY,
    BOOLEAN,
    MARKDOWN,
    REQUIRED,
    Invalid,
    Option,
    Schema,
    Type,
    number,
    text,
)
from physai_blog.content.spec import PARAMS, RESOURCES, SEEDS
from physai_blog.errors import InputError, collect
from physai_blog.runtime.names import SLUG, slugify

POSTS_DIR = "posts"
EXPERIMENTS_DIR = "experiments"
DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
SLUG_RULE = "letters, digits, - and _ (it becomes a URL)"


def _text_list(value) -> list[str]:
    if isinstance(value, str):  # "a, b" or "a b": al-folio's way of writing a list
        return [v for v in re.split(r"[,\s]+", value.strip()) if v] \
            if "," in value or " " in value else [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise Invalid()


def _authors(value) -> list[str]:
    """Names: one text (split at commas), a list of them, or al-folio's (distill's) list of
    {name: ..., affiliations: ...}."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("name"), str)
                                       or isinstance(v, (str, int, float)) for v in value):
        return [v["name"] if isinstance(v, dict) else str(v) for v in value]
    raise Invalid()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise Invalid()


def _slug(value) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise Invalid()
    return value


def _script(value) -> str | None:
    if value is False or value == "none":
        return None
    if not isinstance(value, str) or not value.endswith(".py") or "\0" in value:
        raise Invalid()
    return value


def _al_folio(name: str, what: str) -> Option:
    return Option(name, ANY, None, f"al-folio's {what}; accepted and ignored.", ignored=True)


TEXT_LIST = Type("a list of text (or one text)", _text_list, list)
FRONT_MATTER = Schema([
    Option("title", text(numbers=True), REQUIRED, "The post's title."),
    Option("date", Type("a date like 2026-01-08", _date, dt.date), REQUIRED,
           "Publication date; posts are listed newest first.", example="date: 2026-01-08"),
    Option("description", text(numbers=True), "", "One-line summary for the index and the feed."),
    Option("tags", TEXT_LIST, [], "Tags, each with its own page: a list, or one text split at "
                                  "commas and spaces."),
    Option("categories", TEXT_LIST, [], "al-folio's categories, kept with the post."),
    Option("authors", Type("a list of text (or one text, split at commas)", _authors, list),
           [], "The post's authors (al-folio's list of {name: ...} too); default: "
               "physai.yaml's `author`."),
    Option("draft", BOOLEAN, False, "A draft is built only with `build --drafts`."),
    Option("slug", Type(SLUG_RULE, _slug, str), None,
           "The post's URL name; default: the file name without its date."),
    Option("experiment", Type("a path to a .py file (e.g. experiments/x.py)", _script, str), None,
           "The experiment script; default: `experiments/<slug>.py` if it exists; `none`: no "
           "experiment."),
    Option("params", PARAMS, {}, "Overrides of the experiment's params for this post."),
    Option("seeds", SEEDS, None, "The seeds to run; default: the experiment's."),
    Option("timeout", number(unit="seconds"), None,
           "Per-run timeout; default: the experiment's, then physai.yaml's."),
    Option("tolerance", number(positive=False), None,
           "Relative tolerance of `physai-blog verify`; default: the experiment's, then 0."),
    Option("max_output_mb", number(unit="megabytes"), None,
           "Largest stored output of one run; default: physai.yaml's."),
    Option("resources", RESOURCES, {},
           "What each run needs, e.g. {gpu: 1}; added to the experiment's `resources`."),
    Option("inputs", TEXT_LIST, [], "A notebook post's input files (or folders), beside it: "
                                    "copied into its working folder, part of its cache key."),
    Option("markdown", MARKDOWN, None,
           "How this post's Markdown is read; default: physai.yaml's `markdown`."),
    _al_folio("layout", "page layout"),
    _al_folio("giscus_comments", "comments switch"),
    _al_folio("related_posts", "related-posts switch"),
    _al_folio("featured", "featured-post flag"),
    _al_folio("thumbnail", "thumbnail image"),
    _al_folio("toc", "table-of-contents settings"),
    _al_folio("pretty_table", "table styling switch"),
    _al_folio("bibliography", "per-post .bib file (physai.yaml's `bibliography` is used)"),
    _al_folio("tabs", "tabs switch"),
    _al_folio("chart", "chart libraries switch (chart fences are shown as code)"),
    _al_folio("mermaid", "diagram switch (mermaid fences are shown as code)"),
    _al_folio("images", "image compare/slider switches"),
    _al_folio("pseudocode", "pseudocode switch"),
    _al_folio("typograms", "typograms switch"),
    _al_folio("map", "map switch"),
    _al_folio("code_diff", "code-diff switch"),
    _al_folio("tikzjax", "TikZ switch"),
    _al_folio("disqus_comments", "comments switch"),
    _al_folio("img", "preview image"),
    _al_folio("importance", "ordering weight"),
    _al_folio("category", "category"),
    _al_folio("redirect", "redirect address"),
    _al_folio("distill", "distill layout settings"),
], unknown="unknown front matter key {key!r} (ignored)", strict=False)

#: Every key front matter may have (kept for older imports).
KNOWN_KEYS = frozenset(FRONT_MATTER.names)


@dataclass(kw_only=True)
@FRONT_MATTER.attributes
class Post:
    """A post: where it came from, its body, and one attribute per option of FRONT_MATTER."""

    source: Path
    rel: str
    body_line: int
    body: str | None = None        # None: read from ``source`` when first asked for
    sha256: str | None = None      # of the file's bytes the fields were read from
    lines: dict[str, int] = field(default_factory=dict)
    notebook: list | None = None   # the cells after the front matter, for a .ipynb post

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)


def _body(post: Post) -> str:
    """A post made from the index reads its body on first use, from the bytes it was
    indexed with: a file edited since (during this build) is an error, never a page whose
    body and fields disagree."""
    if post._body is None:
        try:
            raw = post.source.read_bytes()
        except OSError as exc:
            raise InputError(post.rel, None, f"cannot read: {exc.strerror or exc}")
        if hashlib.sha256(raw).hexdigest() != post.sha256:
            raise InputError(post.rel, None, "changed while this build ran; build again")
        post._body = split_front_matter(raw.decode("utf-8"), post.rel)[2]
    return post._body


def _set_body(post: Post, body: str | None) -> None:
    post._body = body


def _source(post: Post) -> Path:
    """The file, as a Path made on first use: a post made from the index keeps its path as
    text (2,000 Paths were a tenth of loading a 2,000-post blog)."""
    source = post._source
    if not isinstance(source, Path):
        source = post._source = Path(source)
    return source


def _set_source(post: Post, source: Path | str) -> None:
    post._source = source


# After @dataclass: its __init__ sets ``body`` and ``source`` through the properties.
Post.body = property(_body, _set_body)
Post.source = property(_source, _set_source)


def split_front_matter(text: str, rel: str) -> tuple[str, int, str, int]:
    """(front matter text, its first line, body, body's first line).  Lines are
    ``str.splitlines``'s; only the head of the file is split when the front matter ends in
    it (every line of a prefix but its last is a line of the whole text)."""
    for lines in (text[:_HEAD].splitlines(keepends=True), None):
        whole = lines is None
        if whole:
            lines = text.splitlines(keepends=True)
        if not lines or lines[0].strip() != "---":
            raise InputError(rel, 1, "missing front matter: the file must start with a `---` "
                                     "line")
        for i in range(1, len(lines) if whole or len(text) <= _HEAD else len(lines) - 1):
            if lines[i].strip() in ("---", "..."):
                end = sum(map(len, lines[:i + 1]))
                return "".join(lines[1:i]), 2, text[end:], i + 2
        if len(text) <= _HEAD:
            break
    raise InputError(rel, 1, "front matter is not closed: add a `---` line after it")


_HEAD = 4096   # characters: front matter is usually far shorter


def read_post(path: Path, root: Path, warnings: list[str], mappings=None,
              experiments: frozenset[str] | None = None, index: PostIndex | None = None,
              rel: str | None = None, body_only: bool = False) -> Post | None:
    """A post from its file; ``mappings`` (a front_matter_cache.MappingCache) may know its
    front matter; ``experiments``: the casefolded names in ``experiments/``, when known;
    ``index`` keeps what was read, for the next build; ``body_only``: None unless the index
    has its front matter as it is (a body edit: ``body_edit.py``)."""
    rel = rel or path.relative_to(root).as_posix()
    if path.suffix == ".ipynb":
        return read_notebook_post(path, root, rel, warnings)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(rel, None, f"cannot read: {exc.strerror or exc}"
                         + (" (a broken symlink or a symlink loop)" if path.is_symlink() else ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(rel, raw[: exc.start].count(b"\n") + 1, "not valid UTF-8")
    if not text.strip():
        raise InputError(rel, 1, "empty file: a post needs front matter and a body")
    fm_text, fm_line, body, body_line = split_front_matter(text, rel)
    sha256 = hashlib.sha256(raw).hexdigest()
    front = front_key(fm_text, fm_line)
    entry = index.same_front(rel, sha256, front) if index is not None else None
    if entry is not None:   # the body alone changed: the fields as validated before
        post = _from_entry(entry, path, rel, root, warnings, experiments, sha256)
        if post is not None:
            post.body = body
            return post
    if body_only:
        return None
    if mappings is not None:
        data, lines = mappings.load(fm_text, rel, fm_line)
    else:
        from physai_blog.content.yamlio import load_mapping

        data, lines = load_mapping(fm_text, rel, fm_line)
    kept = (index, sha256, front) if index is not None else None
    post = post_from_front_matter(data, lines, path, rel, root, body, body_line, warnings,
                                  experiments, kept)
    post.sha256 = sha256
    return post


def indexed_post(index: PostIndex, path: Path | str, rel: str, root: Path, warnings: list[str],
                 experiments: frozenset[str]) -> Post | None:
    """The post as the index has it for the file's bytes now, or None (read it)."""
    sha256, entry = index.lookup(path, rel)
    if entry is None:
        return None
    return _from_entry(entry, path, rel, root, warnings, experiments, sha256)


def _from_entry(entry: dict, path: Path | str, rel: str, root: Path, warnings: list[str],
                experiments: frozenset[str] | None, sha256: str) -> Post | None:
    """The post an index entry keeps (its body read when asked for), or None when what its
    fields depend on outside its file, checked now, says to read it."""
    fields = PostIndex.fields(entry)
    try:
        experiment = _experiment_path(fields.get("experiment"), entry["given"], fields["slug"],
                                      rel, entry["lines"].get("experiment"), root, experiments)
    except InputError:
        return None   # reading it reports the error
    warnings.extend(entry["warnings"])
    # Assembled as Post(...) would make it, without its __init__ (a tenth of loading a big
    # blog): every attribute, in the entry's own dicts and lists (test_post_index compares
    # the two).
    fields.update(experiment=experiment, _source=path, rel=rel, body_line=entry["body_line"],
                  _body=None, sha256=sha256, lines=entry["lines"], notebook=None)
    post = object.__new__(Post)
    post.__dict__ = fields
    return post


def read_notebook_post(path: Path, root: Path, rel: str, warnings: list[str]) -> Post:
    """A notebook post: front matter in its first cell; executed at build (notebooks.py)."""
    from physai_blog.content.yamlio import load_mapping

    fm_text, cells = read_notebook(path, rel)
    data, lines = load_mapping(fm_text, rel, 2)
    if "experiment" in data:
        raise InputError(rel, lines.get("experiment"), "a notebook post is its own experiment "
                         "(its code cells, with `exp = Experiment(...)`); remove `experiment:`")
    data["experiment"] = None
    post = post_from_front_matter(data, lines, path, rel, root, "", 1, warnings)
    if experiment_var(notebook_script(cells, rel)):   # its code cells are an experiment script
        post.experiment, post.body = rel, prose(cells)
    else:                                             # a plain notebook: executed whole
        post.notebook = cells
    return post


def post_from_front_matter(data: dict, lines: dict, path: Path, rel: str, root: Path, body: str,
                           body_line: int, warnings: list[str],
                           experiments: frozenset[str] | None = None,
                           kept: tuple[PostIndex, str, str] | None = None) -> Post:
    """``kept``: (the index, the file's sha256, its ``front_key``), to keep a valid post
    for the next build."""
    before = len(warnings)
    values, errors = FRONT_MATTER.validate(data, lines, rel, warnings)
    match = DATE_PREFIX.match(path.stem)
    slug = values["slug"] or (match.group(2) if match else path.stem)
    if data.get("slug") is None and not SLUG.match(slug):  # a given slug is FRONT_MATTER's
        errors.append(InputError(rel, lines.get("slug", 1), f"slug {slug!r} (from the file "
                                 f"name) must be {SLUG_RULE}; rename the file or set `slug:`"))
    try:
        experiment = _experiment_path(values["experiment"], "experiment" in data, slug, rel,
                                      lines.get("experiment"), root, experiments)
    except InputError as exc:
        errors.append(exc)
    collect(errors)
    if kept is not None:
        kept[0].put(rel, kept[1], {**FRONT_MATTER.defaults(), **values, "slug": slug}, lines,
                    body_line, "experiment" in data, warnings[before:], kept[2])
    return Post(source=path, rel=rel, body=body, body_line=body_line, lines=lines,
                **{**values, "slug": slug, "experiment": experiment})


def _experiment_path(value: str | None, given: bool, slug: str, rel: str, line: int | None,
                     root: Path, experiments: frozenset[str] | None = None) -> str | None:
    """The experiment script, relative to the root: ``value`` when ``given`` (None: no
    experiment), else experiments/<slug>.py if it exists (not even a stat when the listing
    of ``experiments/`` says it does not)."""
    if not given:
        if experiments is not None and f"{slug}.py".casefold() not in experiments:
            return None
        default = root / EXPERIMENTS_DIR / f"{slug}.py"
        return default.relative_to(root).as_posix() if default.is_file() else None
    if value is None:
        return None
    try:
        target = (root / value).resolve()
        inside = target.is_relative_to(root.resolve())
        found = inside and target.is_file()
    except (OSError, RuntimeError) as exc:  # too long, a symlink loop
        raise InputError(rel, line,
                         f"experiment {value!r}: {getattr(exc, 'strerror', None) or exc}")
    if not inside:
        raise InputError(rel, line, f"experiment {value!r} lies outside the blog folder")
    if not found:
        raise InputError(rel, line, f"experiment file {value!r} not found")
    return target.relative_to(root.resolve()).as_posix()


def post_files(root: Path) -> list[Path]:
    """Every ``posts/*.md`` but hidden ones (editor locks, ``._x.md``).  A broken symlink, a
    symlink loop or a folder named ``x.md`` is kept, so that reading it reports the problem."""
    return [root / POSTS_DIR / name for name in post_names(root)]


def post_names(root: Path) -> list[str]:
    """The names of ``post_files``, sorted."""
    try:
        return sorted(name for name in os.listdir(root / POSTS_DIR)
                      if name.endswith((".md", ".ipynb")) and not name.startswith("."))
    except OSError:   # no posts/ folder (or not a folder)
        return []


def load_posts(root: Path, warnings: list[str], include_drafts: bool = False,
               front_matter_cache: Path | None = None,
               index: PostIndex | None = None) -> list[Post]:
    """Every post, newest first; all errors of all posts collected into one report.
    ``front_matter_cache``: a file keeping parsed front matter (front_matter.py);
    ``index``: posts as last read (post_index.py), for files whose bytes did not change."""
    mappings = MappingCache(front_matter_cache) if front_matter_cache is not None else None
    try:
        experiments = frozenset(name.casefold() for name in os.listdir(root / EXPERIMENTS_DIR))
    except OSError:
        experiments = frozenset()
    posts, errors = [], []
    folder = f"{root}/{POSTS_DIR}"
    for name in post_names(root):
        rel = f"{POSTS_DIR}/{name}"
        try:
            # Text, as the no-op check named it (its digests are keyed so): a Path when read
            post = indexed_post(index, f"{folder}/{name}", rel, root, warnings, experiments) \
                if index is not None and name.endswith(".md") else None
            if post is None:
                post = read_post(root / rel, root, warnings, mappings, experiments, index, rel)
        except InputError as exc:
            errors.extend(getattr(exc, "errors", [exc]))
            continue
        if post.draft and not include_drafts:
            continue
        posts.append(post)
    by_slug: dict[str, Post] = {}
    for post in posts:
        if post.slug in by_slug:
            errors.append(InputError(post.rel, post.line_of("slug") or 1,
                                     f"duplicate slug {post.slug!r}: also used by "
                                     f"{by_slug[post.slug].rel}"))
        by_slug[post.slug] = post
    if mappings is not None:
        mappings.save()
    if index is not None:
        index.save()
    collect(errors)
    posts.sort(key=lambda p: (p.date, p.slug), reverse=True)
    return posts


def tag_slug(tag: str) -> str:
    return slugify(tag)
