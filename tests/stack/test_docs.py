"""The documentation cannot drift from the tool.

- Every `cli` command in docs/prefect.md (code blocks, table cells, prose) runs with exit code 0
  against a real local Prefect server, on a scratch repository made with `cli new-project` and
  `cli new-flow`, its placeholders filled with real names (tests/helpers/docs_commands.py).
- docs/conventions.md's examples are what scaffold/naming.py says.
- Links between the pages resolve; the seed's tables and commands are all still there; the
  services and settings the pages name exist.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold import naming
from tests.helpers.docs_commands import Names, anchors, commands, links, spare_needs
from tests.helpers.stack_files import (
    ENV_EXAMPLE,
    REPO,
    SERVICES,
    dockerfile_args,
    pyproject_prefect_pin,
    read_env_file,
)

DOCS = REPO / "docs"
PREFECT_MD = DOCS / "prefect.md"
SEED = REPO.parent / "shared" / "seed-prefect.md"
CLI = str(Path(sys.executable).with_name("cli"))
PAGES = sorted(DOCS.glob("*.md")) + [REPO / "README.md"]


# -- docs/prefect.md: every command runs ------------------------------------------------------


def test_prefect_md_shows_the_seed_commands_and_more():
    cmds = [c.text for c in commands(PREFECT_MD.read_text())]
    assert len(cmds) >= 30
    for required in ("cli prefect deployment delete -d DEPLOYMENT_NAME --prune-config",
                     "cli new-flow dw_tutorial FLOW_NAME",
                     "cli prefect deploy -d DEPLOYMENT_NAME --pause"):
        assert required in cmds


def _table_rows(markdown: str) -> list[str]:
    return [line.strip() for line in markdown.splitlines()
            if line.strip().startswith("|") and not set(line.strip()) <= set("|-: ")]


def test_prefect_md_keeps_the_seeds_tables_and_commands():
    if not SEED.is_file():
        pytest.skip(f"the seed is not at {SEED} (CI lays shared/ beside the clone)")
    seed, ours = SEED.read_text(), PREFECT_MD.read_text()
    ours_rows = set(_table_rows(ours))
    missing = [row for row in _table_rows(seed) if row not in ours_rows]
    assert missing == []
    ours_cmds = {c.text for c in commands(ours)}
    assert [c.text for c in commands(seed) if c.text not in ours_cmds] == []
    seed_headings = re.findall(r"^#+ .*$", seed, re.MULTILINE)
    ours_headings = re.findall(r"^#+ .*$", ours, re.MULTILINE)
    assert [h for h in seed_headings if h not in ours_headings] == []


def _cli(env: dict[str, str], root: Path, argv: list[str]) -> tuple[int, str]:
    """Run `cli ARGV` in this process (prefect is imported once for all the commands, which
    saves about two seconds a command), from ``root`` and with ``env`` as the environment.
    The output is stdout then stderr."""
    from tests.helpers.cli import invoke

    result = invoke(*argv, cwd=root, env=env, catch_exceptions=True)
    output = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def _scratch_repo(root: Path, env: dict[str, str], spare_projects: int,
                  spare_deployments: int) -> tuple[Names, list[str]]:
    """The repository's own projects/ (the docs use dw_tutorial) plus generated ones, named
    ``docs_*`` so that they do not meet other tests' deployments on the shared server."""
    shutil.copytree(REPO / "projects", root / "projects")

    def cli(*args: str) -> None:
        code, output = _cli(env, root, list(args))
        assert code == 0, f"cli {' '.join(args)}:\n{output}"

    cli("new-project", "docs_farm")
    cli("new-flow", "docs_farm", "harvest", "--param", "season=winter", "--param", "season=summer")
    cli("new-project", "docs_dairy")
    cli("new-flow", "docs_dairy", "milk")
    # Deleting commands get names of their own: a project for each -p, a deployment for each -d.
    spare_p = [f"docs_spare{n}" for n in range(1, spare_projects + 1)]
    for project in spare_p:
        cli("new-project", project)
        cli("new-flow", project, "job")
    cli("new-project", "docs_spare")
    values = [f"n{n}" for n in range(1, spare_deployments + 1)]
    cli("new-flow", "docs_spare", "job", *[a for v in values for a in ("--param", f"key={v}")])
    names = Names(["docs_farm", "docs_dairy"], ["docs_farm__harvest__winter", "docs_dairy__milk"],
                  spare_p, [naming.deployment_name("docs_spare", "job", v) for v in values])
    return names, ["docs_farm", "docs_dairy", "docs_spare", *spare_p]


