"""Posts: Markdown files with YAML front matter, read and validated up front.

Every error names the file and the line (of the file, not of the front matter block), and all
the errors of all posts are collected before the build stops.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from physai_blog.errors import InputError, collect
from physai_blog.runtime.names import SLUG, slugify
from physai_blog.content.spec import check_params, check_seeds

POSTS_DIR = "posts"
EXPERIMENTS_DIR = "experiments"
DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")

KNOWN_KEYS = {
    # al-folio's fields, accepted as they are
    "layout", "title", "date", "description", "tags", "categories", "giscus_comments",
    "related_posts", "featured", "thumbnail", "toc", "pretty_table", "bibliography",
    # physai-blog's own
    "authors", "slug", "experiment", "params", "seeds", "timeout", "tolerance", "draft",
    "max_output_mb", "resources",
}


@dataclass
class Post:
    source: Path
    rel: str
    slug: str
    title: str
    date: dt.date
    body: str
    body_line: int
    description: str = ""
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    draft: bool = False
    experiment: str | None = None
    params: dict = field(default_factory=dict)
    seeds: list[int] | None = None
    timeout: float | None = None
    tolerance: float | None = None
    max_output_mb: float | None = None
    resources: dict = field(default_factory=dict)   # e.g. {gpu: 1, memory: 8GB}
    lines: dict[str, int] = field(default_factory=dict)
    notebook: list | None = None   # the cells after the front matter, for a .ipynb post

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)


def split_front_matter(text: str, rel: str) -> tuple[str, int, str, int]:
    """(front matter text, its first line, body, body's first line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError(rel, 1, "missing front matter: the file must start with a `---` line")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), 2, "".join(lines[i + 1:]), i + 2
    raise InputError(rel, 1, "front matter is not closed: add a `---` line after it")


def _as_list(value, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value.strip()) if v] if "," in value or " " in value \
            else [value]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise ValueError(f"{key!r} must be a list of text (or one text)")


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError("'date' must be a date like 2026-01-08")


def read_post(path: Path, root: Path, warnings: list[str], mappings=None) -> Post:
    """A post from its file; ``mappings`` (a front_matter_cache.MappingCache) may know its
    front matter."""
    rel = path.relative_to(root).as_posix()
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
    if mappings is not None:
        data, lines = mappings.load(fm_text, rel, fm_line)
    else:
        from physai_blog.content.yamlio import load_mapping

        data, lines = load_mapping(fm_text, rel, fm_line)
    return post_from_front_matter(data, lines, path, rel, root, body, body_line, warnings)


def read_notebook_post(path: Path, root: Path, rel: str, warnings: list[str]) -> Post:
    """A notebook post: front matter in its first cell; executed at build (notebooks.py)."""
    from physai_blog.content.notebook import read_notebook
    from physai_blog.content.yamlio import load_mapping

    fm_text, cells = read_notebook(path, rel)
    data, lines = load_mapping(fm_text, rel, 2)
    if "experiment" in data:
        raise InputError(rel, lines.get("experiment"), "a notebook post is its own experiment; "
                                                       "remove `experiment:`")
    data["experiment"] = None
    post = post_from_front_matter(data, lines, path, rel, root, "", 1, warnings)
    post.notebook = cells
    return post


