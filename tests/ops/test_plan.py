"""`cli prefect plan` against a real Prefect server: it compares what deploy would send with
what the server holds, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaffold.ops.embedded import ensure_process_pool
from tests.helpers.cli import invoke
from tests.helpers.ops import generate, set_entry

pytestmark = pytest.mark.integration

WINTER, SUMMER = "farm__harvest_flow/farm__harvest__winter", "farm__harvest_flow/farm__harvest__summer"


@pytest.fixture
def harvest_repo(scratch_repo: Path, server) -> Path:
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    return scratch_repo


def plan_json(root: Path, *args: str) -> dict:
    result = invoke("prefect", "plan", *args, "--json", root=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def actions(data: dict) -> dict[str, tuple[str, list[str]]]:
    return {d["name"]: (d["action"], d["fields"]) for d in data["deployments"]}


def _state(server) -> dict:
    return {n: d.model_dump(mode="json", exclude={"updated", "last_polled", "status"})
            for n, d in server.deployments().items()}


def test_create_then_unchanged(harvest_repo: Path, server):
    data = plan_json(harvest_repo, "-p", "farm")
    assert data["server"] == server.api_url
    assert data["deployments"] == [
        {"name": "farm__harvest__winter", "project": "farm", "flow": "farm__harvest_flow",
         "action": "create", "fields": [], "paused": False},
        {"name": "farm__harvest__summer", "project": "farm", "flow": "farm__harvest_flow",
         "action": "create", "fields": [], "paused": False}]
    assert server.deployments() == {}  # wrote nothing
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    before = _state(server)
    assert actions(plan_json(harvest_repo, "-p", "farm")) == {
        "farm__harvest__winter": ("unchanged", []), "farm__harvest__summer": ("unchanged", [])}
    assert _state(server) == before


def test_update_names_the_changed_fields(harvest_repo: Path, server):
    ensure_process_pool(server.api_url, "other-pool")
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    set_entry(harvest_repo, "farm", "farm__harvest__winter", parameters={"season": "snow"},
              tags=["farm", "cold"], schedules=[{"cron": "0 6 * * *", "timezone": "UTC"}])
    set_entry(harvest_repo, "farm", "farm__harvest__summer",
              work_pool={"name": "other-pool"}, entrypoint="./flows/harvest.py:harvest_flow")
    assert actions(plan_json(harvest_repo, "-p", "farm")) == {
        "farm__harvest__winter": ("update", ["parameters", "schedules", "tags"]),
        "farm__harvest__summer": ("update", ["work pool", "entrypoint"])}
    # the deploy writes exactly that, then the plan is clean
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    assert "farm__harvest__winter: updated (parameters, schedules, tags), active" in result.stdout
    on_server = server.deployments()
    assert on_server[WINTER].parameters == {"season": "snow"}
    assert on_server[SUMMER].work_pool_name == "other-pool"
    assert list(actions(plan_json(harvest_repo, "-p", "farm")).values()) == [("unchanged", [])] * 2


def test_before_and_after_on_a_terminal(harvest_repo: Path, server):
    from io import StringIO

    from scaffold.ops.plan import compute, print_plan, selection
    from scaffold.repo import Repo

    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    set_entry(harvest_repo, "farm", "farm__harvest__winter", parameters={"season": "snow"})
    from scaffold.ops.api import resolve_api

    repo = Repo.discover(harvest_repo)
    plan = compute(repo, selection(repo, ["farm"]), resolve_api())
    piped, tty = StringIO(), StringIO()
    print_plan(plan, piped, tty=False)
    print_plan(plan, tty, tty=True)
    assert "->" not in piped.getvalue()
    assert 'parameters: {"season": "winter"} -> {"season": "snow"}' in tty.getvalue()


def test_hand_edit_on_the_server_is_an_update_back_and_the_pause_stays(harvest_repo: Path,
                                                                       server):
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0

    async def edit(c):  # what the dashboard's edit form does
        from prefect.client.schemas.actions import DeploymentUpdate

        d = await c.read_deployment_by_name(WINTER)
        await c.update_deployment(d.id, DeploymentUpdate(parameters={"season": "hacked"},
                                                         tags=["x"]))
        await c.pause_deployment(d.id)

    server.call(edit)
    data = plan_json(harvest_repo, "-p", "farm")
    assert actions(data)["farm__harvest__winter"] == ("update", ["parameters", "tags"])
    assert [d["paused"] for d in data["deployments"]] == [True, False]
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    assert "farm__harvest__winter: updated (parameters, tags), paused (kept)" in result.stdout
    assert "farm__harvest__summer: unchanged, active" in result.stdout
    winter = server.deployments()[WINTER]
    assert winter.parameters == {"season": "winter"} and winter.tags == ["farm"]
    assert winter.paused is True


def make_deployment(server, flow: str, name: str) -> None:
    """A deployment made on the server directly (by hand, by another tool)."""
    async def go(c):
        flow_id = await c.create_flow_from_name(flow)
        await c.create_deployment(flow_id=flow_id, name=name)

    server.call(go)


def test_orphans_are_only_what_a_selected_project_owns(harvest_repo: Path, server):
    generate(harvest_repo, "dw", "load", "table=orders")
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    make_deployment(server, "farm__harvest_flow", "adhoc")  # not named by the conventions
    make_deployment(server, "farm__harvest_flow", "dw__harvest__x")  # another project's name
    make_deployment(server, "farm__sow_flow", "farm__sow")  # owned: flow and name are farm's
    set_entry(harvest_repo, "farm", "farm__harvest__summer", name="farm__harvest__autumn")
    data = plan_json(harvest_repo, "-p", "farm")
    assert actions(data) == {"farm__harvest__winter": ("unchanged", []),
                             "farm__harvest__autumn": ("create", []),
                             "farm__harvest__summer": ("orphan", []),
                             "farm__sow": ("orphan", [])}
    # -d alone selects no project: no orphans
    assert actions(plan_json(harvest_repo, "-d", "farm__harvest__winter")) == {
        "farm__harvest__winter": ("unchanged", [])}
    # a dw plan does not see farm's
    assert list(actions(plan_json(harvest_repo, "-p", "dw")).values()) == [("unchanged", [])]


def test_exit_code(harvest_repo: Path, server):
    result = invoke("prefect", "plan", "-p", "farm", "--exit-code", root=harvest_repo)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "2 to create" in result.stdout
    assert invoke("prefect", "plan", "-p", "farm", root=harvest_repo).exit_code == 0
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    result = invoke("prefect", "plan", "-p", "farm", "--exit-code", root=harvest_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "0 to create, 0 to update, 2 unchanged, 0 orphaned" in result.stdout


def test_usage_errors_and_server_down(harvest_repo: Path, server, monkeypatch):
    result = invoke("prefect", "plan", root=harvest_repo)
    assert result.exit_code == 2 and "-p PROJECT" in result.stderr
    result = invoke("prefect", "plan", "-p", "farmm", root=harvest_repo)
    assert result.exit_code == 2 and "'farm'" in result.stderr
    result = invoke("prefect", "plan", "-p", "farm", "--bogus", root=harvest_repo)
    assert result.exit_code == 2
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    result = invoke("prefect", "plan", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not reachable" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_invalid_deployments_are_listed_and_nothing_is_written(harvest_repo: Path, server):
    set_entry(harvest_repo, "farm", "farm__harvest__winter",
              parameters={"season": "winter", "colour": "red"},
              schedules=[{"cron": "61 * * * *"}])
    set_entry(harvest_repo, "farm", "farm__harvest__summer",
              work_pool={"name": "no-such-pool"},
              tags=["{{ prefect.variables.no_such_variable }}"])
    result = invoke("prefect", "plan", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("invalid:")]
    assert any("farm__harvest__winter: parameters: unknown parameter 'colour'" in line
               for line in lines), lines
    assert any("farm__harvest__winter: schedules[1]" in line for line in lines), lines
    assert any("farm__harvest__summer: work_pool: work pool 'no-such-pool' does not exist"
               in line for line in lines), lines
    assert any("farm__harvest__summer: tags:" in line and "no_such_variable" in line
               for line in lines), lines
    assert server.deployments() == {}


BARE_YAML = """\
name: bare
deployments:
- name: bare__job
  entrypoint: flows/job.py:job_flow
  work_pool:
    name: default-pool
  schedules:
  - interval: 3600
  - cron: "0 6 * * 1-5"
    timezone: Europe/Paris
    active: false
"""

BARE_FLOW = """\
from prefect import flow


@flow(name="bare__job_flow")
def job_flow(n: int = 1):
    return n
"""


def test_a_hand_written_project_is_unchanged_after_its_deploy(scratch_repo: Path, server):
    """No docstring (Prefect stores the description as the text 'None' on create), an interval
    schedule without anchor (Prefect stamps 'now'), an inactive cron: all unchanged."""
    project = scratch_repo / "projects" / "bare"
    (project / "flows").mkdir(parents=True)
    (project / "flows" / "job.py").write_text(BARE_FLOW)
    (project / "prefect.yaml").write_text(BARE_YAML)
    result = invoke("prefect", "deploy", "-p", "bare", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert actions(plan_json(scratch_repo, "-p", "bare")) == {"bare__job": ("unchanged", [])}
    (project / "prefect.yaml").write_text(BARE_YAML.replace("active: false", "active: true"))
    assert actions(plan_json(scratch_repo, "-p", "bare")) == {"bare__job": ("update",
                                                                             ["schedules"])}
