"""The ``physai-blog`` command: a thin Click group over the library, one module per verb
(``cli/build.py`` ...), each calling the library API that tests call directly."""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
import threading

import click

from physai_blog.cli import (
    build,
    cache,
    clean,
    doctor,
    export,
    import_,
    new,
    run,
    serve,
    verify,
)
from physai_blog.errors import PhysaiError, Stopped


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


main.add_command(build.build)
main.add_command(cache.cache_group)
main.add_command(clean.clean)
main.add_command(run.run_command)
main.add_command(verify.verify_command)
main.add_command(new.new_command)
main.add_command(serve.serve_command)
main.add_command(doctor.doctor_command)
main.add_command(import_.import_group)
main.add_command(export.export_group)


#: The cyclic collector's thresholds in the command's process.  A one-post edit of a 2,000-post
#: blog holds ~100,000 objects (its indexes and records) that the default first threshold (700
#: allocations) has the collector traverse over and over: 30-50 ms, a tenth of the build.
#: Cycles are still collected, every 100,000 allocations (test_fresh_process).
COLLECTOR_THRESHOLDS = (100_000, 10, 10)


def tune_collector() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def run_cli():
    tune_collector()
    try:
        main(standalone_mode=True)
    except PhysaiError as exc:  # pragma: no cover - click handles it in standalone mode
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit as exc:
        quick_exit(exc)


def quick_exit(exc: SystemExit):
    """End the process as a normal exit does (streams flushed, atexit handlers run) but
    without tearing down every module and object one by one (~20 ms after a build: an eighth
    of a no-op build).  Only when no other thread than daemons still runs (a normal exit
    waits for those) and the streams flush; else the normal exit."""
    code = exc.code
    status = code if isinstance(code, int) else 0 if code is None else 1
    exit_funcs = getattr(atexit, "_run_exitfuncs", None)
    alive = [t for t in threading.enumerate()
             if t is not threading.main_thread() and not t.daemon]
    if exit_funcs is None or alive:
        raise exc
    if not isinstance(code, (int, type(None))):
        print(code, file=sys.stderr)   # what SystemExit("message") prints
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise exc from None
    exit_funcs()
    os._exit(status)
