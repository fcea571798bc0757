"""``physai-blog new``: a post and its experiment that build at once."""

from __future__ import annotations

from pathlib import Path

import click

from physai_blog.cli.options import ROOT


@click.command("new")
@click.argument("title")
@click.option("--tags", metavar="A,B", help="Comma-separated tags of the new post.")
@click.option("--notebook", is_flag=True,
              help="One Jupyter notebook that is both the post and its experiment.")
@ROOT
def new_command(title, tags, notebook, root):
    """Create a post and its experiment that build at once (and physai.yaml if missing)."""
    from physai_blog.content.scaffold import new_post

    made = new_post(title, root, tags, notebook=notebook)
    for rel in made.created:
        click.echo(f"created {Path(root) / rel}")
    click.echo(f"Next: physai-blog serve --root {root}   (or: physai-blog build --root {root})")
