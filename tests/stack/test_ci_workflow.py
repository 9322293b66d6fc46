"""docs/ci/prefect.yml, the GitHub Actions recipe of docs/prefect.md: valid YAML of the shape
GitHub reads, and every `cli` command in it exists and its options parse (click parses them
without running anything)."""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path

import click
import pytest
import yaml

from scaffold.cli import cli

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "ci" / "prefect.yml"


def _runs() -> dict[str, list[str]]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return {name: [step["run"] for step in job["steps"] if "run" in step]
            for name, job in data["jobs"].items()}


def _parse(argv: list[str]) -> click.Context:
    """Resolve ``cli ARGV`` down to its command and parse its options (UsageError if wrong)."""
    ctx = cli.make_context("cli", list(argv), resilient_parsing=False)
    command: click.Command = cli
    while isinstance(command, click.Group):
        with warnings.catch_warnings():  # click 8.2 deprecated it, 9.0 (not admitted) drops it
            warnings.simplefilter("ignore", DeprecationWarning)
            args = ctx.protected_args + ctx.args
        name, sub, rest = command.resolve_command(ctx, args)
        assert isinstance(sub, click.Command), f"no command {name!r} in {argv}"
        command = sub
        ctx = sub.make_context(name, rest, parent=ctx)
    assert not ctx.ignore_unknown_options, f"{argv} is not a command of cli (passed to prefect)"
    return ctx


def _cli_lines(script: str) -> list[list[str]]:
    return [shlex.split(line.strip())[1:] for line in script.splitlines()
            if line.strip().startswith("cli ")]


def test_the_workflow_runs_lint_and_plan_on_pull_requests_and_deploys_main():
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = data[True] if True in data else data["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    runs = _runs()
    plan = [argv for script in runs["plan"] for argv in _cli_lines(script)]
    deploy = [argv for script in runs["deploy"] for argv in _cli_lines(script)]
    assert plan[0][0] == "lint"
    assert plan[1][:2] == ["prefect", "plan"] and "--exit-code" in plan[1]
    assert deploy[0][:2] == ["prefect", "deploy"]
    assert {"--changed-since", "--prune", "--yes"} <= set(deploy[0])
    assert data["jobs"]["plan"]["if"].startswith("github.event_name == 'pull_request'")


def test_every_cli_command_in_the_workflow_exists_and_parses():
    commands = [argv for scripts in _runs().values() for script in scripts
                for argv in _cli_lines(script)]
    assert len(commands) == 3
    for argv in commands:
        ctx = _parse(argv)
        assert ctx.command.name == argv[1] if argv[0] == "prefect" else argv[0]


def test_a_wrong_option_would_be_caught():
    with pytest.raises(click.UsageError):
        _parse(["prefect", "plan", "--no-such-option"])
    with pytest.raises((click.UsageError, AssertionError)):
        _parse(["prefect", "plna", "-p", "x"])
