"""The ``physai-blog`` command: a thin Click layer over the library (``build.build`` ...)."""

from __future__ import annotations

import shutil
import signal
import sys
from pathlib import Path

import click

from .errors import PhysaiError, Stopped

ROOT = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
                    show_default=True, help="The blog folder (holding physai.yaml).")


class _Group(click.Group):
    """Ctrl+C, SIGTERM and SIGHUP (terminal closed) stop a command the same way: workers are
    killed, finished runs stay in the cache, ``site/`` is untouched; one line, exit 128+N."""

    def invoke(self, ctx):
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            number = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
            click.echo(f"\nStopped ({signal.Signals(number).name}): runs that had finished are "
                       "kept in the cache; site/ is unchanged.", err=True)
            sys.exit(128 + number)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _stop(signum, frame):
    raise Stopped(signum)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="physai-blog")
def main():
    """Static site generator for Physics-of-AI phenomenology posts."""


def _print_event(verbose: bool):
    def on_event(event: str, task) -> None:
        if verbose:
            click.echo(f"  {event:>6} {task.kind:<7} {task.label}", err=True)

    return on_event


@main.command()
@ROOT
@click.option("--only", metavar="SLUG", help="Run the experiments of one post only.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("--keep-going", is_flag=True,
              help="Publish what can be built; failing claims are marked, failing posts skipped.")
@click.option("--drafts", is_flag=True, help="Include posts with `draft: true`.")
@click.option("-v", "--verbose", is_flag=True, help="Show every run and figure as it happens.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("--executor", type=click.Choice(["local", "dask"]),
              help="Where runs execute (default: physai.yaml's `executor`, else local).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler, e.g. tcp://host:8786 (none: start a LocalCluster).")
def build(root, only, jobs, keep_going, drafts, verbose, quiet, executor, scheduler):
    """Run stale experiments, draw figures, write the site into site/."""
    from .build import build as build_site

    progress = None

    def on_event(event, task):
        # The live display (rich) starts with the first run or figure: a build with nothing
        # to do never imports it.
        nonlocal progress
        if progress is None:
            from .progress import BuildProgress

            progress = BuildProgress(live=False if quiet else None, verbose=verbose and not quiet,
                                     echo=lambda line: click.echo(line, err=True))
            progress.__enter__()
        progress(event, task)

    try:
        report = build_site(root, jobs=jobs, only=only, keep_going=keep_going,
                            include_drafts=drafts, on_event=on_event, executor_name=executor,
                            scheduler=scheduler)
    finally:
        if progress is not None:
            progress.__exit__(None, None, None)
    for warning in [] if quiet else report.warnings:   # -q: errors only
        click.echo(f"warning: {warning}", err=True)
    if verbose and not quiet:
        for name, reason in sorted(report.run_reasons.items()):
            click.echo(f"  ran {name}: {reason}", err=True)
    destination = Path(root).resolve() / "site" / "index.html"
    if not quiet and report.up_to_date:
        click.echo(f"Up to date: {len(report.posts)} post(s), {report.runs_total} run(s) and "
                   f"{report.figures_total} figure(s) cached, nothing to do "
                   f"({report.seconds * 1000:.0f} ms) -> {destination}")
    elif not quiet:
        from .progress import print_summary

        print_summary(report, progress, destination=str(destination))
    problems = report.failed_claims + [e.format_message() for e in report.errors]
    for message in problems:
        click.echo(f"Error: {message}", err=True)
    if problems:
        sys.exit(1)


@main.command()
@ROOT
@click.option("--cache", is_flag=True, help="Also delete the cache (every run reruns).")
def clean(root, cache):
    """Delete site/ (and with --cache, .physai-cache/)."""
    shutil.rmtree(Path(root) / "site", ignore_errors=True)
    if cache:
        shutil.rmtree(Path(root) / ".physai-cache", ignore_errors=True)


@main.command("run")
@ROOT
@click.argument("slug")
@click.option("--force", is_flag=True, help="Rerun every run, even the cached ones.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("--figures", is_flag=True, help="Also draw the post's figures (into the cache).")
@click.option("-v", "--verbose", is_flag=True, help="Show every run as it happens.")
def run_command(root, slug, force, jobs, figures, verbose):
    """Run one post's experiment (no site is written) and print its values."""
    from .verify import run_post

    plans, executed = run_post(root, slug, force=force, jobs=jobs, figures=figures,
                               on_event=_print_event(verbose))
    click.echo(f"{slug}: {len(executed)} of {len(plans)} run(s) executed")
    import json

    for plan in plans:
        values = json.loads((Path(root).resolve() / ".physai-cache" / "runs" / plan.key /
                             "values.json").read_text())
        shown = ", ".join(f"{k}={v:.6g}" for k, v in sorted(values.items()))
        click.echo(f"  {plan.label:<28} {shown}")


@main.command("verify")
@ROOT
@click.argument("slug", required=False)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
@click.option("-v", "--verbose", is_flag=True, help="Also list the observables and files that match.")
def verify_command(root, slug, jobs, verbose):
    """Rebuild from scratch (ignoring the cache) and compare with everything published."""
    from .verify import report, verify

    lines, error = report(verify(root, slug, jobs=jobs), verbose)
    for line in lines:
        click.echo(line)
    if error:
        raise click.ClickException(error)


@main.command("new")
@click.argument("title")
@click.option("--tags", metavar="A,B", help="Comma-separated tags of the new post.")
@ROOT
def new_command(title, tags, root):
    """Create a post and its experiment that build at once (and physai.yaml if missing)."""
    from .scaffold import new_post

    made = new_post(title, root, tags)
    for rel in made.created:
        click.echo(f"created {Path(root) / rel}")
    click.echo(f"Next: physai-blog serve --root {root}   (or: physai-blog build --root {root})")


@main.command("serve")
@ROOT
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback exposes the site to your network.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
def serve_command(root, port, host, jobs):
    """Build, serve site/ on 127.0.0.1, rebuild on change and reload the page."""
    from .serve import DevServer, is_loopback

    explicit = click.get_current_context().get_parameter_source("host") \
        == click.core.ParameterSource.COMMANDLINE
    if explicit and not is_loopback(host):
        click.echo(f"warning: serving on {host}, not loopback: anyone who can reach this "
                   "machine on that address can read the site", err=True)
    server = DevServer(root, host, port, allow_public=explicit, jobs=jobs,
                       echo=lambda line, error=False: click.echo(line, err=error))
    server.start()
    click.echo(f"Serving {server.url}  (watching posts/, experiments/, templates/, physai.yaml; "
               "Ctrl+C to stop)")
    try:
        while not server.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.stop()


@main.command("doctor")
@ROOT
def doctor_command(root):
    """Check the whole blog without running anything; list every problem found."""
    from .doctor import doctor

    report = doctor(root)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(problem)
    checked = f"physai.yaml, {report.posts} post(s), {report.experiments} experiment(s)"
    if report.problems:
        raise PhysaiError(f"{len(report.problems)} problem(s) found in {checked}")
    click.echo(f"No problems found in {checked}.")


def run_cli():
    try:
        main(standalone_mode=True)
    except PhysaiError as exc:  # pragma: no cover - click handles it in standalone mode
        exc.show()
        sys.exit(exc.exit_code)
