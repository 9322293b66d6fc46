"""A generated flow file imports and runs under Prefect as it is, with the conventional name."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from scaffold.generate.core import new_flow, new_project
from scaffold.repo import Repo

pytestmark = pytest.mark.integration

RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
flow = getattr(module, sys.argv[2])
print(json.dumps({"name": flow.name, "result": flow(**json.loads(sys.argv[3]))}))
"""


def test_generated_flow_runs_with_its_conventional_name(scratch_repo: Path, prefect_server):
    repo = Repo(scratch_repo)
    new_project(repo, "farm")
    new_flow(repo, "farm", "harvest", ["season=winter", "season=summer", "days=3",
                                       'weights={"a": [1.5, null]}'])
    path = repo.flow_file("farm", "harvest")
    out = subprocess.run([sys.executable, "-c", RUNNER, str(path), "harvest_flow", '{"season": "summer"}'],
                         env=prefect_server.env, capture_output=True, text=True, timeout=120,
                         cwd=path.parent, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"name": "farm__harvest_flow",
                   "result": {"season": "summer", "days": 3, "weights": {"a": [1.5, None]}}}
    # the run was recorded on the server under the conventional flow name
    request = urllib.request.Request(f"{prefect_server.api_url}/flows/filter", method="POST",
                                     data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        names = {flow["name"] for flow in json.load(resp)}
    assert "farm__harvest_flow" in names
