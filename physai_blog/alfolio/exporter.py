"""``physai-blog export alfolio DEST [--only SLUG]``: built posts into an al-folio site.

Each post becomes ``_posts/<date>-<slug>.md``: front matter al-folio reads, then the built
page's body (values and claims rendered, references, claims, the seed table, downloads, the
citation block) as one raw HTML block, which kramdown passes through untouched; each figure
is al-folio's ``{% include figure.liquid %}`` with its numbered caption.  Everything the post
links to (figures, data, code, values.csv, reproduce.zip, the notebook) goes under
``assets/physai/<slug>/``, linked through ``{{ site.baseurl }}``.

It never touches a file it did not write: ``.physai-export.json`` in DEST lists each file it
wrote, by post, with its sha256; a re-export replaces (or removes) only those, and stops
before writing anything when a file it would write is someone else's or was edited since.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.config import load_config
from physai_blog.content.posts import load_posts
from physai_blog.errors import PhysaiError
from physai_blog.paths import SITE_DIR, post_dir

MANIFEST = ".physai-export.json"
ASSETS = "assets/physai"
JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
BODY = re.compile(r'(<div class="post-body">\n.*)</article>', re.S)
DROPPED = (re.compile(r'<section class="explore".*?</section>\n*', re.S),   # needs our JS
           re.compile(r'<button class="copy"[^>]*>.*?</button>\n?'))
FIGURE = re.compile(r'<figure class="figure" id="fig-([^"]*)"[^>]*><img src="([^"]*)" '
                    r'alt="([^"]*)"[^>]*>(?:<figcaption>(.*?)</figcaption>)?</figure>', re.S)
CAPTION = re.compile(r'<a class="fig-num"[^>]*>(Figure \d+\.)</a>\s?(.*?)'
                     r'(?:\s?<span class="fig-links">(.*)</span>)?$', re.S)
ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
LIQUID = re.compile(r"\{[{%]")
PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


@dataclass
class Exported:
    dest: Path
    posts: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def export_alfolio(root: Path | str, dest: Path | str, only: str | None = None) -> Exported:
    """Publish the built posts of the blog ``root`` (or the one ``only``) into ``dest``."""
    root, dest = Path(root).resolve(), Path(dest).resolve()
    if not any((dest / name).is_file() for name in JEKYLL_CONFIGS):
        raise PhysaiError(f"{dest}: not a Jekyll site (no _config.yml); export publishes "
                          "into an existing al-folio site")
    config = load_config(root)
    posts = load_posts(root, [])
    dirs = {post.slug: post_dir(post, config.permalink) for post in posts}
    site = root / SITE_DIR
    built = [p for p in posts if (site / dirs[p.slug] / "index.html").is_file()]
    if only is not None:
        built = [p for p in built if p.slug == only]
    if not built:
        which = f"post {only!r}" if only else "posts"
        raise PhysaiError(f"{root}: no built {which} to export; run `physai-blog build` first")
    manifest = read_manifest(dest)
    # another post is linked by Jekyll's post_url where DEST has it (now or from before)
    linkable = {p.slug: p for p in posts
                if p.slug in {b.slug for b in built} or p.slug in manifest["posts"]}
    files: dict[str, bytes | Path] = {}
    for post in built:
        files.update(post_files(post, site, dirs, linkable))
    out = Exported(dest, [p.slug for p in built])
    write_owned(dest, {p.slug: {rel: v for rel, v in files.items() if _owner(rel, p)}
                       for p in built}, out)
    return out


def _owner(rel: str, post) -> bool:
    return rel.startswith(f"{ASSETS}/{post.slug}/") or rel == post_file(post)


def post_file(post) -> str:
    return f"_posts/{post.date.isoformat()}-{post.slug}.md"


def post_files(post, site: Path, dirs: dict[str, str], linkable: dict) -> dict[str, bytes | Path]:
    """The post's Markdown file and everything of its folder (but its page) as assets."""
    folder = site / dirs[post.slug]
    base = f"{ASSETS}/{post.slug}/"
    files: dict[str, bytes | Path] = {
        base + p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() != "index.html"}
    html = (folder / "index.html").read_text(encoding="utf-8")
    body, extra = post_body(html, Links(post, site, dirs, linkable))
    files.update(extra)
    files[post_file(post)] = (front_matter(post) + body).encode()
    return files


