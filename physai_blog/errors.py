"""One exception root for everything a user can cause.

``PhysaiError`` is a ``click.ClickException``, so the CLI prints its one-line message (plus an
optional detail block, e.g. the experiment's own traceback) and exits non-zero, with no
traceback of physai-blog's internals.  Input errors (the blog is wrong) and run failures (an
experiment failed) are separate classes, as in doit.
"""

from __future__ import annotations

import click


def where(path, line: int | None = None) -> str:
    """``path:line`` as a user sees it (line numbers are 1-based)."""
    return f"{path}:{line}" if line else f"{path}"


class PhysaiError(click.ClickException):
    """Root of every error physai-blog reports to a user."""

    exit_code = 1

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail

    def format_message(self) -> str:
        return self.message + (("\n" + self.detail.rstrip()) if self.detail else "")

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class InputError(PhysaiError):
    """The blog's own files are wrong: config, front matter, Markdown, experiment spec."""

    def __init__(self, path, line: int | None, message: str, detail: str = ""):
        self.path, self.line = str(path), line
        super().__init__(f"{where(path, line)}: {message}", detail)


class InputErrors(PhysaiError):
    """Several input errors found at once (validation collects them all)."""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        first, rest = errors[0], errors[1:]
        detail = "\n".join(e.message for e in rest)
        if rest:
            detail = f"({len(rest)} more)\n" + detail
        super().__init__(first.message, detail)


class RunError(PhysaiError):
    """An experiment failed: it raised, timed out, or produced an invalid observable."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl+C is: a BaseException, so no
    ``except Exception`` on the way mistakes it for a failed post or run."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class CacheLocked(PhysaiError):
    """Another build holds the cache."""


def collect(errors: list[InputError]) -> None:
    """Raise the collected errors, if any, as one report."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
