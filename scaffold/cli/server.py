"""`cli server start|stop|status`: the embedded local Prefect server. Thin: see scaffold.ops."""

from __future__ import annotations

import click

from scaffold.ops.api import RESOLUTION_HELP


def _embedded(ctx: click.Context):
    from scaffold.ops.embedded import Embedded
    from scaffold.repo import find_root

    return Embedded(find_root((ctx.find_root().obj or {}).get("root")))


@click.group(help=f"""Start, stop or check the embedded local Prefect server.

\b
`prefect server start` on http://127.0.0.1:29020 (dashboard: http://localhost:29020),
in the background, SQLite under <root>/.prefect/ (gitignored; server.pid and server.log
there too), analytics off. Creates the process work pool default-pool
($PREFECT_WORK_POOL) that generated deployments use, when missing.

\b
{RESOLUTION_HELP}""")
def server() -> None:
    pass


@server.command()
@click.pass_context
def start(ctx: click.Context) -> None:
    """Start the server in the background and wait until it answers."""
    emb = _embedded(ctx)
    click.echo(f"Prefect server {emb.start()}")
    created = emb.ensure_work_pool()
    if created:
        click.echo(created)
    click.echo(f"dashboard: {emb.dashboard}    log: {emb.log_file}")
    click.echo("stop it with: cli server stop")


@server.command()
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the server and its child processes."""
    click.echo(f"Prefect server {_embedded(ctx).stop()}")


@server.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Is it running, where, and which API the operations use. Exit 1 when not answering."""
    up, lines = _embedded(ctx).status()
    for line in lines:
        click.echo(line)
    ctx.exit(0 if up else 1)
