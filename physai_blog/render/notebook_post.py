"""A plain notebook post (``posts/<slug>.ipynb``), executed by the run stage: its page and
its reader package.

The page is the notebook as it is now (Markdown cells through the same Markdown/math/citation
pipeline as ``.md`` posts, code cells highlighted, a caption from the cell's metadata or its
``# caption:`` first line), with the outputs of its cached execution: the key covers only the
code, so editing prose or a caption re-renders without executing anything.  ``value()`` and
``claim()`` use the numbers its cells logged with ``runtime/notebook.py``'s ``log_value``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from html import escape

from pygments import highlight

from physai_blog.artifacts.downloads import deterministic_zip
from physai_blog.content.notebook import (
    cell_source,
    clean_notebook,
    kernel_name,
    load_json,
    notebook_script,
)
from physai_blog.content.posts import Post
from physai_blog.content.spec import sha256
from physai_blog.paths import post_dir, runtime_files
from physai_blog.render.citation import citation
from physai_blog.render.markup import render_markdown
from physai_blog.render.page import (
    FigureRef,
    PostRenderer,
    RenderedPost,
    page_url,
    render_post_page,
    seed_table,
)
from physai_blog.render.values import Observables, RunValues

CAPTION = re.compile(r"^\s*#\s*caption:\s*(.+?)\s*$", re.IGNORECASE)


def notebook_files(ctx, post: Post, key: str, bibliography, rendered: list, env) -> dict:
    """A notebook post's page and downloads, from its executed notebook in the cache under
    ``key`` (``rendered`` gets its page, for the site-wide pages)."""
    folder = ctx.cache.path("notebooks", key)
    values = json.loads((folder / "values.json").read_text())
    item = render_notebook_body(post, ctx.config, ctx.options.root, folder, values,
                                ctx.options.keep_going, bibliography)
    rendered.append(item)
    ctx.report.failed_claims.extend(item.failed_claims)
    base = post_dir(post, ctx.config.permalink)
    files: dict = {f"{base}index.html": render_post_page(env, ctx.config, item)}
    for rel, data in reader_package(post, folder, values,
                                    ctx.cache.load("notebooks", key) or {}).items():
        files[base + rel] = data
    for fig in item.figures:
        files[f"{base}{fig.code}"] = figure_code(post, int(fig.name.removeprefix("cell")))
    for image in sorted((folder / "outputs").iterdir()):
        files[f"{base}figures/{image.name}"] = image
    return files


def figure_code(post: Post, number: int) -> bytes:
    """The code behind a figure that runs alone: every code cell up to the one that drew it
    (run in the notebook's folder, beside its inputs)."""
    script = notebook_script(post.notebook[:number], post.rel)
    return (f"# Figure of cell {number} of {post.source.name}: the code cells 1..{number}, "
            "which draw it when run alone\n# (beside the notebook's inputs).\n"
            + script).encode()


def caption_of(cell: dict, number: int) -> str:
    """The cell's ``caption`` metadata, else its ``# caption: ...`` first line, else a plain
    "Output of cell N."."""
    given = (cell.get("metadata") or {}).get("caption")
    if isinstance(given, str) and given.strip():
        return given.strip()
    lines = cell_source(cell).splitlines()
    match = CAPTION.match(lines[0]) if lines else None
    return match.group(1) if match else f"Output of cell {number}."


def render_notebook_body(post: Post, config, root, folder, values: dict, keep_going: bool,
                         bibliography) -> RenderedPost:
    """Markdown cells through the same pipeline, code cells highlighted, every image output a
    numbered figure with data/code links."""
    obs = Observables([RunValues("notebook", {}, 0, values)], {})
    renderer = PostRenderer(dataclasses.replace(post, experiment=post.rel), config, root, obs,
                            {}, "notebook", keep_going, bibliography)
    outputs = {c["index"]: c["outputs"] for c in json.loads((folder / "cells.json").read_text())}
    parts = []
    for number, cell in enumerate(post.notebook, start=1):
        if cell.get("cell_type") == "markdown":
            html, _ = render_markdown(cell_source(cell), f"{post.rel} (cell {number})", 1,
                                      renderer.handlers(), renderer.math)
            parts.append(html)
        elif cell.get("cell_type") == "code" and cell_source(cell).strip():
            parts += code_cell_html(renderer, post, cell, number, outputs.get(number, []))
    parts.append(f'<p class="nb-downloads">Downloads: <a href="{post.slug}.ipynb" download>the '
                 f'executed notebook</a> · <a href="code/{post.slug}.py">as a script</a> '
                 f'(nbconvert) · <a href="data/{post.slug}-outputs.zip" download>the files it '
                 f'wrote</a> · <a href="data/values.csv">values.csv</a> · '
                 f'<a href="{post.slug}-bundle.zip" download>a bundle that reruns it</a>.</p>')
    url = page_url(post, config)
    words = sum(len(cell_source(c).split()) for c in post.notebook)
    return RenderedPost(post=post, html="\n".join(parts), toc="", figures=renderer.figures,
                        claims=renderer.claims, seed_table=seed_table(obs) if values else [],
                        has_data=False,   # its downloads are its own (reader_package)
                        citation=citation(post.title, post.authors or [config.author], post.date,
                                          config.title, url),
                        url=url, reading_minutes=max(1, round(words / 220)),
                        failed_claims=renderer.failed, extra_files=renderer.extra_files,
                        references=renderer.citations.references())


def code_cell_html(renderer, post: Post, cell: dict, number: int, outputs: list) -> list[str]:
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = highlight(cell_source(cell), PythonLexer(), HtmlFormatter(cssclass="highlight"))
    parts = [f'<div class="nb-input">{code}</div>']
    for output in outputs:
        if output["kind"] == "text":
            parts.append(f'<pre class="nb-output">{escape(output["text"])}</pre>')
        elif output["kind"] == "html":
            parts.append(f'<div class="nb-output">{output["html"]}</div>')
        elif output["kind"] == "image":
            caption = caption_of(cell, number)
            ref = FigureRef(len(renderer.figures) + 1, f"cell{number}",
                            f"figures/{output['file']}", caption,
                            f"Figure drawn by cell {number} of the notebook",
                            f"data/{post.slug}-outputs.zip", f"code/cell-{number}.py",
                            f"code/{post.slug}.py")
            renderer.figures.append(ref)
            parts.append(renderer._figure_html(ref))
    return parts


def reader_package(post: Post, folder, values: dict, manifest: dict) -> dict[str, bytes]:
    """The notebook, its script, what it wrote, its values, a manifest (versions, sha256 of
    every file) and a bundle that reruns it: paths relative to the post's folder."""
    work = {p.relative_to(folder / "work").as_posix(): p.read_bytes()
            for p in sorted((folder / "work").rglob("*")) if p.is_file()}
    executed = (folder / "executed.ipynb").read_bytes()
    inputs = {name: (post.source.parent / name).read_bytes()
              for name in sorted(manifest.get("inputs", {}).get("inputs", {}))}
    files = {f"{post.slug}.ipynb": executed,
             f"code/{post.slug}.py": (folder / "script.py").read_bytes(),
             f"data/{post.slug}-outputs.zip": deterministic_zip({**work,
                                                                 f"{post.slug}.ipynb": executed}),
             "data/values.csv": ("name,value\n" + "".join(
                 f"{k},{v!r}\n" for k, v in sorted(values.items()))).encode()}
    versions = manifest.get("versions") or {}
    kernel = kernel_name(load_json(post.source, post.rel))
    requirements = "".join(f"{n}=={versions[n].split('+')[0]}\n" for n in
                           ("numpy", "torch") if versions.get(n)) + \
        "matplotlib\nnbclient\nipykernel\nnbformat\n"
    bundle = {f"{post.slug}.ipynb": clean_notebook(post.source), "requirements.txt":
              requirements.encode(), "README.md": bundle_readme(post, kernel).encode(),
              **{f"inputs/{n}": d for n, d in inputs.items()},
              **{rel: path.read_bytes() for rel, path in runtime_files().items()}}
    bundle["manifest.json"] = file_manifest(bundle, versions, kernel)
    files[f"{post.slug}-bundle.zip"] = deterministic_zip(bundle)
    files["data/manifest.json"] = file_manifest(files, versions, kernel)
    return files


def file_manifest(files: dict[str, bytes], versions: dict, kernel: str) -> bytes:
    info = {"kernel": kernel, "versions": versions,
            "sha256": {name: sha256(data) for name, data in sorted(files.items())}}
    return (json.dumps(info, sort_keys=True, indent=1) + "\n").encode()


def bundle_readme(post: Post, kernel: str) -> str:
    return (f"# {post.title}: rerun the notebook\n\n"
            f"`{post.slug}.ipynb` as published, its inputs in `inputs/`, `manifest.json` with the\n"
            f"versions it ran with and the sha256 of every file here. To rerun it:\n\n"
            "    pip install -r requirements.txt\n"
            "    cp -r inputs/. . 2>/dev/null; "
            f"jupyter execute --kernel_name={kernel} {post.slug}.ipynb\n\n"
            "Values it logs with `physai_blog.runtime.notebook.log_value` are checked and\n"
            "returned (the small runtime is in `physai_blog/`).\n")
