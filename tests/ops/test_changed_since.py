"""`cli prefect plan|deploy --changed-since REF` on a real git repository and the session's real
Prefect server (issue 9 §3, §6): a helper-module import, a removed entry, a project-level change,
uncommitted work, nothing changed, and the errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import invoke
from tests.helpers.ops import generate

pytestmark = pytest.mark.integration

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
SUMMER = "farm__harvest_flow/farm__harvest__summer"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True)


@pytest.fixture
def deployed_git(scratch_repo: Path, server) -> Path:
    """farm (harvest: winter, summer; sow) and dw (load: orders), deployed, committed. harvest
    uses flows/helpers.py (imported inside the flow: loading the file needs nothing more)."""
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    generate(scratch_repo, "farm", "sow")
    generate(scratch_repo, "dw", "load", "table=orders")
    flows = scratch_repo / "projects/farm/flows"
    (flows / "helpers.py").write_text("def yield_of(season):\n    return len(season)\n")
    harvest = flows / "harvest.py"
    text = harvest.read_text()
    docstring = '    """Harvest: a flow of the farm project."""\n'
    assert docstring in text
    harvest.write_text(text.replace(docstring, docstring
                                    + "    from helpers import yield_of  # noqa: F401\n", 1))
    git(scratch_repo, "init", "-q", "-b", "main")
    git(scratch_repo, "add", "-A")
    git(scratch_repo, "commit", "-qm", "deployed")
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    return scratch_repo


def plan(root: Path, *args: str) -> tuple[dict, str]:
    result = invoke("prefect", "plan", "--json", *args, root=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout), result.stderr


def rows(data: dict) -> dict[str, str]:
    return {d["name"]: d["action"] for d in data["deployments"]}


def test_helper_module_selects_its_importers(deployed_git: Path, server):
    helpers = deployed_git / "projects/farm/flows/helpers.py"
    helpers.write_text(helpers.read_text() + "\n# tuned\n")
    data, err = plan(deployed_git, "--changed-since", "HEAD")
    # selected (not sow, not dw); a code change is no change of the deployment on the server
    assert rows(data) == {"farm__harvest__winter": "unchanged",
                          "farm__harvest__summer": "unchanged"}, [d["fields"] for d in data["deployments"]]
    assert "farm__harvest__winter: imports changed flows/helpers.py" in err
    # committed too: the commits after REF count
    git(deployed_git, "commit", "-qam", "tune")
    data, _ = plan(deployed_git, "--changed-since", "HEAD~1")
    assert set(rows(data)) == {"farm__harvest__winter", "farm__harvest__summer"}
    # with -p: only those of the project
    data, _ = plan(deployed_git, "--changed-since", "HEAD~1", "-p", "dw")
    assert rows(data) == {}


def test_removed_entry_is_an_orphan_and_prune_deletes_only_it(deployed_git: Path, server):
    from scaffold import yamledit

    path = deployed_git / "projects/farm/prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), ["farm__harvest__summer"],
                                                path))
    data, err = plan(deployed_git, "--changed-since", "HEAD")
    assert rows(data) == {"farm__harvest__summer": "orphan"}
    assert "farm__harvest__summer: removed from projects/farm/prefect.yaml (orphan)" in err
    before = set(server.deployments())
    result = invoke("prefect", "deploy", "--changed-since", "HEAD", root=deployed_git)
    assert result.exit_code == 0, result.stderr
    assert "--prune deletes them" in result.stdout
    assert set(server.deployments()) == before
    result = invoke("prefect", "deploy", "--changed-since", "HEAD", "--prune", "--yes",
                    root=deployed_git)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert set(server.deployments()) == before - {SUMMER}


def test_project_level_change_selects_the_project(deployed_git: Path, server):
    path = deployed_git / "projects/dw/prefect.yaml"
    path.write_text(path.read_text().replace("/projects/dw'", "/projects/dw/'"))
    data, err = plan(deployed_git, "--changed-since", "HEAD")
    assert set(rows(data)) == {"dw__load__orders"}
    assert "project-level change in prefect.yaml (pull)" in err
    result = invoke("prefect", "deploy", "--changed-since", "HEAD", root=deployed_git)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "dw__load__orders" in result.stdout and "farm__" not in result.stdout


def test_nothing_changed(deployed_git: Path, server):
    for verb in ("plan", "deploy"):
        result = invoke("prefect", verb, "--changed-since", "HEAD", root=deployed_git)
        assert result.exit_code == 0, result.stderr
        assert f"nothing to {verb}: no deployment is affected by the changes since HEAD" \
            in result.stdout
    data, _ = plan(deployed_git, "--changed-since", "HEAD", "--exit-code")
    assert data["deployments"] == []


def test_exit_code_and_a_new_flow(deployed_git: Path, server):
    generate(deployed_git, "farm", "plough")  # untracked flow file and a new entry
    result = invoke("prefect", "plan", "--changed-since", "HEAD", "--exit-code", root=deployed_git)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "farm__plough" in result.stdout and "create" in result.stdout


@pytest.mark.parametrize(("ref", "message"), [
    ("nope", "unknown git revision 'nope'"),
    ("--output=x", "is not a git revision"),
])
def test_bad_ref_is_one_line_exit_2(deployed_git: Path, server, ref: str, message: str):
    for verb in ("plan", "deploy"):
        result = invoke("prefect", verb, f"--changed-since={ref}", root=deployed_git)
        assert result.exit_code == 2
        assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (deployed_git / "x").exists()


def test_not_a_git_repository(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "sow")
    result = invoke("prefect", "plan", "--changed-since", "HEAD", root=scratch_repo)
    assert result.exit_code == 2
    assert "needs a git repository" in result.stderr and result.stderr.count("\n") == 1
