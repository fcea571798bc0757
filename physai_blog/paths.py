"""Where things live, named once: a blog's output and cache folders, the package's own files."""

from __future__ import annotations

from pathlib import Path

SITE_DIR = "site"                 # the built site, under the blog's root
CACHE_DIR = ".physai-cache"       # runs, figures, pages ... (runs/cache.py)
PACKAGE = Path(__file__).parent   # physai_blog/
THEME = PACKAGE / "theme"         # the default templates and static files
SCAFFOLD = PACKAGE / "scaffold"   # what `physai-blog new` copies
RUNTIME = PACKAGE / "runtime"     # the experiment API, shipped inside every reproduce.zip


def post_path(post) -> str:
    """Where a post's page lives in the site, from the site root: ``posts/<slug>/``."""
    return f"posts/{post.slug}/"


def runtime_files() -> dict[str, Path]:
    """The files of the package a reader's bundle needs to rerun an experiment, by their path
    in the bundle: the package's ``__init__`` and the whole ``runtime`` subpackage."""
    files = {"physai_blog/__init__.py": PACKAGE / "__init__.py"}
    for path in sorted(RUNTIME.glob("*.py")):
        files[f"physai_blog/runtime/{path.name}"] = path
    return files
