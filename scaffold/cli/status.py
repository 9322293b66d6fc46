"""`cli status`: deployments in config and on the server, per project. Thin: see scaffold.ops."""

from __future__ import annotations

import click


@click.command()
@click.option("-p", "--project", "projects", multiple=True, metavar="PROJECT",
              help="Only this project (repeatable). Default: every project, and server "
                   "deployments that belong to none.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def status(ctx: click.Context, projects: tuple[str, ...], as_json: bool) -> None:
    """Each deployment: in prefect.yaml and/or on the server (missing on the server, only on
    the server = drift), paused, schedules, state of the last run."""
    from scaffold.ops.status import status as run
    from scaffold.repo import Repo

    run(Repo.discover((ctx.find_root().obj or {}).get("root")), projects, as_json=as_json)
