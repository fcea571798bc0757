"""Run stale experiments, draw figures, write the site: ``physai-blog build``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from physai_blog.cli.options import ROOT
from physai_blog.cli.summary import plain_summary
from physai_blog.paths import SITE_DIR


@click.command("build")
@ROOT
@click.option("--only", metavar="SLUG", help="Run the experiments of one post only.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("--keep-going", is_flag=True,
              help="Publish what can be built; failing claims are marked, failing posts skipped.")
@click.option("--drafts", is_flag=True, help="Include posts with `draft: true`.")
@click.option("-v", "--verbose", is_flag=True, help="Show every run and figure as it happens.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("--executor", type=click.Choice(["local", "dask"]),
              help="Where runs execute (default: physai.yaml's `executor`, else local).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler, e.g. tcp://host:8786 (none: start a LocalCluster).")
def build(root, only, jobs, keep_going, drafts, verbose, quiet, executor, scheduler):
    """Run stale experiments, draw figures, write the site into site/."""
    from physai_blog.build import build as build_site

    progress = None

    def on_event(event, task):
        # The live display (rich) starts with the first run or figure: a build with nothing
        # to do never imports it.
        nonlocal progress
        if progress is None:
            from physai_blog.cli.progress import BuildProgress

            progress = BuildProgress(live=False if quiet else None, verbose=verbose and not quiet,
                                     echo=lambda line: click.echo(line, err=True))
            progress.__enter__()
        progress(event, task)

    try:
        report = build_site(root, jobs=jobs, only=only, keep_going=keep_going,
                            include_drafts=drafts, on_event=on_event, executor_name=executor,
                            scheduler=scheduler)
    finally:
        if progress is not None:
            progress.__exit__(None, None, None)
    for warning in [] if quiet else report.warnings:   # -q: errors only
        click.echo(f"warning: {warning}", err=True)
    if verbose and not quiet:
        for name, reason in sorted(report.run_reasons.items()):
            click.echo(f"  ran {name}: {reason}", err=True)
        for name, reason in sorted(report.static_figures.items()):
            click.echo(f"  figure {name} stays static (no interactive chart): {reason}",
                       err=True)
    destination = Path(root).resolve() / SITE_DIR / "index.html"
    if not quiet and report.up_to_date:
        click.echo(f"Up to date: {len(report.posts)} post(s), {report.runs_total} run(s) and "
                   f"{report.figures_total} figure(s) cached, nothing to do "
                   f"({report.seconds * 1000:.0f} ms) -> {destination}")
    elif not quiet:
        # Without rich when nothing ran and stdout is not a terminal (cli/summary.py).
        text = plain_summary(report, str(destination)) if progress is None else None
        if text is not None:
            click.echo(text, nl=False)
        else:
            from physai_blog.cli.progress import print_summary

            print_summary(report, progress, destination=str(destination))
    problems = report.failed_claims + [e.format_message() for e in report.errors]
    for message in problems:
        click.echo(f"Error: {message}", err=True)
    if problems:
        sys.exit(1)
