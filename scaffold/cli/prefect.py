"""`cli prefect ...`: deploy, pause, resume and delete by project and by name; anything else is
the real `prefect` CLI with the same arguments and exit code. Thin: the work is in scaffold.ops.
"""

from __future__ import annotations

import sys

import click

_PROJECT = click.option("-p", "--project", "projects", multiple=True, metavar="PROJECT",
                        help="Every deployment of projects/PROJECT/prefect.yaml (repeatable).")
_DEPLOYMENT = click.option("-d", "--deployment", "deployments", multiple=True,
                           metavar="DEPLOYMENT",
                           help="A deployment by its name in prefect.yaml (repeatable).")


def _repo(ctx: click.Context):
    from scaffold.repo import Repo

    obj = ctx.find_root().obj or {}
    return Repo.discover(obj.get("root"))


class PassThroughGroup(click.Group):
    """A group whose unknown subcommands run ``prefect <path...> <name> <args...>``."""

    def __init__(self, *args, prefect_path: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.prefect_path = prefect_path

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return _pass_through(self.prefect_path + (name,))

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        with formatter.section("Other commands"):
            formatter.write_text(
                f"Any other command runs `prefect {' '.join(self.prefect_path + ('COMMAND',))}"
                " ...` with the same arguments and exit code, e.g. `cli prefect flows ls`, "
                "`cli prefect deployments ls`, `cli prefect deployment ls`.")


def _pass_through(path: tuple[str, ...]) -> click.Command:
    @click.command(name=path[-1], add_help_option=False,
                   context_settings={"ignore_unknown_options": True,
                                     "allow_interspersed_args": False})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def run(ctx: click.Context, args: tuple[str, ...]) -> None:
        from scaffold.errors import UsageError
        from scaffold.ops.passthrough import run_prefect
        from scaffold.repo import find_root

        try:
            root = find_root((ctx.find_root().obj or {}).get("root"))
        except UsageError:
            root = None  # outside a repository: prefect works without it
        ctx.exit(run_prefect([*path, *args], root))

    run.help = f"Runs `prefect {' '.join(path)}`."
    return run


@click.group(cls=PassThroughGroup, prefect_path=())
def prefect() -> None:
    """Deploy, pause, resume and delete deployments by project (-p) and by name (-d).

    \b
      cli prefect deploy -p PROJECT [-p PROJECT] [-d DEPLOYMENT]... [--pause]
      cli prefect deployment pause|resume|delete [-p PROJECT]... [-d DEPLOYMENT]...
    """


@prefect.command()
@_PROJECT
@_DEPLOYMENT
@click.option("--pause", is_flag=True,
              help="Create or update the deployments paused.")
@click.pass_context
def deploy(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...],
           pause: bool) -> None:
    """Deploy deployments of prefect.yaml, in one process, with Prefect's own deploy steps.

    New deployments are active unless --pause. A redeploy keeps the pause state the
    deployment has on the server, unless --pause is given or prefect.yaml sets `paused`.
    Exit 1 if any deployment failed, 2 on unknown names (nothing is deployed then).

    \b
    Examples:
      cli prefect deploy -p farm
      cli prefect deploy -p farm -p dw_tutorial
      cli prefect deploy -d farm__harvest__winter --pause
    """
    from scaffold.ops.deploy import deploy as run

    run(_repo(ctx), projects, deployments, pause=pause)


@prefect.group(cls=PassThroughGroup, prefect_path=("deployment",))
def deployment() -> None:
    """Pause, resume or delete deployments by project (-p) and by name (-d)."""


@deployment.command()
@_PROJECT
@_DEPLOYMENT
@click.pass_context
def pause(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...]) -> None:
    """Pause deployments (the dashboard's toggle): no new scheduled runs until resumed."""
    from scaffold.ops.manage import set_paused

    set_paused(_repo(ctx), projects, deployments, paused=True)


@deployment.command()
@_PROJECT
@_DEPLOYMENT
@click.pass_context
def resume(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...]) -> None:
    """Resume paused deployments."""
    from scaffold.ops.manage import set_paused

    set_paused(_repo(ctx), projects, deployments, paused=False)


@deployment.command()
@_PROJECT
@_DEPLOYMENT
@click.option("--prune-config", is_flag=True,
              help="Also remove the entries from prefect.yaml (the rest of the file is kept "
                   "byte for byte).")
@click.option("--prune-flows", is_flag=True,
              help="Also delete the flows of the selected deployments left without "
                   "deployments (also one left by an earlier delete), WITH their run history.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...],
           prune_config: bool, prune_flows: bool, yes: bool) -> None:
    """Delete deployments from the server (asks first on a terminal; --yes skips that).

    Step 2 of deleting a deployment is removing it from prefect.yaml: --prune-config does it.
    """
    from scaffold.ops.manage import Declined
    from scaffold.ops.manage import delete as run

    confirm = None
    if not yes and sys.stdin.isatty() and sys.stdout.isatty():
        def confirm(question: str) -> bool:
            return click.confirm(question, default=False)
    try:
        run(_repo(ctx), projects, deployments, prune_config=prune_config,
            prune_flows=prune_flows, confirm=confirm)
    except Declined as exc:  # an answer, not an error: no "error:" prefix; exit 1 as click.Abort
        click.echo(str(exc), err=True)
        ctx.exit(1)

