"""A post's links to the blog's own pages and files.

A root-relative link (``/blog/2026/physics-of-ai/``, ``/assets/img/x.png``: what al-folio
posts write) is rewritten relative to the post's folder, so the site works from ``file://``
and under a sub-path ``base_url``; a leading ``base_url`` path (``/myblog/...``) is the site
root too.  A folder gets its ``index.html``.  A file of the blog it names (an image under
``assets/``) is published at the same path.  Every relative link of the body is kept, with
the line of the post it was written on, and checked against the built site by
``broken_links``: each one that resolves to nothing is a warning naming file:line.
"""

from __future__ import annotations

import posixpath
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from physai_blog.paths import CACHE_DIR, SITE_DIR, post_dir, up_to_root

# href="..." / src="..." in rendered HTML (markup and our handlers quote with ")
ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def base_path(base_url: str) -> str:
    """The path of ``base_url`` with slashes around it: ``/myblog/``, or ``/``."""
    path = urlsplit(base_url).path.strip("/")
    return f"/{path}/" if path else "/"


def _split(url: str) -> tuple[str, str]:
    """(path, the ``?query#fragment`` after it)."""
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    return url[:cut], url[cut:]


def relativize(html: str, post, config, root: Path, source: str, first_line: int):
    """(``html`` with its root-relative links made relative, the blog files they name as
    {site path: file}, its internal links as [site path, href as written, line])."""
    folder = post_dir(post, config.permalink)
    back, base = up_to_root(folder), base_path(config.base_url)
    files: dict[str, Path] = {}
    links: list[list] = []

    def one(match: re.Match) -> str:
        written = unescape(match.group(2))
        if not written or written.startswith(("#", "//", "\\")) or SCHEME.match(written):
            return match.group(0)
        path, rest = _split(written)
        if path.startswith("/"):
            inside = path[len(base):] if base != "/" and path.startswith(base) else path[1:]
            if inside == "" or inside.endswith("/"):
                inside += "index.html"
            target = posixpath.normpath(unquote(inside)) if inside else "index.html"
            _publish(root, target, files)
            href = back + inside + rest
        else:
            href = match.group(2)
            target = posixpath.normpath(folder + unquote(path)) if path else ""
        if target:
            links.append([target, written, _line_of(source, written, first_line)])
        return match.group(1) + href.replace('"', "&quot;") + match.group(3)

    return ATTRIBUTE.sub(one, html), files, links


def _publish(root: Path, target: str, files: dict) -> None:
    """A file of the blog a link names is published at its path (not the cache, the built
    site or a hidden file; never outside the blog)."""
    parts = target.split("/")
    if target.startswith("..") or parts[0] in (CACHE_DIR, SITE_DIR) or \
            any(p.startswith(".") for p in parts):
        return
    path = root / target
    if path.is_file() and path.resolve().is_relative_to(root.resolve()):
        files[target] = path


def _line_of(source: str, written: str, first_line: int) -> int:
    """The line of the post's body where ``written`` first appears (its first line else)."""
    for form in (written, _split(written)[0]):
        at = source.find(form) if form else -1
        if at >= 0:
            return first_line + source.count("\n", 0, at)
    return first_line


def broken_links(rel: str, links: list, files) -> list[str]:
    """A warning per link of the post ``rel`` that resolves to no file of the site."""
    warnings = []
    for target, written, line in links:
        if target.startswith("..") or target.startswith("/"):
            warnings.append(f"{rel}:{line}: link {written!r} leaves the site")
        elif target not in files and f"{target}/index.html" not in files and target != ".":
            warnings.append(f"{rel}:{line}: link {written!r} resolves to nothing in the site "
                            f"(no {target})")
    return warnings
