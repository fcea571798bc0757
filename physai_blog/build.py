"""``build()``: the library entry point of ``physai-blog build``.

A build whose inputs are byte-identical to the last good build's returns at once (see
``fingerprint``): that path imports nothing but the standard library.  One whose inputs
differ only in plain posts' bodies renders those pages alone (``body_edit``).  Otherwise it
runs the pipeline (``pipeline.run_pipeline``): load, run, draw, render, write.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from physai_blog.context import BuildOptions, BuildReport
from physai_blog.paths import CACHE_DIR, SITE_DIR
from physai_blog.runs import fingerprint


def build(root: Path | str = ".", *, jobs: int | None = None, only: str | None = None,
          keep_going: bool = False, executor=None, on_event: Callable | None = None,
          include_drafts: bool = False, executor_name: str | None = None,
          scheduler: str | None = None) -> BuildReport:
    """Build the blog at ``root`` into ``root/site``; raise a PhysaiError on failure.
    ``executor``: a caller's own (serve's, kept warm across builds); ``on_event(event,
    task)``: progress of runs and figures."""
    start = time.perf_counter()
    options = BuildOptions(Path(root).resolve(), jobs, only, keep_going, include_drafts,
                           executor_name, scheduler)
    root = options.root
    last, started = fingerprint.check(root, root / CACHE_DIR, root / SITE_DIR,
                                      options.fingerprinted)
    if last is not None and only is None:
        from physai_blog.output.write import WriteReport

        return BuildReport(posts=last["posts"], runs_total=last["runs_total"],
                           figures_total=last["figures_total"], warnings=last["warnings"],
                           write=WriteReport(0, last["files"], 0, False), up_to_date=True,
                           seconds=time.perf_counter() - start)
    if only is None and not started.changed:
        # Only some posts' bodies edited: their pages alone (body_edit.py), or None.
        from physai_blog.body_edit import build_body_edit

        report = build_body_edit(options, started, start)
        if report is not None:
            return report
    zygote = None
    if executor is None and executor_name in (None, "local") and started.changed:
        zygote = early_zygote(root, started.changed, jobs)
    if (root / "physai.yaml").is_file():
        # The build's cache folder, from the start: the load stage keeps its parse of
        # physai.yaml there (content/config.py), as it keeps front matter.
        (root / CACHE_DIR).mkdir(exist_ok=True)
    try:
        # The edge: a build with nothing to do never imports the pipeline.
        from physai_blog.pipeline import run_pipeline

        return run_pipeline(options, executor=executor, on_event=on_event, started=started,
                            start=start, zygote=zygote)
    finally:
        if zygote is not None:
            zygote.close()


def early_zygote(root: Path, scripts: list[str], jobs: int | None, figures: bool = True):
    """When experiment code changed, runs and figures are likely due: start the workers'
    fork server now, so numpy (and matplotlib, if a script draws figures) are imported
    while this process imports the pipeline and plans; the executor adopts it if its
    thread count matches.  None where fork servers are not used."""
    if not hasattr(os, "fork") or os.environ.get("PHYSAI_NO_ZYGOTE"):
        return None
    from physai_blog.runs.preload import (
        FIGURE_MODULES,
        WORKER_MODULES,
        default_jobs,
        imports_torch,
        worker_env,
    )
    from physai_blog.runs.zygote import Zygote

    texts = []
    for rel in scripts:
        try:
            texts.append((root / rel).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            pass
    modules = [*("torch",) * any(imports_torch(t) for t in texts), *WORKER_MODULES]
    later = list(FIGURE_MODULES) if figures and any(".figure(" in t for t in texts) else []
    cores = default_jobs()
    threads = max(1, cores // max(1, jobs or cores))
    return Zygote(worker_env(threads), modules, later)

