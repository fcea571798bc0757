"""``physai-blog import alfolio SRC [DEST]``: an al-folio site into a new physai blog.

What comes over: every post of ``_posts/`` byte for byte (al-folio's front matter keys are
accepted, its Markdown read as kramdown reads it), each file of the site a post names
(``assets/img/...``, by any of the ways al-folio writes a path), the ``_bibliography/*.bib``
files, and from ``_config.yml`` the title, the author, ``url`` + ``baseurl`` and the
``permalink`` (so every URL stays what it was).  SRC is only read.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.config import CONFIG_FILE
from physai_blog.content.yamlio import load_mapping
from physai_blog.errors import PhysaiError
from physai_blog.paths import permalink_problem

POST_SUFFIXES = (".md", ".markdown")
# Jekyll's named permalink styles, as folders (their ``:output_ext`` forms are files)
NAMED = {"pretty": "/:categories/:year/:month/:day/:title/",
         "date": "/:categories/:year/:month/:day/:title/", "none": "/:categories/:title/"}
JEKYLL_DEFAULT = NAMED["date"]
# A path-like token of a post: what al-folio posts write for their files
PATH_TOKEN = re.compile(r"[\w./%~+-]*/[\w./%~+-]*\.\w+")
BASEURL = re.compile(r"\{\{\s*site\.baseurl\s*\}\}|\{\{\s*'([^']*)'\s*\|\s*relative_url\s*\}\}")
SKIP_DIRS = ("_site", ".git", ".jekyll-cache", "node_modules", "vendor")
BIB_FILE = "references.bib"


@dataclass
class Imported:
    dest: Path
    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_alfolio(src: Path | str, dest: Path | str | None = None) -> Imported:
    """Make ``dest`` (default: ``<SRC>-physai`` beside SRC) a physai blog from the al-folio
    site ``src``; ``dest`` must not exist or be empty."""
    src = Path(src).resolve()
    config = read_config(src)
    posts = sorted(p for p in (src / "_posts").rglob("*") if p.suffix in POST_SUFFIXES
                   and p.is_file() and not p.name.startswith("."))
    dest = Path(dest).resolve() if dest is not None else src.with_name(src.name + "-physai")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise PhysaiError(f"{dest}: already exists and is not empty; name a new folder")
    if dest.is_relative_to(src):
        raise PhysaiError(f"{dest}: inside the al-folio site {src}; name a folder outside it")
    out = Imported(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "experiments").mkdir()
    for post in posts:
        _copy(post, dest / "posts" / post.name, out)
    for rel in sorted({rel for post in posts for rel in used_files(src, post)}):
        _copy(src / rel, dest / rel, out)
    bibliography = import_bibliography(src, dest, out)
    text = site_config(config, bibliography, out)
    (dest / CONFIG_FILE).write_text(text, encoding="utf-8")
    out.created.insert(0, CONFIG_FILE)
    return out


def read_config(src: Path) -> dict:
    """``_config.yml``, or an error saying SRC is not an al-folio (Jekyll) site."""
    path = src / "_config.yml"
    if not path.is_file() or not (src / "_posts").is_dir():
        raise PhysaiError(f"{src}: not an al-folio site (it needs _config.yml and _posts/)")
    data, _ = load_mapping(path.read_text(encoding="utf-8"), "_config.yml")
    return data


def used_files(src: Path, post: Path) -> set[str]:
    """The files of the site that ``post`` names: every path-like token (``path="..."`` of
    an include, ``![](/assets/...)``, ``{{ site.baseurl }}/assets/...``, ``src="..."``)
    that is a file of SRC, outside its build output and hidden folders."""
    text = BASEURL.sub(lambda m: m.group(1) or "", post.read_text(encoding="utf-8"))
    found = set()
    for token in PATH_TOKEN.findall(text):
        rel = token.lstrip("./").split("?")[0]
        parts = rel.split("/")
        if not rel or parts[0] in SKIP_DIRS or parts[0] == "_posts" or ".." in parts or \
                any(p.startswith(".") for p in parts):
            continue
        path = src / rel
        if path.is_file() and path.resolve().is_relative_to(src):
            found.add(Path(rel).as_posix())
    return found


def import_bibliography(src: Path, dest: Path, out: Imported) -> str | None:
    """``_bibliography/*.bib``: copied; physai.yaml names the one file, or (several) one
    ``references.bib`` that joins them."""
    bibs = sorted((src / "_bibliography").glob("*.bib"))
    for bib in bibs:
        _copy(bib, dest / "_bibliography" / bib.name, out)
    if len(bibs) == 1:
        return f"_bibliography/{bibs[0].name}"
    if len(bibs) > 1:
        joined = "\n".join(b.read_text(encoding="utf-8") for b in bibs)
        (dest / BIB_FILE).write_text(joined, encoding="utf-8")
        out.created.append(BIB_FILE)
        return BIB_FILE
    return None


def site_config(config: dict, bibliography: str | None, out: Imported) -> str:
    """physai.yaml from ``_config.yml``: title, author, description, base URL, permalink."""
    name = " ".join(str(config.get(k) or "").strip()
                    for k in ("first_name", "middle_name", "last_name")).split()
    author = " ".join(name) or str(config.get("author") or "").strip() or "Anonymous"
    title = str(config.get("title") or "").strip()
    if not title or title == "blank":
        title = str(config.get("blog_name") or "").strip() or author
    description = str(config.get("blog_description") or config.get("description") or "")
    base = (str(config.get("url") or "https://example.org").rstrip("/") + "/" +
            str(config.get("baseurl") or "").strip("/")).rstrip("/") + "/"
    lines = {"title": title, "author": author, "description": description.strip(),
             "base_url": base, "permalink": permalink(config.get("permalink"), out),
             "markdown": "kramdown", "bibliography": bibliography}
    return "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
                   for key, value in lines.items() if value)


def permalink(value, out: Imported) -> str:
    """The site's permalink as a folder pattern; Jekyll's named styles by their pattern."""
    pattern = NAMED.get(str(value), value) if value else JEKYLL_DEFAULT
    if isinstance(pattern, str):
        folder = pattern.replace(":output_ext", "/").replace(".html", "/").replace("//", "/")
        if permalink_problem(folder) is None:
            if folder != pattern:
                out.notes.append(f"_config.yml: permalink {pattern!r} names files; posts are "
                                 f"published as folders: {folder!r}")
            return folder
    out.notes.append(f"_config.yml: permalink {value!r} cannot be kept; posts are published "
                     f"at {JEKYLL_DEFAULT!r}")
    return JEKYLL_DEFAULT


def _copy(source: Path, target: Path, out: Imported) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    out.created.append(target.relative_to(out.dest).as_posix())
