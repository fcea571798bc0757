"""Reproduce downloads of a post: ``reproduce.zip`` and ``<slug>.ipynb``.

The bundle mirrors the post's folder on the site (``code/``, ``data/``, ``figures/``) and adds
what a reader needs on a laptop CPU: the experiment API's runtime (``code/physai_blog/``: four
small files, numpy and matplotlib only), ``requirements.txt`` with the versions it ran with
(torch aside: the README installs its CPU build first, so a reader never pulls CUDA by
accident), a README with the commands that rerun it, and a notebook (nbformat 4.5 JSON) that
loads the published data and redraws every figure.  Both are cached by the hash of their
inputs, so a cached build never even builds them.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from physai_blog import __version__
from physai_blog.artifacts.downloads import deterministic_zip
from physai_blog.content.posts import Post
from physai_blog.content.spec import API_VERSION, ExperimentSpec
from physai_blog.paths import runtime_files
from physai_blog.runs.cache import Cache, key_of
from physai_blog.runs.plan import Run
from physai_blog.runs.preload import imports_torch as script_imports


def rerun_command(spec: ExperimentSpec, post: Post, runs: list[Run]) -> str:
    parts = [f"python code/{spec.path.name} --out rerun"]
    for key, value in sorted(post.params.items()):
        parts.append(f"--set {key}={json.dumps(value)}")
    seeds = sorted({r.seed for r in runs})
    if seeds != sorted(spec.seeds):
        parts.append("--seeds " + ",".join(map(str, seeds)))
    return " ".join(parts)


TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def imports_torch(code: dict[str, bytes]) -> bool:
    """Whether the experiment or one of its local modules imports torch: the test the
    executor uses to preload torch, over every file of the bundle's ``code/``."""
    return any(script_imports(data) for rel, data in code.items()
               if rel.endswith(".py") and not rel.startswith("code/physai_blog/"))


def _versions(runs: list[Run]) -> dict:
    return runs[0].manifest.get("versions", {}) if runs else {}


def torch_pin(runs: list[Run]) -> str:
    # "2.13.0+cpu" -> "2.13.0": a local version label is not on the package index
    version = _versions(runs).get("torch")
    return f"torch=={version.split('+')[0]}" if version else "torch"


def requirements(runs: list[Run], torch: bool) -> str:
    """Everything but torch: on Linux a bare ``torch==X`` from PyPI is a multi-GB CUDA build,
    so ``pip install -r requirements.txt`` alone must never be what installs it.  The README
    installs it first, from the index the reader chooses (CPU by default)."""
    versions = _versions(runs)
    lines = [f"# {torch_pin(runs)} is installed first, on its own: see README.md (from PyPI "
             "it would be a multi-GB CUDA build)"] if torch else []
    lines += [f"{name}=={versions[name].split('+')[0]}" for name in ("numpy", "matplotlib")
              if versions.get(name)]
    if "matplotlib" not in versions:
        lines.append("matplotlib")
    return "\n".join(lines) + "\n"


def setup_commands(runs: list[Run], torch: bool) -> list[str]:
    """The README's set-up, in order: the CPU build of torch first, then the rest."""
    first = [f"pip install {torch_pin(runs)} --index-url {TORCH_CPU_INDEX}"] if torch else []
    return first + ["pip install -r requirements.txt"]


def readme(post: Post, spec: ExperimentSpec, runs: list[Run], url: str,
           torch: bool) -> str:
    versions = _versions(runs)
    env = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())
                    if v and (torch or k != "torch"))
    commands = "\n".join(f"    {c}" for c in
                         [*setup_commands(runs, torch), rerun_command(spec, post, runs)])
    gpu = f"""
The first command installs the CPU build of PyTorch from PyTorch's CPU-only index;
`requirements.txt` leaves torch out, because from PyPI it is a multi-GB CUDA build on Linux.
To use a GPU instead, replace the first command: install torch from the default index
(`pip install {torch_pin(runs)}`) or from the CUDA index of your choice
(https://pytorch.org/get-started/locally/).
""" if torch else ""
    return f"""# Reproduce: {post.title}

Published at {url}

## Rerun everything

{commands}
{gpu}
This runs every sweep cell and seed of `code/{spec.path.name}` on the CPU and writes the raw
observables to `rerun/data/` and the figures to `rerun/figures/`; compare them with the
published `data/` (each run's `manifest.json` lists the sha256 of every file).

## Redraw the figures from the published data

    python code/{spec.path.name} --figures-only --out .

or open `{post.slug}.ipynb`, which loads `data/` and redraws every figure.

## Contents

- `code/`: the experiment, its local modules, each figure's plotting function, and
  `physai_blog/`, the small runtime of the experiment API (numpy + matplotlib).
- `data/<run>/`: one folder per (sweep cell, seed): `scalars.csv`, `values.json`,
  `arrays/*.npy` and `manifest.json` (params, seed, versions, sha256 of every file).
- `data/values.csv`: every value of every run.  `figures/`: the published figures.

## Environment it ran in

{env}
"""


def new_markdown_cell(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def new_code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}


def notebook_json(cells: list[dict], metadata: dict) -> bytes:
    """A notebook (nbformat 4.5) written as ``nbformat.writes`` writes it, byte for byte (a
    test checks it and validates it), without importing nbformat and jsonschema (0.2 s)."""
    cells = [{**cell, "id": f"cell-{i}",   # stable ids: the same inputs give the same bytes
              "source": cell["source"].splitlines(keepends=True)}
             for i, cell in enumerate(cells)]
    nb = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "),
                       ensure_ascii=False) + "\n").encode()