def front_matter(post) -> str:
    keys = {"layout": "post", "title": post.title, "date": post.date.isoformat(),
            "description": post.description, "tags": post.tags, "categories": post.categories}
    lines = [f"{k}: {v if k == 'date' else json.dumps(v, ensure_ascii=False)}"
             for k, v in keys.items() if v or k == "description"]
    return "---\n" + "\n".join(lines) + "\n---\n\n"


def post_body(html: str, links: Links) -> tuple[str, dict]:
    """The page's body as a raw HTML block for kramdown, figures as al-folio includes, its
    links through ``{{ site.baseurl }}``; and the site files it links outside its folder."""
    match = BODY.search(html)
    body = match.group(1) if match else ""
    for pattern in DROPPED:
        body = pattern.sub("", body)
    figures: list[tuple[str, str, str]] = []

    def figure(m: re.Match) -> str:
        name, src, alt, caption = m.groups()
        parts = CAPTION.match(caption or "")
        number, text, links = parts.groups() if parts else ("", caption or "", None)
        figures.append((src, alt, f"{number} {text}".strip()))
        more = f'\n<p class="fig-links">{links.strip()}</p>' if links else ""
        return f'<div class="physai-figure" id="fig-{name}">\x00{len(figures) - 1}\x00</div>{more}'

    body = FIGURE.sub(figure, body)
    body = LIQUID.sub(lambda m: "{% raw %}" + m.group(0) + "{% endraw %}", body)
    body = ATTRIBUTE.sub(links.rewrite, body)
    body = PLACEHOLDER.sub(lambda m: include(*figures[int(m.group(1))], links), body)
    return (f'<div class="physai-post tex2jax_ignore" markdown="0">\n{body.rstrip()}\n'
            f"</div>\n"), links.extra


def include(src: str, alt: str, caption: str, links: Links) -> str:
    path = links.asset(src).removeprefix("{{ site.baseurl }}/")
    # al-folio shows a caption that is given at all, even empty: none is given then
    given = f"caption={_liquid_string(caption)} " if caption else ""
    return (f"{{% include figure.liquid path={_liquid_string(path)} alt={_liquid_string(alt)} "
            f'{given}class="img-fluid rounded z-depth-1" zoomable=true %}}')


