"""A notebook post (``posts/<slug>.ipynb``), executed by the run stage: its page rendered, its
downloads gathered."""

from __future__ import annotations

import json

from physai_blog.artifacts.downloads import deterministic_zip
from physai_blog.content.posts import Post
from physai_blog.render.page import render_notebook_body, render_post_page


def notebook_files(ctx, post: Post, key: str, bibliography, rendered: list, env) -> dict:
    """A notebook post's page and downloads, from its executed notebook in the cache under
    ``key`` (``rendered`` gets its page, for the site-wide pages)."""
    folder = ctx.cache.path("notebooks", key)
    item = render_notebook_body(post, ctx.config, ctx.options.root, folder,
                                ctx.options.keep_going, bibliography)
    rendered.append(item)
    base = f"posts/{post.slug}/"
    files: dict = {f"{base}index.html": render_post_page(env, ctx.config, item),
                   f"{base}{post.slug}.ipynb": folder / "executed.ipynb",
                   f"{base}code/{post.slug}.py": folder / "script.py"}
    cells = {c["index"]: c for c in json.loads((folder / "cells.json").read_text())}
    for fig in item.figures:
        index = int(fig.name.removeprefix("cell"))
        files[f"{base}{fig.code}"] = cells[index]["source"].encode() + b"\n"
    for image in sorted((folder / "outputs").iterdir()):
        files[f"{base}figures/{image.name}"] = image
    work = {p.relative_to(folder / "work").as_posix(): p.read_bytes()
            for p in sorted((folder / "work").rglob("*")) if p.is_file()}
    work[f"{post.slug}.ipynb"] = (folder / "executed.ipynb").read_bytes()
    files[f"{base}data/{post.slug}-outputs.zip"] = deterministic_zip(work)
    return files
