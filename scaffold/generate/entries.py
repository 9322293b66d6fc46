"""The deployment entries new-flow and new-deployment append to a prefect.yaml."""

from __future__ import annotations

from typing import Any

from scaffold import naming
from scaffold.errors import UsageError
from scaffold.generate import params as P
from scaffold.generate.defaults import Defaults
from scaffold.generate.options import DeployOptions
from scaffold.repo import ProjectConfig, Repo


def build(project: str, flow: str, variants: list[P.Variant], opts: DeployOptions,
          defaults: Defaults) -> list[dict[str, Any]]:
    """One entry per variant, in the key order of the project template."""
    entries = []
    tags = list(opts.tags) if opts.tags else list(defaults.tags)
    for v in variants:
        entry: dict[str, Any] = {"name": naming.deployment_name(project, flow, v.suffix)}
        if opts.description:
            entry["description"] = opts.description
        entry["entrypoint"] = naming.entrypoint(flow)
        entry["parameters"] = dict(v.parameters)
        entry["work_pool"] = {"name": opts.work_pool or defaults.work_pool}
        if opts.schedule:
            entry["schedules"] = [{"cron": opts.schedule,
                                   "timezone": opts.timezone or defaults.timezone}]
        # No schedule: no `schedules` key. Prefect 3.9 reads `schedules: []` on a redeploy as
        # "keep the server's schedules" and warns about it; an absent key means the same, quietly.
        entry["tags"] = tags
        if opts.paused:
            entry["paused"] = True
        entries.append(entry)
    return entries


def check_unique(repo: Repo, project: str, entries: list[dict], own: ProjectConfig) -> None:
    """Deployment names are unique across all projects (``own``: the project's loaded file)."""
    repo.adopt(own)  # loaded under the lock: not parsed again
    existing = repo.deployment_index([entry["name"] for entry in entries])
    for entry in entries:
        found = existing.get(entry["name"])
        owner = found.project if found is not None else None
        if owner is not None:
            where = "this project" if owner == project else f"project {owner!r}"
            raise UsageError(f"deployment {entry['name']!r} already exists in {where} "
                             f"(projects/{owner}/prefect.yaml); deployment names are unique "
                             "across all projects: use another --param value or --suffix")
