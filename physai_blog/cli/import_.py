"""``physai-blog import alfolio SRC [DEST]``: an al-folio site into a physai blog, built."""

from __future__ import annotations

from pathlib import Path

import click

from physai_blog.cli.build import build


@click.group("import")
def import_group():
    """Make a physai blog from another tool's site."""


@import_group.command("alfolio")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dest", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-build", is_flag=True, help="Import only; do not build the new blog.")
@click.pass_context
def alfolio_command(ctx, src, dest, no_build):
    """Copy an al-folio site's posts, the files they use, its bibliography and settings into
    a new physai blog DEST (default: SRC-physai beside it), then build it.  SRC is only read."""
    from physai_blog.alfolio.importer import import_alfolio

    made = import_alfolio(src, dest)
    click.echo(f"imported {sum(r.startswith('posts/') for r in made.created)} post(s) and "
               f"{len(made.created)} file(s) into {made.dest}")
    for note in made.notes:
        click.echo(f"note: {note}", err=True)
    if not no_build:
        ctx.invoke(build, root=made.dest)
