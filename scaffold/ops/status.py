"""`cli status`: per project, each deployment in prefect.yaml and/or on the server.

Drift is a deployment missing on the server (in config only: not deployed yet, or deleted on
the server) or only on the server (its flow belongs to the project by the naming conventions,
but prefect.yaml has no such entry: removed from config, or deployed by hand). Server
deployments whose flow name belongs to no project of the repository are listed under
``(no project)`` when no project is named.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from scaffold import naming
from scaffold.ops import api
from scaffold.ops.lookup import Matcher, ServerDeployment, read_server_deployments, select
from scaffold.ops.report import table
from scaffold.repo import Deployment, Repo

NO_PROJECT = "(no project)"


@dataclass
class Row:
    name: str
    flow: str | None
    in_config: bool
    on_server: bool
    drift: str | None = None  # "missing on server" | "only on server"
    paused: bool | None = None
    schedules: list[str] = field(default_factory=list)
    last_run: dict[str, Any] | None = None


def status(repo: Repo, projects: tuple[str, ...] = (), as_json: bool = False,
           stream: TextIO | None = None) -> dict[str, Any]:
    stream = sys.stdout if stream is None else stream
    if projects:
        select(repo, projects)  # unknown projects: UsageError with near matches
    chosen = list(dict.fromkeys(projects)) or repo.projects()
    if projects:
        config = {p: repo.config(p).deployments for p in chosen}
    else:  # every project: a broken prefect.yaml is reported once (stderr) and skipped
        config = {p: getattr(repo.readable_config(p), "deployments", []) for p in chosen}
    target = api.resolve_api()
    api.check_reachable(target)
    report = api.run(_collect(repo, chosen, config, not projects, target), target)
    if as_json:
        print(json.dumps(report, indent=2), file=stream)
    else:
        _print(report, stream)
    return report


async def _collect(repo: Repo, chosen: list[str], config: dict[str, list[Deployment]],
                   everything: bool, target: api.ApiTarget) -> dict[str, Any]:
    known = set(repo.projects())
    async with api.client_session(target) as client:
        server = await read_server_deployments(client)
        last = await _last_runs(client, [s.id for s in server])
    matcher = Matcher(server)
    claimed: set[Any] = set()
    rows: dict[str, list[Row]] = {p: [] for p in chosen}
    for project in chosen:
        for dep in config[project]:
            if not isinstance(dep.name, str):
                continue
            found, _ = matcher.find(dep)
            if found is None:
                rows[project].append(Row(dep.name, None, True, False, "missing on server",
                                         schedules=_config_schedules(dep)))
                continue
            claimed.add(found.id)
            rows[project].append(_server_row(found, True, last))
    for s in server:
        if s.id in claimed:
            continue
        parsed = naming.parse_flow_name(s.flow_name)
        project = parsed.project if parsed and parsed.project in known else NO_PROJECT
        if project in rows or (everything and project == NO_PROJECT):
            rows.setdefault(project, []).append(_server_row(s, False, last))
    return {
        "api_url": target.shown,
        "projects": [{"project": p, "deployments": [asdict(r) for r in rs]}
                     for p, rs in rows.items()],
    }


def _server_row(s: ServerDeployment, in_config: bool, last: dict[Any, Any]) -> Row:
    return Row(s.name, s.flow_name, in_config, True, None if in_config else "only on server",
               s.paused, [_describe(x.schedule, x.active) for x in s.schedules],
               last.get(s.id))


async def _last_runs(client: Any, ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """The latest run due by now per deployment: one request for most repositories."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    if not ids:
        return {}
    due = FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(before_=datetime.now(UTC)))

    async def query(some: list[Any], limit: int) -> list[Any]:
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=some)),
            flow_run_filter=due, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit)

    out: dict[Any, dict[str, Any]] = {}
    runs = await query(ids, 200)
    for run in runs:
        out.setdefault(run.deployment_id, _run_info(run))
    if len(runs) == 200:  # a full page may hide older runs of quiet deployments
        for dep_id in [i for i in ids if i not in out]:
            more = await query([dep_id], 1)
            if more:
                out[dep_id] = _run_info(more[0])
    return out


def _run_info(run: Any) -> dict[str, Any]:
    when = run.start_time or run.expected_start_time
    return {"state": run.state_name or (run.state_type.value.title() if run.state_type else None),
            "flow_run": run.name, "time": when.isoformat(timespec="seconds") if when else None}


def _describe(schedule: Any, active: bool = True) -> str:
    data = schedule if isinstance(schedule, dict) else schedule.model_dump(exclude_none=True)
    tz = data.get("timezone")
    if data.get("cron"):
        text = f"cron {data['cron']}"
    elif data.get("interval") is not None:
        interval = data["interval"]
        seconds = interval.total_seconds() if hasattr(interval, "total_seconds") else interval
        text = f"every {seconds:g}s"
    elif data.get("rrule"):
        text = f"rrule {data['rrule']}"
    else:
        text = "schedule"
    if tz:
        text += f" {tz}"
    return text if active else f"{text} (inactive)"


def _config_schedules(dep: Deployment) -> list[str]:
    items = dep.data.get("schedules") or []
    if isinstance(dep.data.get("schedule"), dict):
        items = [dep.data["schedule"], *items]
    return [_describe(s, s.get("active", True) is not False) for s in items if isinstance(s, dict)]


def _print(report: dict[str, Any], stream: TextIO) -> None:
    print(f"server: {report['api_url']}", file=stream)
    for block in report["projects"]:
        rows = []
        for r in block["deployments"]:
            run = r["last_run"]
            rows.append((
                r["name"], "yes" if r["in_config"] else "no", "yes" if r["on_server"] else "no",
                "" if r["paused"] is None else ("paused" if r["paused"] else "active"),
                "; ".join(r["schedules"]) or "-",
                f"{run['state']} {run['time'] or ''}".strip() if run else "-",
                r["drift"] or "",
            ))
        print(file=stream)
        if not rows:
            print(f"{block['project']}: no deployments", file=stream)
            continue
        table(("deployment", "config", "server", "paused", "schedules", "last run", "drift"),
              rows, title=f"{block['project']}", stream=stream)
    drift = sum(1 for b in report["projects"] for r in b["deployments"] if r["drift"])
    print(f"\n{drift} drifted deployment(s)" if drift else "\nno drift", file=stream)
    stream.flush()
