"""Stage 4: the downloads of each post: raw data, per-figure data bundles, code, figures.

Everything is gathered as ``{site path: bytes | Path}``; nothing is written here.  Zip files are
byte-reproducible (fixed timestamps and permissions, sorted entries).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from physai_blog.artifacts.explore import explorer_script
from physai_blog.content.notebook import clean_notebook
from physai_blog.content.spec import ExperimentSpec
from physai_blog.figures.draw import Figure
from physai_blog.render.values import Observables
from physai_blog.runs.cache import Cache
from physai_blog.runs.plan import Run

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Published manifests leave out what differs between two identical builds.
UNPUBLISHED = ("wall_time", "checksum")


def deterministic_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    return buffer.getvalue()


def published_manifest(manifest: dict) -> bytes:
    clean = {k: v for k, v in manifest.items() if k not in UNPUBLISHED}
    return (json.dumps(clean, sort_keys=True, indent=1) + "\n").encode()


def values_csv(obs: Observables) -> bytes:
    axes = list(obs.sweep)
    names = obs.names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", *axes, "seed", *names])
    for run in obs.runs:
        writer.writerow([run.label, *[run.cell.get(a, "") for a in axes], run.seed,
                         *[repr(run.values[n]) if n in run.values else "" for n in names]])
    return buffer.getvalue().encode()


def code_files(spec: ExperimentSpec, root: Path) -> dict[str, bytes]:
    """The experiment, its project-local modules, and one file per plotting function."""
    files = {f"code/{spec.path.name}": spec.source.encode()}
    if spec.rel.endswith(".ipynb"):   # a notebook post's experiment: the notebook itself too
        files[f"code/{Path(spec.path.name).stem}.ipynb"] = clean_notebook(root / spec.rel)
    for rel in spec.deps:
        files[f"code/{Path(rel).name}"] = (root / rel).read_bytes()
    for fig in spec.figures.values():
        header = (f"# Plotting code of figure {fig.name!r}, from {spec.rel} (line {fig.lineno}).\n"
                  f"# It draws from the raw data only. To redraw every figure from the\n"
                  f"# published data:  python {spec.path.name} --figures-only --out <folder>\n"
                  f"# (with the run folders of data/ placed in <folder>/data/).\n\n")
        files[f"code/{fig.name}.py"] = (header + fig.source).encode()
    return files


def post_artifacts(runs: list[Run], figures: list[Figure], spec: ExperimentSpec,
                   obs: Observables, cache: Cache, root: Path) -> dict[str, bytes | Path]:
    """Files under ``site/posts/<slug>/`` (paths relative to that folder)."""
    files: dict[str, bytes | Path] = {}
    for run in runs:
        folder = cache.path("runs", run.key)
        for rel in run.manifest["files"]:
            files[f"data/{run.label}/{rel}"] = folder / rel
        files[f"data/{run.label}/manifest.json"] = published_manifest(run.manifest)
    files["data/values.csv"] = values_csv(obs)
    files["data/explorer.js"] = explorer_script(runs, obs, cache)
    files.update(code_files(spec, root))
    by_label = {run.label: run for run in runs}
    for fig in figures:
        files[f"figures/{fig.file}"] = cache.path("figures", fig.key) / fig.file
        if fig.chart:
            files[f"figures/{fig.chart}"] = cache.path("figures", fig.key) / fig.chart
        bundle = {}
        for read in fig.reads:
            label, _, rel = read.partition("/")
            run = by_label.get(label)
            if run is None:
                continue
            bundle[read] = (cache.path("runs", run.key) / rel).read_bytes()
            bundle[f"{label}/manifest.json"] = published_manifest(run.manifest)
        bundle[f"{fig.figure.name}.py"] = files[f"code/{fig.figure.name}.py"]
        bundle["README.txt"] = (
            f"Data behind figure {fig.figure.name!r} ({fig.file}).\n"
            f"Each folder is one run (sweep cell and seed) with its manifest.json: params,\n"
            f"seed, library versions and the sha256 of every file.\n"
            f"{fig.figure.name}.py is the plotting function; the full experiment is "
            f"code/{spec.path.name}.\n").encode()
        files[f"data/{fig.figure.name}.zip"] = deterministic_zip(bundle)
    return files