def _on_server(env: dict[str, str], root: Path, projects: list[str]) -> set[str]:
    """Names of the deployments of ``projects`` that the server has (per `cli status --json`)."""
    code, output = _cli(env, root, ["status", "--json", *[a for p in projects for a in ("-p", p)]])
    assert code == 0, output
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("on_server") is True and isinstance(node.get("name"), str):
                found.add(node["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(output))
    return found


@pytest.mark.integration
def test_every_command_in_prefect_md_runs(prefect_server, tmp_path):
    from scaffold.ops.embedded import ensure_process_pool

    cmds = commands(PREFECT_MD.read_text())
    root = tmp_path / "repo"
    env = {**prefect_server.env, "COLUMNS": "200"}
    names, projects = _scratch_repo(root, env, *spare_needs(cmds))
    selection = [arg for p in projects for arg in ("-p", p)]
    # As on the team's server: the work pool exists (prefect-worker, or `cli server start`,
    # creates it) and the projects are deployed; the commands then act on that.
    ensure_process_pool(prefect_server.api_url, read_env_file(ENV_EXAMPLE)["PREFECT_WORK_POOL"])
    code, output = _cli(env, root, ["prefect", "deploy", *selection])
    assert code == 0, output
    before = _on_server(env, root, projects)
    try:
        failures = []
        deleted: set[str] = set()
        seen: set[str] = set()
        for command in cmds:
            if not command.destructive and "FLOW_NAME" not in command.argv:
                if command.text in seen:
                    continue  # the same harmless command shown twice
                seen.add(command.text)
            argv = names.fill(command)
            code, output = _cli(env, root, argv[1:])
            if code != 0:
                failures.append(f"docs/prefect.md:{command.line}: {command.text}\n  ran: "
                                f"{' '.join(argv)}\n  exit {code}\n{output[-3000:]}")
            if command.destructive:
                for flag, value in itertools.pairwise(argv):
                    if flag == "-d":
                        deleted.add(value)
                    elif flag == "-p":
                        deleted |= {d for d in before if d.startswith(value + naming.SEP)}
        assert not failures, "\n\n".join(failures)
        # The placeholders became real names: what the deleting commands named is gone, the
        # rest is still there.
        assert deleted and deleted < before
        assert _on_server(env, root, projects) == before - deleted
    finally:
        # Leave the shared server as it was found.
        _cli(env, root, ["prefect", "deployment", "delete", "--prune-flows", *selection])
    # The executable itself, once: what the page shows is a shell command.
    version = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("cli, version")


# -- docs/conventions.md is what scaffold/naming.py says ---------------------------------------


def _example_table(name: str) -> list[list[str]]:
    text = (DOCS / "conventions.md").read_text()
    marker = f"<!-- example: {name} -->"
    assert marker in text, marker
    rows = _table_rows(text.split(marker, 1)[1].split("\n\n", 1)[0])
    return [[cell.replace("`", "").strip() for cell in row.strip("|").split("|")]
            for row in rows[1:]]


def test_conventions_example_names():
    rows = {what: name for what, name in _example_table("farm harvest")}
    assert rows == {
        "flow file name": naming.flow_file("harvest"),
        "flow function name": naming.flow_function("harvest"),
        "@flow decorator name parameter": naming.flow_name("farm", "harvest"),
        "deployment name": naming.deployment_name("farm", "harvest"),
        "deployment entrypoint": naming.entrypoint("harvest"),
    }


def test_conventions_suffix_examples():
    import json

    rows = _example_table("suffixes")
    assert len(rows) >= 6
    for param, suffix in rows:
        forced_str = param.endswith(" (a string)")
        key, _, raw = param.removesuffix(" (a string)").partition("=")
        if forced_str:
            value: object = raw
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        if raw.startswith("["):
            with pytest.raises(naming.NamingError, match="pass --suffix"):
                naming.suffix_from_value(key, value)
        else:
            assert naming.suffix_from_value(key, value) == suffix, param


def test_conventions_name_part_examples():
    rows = _example_table("name parts")
    assert len(rows) >= 10
    for name, valid, why, hint in rows:
        assert (naming.check_part(name) is None) == (valid == "yes"), name
        if valid == "no":
            assert naming.check_part(name) == why, name
            assert naming.suggest(name) == hint, name


def test_conventions_flow_name_examples():
    rows = _example_table("flow names")
    assert len(rows) >= 3
    for name, why, hint in rows:
        assert naming.check_part(name) is None, name  # refused for being a flow name only
        with pytest.raises(naming.NamingError) as err:
            naming.validate_flow(name)
        assert (err.value.problem, err.value.hint) == (why, hint), name


def test_conventions_parse_examples():
    for name, project, flow, param in _example_table("parse"):
        if name.endswith(naming.FLOW_SUFFIX):
            parsed = naming.parse_flow_name(name)
            assert (parsed.project, parsed.flow, param) == (project, flow, "")
        else:
            parsed = naming.parse_deployment_name(name)
            assert (parsed.project, parsed.flow, parsed.suffix or "") == (project, flow, param)


# -- links, services, settings ----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    broken = []
    for line, target in links(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{page.name}:{line}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text()):
            broken.append(f"{page.name}:{line}: {target} (no such heading)")
        elif anchor and dest.suffix != ".md" and not re.fullmatch(r"L\d+", anchor):
            broken.append(f"{page.name}:{line}: {target} (unexpected anchor)")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_docker_compose_commands_name_real_services(page):
    for line in page.read_text().splitlines():
        for m in re.finditer(r"docker compose (?:up -d|exec -T|exec|run --rm|stop|start|logs"
                             r"(?: -f| --tail \d+)?|build)((?: [a-z][a-z0-9-]*)+)", line):
            for word in m[1].split():
                if word.startswith("prefect-"):
                    assert word in SERVICES, (page.name, line)


def test_ops_md_names_every_setting_and_the_pins():
    text = (DOCS / "ops.md").read_text()
    for variable in read_env_file(ENV_EXAMPLE):
        assert f"`{variable}`" in text, variable
    pin = pyproject_prefect_pin()
    assert f'"prefect=={pin}"' in text
    assert f"ARG PREFECT_VERSION={dockerfile_args()['PREFECT_VERSION']}" in text
    for section in ("Running the stack", "The embedded server", "Upgrading Prefect",
                    "Backing up and restoring the database", "Logs", "Troubleshooting"):
        assert f"## {section}" in text


def test_cli_sh_and_dashboard_port_as_the_seed_says():
    text = PREFECT_MD.read_text()
    assert "./scripts/cli.sh" in text and "http://localhost:29020" in text
    assert os.access(REPO / "scripts" / "cli.sh", os.X_OK)
