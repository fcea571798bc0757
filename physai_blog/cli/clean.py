"""``physai-blog clean``: delete site/ (and the cache)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from physai_blog.cli.options import ROOT
from physai_blog.paths import CACHE_DIR, SITE_DIR


@click.command("clean")
@ROOT
@click.option("--cache", is_flag=True, help="Also delete the cache (every run reruns).")
def clean(root, cache):
    """Delete site/ (and with --cache, .physai-cache/)."""
    shutil.rmtree(Path(root) / SITE_DIR, ignore_errors=True)
    if cache:
        shutil.rmtree(Path(root) / CACHE_DIR, ignore_errors=True)
