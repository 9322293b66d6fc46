"""Helpers of the operations tests: the CLI in process, the server seen through prefect's client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from scaffold import yamledit
from tests.helpers.cli import invoke

BIN = Path(sys.executable).parent
CLI = str(BIN / "cli")
PREFECT = str(BIN / "prefect")


def run_process(args: list[str], cwd: Path, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=False, cwd=cwd, env=env or dict(os.environ), capture_output=True,
                          text=True, timeout=timeout)


def generate(root: Path, project: str, flow: str, *params: str) -> None:
    """A project and a flow made by the real generator (cli new-project / new-flow)."""
    if not (root / "projects" / project).exists():
        result = invoke("new-project", project, root=root)
        assert result.exit_code == 0, result.stdout + result.stderr
    args = [a for p in params for a in ("--param", p)]
    result = invoke("new-flow", project, flow, *args, root=root)
    assert result.exit_code == 0, result.stdout + result.stderr


def set_entry(root: Path, project: str, entry_name: str, **changes) -> None:
    """Change keys of one prefect.yaml entry (None: remove the key), through yamledit."""
    path = root / "projects" / project / "prefect.yaml"
    text = path.read_text()
    entries = yaml.safe_load(text)["deployments"]
    entry = next(e for e in entries if e["name"] == entry_name)
    new = {k: v for k, v in {**entry, **changes}.items() if v is not None}
    text = yamledit.remove_deployments(text, [entry_name])
    path.write_text(yamledit.insert_deployments(text, [new]))


class Server:
    """The test server through prefect's own client (independent of scaffold.ops)."""

    def __init__(self, api_url: str):
        self.api_url = api_url

    def call(self, fn: Any) -> Any:
        async def go():
            from prefect.client.orchestration import get_client
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
                async with get_client() as client:
                    return await fn(client)

        return asyncio.run(go())

    def deployments(self) -> dict[str, Any]:
        """full name ("flow/deployment") -> DeploymentResponse, everything on the server."""
        async def go(c):
            deps = await c.read_deployments(limit=200)
            flows = {f.id: f.name for f in await c.read_flows(limit=200)}
            return {f"{flows[d.flow_id]}/{d.name}": d for d in deps}

        return self.call(go)

    def flows(self) -> set[str]:
        async def go(c):
            return {f.name for f in await c.read_flows(limit=200)}

        return self.call(go)

    def paused(self) -> dict[str, bool]:
        return {name: bool(d.paused) for name, d in self.deployments().items()}

    def set_paused(self, full_name: str, paused: bool) -> None:
        async def go(c):
            d = await c.read_deployment_by_name(full_name)
            await (c.pause_deployment if paused else c.resume_deployment)(d.id)

        self.call(go)

    def automations_of(self, deployment_id: Any) -> list[Any]:
        """Automations related to (e.g. owned by) a deployment: its triggers."""
        async def go(c):
            return await c.read_resource_related_automations(
                f"prefect.deployment.{deployment_id}")

        return self.call(go)

    def clear(self) -> None:
        """Every deployment, flow (with its runs) and automation deleted: a test starts empty."""
        async def go(c):
            for path, key in (("/deployments/bulk_delete", "deleted"),
                              ("/flows/bulk_delete", "deleted")):
                while (await c.request("POST", path, json={"limit": 50})).json()[key]:
                    pass
            for a in await c.read_automations(limit=200):
                await c.delete_automation(a.id)

        self.call(go)
