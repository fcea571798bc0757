"""What several verbs share: the blog folder option and the -v event printer."""

from __future__ import annotations

from pathlib import Path

import click

ROOT = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
                    show_default=True, help="The blog folder (holding physai.yaml).")


def print_event(verbose: bool):
    def on_event(event: str, task) -> None:
        if verbose:
            click.echo(f"  {event:>6} {task.kind:<7} {task.label}", err=True)

    return on_event
