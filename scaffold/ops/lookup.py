"""Deployments on the server, matched to the entries of prefect.yaml.

On the server a deployment is named ``<flow name>/<deployment name>``; by the conventions the
flow name of ``projects/farm`` entry ``flows/harvest.py:harvest_flow`` is ``farm__harvest_flow``
(`naming.flow_name`). A config entry is matched to the server deployment with its name under
that flow; when the flow name breaks the conventions (the linter reports that) a deployment of
the same name under another flow is still found when it is the only one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scaffold.repo import Deployment, Repo, expected_flow_name

PAGE = 200  # the server's default and maximum page size


@dataclass
class ServerDeployment:
    id: Any  # UUID
    name: str
    flow_id: Any
    flow_name: str
    paused: bool
    schedules: list[Any] = field(default_factory=list)  # prefect DeploymentSchedule
    raw: Any = None  # prefect DeploymentResponse

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


def select(repo: Repo, projects: tuple[str, ...] | list[str] = (),
           deployments: tuple[str, ...] | list[str] = ()) -> list[Deployment]:
    """The entries ``-p``/``-d`` select: ``Repo.select``, the one selection (``FLOW/NAME``
    forms, near matches, broken projects skipped unless named); unknown names raise."""
    return repo.resolve(projects, deployments)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


async def read_server_deployments(client: Any, names: list[str] | None = None
                                  ) -> list[ServerDeployment]:
    """Deployments with these names (all of them when ``names`` is None), with flow names.

    Two kinds of requests, each paginated: deployments by name, then their flows by id.
    """
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowFilter,
        FlowFilterId,
    )

    raw: list[Any] = []
    groups = [None] if names is None else list(_chunks(sorted(set(names)), PAGE))
    for group in groups:
        flt = None if group is None else DeploymentFilter(name=DeploymentFilterName(any_=group))
        offset = 0
        while True:
            page = await client.read_deployments(deployment_filter=flt, limit=PAGE, offset=offset)
            raw.extend(page)
            if len(page) < PAGE:
                break
            offset += PAGE
    flow_ids = sorted({d.flow_id for d in raw}, key=str)
    flow_names: dict[Any, str] = {}
    for group in _chunks(flow_ids, PAGE):
        flows = await client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=group)),
                                        limit=PAGE)
        flow_names.update({f.id: f.name for f in flows})
    return [ServerDeployment(d.id, d.name, d.flow_id, flow_names.get(d.flow_id, "?"),
                             bool(d.paused), list(d.schedules or []), d) for d in raw]


class Matcher:
    """Find the server deployment of a config entry (see the module docstring)."""

    def __init__(self, server: list[ServerDeployment]):
        self.by_full = {s.full_name: s for s in server}
        self.by_name: dict[str, list[ServerDeployment]] = {}
        for s in server:
            self.by_name.setdefault(s.name, []).append(s)

    def find(self, dep: Deployment) -> tuple[ServerDeployment | None, str | None]:
        """(match, problem): problem says why there is no single match."""
        flow = expected_flow_name(dep)
        if flow and f"{flow}/{dep.name}" in self.by_full:
            return self.by_full[f"{flow}/{dep.name}"], None
        candidates = self.by_name.get(dep.name, [])
        if len(candidates) == 1:
            return candidates[0], None
        if len(candidates) > 1:
            names = ", ".join(sorted(c.full_name for c in candidates))
            return None, f"several deployments on the server are named {dep.name!r} ({names})"
        return None, None
