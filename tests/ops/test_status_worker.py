"""`cli status` (drift, pause, schedules, last run) and a real process worker running a
generated deployment to Completed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scaffold import yamledit
from tests.helpers.cli import invoke
from tests.helpers.ops import CLI, generate, run_process

pytestmark = pytest.mark.integration

WINTER, SUMMER = "farm__harvest_flow/farm__harvest__winter", "farm__harvest_flow/farm__harvest__summer"


def rows(report: dict, project: str) -> dict[str, dict]:
    block = next(b for b in report["projects"] if b["project"] == project)
    return {r["name"]: r for r in block["deployments"]}


def test_status_drift_pause_schedules(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    generate(scratch_repo, "dw", "load", "table=orders")
    assert invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=scratch_repo).exit_code == 0
    server.set_paused(SUMMER, True)
    # drift: one entry removed from the config (only on server), one never deployed
    path = scratch_repo / "projects" / "farm" / "prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), ["farm__harvest__winter"]))
    result = invoke("new-deployment", "farm", "harvest", "--param", "season=autumn",
                    "--schedule", "0 6 * * *", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr

    result = invoke("status", "-p", "farm", "--json", root=scratch_repo)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["api_url"] == server.api_url
    assert [b["project"] for b in report["projects"]] == ["farm"]
    farm = rows(report, "farm")
    assert farm["farm__harvest__summer"] == {
        "name": "farm__harvest__summer", "flow": "farm__harvest_flow", "in_config": True,
        "on_server": True, "drift": None, "paused": True, "schedules": [], "last_run": None}
    assert farm["farm__harvest__winter"]["drift"] == "only on server"
    assert farm["farm__harvest__winter"]["in_config"] is False
    assert farm["farm__harvest__winter"]["paused"] is False
    autumn = farm["farm__harvest__autumn"]
    assert autumn["drift"] == "missing on server" and autumn["on_server"] is False
    assert autumn["schedules"] and autumn["schedules"][0].startswith("cron 0 6 * * *")

    # the table: every project, drift counted
    result = invoke("status", root=scratch_repo)
    assert result.exit_code == 0, result.stderr
    assert "only on server" in result.stdout and "missing on server" in result.stdout
    assert "2 drifted deployment(s)" in result.stdout
    assert "dw__load__orders" in result.stdout

    result = invoke("status", "-p", "frm", root=scratch_repo)
    assert result.exit_code == 2 and "'farm'" in result.stderr


def test_process_worker_runs_generated_deployment(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    result = invoke("prefect", "deploy", "-d", "farm__harvest__winter", root=scratch_repo)
    assert result.exit_code == 0, result.stderr

    async def create_run(client):
        dep = await client.read_deployment_by_name(WINTER)
        return await client.create_flow_run_from_deployment(dep.id)

    flow_run = server.call(create_run)
    env = {k: v for k, v in os.environ.items() if k != "SCAFFOLD_ROOT"}
    # the pass-through sets SCAFFOLD_ROOT for the pull step ({{ $SCAFFOLD_ROOT }}/projects/farm)
    worker = run_process([CLI, "prefect", "worker", "start", "--pool", "default-pool",
                          "--run-once", "--limit", "1"], cwd=scratch_repo, env=env, timeout=180)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]

    async def read_run(client):
        return await client.read_flow_run(flow_run.id)

    finished = server.call(read_run)
    assert finished.state.is_completed(), (finished.state, worker.stdout[-3000:])
    assert finished.parameters == {"season": "winter"}

    report = json.loads(invoke("status", "-p", "farm", "--json", root=scratch_repo).stdout)
    last = rows(report, "farm")["farm__harvest__winter"]["last_run"]
    assert last["state"] == "Completed" and last["flow_run"] == finished.name
