"""Where things live, named once: a blog's output and cache folders, the package's own files."""

from __future__ import annotations

import re
from pathlib import Path

SITE_DIR = "site"                 # the built site, under the blog's root
CACHE_DIR = ".physai-cache"       # runs, figures, pages ... (runs/cache.py)
PACKAGE = Path(__file__).parent   # physai_blog/
THEME = PACKAGE / "theme"         # the default templates and static files
SCAFFOLD = PACKAGE / "scaffold"   # what `physai-blog new` copies
RUNTIME = PACKAGE / "runtime"     # the experiment API, shipped inside every reproduce.zip


def runtime_files() -> dict[str, Path]:
    """The files of the package a reader's bundle needs to rerun an experiment, by their path
    in the bundle: the package's ``__init__`` and the whole ``runtime`` subpackage."""
    files = {"physai_blog/__init__.py": PACKAGE / "__init__.py"}
    for path in sorted(RUNTIME.glob("*.py")):
        files[f"physai_blog/runtime/{path.name}"] = path
    return files


# -- where a post is published ----------------------------------------------------------------

#: A post's folder by default: ``posts/<slug>/``.  al-folio's is ``/blog/:year/:title/``.
DEFAULT_PERMALINK = "/posts/:title/"
PLACEHOLDER = re.compile(r":([a-z_]+)")
PLACEHOLDERS = ("year", "month", "day", "i_month", "i_day", "short_year", "title", "slug",
                "categories")


def permalink_problem(pattern: str) -> str | None:
    """What is wrong with a ``permalink`` pattern, or None: it names the post (``:title`` or
    ``:slug``, so no two posts share a folder), ends in ``/`` (a post is a folder: its
    downloads lie beside its page) and uses Jekyll's placeholders only."""
    unknown = [name for name in PLACEHOLDER.findall(pattern) if name not in PLACEHOLDERS]
    if unknown:
        return (f"unknown placeholder ':{unknown[0]}' (available: "
                f"{', '.join(':' + p for p in PLACEHOLDERS)})")
    if not {"title", "slug"} & set(PLACEHOLDER.findall(pattern)):
        return "must contain :title (or :slug), e.g. /blog/:year/:title/"
    if not pattern.endswith("/"):
        return "must end with '/' (each post is a folder, its downloads beside its page)"
    if any(part in (".", "..") for part in pattern.split("/")):
        return "must not contain '.' or '..' segments"
    return None


def post_dir(post, permalink: str = DEFAULT_PERMALINK) -> str:
    """The folder of ``post`` (anything with ``slug``, ``date``, ``categories``) in the site,
    as Jekyll builds a permalink: ``blog/2026/physics-of-ai/`` for ``/blog/:year/:title/``.
    Every page, download and URL of a post is found from here."""
    if permalink == DEFAULT_PERMALINK:   # asked for several times per post: the usual case
        return f"posts/{post.slug}/"     # quickly (a slug has no '/' and no '.')
    date = post.date
    categories = dict.fromkeys(str(c).lower() for c in (post.categories or []))
    values = {"year": f"{date.year:04d}", "month": f"{date.month:02d}",
              "day": f"{date.day:02d}", "i_month": str(date.month), "i_day": str(date.day),
              "short_year": f"{date.year % 100:02d}", "title": post.slug, "slug": post.slug,
              "categories": "/".join(categories)}
    path = PLACEHOLDER.sub(lambda m: values[m.group(1)], permalink)
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    return "/".join(parts) + "/"


def up_to_root(folder: str) -> str:
    """The relative way from a site folder (``blog/2026/x/``) back to the site root."""
    return "../" * folder.strip("/").count("/") + ("../" if folder.strip("/") else "")
