"""The ``physai-blog`` command: a thin Click layer over the library (``build.build`` ...)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from .errors import PhysaiError

ROOT = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
                    show_default=True, help="The blog folder (holding physai.yaml).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="physai-blog")
def main():
    """Static site generator for Physics-of-AI phenomenology posts."""


def _print_event(verbose: bool):
    def on_event(event: str, task) -> None:
        if verbose:
            click.echo(f"  {event:>6} {task.kind:<7} {task.label}", err=True)

    return on_event


@main.command()
@ROOT
@click.option("--only", metavar="SLUG", help="Run the experiments of one post only.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("--keep-going", is_flag=True,
              help="Publish what can be built; failing claims are marked, failing posts skipped.")
@click.option("--drafts", is_flag=True, help="Include posts with `draft: true`.")
@click.option("-v", "--verbose", is_flag=True, help="Show every run and figure as it happens.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
def build(root, only, jobs, keep_going, drafts, verbose, quiet):
    """Run stale experiments, draw figures, write the site into site/."""
    from .build import build as build_site

    report = build_site(root, jobs=jobs, only=only, keep_going=keep_going,
                        include_drafts=drafts, on_event=_print_event(verbose and not quiet))
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        w = report.write
        click.echo(f"Built {len(report.posts)} post(s) in {report.seconds:.2f} s: "
                   f"{len(report.runs_executed)} of {report.runs_total} run(s) executed, "
                   f"{len(report.figures_drawn)} of {report.figures_total} figure(s) drawn, "
                   + (f"{w.written} file(s) written" if w and w.swapped else "site unchanged")
                   + f" -> {Path(root).resolve() / 'site' / 'index.html'}")
    problems = report.failed_claims + [e.format_message() for e in report.errors]
    for message in problems:
        click.echo(f"Error: {message}", err=True)
    if problems:
        sys.exit(1)


@main.command()
@ROOT
@click.option("--cache", is_flag=True, help="Also delete the cache (every run reruns).")
def clean(root, cache):
    """Delete site/ (and with --cache, .physai-cache/)."""
    shutil.rmtree(Path(root) / "site", ignore_errors=True)
    if cache:
        shutil.rmtree(Path(root) / ".physai-cache", ignore_errors=True)


def run_cli():
    try:
        main(standalone_mode=True)
    except PhysaiError as exc:  # pragma: no cover - click handles it in standalone mode
        exc.show()
        sys.exit(exc.exit_code)
