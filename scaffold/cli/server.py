"""`cli server start|stop|status`: the embedded local Prefect server. Thin: see scaffold.ops."""

from __future__ import annotations

import click


def _embedded(ctx: click.Context):
    from scaffold.ops.embedded import Embedded
    from scaffold.repo import find_root

    return Embedded(find_root((ctx.find_root().obj or {}).get("root")))


def _help() -> str:
    """The group's help, with the port in effect ($SCAFFOLD_SERVER_PORT), read when shown."""
    from scaffold.errors import UsageError
    from scaffold.ops import api

    try:
        api_url = api.embedded_api_url()
        where = f"{api_url} (dashboard: {api.dashboard_url(api_url)})"
    except UsageError as err:
        where = f"127.0.0.1: {err}"
    return f"""Start, stop or check the embedded local Prefect server.

\b
`prefect server start` on {where},
in the background, SQLite under <root>/.prefect/ (gitignored; server.pid and server.log
there too), analytics off. The port is ${api.ENV_PORT} (default {api.DEFAULT_PORT}).
Creates the process work pool default-pool ($PREFECT_WORK_POOL) that generated
deployments use, when missing.

\b
{api.resolution_help()}"""


class _ServerGroup(click.Group):
    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.help = _help()
        super().format_help_text(ctx, formatter)


@click.group(cls=_ServerGroup)
def server() -> None:
    pass


@server.command()
@click.option("--use-running", is_flag=True,
              help="When a Prefect server that this command did not start already answers "
                   "on the port, use it as it is (exit 0) instead of refusing (exit 1).")
@click.pass_context
def start(ctx: click.Context, use_running: bool) -> None:
    """Start the server in the background and wait until it answers."""
    emb = _embedded(ctx)
    click.echo(emb.start(use_running=use_running))
    created = emb.ensure_work_pool()
    if created:
        click.echo(created)
    click.echo(f"dashboard: {emb.dashboard}    log: {emb.log_file}")
    if emb.pid() is not None:
        click.echo("stop it with: cli server stop")


@server.command()
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the server and its child processes (only one `cli server start` started)."""
    emb = _embedded(ctx)
    result = emb.stop()
    if result == "not running" and emb.healthy():
        result += f"; {emb.foreign()}: not stopped"
    click.echo(f"Prefect server {result}")


@server.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Is it running, where, and which API the operations use. Exit 1 when not answering."""
    up, lines = _embedded(ctx).status()
    for line in lines:
        click.echo(line)
    ctx.exit(0 if up else 1)
