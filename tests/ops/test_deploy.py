"""`cli prefect deploy` against a real Prefect server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from scaffold import yamledit
from tests.helpers.cli import invoke
from tests.helpers.ops import CLI, PREFECT, generate, run_process, set_entry

pytestmark = pytest.mark.integration

WINTER, SUMMER = "farm__harvest_flow/farm__harvest__winter", "farm__harvest_flow/farm__harvest__summer"
ORDERS = "dw__load_flow/dw__load__orders"


@pytest.fixture
def harvest_repo(scratch_repo: Path, server) -> Path:
    """A scratch repository whose project farm has flow harvest (deployments winter, summer)."""
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    return scratch_repo


@pytest.fixture
def two_projects(harvest_repo: Path) -> Path:
    generate(harvest_repo, "dw", "load", "table=orders")
    return harvest_repo


def test_deploy_by_project(harvest_repo: Path, server):
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    on_server = server.deployments()
    assert set(on_server) == {WINTER, SUMMER}
    winter = on_server[WINTER]
    assert winter.parameters == {"season": "winter"}
    assert on_server[SUMMER].parameters == {"season": "summer"}
    assert winter.paused is False
    assert winter.work_pool_name == "default-pool"
    assert winter.entrypoint == "flows/harvest.py:harvest_flow"
    assert winter.tags == ["farm"]
    # pull steps stay templated: the worker resolves $SCAFFOLD_ROOT at run time
    assert winter.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
        "directory": "{{ $SCAFFOLD_ROOT }}/projects/farm"}}]
    assert "season" in winter.parameter_openapi_schema["properties"]
    # progress lines (plain: not a terminal), then the summary table
    lines = result.stdout.splitlines()
    assert lines[0] == "[1/2] farm__harvest__winter: created, active"
    assert lines[1] == "[2/2] farm__harvest__summer: created, active"
    assert "2 of 2 deployed to " + server.api_url in result.stdout
    assert not (harvest_repo / "projects" / "farm" / ".prefect").exists()


def test_deploy_never_writes_prefect_yaml(harvest_repo: Path, server):
    path = harvest_repo / "projects" / "farm" / "prefect.yaml"
    before = path.read_bytes()
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    assert path.read_bytes() == before


def test_deploy_by_name_and_both(two_projects: Path, server):
    result = invoke("prefect", "deploy", "-d", "farm__harvest__winter", root=two_projects)
    assert result.exit_code == 0, result.stderr
    assert set(server.deployments()) == {WINTER}
    result = invoke("prefect", "deploy", "-p", "dw", "-d", "farm__harvest__summer",
                    root=two_projects)
    assert result.exit_code == 0, result.stderr
    assert set(server.deployments()) == {WINTER, SUMMER, ORDERS}
    assert "2 of 2 deployed" in result.stdout


def test_deploy_several_projects(two_projects: Path, server):
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=two_projects)
    assert result.exit_code == 0, result.stderr
    assert set(server.deployments()) == {WINTER, SUMMER, ORDERS}
    assert not any(server.paused().values())


def test_deploy_pause_flag_creates_paused(harvest_repo: Path, server):
    result = invoke("prefect", "deploy", "-d", "farm__harvest__winter", "--pause", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    assert "created, paused (--pause)" in result.stdout
    assert server.paused() == {WINTER: True}


def test_redeploy_keeps_pause_state(harvest_repo: Path, server):
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    server.set_paused(SUMMER, True)
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    assert server.paused() == {WINTER: False, SUMMER: True}
    # nothing changed in prefect.yaml: nothing written, the pause stays
    assert "farm__harvest__summer: unchanged, paused (kept)" in result.stdout
    assert "farm__harvest__winter: unchanged, active (kept)" in result.stdout
    assert "stay paused" in result.stdout and "cli prefect deployment resume" in result.stdout

    # --pause pauses the active one too
    assert invoke("prefect", "deploy", "-p", "farm", "--pause", root=harvest_repo).exit_code == 0
    assert server.paused() == {WINTER: True, SUMMER: True}

    # prefect.yaml's own `paused` wins over the server's state
    path = harvest_repo / "projects" / "farm" / "prefect.yaml"
    text = path.read_text()
    entries = yaml.safe_load(text)["deployments"]
    entries[1] = {**entries[1], "paused": False}
    text = yamledit.remove_deployments(text, ["farm__harvest__summer"])
    path.write_text(yamledit.insert_deployments(text, [entries[1]]))
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stderr
    assert "farm__harvest__summer: updated (paused), active (prefect.yaml)" in result.stdout
    assert server.paused() == {WINTER: True, SUMMER: False}


def test_unknown_names_deploy_nothing(two_projects: Path, server):
    result = invoke("prefect", "deploy", "-p", "farm", "-d", "farm__harvest__wintr",
                    root=two_projects)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "unknown deployment 'farm__harvest__wintr'" in result.stderr
    assert "farm__harvest__winter" in result.stderr  # the near match
    result = invoke("prefect", "deploy", "-p", "farmm", root=two_projects)
    assert result.exit_code == 2 and "'farm'" in result.stderr
    assert server.deployments() == {}
    result = invoke("prefect", "deploy", root=two_projects)
    assert result.exit_code == 2 and "-p PROJECT" in result.stderr


def test_failing_flow_file_fails_before_any_write(harvest_repo: Path, server):
    """Validation before the first write: nothing is deployed, the problem is named; with
    --keep-going the others are deployed and the exit code is still 1."""
    generate(harvest_repo, "farm", "broken")
    flow_file = harvest_repo / "projects" / "farm" / "flows" / "broken.py"
    flow_file.write_text("raise RuntimeError('boom at import')\n" + flow_file.read_text())
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 1
    assert server.deployments() == {}
    assert "farm__broken: entrypoint: flows/broken.py:broken_flow:" in result.stderr
    assert "boom at import" in result.stderr and "nothing was written" in result.stderr
    result = invoke("prefect", "deploy", "-p", "farm", "--keep-going", root=harvest_repo)
    assert result.exit_code == 1
    assert set(server.deployments()) == {WINTER, SUMMER}
    assert "2 of 3 deployed" in result.stdout and "1 invalid" in result.stdout
    assert "farm/farm__broken:" in result.stderr and "boom at import" in result.stderr


def test_missing_work_pool_is_explained(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "harvest")
    path = scratch_repo / "projects" / "farm" / "prefect.yaml"
    path.write_text(path.read_text().replace("name: default-pool", "name: no-such-pool", 1))
    result = invoke("prefect", "deploy", "-p", "farm", root=scratch_repo)
    assert result.exit_code == 1
    assert "no-such-pool" in result.stderr and "work-pool create" in result.stderr
    assert server.deployments() == {}


PROJECT_YAML = """\
name: machinery
prefect-version: 3.9.1
pull:
- prefect.deployments.steps.set_working_directory:
    directory: '{{ $SCAFFOLD_ROOT }}/projects/machinery'
