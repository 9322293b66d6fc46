"""`cli new-project`, `cli new-flow`, `cli new-deployment` (never imports prefect)."""

from __future__ import annotations

import os
from pathlib import Path

import click


def _repo(ctx: click.Context):
    from scaffold.repo import Repo

    return Repo.discover(ctx.obj.get("root") if ctx.obj else None)


def _show(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def deploy_options(func):
    """Options shared by new-flow and new-deployment."""
    options = [
        click.option("--param", "params", multiple=True, metavar="KEY[:TYPE]=VALUE",
                     help="Flow parameter; repeat a key for one deployment per value. Type from "
                          "the value (str, int, float, true/false, JSON) or forced with :TYPE."),
        click.option("--suffix", metavar="NAME",
                     help="Deployment name suffix (PROJECT__FLOW__NAME) instead of the value."),
        click.option("--schedule", metavar="CRON",
                     help="Cron schedule, e.g. '0 6 * * *' (never inherited: two flows on one "
                          "schedule is rarely what you want)."),
        click.option("--timezone", metavar="TZ",
                     help="Time zone of the schedule (default: the project's, declared in its "
                          "prefect.yaml, else UTC)."),
        click.option("--work-pool", metavar="NAME",
                     help="Work pool (default: the project's, declared in its prefect.yaml, "
                          "else default-pool)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG",
                     help="Deployment tag, repeatable (default: the project's declared tags)."),
        click.option("--description", metavar="TEXT",
                     help="Deployment description (new-flow: also the flow's docstring)."),
        click.option("--paused", is_flag=True, help="Write `paused: true`: deploy it paused."),
        click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _opts(schedule, timezone, work_pool, tags, description, paused):
    from scaffold.generate.options import DeployOptions

    return DeployOptions(schedule=schedule, timezone=timezone, work_pool=work_pool,
                         tags=tuple(tags), description=description, paused=paused)


def _report(result, dry_run: bool, project: str) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run:
        for path, text in result.previews.items():
            click.echo(f"would create {_show(path)}:")
            click.echo(text, nl=False)
        if result.config_diff:
            click.echo(result.config_diff, nl=False)
        click.echo("dry run: nothing was written", err=True)
        return
    for path in result.created:
        click.echo(f"created {_show(path)}")
    for name in result.deployments:
        click.echo(f"added deployment {name} to {_show(result.config)}")
    if result.deployments:
        click.echo(f"next: cli prefect deploy -p {project}", err=True)


@click.command("new-project")
@click.argument("project")
@click.option("--work-pool", metavar="NAME", help="Work pool of the project's deployments.")
@click.option("--timezone", metavar="TZ", help="Default time zone of schedules (default UTC).")
@click.pass_context
def new_project(ctx: click.Context, project: str, work_pool: str | None, timezone: str | None) -> None:
    """Create projects/PROJECT (prefect.yaml, flows/, README) from templates/project."""
    from scaffold.generate.core import new_project as run

    result = run(_repo(ctx), project, work_pool=work_pool, timezone=timezone)
    for path in result.created:
        click.echo(f"created {_show(path)}")
    click.echo(f"next: cli new-flow {project} FLOW_NAME [--param KEY=VALUE]", err=True)


@click.command("new-flow")
@click.argument("project")
@click.argument("flow")
@deploy_options
@click.option("--no-deployment", is_flag=True, help="Write the flow file only.")
@click.pass_context
def new_flow(ctx: click.Context, project, flow, params, suffix, schedule, timezone, work_pool,
             tags, description, paused, dry_run, no_deployment) -> None:
    """Add flows/FLOW.py to PROJECT and its deployments to prefect.yaml.

    \b
    cli new-flow farm harvest
    cli new-flow farm harvest --param season=winter --param season=summer
    """
    from scaffold.generate.core import new_flow as run

    result = run(_repo(ctx), project, flow, list(params), suffix,
                 _opts(schedule, timezone, work_pool, tags, description, paused),
                 deployment=not no_deployment, dry_run=dry_run)
    _report(result, dry_run, project)


@click.command("new-deployment")
@click.argument("project")
@click.argument("flow")
@deploy_options
@click.pass_context
def new_deployment(ctx: click.Context, project, flow, params, suffix, schedule, timezone,
                   work_pool, tags, description, paused, dry_run) -> None:
    """Add a parameterized deployment of an existing flow to prefect.yaml.

    \b
    cli new-deployment farm harvest --param season=autumn
    """
    from scaffold.generate.core import new_deployment as run

    result = run(_repo(ctx), project, flow, list(params), suffix,
                 _opts(schedule, timezone, work_pool, tags, description, paused), dry_run=dry_run)
    _report(result, dry_run, project)
