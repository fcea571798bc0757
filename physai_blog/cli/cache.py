"""``physai-blog cache push DEST`` / ``cache pull SRC``: share results instead of re-training."""

from __future__ import annotations

import click

from physai_blog.cli.options import ROOT


@click.group("cache")
def cache_group():
    """Share run and figure results through a folder or an fsspec URL (s3://...)."""


@cache_group.command("push")
@ROOT
@click.argument("dest")
def push_command(root, dest):
    """Copy the cached runs, figures and notebooks to DEST (content-addressed)."""
    from physai_blog.runs.share import cache_of, push

    done = push(cache_of(root, _warn), dest)
    click.echo(f"pushed {done.copied} entr{'y' if done.copied == 1 else 'ies'} "
               f"({done.objects} file(s) uploaded, {done.present} already in {dest})")


@cache_group.command("pull")
@ROOT
@click.argument("src")
def pull_command(root, src):
    """Copy the entries of SRC this cache lacks, each file verified against its sha256."""
    from physai_blog.runs.share import cache_of, pull

    cache = cache_of(root, _warn)
    with cache.lock():
        done = pull(cache, src)
    click.echo(f"pulled {done.copied} entr{'y' if done.copied == 1 else 'ies'} "
               f"({done.present} already here, {len(done.refused)} refused) from {src}")


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)
