"""`cli prefect plan` against a real Prefect server: it compares what deploy would send with
what the server holds, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.ops import generate, run

pytestmark = pytest.mark.integration

WINTER, SUMMER = "farm__harvest_flow/farm__harvest__winter", "farm__harvest_flow/farm__harvest__summer"


@pytest.fixture
def harvest_repo(scratch_repo: Path, server) -> Path:
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    return scratch_repo


def plan_json(root: Path, *args: str) -> dict:
    result = run("prefect", "plan", *args, "--json", root=root)
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.output)


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
    assert run("prefect", "deploy", "-p", "farm", root=harvest_repo).exit_code == 0
    before = _state(server)
    assert actions(plan_json(harvest_repo, "-p", "farm")) == {
        "farm__harvest__winter": ("unchanged", []), "farm__harvest__summer": ("unchanged", [])}
    assert _state(server) == before