definitions:
  pool: &pool
    name: default-pool
    job_variables:
      env:
        STAGE: "{{ $MACHINERY_STAGE }}"
deployments:
- name: machinery__job__a
  description: with everything
  version: "1.2"
  entrypoint: flows/job.py:job_flow
  parameters:
    n: 3
    label: "{{ $MACHINERY_STAGE }}-a"
  work_pool: *pool
  concurrency_limit: 2
  schedules:
  - cron: "0 6 * * *"
    timezone: Europe/Paris
  - interval: 3600
    active: false
  tags: [machinery, "{{ $MACHINERY_STAGE }}"]
  enforce_parameter_schema: false
  triggers:
  - type: event
    enabled: true
    match:
      prefect.resource.id: my.resource.*
    expect:
    - my.event
    parameters:
      label: "{{ event.name }}"
- name: machinery__job__b
  entrypoint: flows/job.py:job_flow
  work_pool:
    name: default-pool
  schedules: []
"""

JOB_FLOW = '''\
from prefect import flow


@flow(name="machinery__job_flow", description="The job.")
def job_flow(n: int = 1, label: str = "x") -> str:
    return label * n
'''

COMPARED = ("parameters", "description", "version", "tags", "work_pool_name",
            "work_queue_name", "job_variables", "pull_steps", "entrypoint", "path",
            "concurrency_limit", "enforce_parameter_schema", "parameter_openapi_schema",
            "paused")


def _shape(dep) -> dict:
    dumped = dep.model_dump(mode="json")
    data = {key: dumped[key] for key in COMPARED}
    # an interval schedule is anchored at the time of the deploy: compare the rest
    data["schedules"] = sorted(
        (str({k: v for k, v in s["schedule"].items() if k != "anchor_date"}), s["active"],
         s["slug"]) for s in dumped["schedules"])
    return data


def test_same_result_as_prefect_deploy(scratch_repo: Path, server, monkeypatch: pytest.MonkeyPatch):
    """Prefect's own machinery: what `prefect deploy --all` stores is what we store
    (schedules, job variables, templating, triggers, concurrency, schema, pull steps)."""
    project = scratch_repo / "projects" / "machinery"
    (project / "flows").mkdir(parents=True)
    (project / "flows" / "job.py").write_text(JOB_FLOW)
    (project / "prefect.yaml").write_text(PROJECT_YAML)
    monkeypatch.setenv("MACHINERY_STAGE", "prod")
    # with SCAFFOLD_ROOT set, prefect resolves the pull step's {{ $SCAFFOLD_ROOT }} at deploy
    # time (else the worker does at run time): the same for both
    monkeypatch.setenv("SCAFFOLD_ROOT", str(scratch_repo))

    native = run_process([PREFECT, "deploy", "--all"], cwd=project, env=dict(os.environ))
    assert native.returncode == 0, native.stdout + native.stderr
    theirs = server.deployments()
    their_automations = {n: server.automations_of(d.id) for n, d in theirs.items()}
    server.clear()

    result = invoke("prefect", "deploy", "-p", "machinery", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    ours = server.deployments()
    assert set(ours) == set(theirs) == {"machinery__job_flow/machinery__job__a",
                                        "machinery__job_flow/machinery__job__b"}
    for name in ours:
        assert _shape(ours[name]) == _shape(theirs[name]), name
        ours_auto = server.automations_of(ours[name].id)
        assert [(a.name, a.trigger.model_dump(exclude={"id"}),
                 [x.model_dump(exclude={"deployment_id"}) for x in a.actions])
                for a in ours_auto] == [
                (a.name, a.trigger.model_dump(exclude={"id"}),
                 [x.model_dump(exclude={"deployment_id"}) for x in a.actions])
                for a in their_automations[name]]
    a = ours["machinery__job_flow/machinery__job__a"]
    assert a.pull_steps[0]["prefect.deployments.steps.set_working_directory"] == {
        "directory": f"{scratch_repo}/projects/machinery"}
    assert a.job_variables == {"env": {"STAGE": "prod"}}
    assert a.parameters == {"n": 3, "label": "prod-a"}
    assert len(server.automations_of(a.id)) == 1

    # redeploy: the trigger's automation is replaced, not duplicated; dropping the trigger
    # from prefect.yaml removes it
    assert invoke("prefect", "deploy", "-p", "machinery", root=scratch_repo).exit_code == 0
    assert len(server.automations_of(a.id)) == 1
    text = (project / "prefect.yaml").read_text()
    (project / "prefect.yaml").write_text(text[: text.index("  triggers:")]
                                          + text[text.index("- name: machinery__job__b"):])
    assert invoke("prefect", "deploy", "-p", "machinery", root=scratch_repo).exit_code == 0
    assert server.automations_of(a.id) == []


def test_invalid_prefect_yaml_fails_its_project_only(two_projects: Path, server):
    path = two_projects / "projects" / "dw" / "prefect.yaml"
    text = path.read_text()
    assert "push: null" in text
    path.write_text(text.replace("push: null", "push: 42"))  # prefect's schema: a list of steps
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=two_projects)
    assert result.exit_code == 1, result.stdout
    assert server.deployments() == {}
    assert "dw__load__orders: prefect.yaml: invalid prefect.yaml" in result.stderr
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", "--keep-going",
                    root=two_projects)
    assert result.exit_code == 1, result.stdout
    assert set(server.deployments()) == {WINTER, SUMMER}
    assert "dw/dw__load__orders: invalid: prefect.yaml: invalid prefect.yaml" in result.stderr


# -- plan/apply (issue 9 §2, §6, §7) ------------------------------------------------------------


def ten_deployments(root: Path) -> list[str]:
    """Project farm with ten deployments of one flow (day=1..10)."""
    generate(root, "farm", "daily", *(f"day={i}" for i in range(1, 11)))
    return [f"farm__daily__day_{i}" for i in range(1, 11)]


def _server_state(server) -> dict:
    return {n: d.model_dump(mode="json", exclude={"updated", "last_polled", "status"})
            for n, d in server.deployments().items()}


def test_one_invalid_among_ten_writes_nothing(scratch_repo: Path, server):
    names = ten_deployments(scratch_repo)
    assert invoke("prefect", "deploy", "-p", "farm", root=scratch_repo).exit_code == 0
    path = scratch_repo / "projects" / "farm" / "prefect.yaml"
    text = path.read_text()
    path.write_text(text.replace("day: 1\n", "day: 11\n").replace("day: 7\n", "dya: 7\n"))
    before = _server_state(server)
    result = invoke("prefect", "deploy", "-p", "farm", root=scratch_repo)
    assert result.exit_code == 1
    assert _server_state(server) == before  # farm__daily__1's change was not written either
    invalid = [line for line in result.stderr.splitlines() if line.startswith("invalid:")]
    assert invalid == [("invalid: farm__daily__day_7: parameters: unknown parameter 'dya' "
                        "(the flow takes: day)")]
    assert "nothing was written" in result.stderr
    # --keep-going: the nine are applied (one of them changed), still exit 1
    result = invoke("prefect", "deploy", "-p", "farm", "--keep-going", root=scratch_repo)
    assert result.exit_code == 1
    assert "farm__daily__day_1: updated (parameters), active" in result.stdout
    assert "9 of 10 deployed" in result.stdout and "8 unchanged" in result.stdout
    assert server.deployments()[f"farm__daily_flow/{names[0]}"].parameters == {"day": 11}


def test_unchanged_are_not_written_and_force_writes_them(harvest_repo: Path, server):
    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    updated = {n: d.updated for n, d in server.deployments().items()}
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert "2 of 2 deployed" in result.stdout and "2 unchanged" in result.stdout
    assert {n: d.updated for n, d in server.deployments().items()} == updated
    result = invoke("prefect", "deploy", "-p", "farm", "--force", root=harvest_repo)
    assert result.exit_code == 0 and "2 updated" in result.stdout
    assert all(d.updated > updated[n] for n, d in server.deployments().items())


def _make_deployment(server, flow: str, name: str) -> None:
    async def go(c):
        await c.create_deployment(flow_id=await c.create_flow_from_name(flow), name=name)

    server.call(go)


def test_prune_deletes_only_the_owned_orphans(two_projects: Path, server):
    assert invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=two_projects).exit_code == 0
    _make_deployment(server, "farm__harvest_flow", "adhoc")  # named without the convention
    _make_deployment(server, "farm__sow_flow", "farm__sow")  # farm's by the convention
    path = two_projects / "projects" / "farm" / "prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), ["farm__harvest__summer"]))
    # no terminal and no --yes: refused before anything
    result = invoke("prefect", "deploy", "-p", "farm", "--prune", root=two_projects)
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert SUMMER in server.deployments()
    result = invoke("prefect", "deploy", "-p", "farm", "--prune", "--yes", root=two_projects)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "farm__harvest_flow/farm__harvest__summer: orphan deleted" in result.stdout
    assert "farm__sow_flow/farm__sow: orphan deleted" in result.stdout
    assert set(server.deployments()) == {WINTER, ORDERS, "farm__harvest_flow/adhoc"}
    # without --prune orphans are only reported by the plan; deploy leaves them
    _make_deployment(server, "farm__sow_flow", "farm__sow")
    assert invoke("prefect", "deploy", "-p", "farm", root=two_projects).exit_code == 0
    assert "farm__sow_flow/farm__sow" in server.deployments()


def test_prune_asks_and_no_keeps_everything(harvest_repo: Path, server):
    from scaffold.ops.deploy import Declined, deploy
    from scaffold.ops.plan import selection
    from scaffold.repo import Repo

    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    path = harvest_repo / "projects" / "farm" / "prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), ["farm__harvest__summer"]))
    questions = []
    repo = Repo.discover(harvest_repo)
    with pytest.raises(Declined):
        deploy(repo, selection(repo, ["farm"]), prune=True,
               confirm=lambda q: questions.append(q) or False)
    assert len(questions) == 1 and "farm__harvest_flow/farm__harvest__summer" in questions[0]
    assert SUMMER in server.deployments()


def test_a_pause_made_during_the_deploy_survives(harvest_repo: Path, server,
                                                 monkeypatch: pytest.MonkeyPatch):
    """Another shell pauses a deployment after the plan read the states and before its update
    is written: the update leaves the pause state alone."""
    from scaffold.ops import prefect_compat

    assert invoke("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    set_entry(harvest_repo, "farm", "farm__harvest__summer", tags=["farm", "orchard"])
    real = prefect_compat.apply_calls

    async def pause_first(client, calls, **kwargs):
        other_shell = run_process([CLI, "prefect", "deployment", "pause", "-d",
                                   "farm__harvest__summer"], cwd=harvest_repo)
        assert other_shell.returncode == 0, other_shell.stderr
        return await real(client, calls, **kwargs)

    monkeypatch.setattr(prefect_compat, "apply_calls", pause_first)
    result = invoke("prefect", "deploy", "-p", "farm", root=harvest_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "farm__harvest__summer: updated (tags)" in result.stdout
    on_server = server.deployments()
    assert on_server[SUMMER].tags == ["farm", "orchard"]
    assert on_server[SUMMER].paused is True and on_server[WINTER].paused is False
