"""``physai-blog serve``: build, serve, rebuild on change, reload the page."""

from __future__ import annotations

import click

from physai_blog.cli.options import ROOT


@click.command("serve")
@ROOT
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback exposes the site to your network.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parallel experiment workers.")
def serve_command(root, port, host, jobs):
    """Build, serve site/ on 127.0.0.1, rebuild on change and reload the page."""
    from physai_blog.serve.requests import is_loopback
    from physai_blog.serve.server import DevServer

    explicit = click.get_current_context().get_parameter_source("host") \
        == click.core.ParameterSource.COMMANDLINE
    if explicit and not is_loopback(host):
        click.echo(f"warning: serving on {host}, not loopback: anyone who can reach this "
                   "machine on that address can read the site", err=True)
    server = DevServer(root, host, port, allow_public=explicit, jobs=jobs,
                       echo=lambda line, error=False: click.echo(line, err=error))
    server.start(wait=False)   # serving at once: a long first build can be watched
    click.echo(f"Serving {server.url}  (watching posts/, experiments/, templates/, physai.yaml; "
               "Ctrl+C to stop)")
    try:
        while not server.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.stop()
