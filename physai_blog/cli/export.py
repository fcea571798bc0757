"""``physai-blog export alfolio DEST [--only SLUG]``: built posts into an al-folio site."""

from __future__ import annotations

from pathlib import Path

import click

from physai_blog.cli.options import ROOT


@click.group("export")
def export_group():
    """Publish the built posts into another tool's site."""


@export_group.command("alfolio")
@click.argument("dest", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--only", metavar="SLUG", help="Export one post only.")
@ROOT
def alfolio_command(dest, only, root):
    """Write each built post into the al-folio site DEST: _posts/<date>-<slug>.md and its
    figures and downloads under assets/physai/<slug>/.  Only files an earlier export wrote
    are ever replaced (DEST/.physai-export.json lists them)."""
    from physai_blog.alfolio.exporter import export_alfolio

    done = export_alfolio(root, dest, only)
    click.echo(f"exported {len(done.posts)} post(s) ({', '.join(done.posts)}): "
               f"{len(done.written)} file(s) written, {len(done.removed)} removed -> {done.dest}")
    click.echo(f"Next: cd {done.dest} && bundle exec jekyll serve")