def _liquid_string(text: str) -> str:
    """A Liquid string literal (no escapes exist: the quote the text lacks, else &quot;)."""
    text = text.replace("%}", "%&#125;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


class Links:
    """A post's relative links, as they read from its al-folio page."""

    def __init__(self, post, site: Path, dirs: dict[str, str], linkable: dict):
        self.post, self.site, self.dirs, self.linkable = post, site, dirs, linkable
        self.folder = dirs[post.slug]
        self.extra: dict[str, Path] = {}

    def rewrite(self, m: re.Match) -> str:
        url = m.group(2)
        if not url or url.startswith(("#", "//", "{{")) or SCHEME.match(url):
            return m.group(0)
        return m.group(1) + self.asset(url) + m.group(3)

    def asset(self, url: str) -> str:
        """``{{ site.baseurl }}/assets/physai/<slug>/<path>`` for a file of the post; the
        URL of another post; a site file it names (an image of the blog) under ``files/``."""
        path, _, rest = url.partition("#")
        rest = f"#{rest}" if rest else ""
        target = posixpath.normpath(self.folder + path)
        if (target + "/").startswith(self.folder):
            rel = target[len(self.folder):]
            return f"{{{{ site.baseurl }}}}/{ASSETS}/{self.post.slug}/{rel}{rest}"
        for slug, folder in self.dirs.items():
            if target + "/" == folder or target == folder + "index.html":
                other = self.linkable.get(slug)
                if other is not None:
                    name = f"{other.date.isoformat()}-{slug}"
                    return f"{{% post_url {name} %}}{rest}"   # baseurl included (Jekyll 4)
                return f"{{{{ site.baseurl }}}}/{folder}{rest}"
        if (self.site / target).is_file() and not target.startswith(".."):
            rel = f"{ASSETS}/{self.post.slug}/files/{target}"
            self.extra[rel] = self.site / target
            return f"{{{{ site.baseurl }}}}/{rel}{rest}"
        return url


def write_owned(dest: Path, by_post: dict[str, dict], out: Exported) -> None:
    """Write each post's files, replacing only what an earlier export wrote (unchanged since);
    nothing is written when any file stands in the way.  The manifest is saved first owning
    both the old and the new bytes, so a stopped export is simply run again."""
    manifest = read_manifest(dest)
    mine = {rel: _accepted(d) for files in manifest["posts"].values() for rel, d in files.items()}
    check_owned(dest, by_post, mine)
    for slug, files in by_post.items():
        old = manifest["posts"].get(slug, {})
        manifest["posts"][slug] = {**old, **{rel: sorted({*_accepted(old.get(rel)), _sha(_data(v))})
                                             for rel, v in files.items()}}
    _save(dest, manifest)
    for slug, files in by_post.items():
        owned = manifest["posts"][slug]
        for rel in sorted(set(owned) - set(files)):   # no longer exported: removed if unedited
            target = dest / rel
            if target.is_file() and _sha(target.read_bytes()) in _accepted(owned[rel]):
                target.unlink()
                out.removed.append(rel)
        manifest["posts"][slug] = {rel: _write(dest / rel, files[rel]) for rel in sorted(files)}
        out.written += sorted(files)
    _save(dest, manifest)


def check_owned(dest: Path, by_post: dict[str, dict], mine: dict[str, list]) -> None:
    for files in by_post.values():
        for rel in sorted(files):
            target = dest / rel
            if target.exists() and rel not in mine:
                raise PhysaiError(f"{target}: exists and was not written by physai-blog "
                                  "export; nothing was exported (move it away, or export "
                                  "other posts with --only SLUG)")
            if target.is_file() and rel in mine and _sha(target.read_bytes()) not in mine[rel]:
                raise PhysaiError(f"{target}: changed since physai-blog exported it; "
                                  "nothing was exported (remove it to export again)")


def _accepted(digests) -> list[str]:
    """The bytes a manifest entry owns: one sha256, or several while an export is under way."""
    if digests is None:
        return []
    return [digests] if isinstance(digests, str) else list(digests)


def _save(dest: Path, manifest: dict) -> None:
    _replace(dest / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def _data(value: bytes | Path) -> bytes:
    return value if isinstance(value, bytes) else value.read_bytes()


def read_manifest(dest: Path) -> dict:
    """What earlier exports wrote: {"posts": {slug: {path: sha256}}}."""
    path = dest / MANIFEST
    try:
        manifest = json.loads(path.read_text()) if path.is_file() else {"posts": {}}
        if isinstance(manifest.get("posts"), dict):
            return manifest
    except (ValueError, AttributeError):
        pass
    raise PhysaiError(f"{path}: not a manifest physai-blog export wrote; nothing was exported")


def _write(target: Path, value: bytes | Path) -> str:
    data = _data(value)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_bytes() != data:   # unchanged: bytes and mtime kept
        _replace(target, data)
    return _sha(data)


def _replace(target: Path, data: bytes) -> None:
    """Write through a temporary file beside ``target``: a stopped export leaves either the
    old file or the new one, never half of one."""
    tmp = target.with_name(f".{target.name}.physai-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
