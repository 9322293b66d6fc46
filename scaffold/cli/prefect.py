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


_CHANGED_SINCE = click.option(
    "--changed-since", metavar="REF",
    help="Only the deployments affected by the changes since the git revision REF (commits "
         "after the merge base of REF and HEAD, plus uncommitted and untracked files): "
         "entry changed, project-level section (pull/build/push/definitions) changed, flow "
         "file changed, or it imports a changed module of the repository; entries removed "
         "since REF are orphans. With -p/-d: only those among them.")


def _selection(repo, projects: tuple[str, ...], deployments: tuple[str, ...],
               changed_since: str | None, verb: str):
    """The ops.plan.Selection of -p/-d, narrowed by --changed-since REF (said on stderr)."""
    from scaffold.ops.plan import Selection, selection

    if changed_since is None:
        return selection(repo, projects, deployments, verb=verb)
    from scaffold import changes

    base = selection(repo, projects, deployments, verb=verb) if projects or deployments else None
    found = changes.affected(repo, changed_since)
    if base is not None:  # -p/-d also given: what is in both
        keep = {(d.project, d.name) for d in base.deployments}
        found = changes.restrict(found, projects, [str(n) for _, n in keep])
        found.deployments = [d for d in found.deployments if (d.project, d.name) in keep]
    for line in changes.summary(found):
        click.echo(line, err=True)
    if found.errors:  # a prefect.yaml of the change that does not parse: nothing is done
        from scaffold.errors import UsageError

        raise UsageError("; ".join(str(e) for e in found.errors.values()))
    return Selection(found.deployments, owner_projects=sorted(set(projects)),
                     orphans=[(o.project, o.name) for o in found.orphans])


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
      cli prefect plan -p PROJECT [-p PROJECT]... [-d DEPLOYMENT]... [--changed-since REF]
                       [--json] [--exit-code]
      cli prefect deploy -p PROJECT [-p PROJECT] [-d DEPLOYMENT]... [--changed-since REF]
                         [--pause] [--force] [--prune [--yes]] [--keep-going]
      cli prefect deployment pause|resume|delete [-p PROJECT]... [-d DEPLOYMENT]...
    """


@prefect.command()
@_PROJECT
@_DEPLOYMENT
@_CHANGED_SINCE
@click.option("--json", "as_json", is_flag=True,
              help='Print {"server": URL, "deployments": [{"name", "project", "flow", '
                   '"action", "fields", "paused"}]}.')
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when anything would change (as git diff --exit-code).")
@click.pass_context
def plan(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...],
         changed_since: str | None, as_json: bool, exit_code: bool) -> None:
    """Show what `deploy` would change on the server; writes nothing.

    \b
    One row per deployment:
      create     not on the server
      update     on the server and different (the fields are named; on a terminal,
                 before -> after); a change made on the server by hand is an update
                 back to prefect.yaml
      unchanged  the server holds what deploy would send
      orphan     on the server, owned by a -p project by the naming conventions
                 (flow <P>__<F>_flow), no longer in its prefect.yaml
    The pause state is shown and is not a change (unless prefect.yaml sets `paused`).
    Exit 0; with --exit-code 1 when anything would change; 1 when a deployment cannot be
    deployed as configured (each problem one line) or the server is down; 2 on usage errors.

    \b
    Examples:
      cli prefect plan -p farm
      cli prefect plan -p farm --json
      cli prefect plan -p farm --exit-code
      cli prefect plan --changed-since origin/main --exit-code
    """
    from scaffold.ops.plan import plan_command

    repo = _repo(ctx)
    sel = _selection(repo, projects, deployments, changed_since, "plan")
    if changed_since is not None and not sel.deployments and not sel.orphans and not as_json:
        click.echo(f"nothing to plan: no deployment is affected by the changes since "
                   f"{changed_since}")
        ctx.exit(0)
    ctx.exit(plan_command(repo, sel, as_json=as_json, exit_code=exit_code))


@prefect.command()
@_PROJECT
@_DEPLOYMENT
@_CHANGED_SINCE
@click.option("--pause", is_flag=True,
              help="Create or update the deployments paused.")
@click.option("--force", is_flag=True,
              help="Write every selected deployment, also those the plan finds unchanged.")
@click.option("--prune", is_flag=True,
              help="Also delete the -p projects' orphans: deployments on the server whose "
                   "flow is the project's (<P>__<F>_flow) but that are no longer in its "
                   "prefect.yaml. Asks first on a terminal.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before pruning.")
@click.option("--keep-going", is_flag=True,
              help="Apply the valid deployments even when others are invalid (still exit 1).")
@click.pass_context
def deploy(ctx: click.Context, projects: tuple[str, ...], deployments: tuple[str, ...],
           changed_since: str | None, pause: bool, force: bool, prune: bool, yes: bool,
           keep_going: bool) -> None:
    """Deploy deployments of prefect.yaml: the plan of `cli prefect plan`, applied.

    Every selected deployment is validated before the first write (flow imports, parameters,
    work pool, schedules, prefect.variables/blocks templates): if one is invalid nothing is
    written and every problem is listed (--keep-going applies the valid ones). Deployments
    the server already holds as configured are not written (--force writes them).
    New deployments are active unless --pause. A redeploy never changes the pause state
    the deployment has on the server, unless --pause is given or prefect.yaml sets `paused`.
    Exit 1 if any deployment failed or is invalid, 2 on usage errors (unknown names;
    --prune without a terminal and without --yes).

    \b
    Examples:
      cli prefect deploy -p farm
      cli prefect deploy -p farm -p dw_tutorial
      cli prefect deploy -d farm__harvest__winter --pause
      cli prefect deploy -p farm --prune --yes
      cli prefect deploy --changed-since LAST_DEPLOYED_COMMIT --prune --yes
    """
    from scaffold.errors import UsageError
    from scaffold.ops.deploy import Declined
    from scaffold.ops.deploy import deploy as run

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if prune and not yes and not interactive:
        raise UsageError("--prune deletes deployments from the server: without a terminal to "
                         "ask on, add --yes (e.g. in CI: cli prefect deploy -p PROJECT --prune "
                         "--yes)")
    confirm = None
    if prune and not yes:
        def confirm(question: str) -> bool:
            return click.confirm(question, default=False)
    repo = _repo(ctx)
    sel = _selection(repo, projects, deployments, changed_since, "deploy")
    if changed_since is not None and not sel.deployments and not (prune and sel.orphans):
        extra = (f"; {len(sel.orphans)} entries removed since then: --prune deletes them from "
                 "the server" if sel.orphans else "")
        click.echo(f"nothing to deploy: no deployment is affected by the changes since "
                   f"{changed_since}{extra}")
        ctx.exit(0)
    try:
        run(repo, sel, pause=pause, force=force, prune=prune, keep_going=keep_going,
            confirm=confirm)
    except Declined as exc:  # an answer, not an error
        click.echo(str(exc), err=True)
        ctx.exit(1)


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

