"""``physai-blog doctor``: check the blog without running anything."""

from __future__ import annotations

import click

from physai_blog.cli.options import ROOT
from physai_blog.errors import PhysaiError


@click.command("doctor")
@ROOT
def doctor_command(root):
    """Check the whole blog without running anything; list every problem found."""
    from physai_blog.checks.doctor import doctor

    report = doctor(root)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(problem)
    checked = f"physai.yaml, {report.posts} post(s), {report.experiments} experiment(s)"
    if report.problems:
        raise PhysaiError(f"{len(report.problems)} problem(s) found in {checked}")
    click.echo(f"No problems found in {checked}.")
