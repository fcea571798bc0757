"""``python -m physai_blog``: the same command as ``physai-blog``."""

from physai_blog.cli.main import run_cli

run_cli()