def post_from_front_matter(data: dict, lines: dict, path: Path, rel: str, root: Path, body: str,
                           body_line: int, warnings: list[str]) -> Post:
    errors: list[InputError] = []

    def fail(key, message):
        errors.append(InputError(rel, lines.get(key, 1), message))

    for key in data:
        if key not in KNOWN_KEYS:
            hint = get_close_matches(key, sorted(KNOWN_KEYS), 1)
            warnings.append(f"{rel}:{lines.get(key)}: unknown front matter key {key!r} (ignored)"
                            + (f"; did you mean {hint[0]!r}?" if hint else ""))
    values: dict = {}
    for key in ("title", "description"):
        value = data.get(key)
        if key == "title" and (value is None or (isinstance(value, str) and not value.strip())):
            fail(key, "missing required key 'title'")
        elif value is not None and not isinstance(value, (str, int, float)):
            fail(key, f"{key!r} must be text")
        elif value is not None:
            values[key] = str(value).strip()
    if "date" not in data or data["date"] is None:
        fail("date", "missing required key 'date' (e.g. date: 2026-01-08)")
    else:
        try:
            values["date"] = _as_date(data["date"])
        except ValueError as exc:
            fail("date", str(exc))
    for key in ("tags", "categories", "authors"):
        try:
            values[key] = _as_list(data.get(key), key)
        except ValueError as exc:
            fail(key, str(exc))
    for key in ("draft",):
        if key in data and not isinstance(data[key], bool):
            fail(key, f"{key!r} must be true or false")
        else:
            values[key] = bool(data.get(key, False))
    for key in ("timeout", "tolerance", "max_output_mb"):
        value = data.get(key)
        if value is None:
            continue
        positive = key != "tolerance"
        number = not isinstance(value, bool) and isinstance(value, (int, float)) \
            and value == value  # not NaN
        if not number or (value <= 0 if positive else value < 0):
            fail(key, f"{key!r} must be a {'positive' if positive else 'non-negative'} number")
        else:
            values[key] = float(value)
    if "resources" in data:
        value = data["resources"]
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float, str)) and not isinstance(v, bool)
                for k, v in value.items()):
            fail("resources", "'resources' must be a mapping like {gpu: 1, memory: 8GB}")
        else:
            values["resources"] = dict(value)
    if "params" in data:
        try:
            check_params(data["params"], rel, lines.get("params"))
            values["params"] = dict(data["params"])
        except InputError as exc:
            errors.append(exc)
    if data.get("seeds") is not None:
        try:
            check_seeds(data["seeds"], rel, lines.get("seeds"), "seeds")
            values["seeds"] = list(data["seeds"])
        except InputError as exc:
            errors.append(exc)

    stem = path.stem
    match = DATE_PREFIX.match(stem)
    slug = data.get("slug", match.group(2) if match else stem)
    slug_ok = isinstance(slug, str) and SLUG.match(slug)
    if not slug_ok:
        fail("slug", f"slug {slug!r} must be letters, digits, - and _ (it becomes a URL)")

    try:
        values["experiment"] = _experiment_path(data, lines, slug if slug_ok else None, rel, root)
    except InputError as exc:
        errors.append(exc)
    collect(errors)
    return Post(source=path, rel=rel, slug=slug, body=body, body_line=body_line, lines=lines,
                **values)


def _experiment_path(data: dict, lines: dict, slug: str | None, rel: str,
                     root: Path) -> str | None:
    if "experiment" in data:
        value = data["experiment"]
        if value is None or value is False or value == "none":
            return None
        if not isinstance(value, str) or not value.endswith(".py") or "\0" in value:
            raise InputError(rel, lines.get("experiment"),
                             "'experiment' must be a path to a .py file, e.g. experiments/x.py")
        try:
            target = (root / value).resolve()
            inside = target.is_relative_to(root.resolve())
            found = inside and target.is_file()
        except (OSError, RuntimeError) as exc:  # too long, a symlink loop
            raise InputError(rel, lines.get("experiment"),
                             f"experiment {value!r}: {getattr(exc, 'strerror', None) or exc}")
        if not inside:
            raise InputError(rel, lines.get("experiment"),
                             f"experiment {value!r} lies outside the blog folder")
        if not found:
            raise InputError(rel, lines.get("experiment"), f"experiment file {value!r} not found")
        return target.relative_to(root.resolve()).as_posix()
    if slug is None:
        return None
    default = root / EXPERIMENTS_DIR / f"{slug}.py"
    return default.relative_to(root).as_posix() if default.is_file() else None


def post_files(root: Path) -> list[Path]:
    """Every ``posts/*.md`` but hidden ones (editor locks, ``._x.md``).  A broken symlink, a
    symlink loop or a folder named ``x.md`` is kept, so that reading it reports the problem."""
    folder = root / POSTS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".md", ".ipynb") and not p.name.startswith("."))


def load_posts(root: Path, warnings: list[str], include_drafts: bool = False,
               front_matter_cache: Path | None = None) -> list[Post]:
    """Every post, newest first; all errors of all posts collected into one report.
    ``front_matter_cache``: a file keeping parsed front matter (front_matter_cache.py)."""
    from physai_blog.content.front_matter import MappingCache

    mappings = MappingCache(front_matter_cache) if front_matter_cache is not None else None
    posts, errors = [], []
    for path in post_files(root):
        try:
            post = read_post(path, root, warnings, mappings)
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
    collect(errors)
    posts.sort(key=lambda p: (p.date, p.slug), reverse=True)
    return posts


def tag_slug(tag: str) -> str:
    return slugify(tag)
