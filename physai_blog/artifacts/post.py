"""A post's downloads, gathered (nothing is written here): raw data, figure data bundles,
code, ``reproduce.zip`` and the notebook, cached as one entry per post."""

from __future__ import annotations

from html import escape
from pathlib import Path

from physai_blog import __version__
from physai_blog.artifacts.downloads import post_artifacts
from physai_blog.artifacts.reproduce import reproduce_files
from physai_blog.content.posts import Post
from physai_blog.content.spec import ExperimentSpec
from physai_blog.figures.draw import Figure
from physai_blog.paths import runtime_files
from physai_blog.render.values import Observables
from physai_blog.runs.cache import Cache, file_digest, key_of
from physai_blog.runs.plan import Run


def post_downloads(cache: Cache, root: Path, post: Post, spec: ExperimentSpec, runs: list[Run],
                   figures: list[Figure], obs: Observables, url: str) -> dict:
    """A post's downloads, relative to its folder.  What is generated is cached as one entry,
    keyed by the runs' and figures' files (their sha256, from their verified manifests), the
    code and the post: an edit elsewhere in the blog costs this post no zipping and no
    hashing."""
    key = key_of({
        "kind": "downloads", "version": __version__, "slug": post.slug, "title": post.title,
        "url": url, "params": post.params, "spec": spec.rel, "var": spec.var,
        "source": spec.source, "deps": spec.deps,
        "runtime": {rel: file_digest(path) for rel, path in runtime_files().items()},
        "runs": [[r.key, r.label, r.manifest["files"]] for r in runs],
        "figures": [[f.key, f.file, f.reads, f.manifest["files"]] for f in figures]})
    folder = cache.path("downloads", key)
    entry = cache.load("downloads", key)
    if entry is None:
        files = gather_downloads(cache, root, post, spec, runs, figures, obs, url)
        entry = store_downloads(cache, key, files)
    out: dict[str, bytes | Path] = {rel: folder / rel for rel in entry["files"]}
    out.update({rel: cache.root / target for rel, target in entry["links"].items()})
    return out


def store_downloads(cache: Cache, key: str, files: dict) -> dict:
    tmp, links = cache.new_tmp(), {}
    for rel, value in files.items():
        # Runs and figures were verified by this build and are keyed by their content;
        # anything else is copied into the entry, so the entry stands on its own.
        if isinstance(value, Path) and value.is_relative_to(cache.root) and \
                value.relative_to(cache.root).parts[0] in ("runs", "figures"):
            links[rel] = value.relative_to(cache.root).as_posix()
        else:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(value if isinstance(value, bytes) else value.read_bytes())
    return cache.commit("downloads", key, tmp, {"kind": "downloads", "links": links})


def gather_downloads(cache: Cache, root: Path, post: Post, spec: ExperimentSpec,
                     runs: list[Run], figures: list[Figure], obs: Observables,
                     url: str) -> dict:
    files = post_artifacts(runs, figures, spec, obs, cache, root)
    files["data/index.html"] = data_index(post, runs)
    files.update(reproduce_files(post, spec, runs, dict(files), url, cache))
    return files


def data_index(post: Post, runs: list[Run]) -> bytes:
    """A plain listing of a post's raw data, since static hosts do not list folders."""
    items = []
    for run in runs:
        links = " ".join(f'<a href="{escape(run.label)}/{escape(f)}">{escape(f)}</a>'
                         for f in [*sorted(run.manifest["files"]), "manifest.json"])
        items.append(f"<li><b>{escape(run.label)}</b>: {links}</li>")
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Data: '
            f"{escape(post.title)}</title><body><h1>Raw data of “{escape(post.title)}”</h1>"
            f'<p><a href="values.csv">values.csv</a> · <a href="../index.html">back to the post</a>'
            f"</p><ul>{''.join(items)}</ul></body></html>\n").encode()
