"""``physai-blog new "Title"``: a post and its experiment that build at once.

The templates live in ``scaffold/`` beside this module: a post that uses every directive
(``figure``, ``value``, ``fit``, ``claim``, math), an experiment that uses the whole API on a
problem that runs in well under a second on numpy, and, for a folder that is not a blog yet, a
minimal ``physai.yaml`` (and ``.gitignore``).  Nothing existing is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from physai_blog.content.config import CONFIG_FILE
from physai_blog.content.posts import DATE_PREFIX
from physai_blog.errors import PhysaiError
from physai_blog.paths import SCAFFOLD
from physai_blog.runtime.names import SLUG, slugify

TEMPLATES = SCAFFOLD


class ScaffoldError(PhysaiError):
    """``physai-blog new`` cannot create the post (bad title or tags, or a file exists)."""


@dataclass
class Scaffold:
    """What ``new_post`` created, as paths relative to the root."""

    root: Path
    slug: str
    post: str
    experiment: str
    created: list[str] = field(default_factory=list)


def _yaml_str(text: str) -> str:
    """A YAML scalar for any text (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _fill(template: str, values: dict[str, str]) -> str:
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def parse_tags(tags: str | list[str] | None) -> list[str]:
    if tags is None:
        return []
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    out = []
    for item in items:
        tag = item.strip()
        if not tag:
            continue
        if any(c in tag for c in "[]{}#\n"):
            raise ScaffoldError(f"tag {tag!r}: use letters, digits, spaces and - only")
        if tag not in out:
            out.append(tag)
    return out


def new_post(title: str, root: Path | str = ".", tags: str | list[str] | None = None,
             date: dt.date | None = None, slug: str | None = None,
             notebook: bool = False) -> Scaffold:
    """Create ``posts/<date>-<slug>.md`` and ``experiments/<slug>.py`` (``notebook``: one
    ``posts/<date>-<slug>.ipynb`` that is both) and a ``physai.yaml`` if the folder has none.
    Refuses, creating nothing, if any of those files exists."""
    title = " ".join(title.split())
    if not title:
        raise ScaffoldError("the title is empty: physai-blog new \"My phenomenon\"")
    root = Path(root)
    slug = slug or slugify(title)
    if not SLUG.match(slug):
        raise ScaffoldError(f"slug {slug!r}: use letters, digits, - and _")
    tag_list = parse_tags(tags)
    date = date or dt.date.today()
    post_rel = f"posts/{date.isoformat()}-{slug}.{'ipynb' if notebook else 'md'}"
    exp_rel = post_rel if notebook else f"experiments/{slug}.py"

    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root} is not a folder")
    if (root / post_rel).exists():
        raise ScaffoldError(f"{post_rel} already exists; not overwriting it "
                            "(choose another title, or move the file away)")
    posts_dir = root / "posts"
    if posts_dir.is_dir():
        for other in sorted(posts_dir.iterdir()):
            dated = DATE_PREFIX.match(other.stem)
            if other.suffix in (".md", ".ipynb") and slug in (other.stem, dated and dated.group(2)):
                raise ScaffoldError(f"posts/{other.name} already uses the slug {slug!r}; "
                                    "choose another title")
    if not notebook and (root / exp_rel).exists():
        raise ScaffoldError(f"{exp_rel} already exists; not overwriting it "
                            "(choose another title, or move the file away)")

    values = {
        "TITLE": title, "TITLE_YAML": _yaml_str(title), "DATE": date.isoformat(), "SLUG": slug,
        "POST_FILE": Path(post_rel).name,
        "TAGS_YAML": "[" + ", ".join(_yaml_str(t) for t in tag_list) + "]",
        "SITE_TITLE_YAML": _yaml_str("Physics of AI notes"),
        "AUTHOR_YAML": _yaml_str(_default_author()),
    }
    files = _post_files(values, post_rel, exp_rel, notebook)
    if not (root / CONFIG_FILE).exists():
        files[CONFIG_FILE] = _fill("physai.yaml", values)
        if not (root / ".gitignore").exists():
            files[".gitignore"] = _fill("gitignore", values)

    made = Scaffold(root, slug, post_rel, exp_rel)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even racing
                fh.write(text)
        except FileExistsError:
            raise ScaffoldError(f"{rel} already exists; not overwriting it")
        except OSError as exc:
            raise ScaffoldError(f"cannot write {rel}: {exc.strerror or exc}")
        made.created.append(rel)
    return made


def _post_files(values: dict, post_rel: str, exp_rel: str, notebook: bool) -> dict[str, str]:
    post, script = _fill("post.md", values), _fill("experiment.py", values)
    if not notebook:
        return {post_rel: post, exp_rel: script}
    from physai_blog.content.scaffold_notebook import notebook_text  # edge: only --notebook

    front, body = post.split("\n---\n", 1)
    front = "\n".join(line for line in front.splitlines() if not line.startswith("#"))
    return {post_rel: notebook_text(front + "\n---", body, script)}


def _default_author() -> str:
    for var in ("PHYSAI_AUTHOR", "GIT_AUTHOR_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "Anonymous"
