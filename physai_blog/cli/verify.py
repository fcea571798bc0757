"""``physai-blog verify``: rebuild from scratch and compare with what is published."""

from __future__ import annotations

import click

from physai_blog.cli.options import ROOT


@click.command("verify")
@ROOT
@click.argument("slug", required=False)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("-v", "--verbose", is_flag=True, help="Also list the observables and files that match.")
def verify_command(root, slug, jobs, verbose):
    """Rebuild from scratch (ignoring the cache) and compare with everything published."""
    from physai_blog.checks.verify import report, verify

    lines, error = report(verify(root, slug, jobs=jobs), verbose)
    for line in lines:
        click.echo(line)
    if error:
        raise click.ClickException(error)
