"""``physai-blog run SLUG``: one post's experiment, no site."""

from __future__ import annotations

import json
from pathlib import Path

import click

from physai_blog.cli.options import ROOT, print_event
from physai_blog.paths import CACHE_DIR


@click.command("run")
@ROOT
@click.argument("slug")
@click.option("--force", is_flag=True, help="Rerun every run, even the cached ones.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("--figures", is_flag=True, help="Also draw the post's figures (into the cache).")
@click.option("-v", "--verbose", is_flag=True, help="Show every run as it happens.")
def run_command(root, slug, force, jobs, figures, verbose):
    """Run one post's experiment (no site is written) and print its values."""
    from physai_blog.checks.rerun import run_post

    plans, executed = run_post(root, slug, force=force, jobs=jobs, figures=figures,
                               on_event=print_event(verbose))
    click.echo(f"{slug}: {len(executed)} of {len(plans)} run(s) executed")
    for plan in plans:
        values = json.loads((Path(root).resolve() / CACHE_DIR / "runs" / plan.key /
                             "values.json").read_text())
        shown = ", ".join(f"{k}={v:.6g}" for k, v in sorted(values.items()))
        click.echo(f"  {plan.label:<28} {shown}")