def notebook(post: Post, spec: ExperimentSpec, runs: list[Run], url: str) -> bytes:
    run_rows = ",\n    ".join(
        json.dumps([f"data/{r.label}", r.label, r.params, r.cell, r.seed]) for r in runs)
    base_params = {k: v for k, v in runs[0].params.items() if k not in spec.sweep} if runs else {}
    cells = [
        new_markdown_cell(f"# {html.escape(post.title)}\n\nThe figures of [this post]({url}), "
                          "redrawn from "
                          "its published raw data. Run the cells in the folder that holds "
                          "`data/` and `code/` (the unzipped `reproduce.zip`, or the post's "
                          "folder of the site)."),
        new_code_cell(
            "import importlib.util, sys\nfrom pathlib import Path\n\n"
            "import matplotlib.pyplot as plt\n\n"
            "HERE = Path.cwd()\nsys.path[:0] = [str(HERE / 'code')]\n"
            "from physai_blog.runtime.data import load_data\n\n"
            f"spec = importlib.util.spec_from_file_location('experiment', HERE / 'code' / "
            f"{spec.path.name!r})\n"
            "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\n"
            f"exp = module.{spec.var}"),
        new_code_cell(
            f"RUNS = [\n    {run_rows},\n]  # (folder, label, params, sweep cell, seed)\n"
            "data = load_data([(HERE / p, label, params, cell, seed)\n"
            "                  for p, label, params, cell, seed in RUNS],\n"
            f"                 sweep={json.dumps(spec.sweep)}, params={json.dumps(base_params)})\n"
            "print(len(data), 'runs; values of the first:', data.runs[0].values)"),
    ]
    for number, figure in enumerate(spec.figures.values(), start=1):
        size = list(figure.size) if figure.size else [6.4, 4.0]
        cells.append(new_markdown_cell(f"## {figure.name}\n\n{figure.caption}"))
        cells.append(new_code_cell(
            f"fig = plt.figure(figsize={tuple(size)})\n"
            f"exp.figures[{figure.name!r}]['function'](data, fig)\nplt.show()"))
    cells.append(new_markdown_cell("## Rerun the experiment\n\nSet `RERUN = True` to run every "
                                   "cell and seed here (CPU) into `rerun/`."))
    cells.append(new_code_cell(
        "RERUN = False\nif RERUN:\n"
        f"    exp.main({rerun_command(spec, post, runs).split()[2:]!r})"))
    return notebook_json(cells, {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})


def cached_notebook(post: Post, spec: ExperimentSpec, runs: list[Run], url: str,
                    cache: Cache) -> bytes:
    """The notebook, cached by what it shows: it does not change with the data or the
    figures' bytes, so redrawing a figure never pays for importing and validating nbformat."""
    key = key_of({"api": API_VERSION, "kind": "reproduce-notebook", "version": __version__,
                  "slug": post.slug, "title": post.title, "url": url, "params": post.params,
                  "script": spec.path.name, "var": spec.var, "sweep": spec.sweep,
                  "seeds": spec.seeds,
                  "runs": [[r.label, r.params, r.cell, r.seed] for r in runs],
                  "figures": [[f.name, f.caption, f.size] for f in spec.figures.values()]})
    name = f"{post.slug}.ipynb"
    if cache.load("reproduce-notebooks", key) is None:
        folder = cache.new_tmp()
        (folder / name).write_bytes(notebook(post, spec, runs, url))
        cache.commit("reproduce-notebooks", key, folder, {"kind": "reproduce-notebook"})
    return (cache.path("reproduce-notebooks", key) / name).read_bytes()


def reproduce_files(post: Post, spec: ExperimentSpec, runs: list[Run],
                    post_files: dict[str, bytes | Path], url: str,
                    cache: Cache) -> dict[str, bytes | Path]:
    """``reproduce.zip`` and ``<slug>.ipynb``, from the cache when their inputs are unchanged."""
    runtime = {f"code/{rel}": path.read_bytes() for rel, path in runtime_files().items()}
    contents = {rel: (v.read_bytes() if isinstance(v, Path) else v)
                for rel, v in post_files.items()
                if rel.startswith(("code/", "figures/")) or (
                    rel.startswith("data/") and not rel.endswith((".zip", ".html")))}
    contents.update(runtime)
    torch = imports_torch(contents)
    # The README and requirements are in the key as text: an edit of their wording, or of the
    # versions the runs recorded, rebuilds the bundle
    text = {"README.md": readme(post, spec, runs, url, torch).encode(),
            "requirements.txt": requirements(runs, torch).encode()}
    key = key_of({"api": API_VERSION, "kind": "bundle", "slug": post.slug, "title": post.title,
                  "url": url, "params": post.params, "spec": spec.rel, "var": spec.var,
                  "files": {rel: hashlib.sha256(data).hexdigest()
                            for rel, data in sorted({**contents, **text}.items())}})
    names = ("reproduce.zip", f"{post.slug}.ipynb")
    if cache.load("bundles", key) is None:
        folder = cache.new_tmp()
        nb = cached_notebook(post, spec, runs, url, cache)
        bundle = dict(contents)
        bundle[f"{post.slug}.ipynb"] = nb
        bundle.update(text)
        (folder / names[0]).write_bytes(deterministic_zip(
            {f"{post.slug}/{rel}": data for rel, data in bundle.items()}))
        (folder / names[1]).write_bytes(nb)
        cache.commit("bundles", key, folder, {"kind": "bundle", "post": post.slug})
    out: dict[str, bytes | Path] = {name: cache.path("bundles", key) / name for name in names}
    out.update(runtime)  # so the notebook also runs in the post's folder of the site
    return out
