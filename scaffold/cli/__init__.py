"""The `cli` command: a thin click layer, one module per command group, loaded lazily.

Start-up matters (`cli --help`, `cli new-flow` and `cli lint` run on every commit): a
subcommand's module is imported only when that subcommand runs, and prefect is imported only
inside `scaffold.ops`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys

import click

from scaffold import __version__
from scaffold.errors import OperationError, UsageError, printable

# name -> (module:attribute, short help). The help is here so `cli --help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "new-project": ("scaffold.cli.generate:new_project", "Create projects/PROJECT from the template."),
    "new-flow": ("scaffold.cli.generate:new_flow", "Add a flow file and its deployments to a project."),
    "new-deployment": ("scaffold.cli.generate:new_deployment",
                       "Add a parameterized deployment of an existing flow."),
    "lint": ("scaffold.cli.lint:lint", "Check the naming conventions across all projects."),
    "prefect": ("scaffold.cli.prefect:prefect",
                "Deploy, pause, resume, delete; anything else goes to the prefect CLI."),
    "status": ("scaffold.cli.status:status", "Deployments in config and on the server, per project."),
    "server": ("scaffold.cli.server:server", "Start, stop or check the embedded local Prefect server."),
}


# command -> (top-level module it needs, the extra that installs it). The package without extras
# is what linting needs (pre-commit installs it that way); find_spec looks, imports nothing.
REQUIRES: dict[str, tuple[str, str]] = {
    "new-project": ("copier", "generate"),
    "new-flow": ("copier", "generate"),
    "new-deployment": ("copier", "generate"),
    "prefect": ("prefect", "prefect"),
    "status": ("prefect", "prefect"),
    "server": ("prefect", "prefect"),
}


def missing_extra(name: str) -> str | None:
    """One line saying how to install what command ``name`` needs, or None when it is there."""
    if name not in REQUIRES:
        return None
    module, extra = REQUIRES[name]
    if importlib.util.find_spec(module) is not None:
        return None
    return (f"`cli {name}` needs {module}, which is not installed here: "
            f"pip install 'scaffold[{extra}]' (the scaffold repository's scripts install everything)")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        message = missing_extra(name)
        if message:  # before importing the command's module, which may need what is missing
            raise UsageError(message)
        target = COMMANDS[name][0]
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


    def invoke(self, ctx: click.Context):
        # Errors on bad input: one line, exit 2, no traceback (same under CliRunner).
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            reader_gone()
        except (UsageError, OperationError) as exc:
            # escaped: a file name or link target in the message is data (a newline in it
            # would forge a line, e.g. a GitHub Actions annotation)
            click.echo(f"error: {printable(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # disk full, permissions...: the system's words, no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {printable(where + str(exc.strerror or exc))}", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False), envvar="SCAFFOLD_ROOT",
              help="Repository root (the folder holding projects/). Default: found by walking "
                   "up from the current folder.")
@click.version_option(__version__, prog_name="cli")
@click.pass_context
def cli(ctx: click.Context, root: str | None) -> None:
    """Toolkit for a Prefect 3 monorepo: generate, lint and operate projects/<PROJECT>/."""
    ctx.obj = {"root": root}


# 128 + SIGPIPE: the status a shell reports for `git log` when `| head` has stopped reading
SIGPIPE_EXIT = 141


def reader_gone() -> None:
    """The reader of our output went away (`cli status | head -2`): end quietly, as `git log |
    head` does. stdout then points at /dev/null, so that neither a later write nor the
    interpreter's final flush fails with "Broken pipe" or "Exception ignored"."""
    with contextlib.suppress(OSError, ValueError):  # no real file descriptor (CliRunner)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    sys.exit(SIGPIPE_EXIT)


def _flush() -> None:
    try:
        sys.stdout.flush()  # output still buffered when the command ended
    except BrokenPipeError:
        reader_gone()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="cli")
    except SystemExit:
        _flush()
        raise
    _flush()
