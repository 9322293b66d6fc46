"""`cli prefect deployment pause|resume|delete`: by project and by name, one process, one client.

Pause and resume set the deployment-level ``paused`` state (what the dashboard's toggle does),
one deployment after another: on the SQLite server concurrent writes fail with HTTP 503 and are
retried, so sequential is the fastest. Each toggle reads the deployment first: that gives the
state of the moment (already paused: nothing to write), and, measured on Prefect 3.9.1 with
SQLite, back-to-back writes stall about 2 s every 20 of them (the server flushes its event
batch meanwhile) while read-then-write does not: 50 pauses 1 s instead of 3 to 7 s. Delete uses ``POST /api/deployments/bulk_delete`` with an
id filter (50 per request, the server's limit) and falls back to one request per deployment on
a server without it. A deployment in prefect.yaml that is not on the server is reported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from scaffold import fs, yamledit
from scaffold.errors import OperationError, UsageError
from scaffold.ops import api
from scaffold.ops import prefect_compat as compat
from scaffold.ops.lookup import (
    Matcher,
    ServerDeployment,
    expected_flow_name,
    read_server_deployments,
)
from scaffold.ops.report import Progress
from scaffold.repo import Deployment, Repo

BULK_LIMIT = 50  # POST /deployments/bulk_delete and /flows/bulk_delete accept at most 50


class Declined(OperationError):
    """The confirmation question was answered no: nothing was changed (exit 1, as click.Abort)."""

    def __init__(self) -> None:
        super().__init__("aborted: nothing deleted")


@dataclass
class Item:
    dep: Deployment | None  # None: a deployment only on the server (`-d` of a name in no prefect.yaml)
    server: ServerDeployment | None = None
    result: str = ""  # paused | resumed | already paused | already active | deleted | missing
    error: str | None = None

    @property
    def label(self) -> str:
        """How the progress lines name it: a server-only one says it is in no prefect.yaml."""
        if self.dep is None and self.server is not None:
            return f"{self.server.full_name} (not in any prefect.yaml)"
        return self.server.full_name if self.server is not None else str(self.dep.name)


@dataclass
class Selection:
    repo: Repo
    projects: tuple[str, ...]
    deployments: tuple[str, ...]
    config: list[Deployment]
    server_names: list[str]  # -d names in no prefect.yaml: looked up on the server
    suggest: bool


def _select(repo: Repo, projects: tuple[str, ...], deployments: tuple[str, ...],
            verb: str) -> Selection:
    if not projects and not deployments:
        raise UsageError(f"name what to {verb}: -p PROJECT and/or -d DEPLOYMENT (each "
                         f"repeatable), e.g. cli prefect deployment {verb} -p farm")
    # a delete never proposes another deployment ("did you mean" could steer it to a live one)
    suggest = verb != "delete"
    found = repo.select(projects, deployments, strict=False, suggest=suggest)  # offline first
    if not found.deployments and not found.unknown:
        raise UsageError(f"no deployments in prefect.yaml of {', '.join(projects)}")
    return Selection(repo, projects, deployments, found.deployments,
                     [name for name, _ in found.unknown], suggest)


async def _match(client: Any, selection: Selection) -> list[Item]:
    """Items of the config entries, then of the ``-d`` names found only on the server (the one
    selection, ``Repo.select``, given the server's deployments of those names as candidates);
    a name found nowhere is a UsageError (exit 2) before anything is changed."""
    server_only: list[ServerDeployment] = []
    if selection.server_names:
        remote = await read_server_deployments(
            client, sorted({n.rpartition("/")[2] for n in selection.server_names}))
        final = selection.repo.select(selection.projects, selection.deployments,
                                      server=[(s.flow_name, s.name) for s in remote],
                                      suggest=selection.suggest)  # unknown names: UsageError
        by_full = {s.full_name: s for s in remote}
        server_only = [by_full[s.full_name] for s in final.server_only]
    selected = selection.config
    server = await read_server_deployments(client, [d.name for d in selected]) if selected else []
    matcher = Matcher(server)
    items = []
    seen: set[Any] = set()
    for dep in selected:
        found, problem = matcher.find(dep)
        items.append(Item(dep, found, "" if found else "missing", problem))
        if found is not None:
            seen.add(found.id)
    for sd in server_only:
        if sd.id not in seen:  # `-d FLOW/X` and `-d X` of the same one: once
            seen.add(sd.id)
            items.append(Item(None, sd))
    return items


def _missing_line(item: Item) -> str:
    return (f"{item.dep.name}: not on the server (only in projects/{item.dep.project}/"
            f"prefect.yaml; deploy it with: cli prefect deploy -d {item.dep.name})")


# -- pause / resume ------------------------------------------------------------------------------


def set_paused(repo: Repo, projects: tuple[str, ...], deployments: tuple[str, ...],
               paused: bool, stream: TextIO | None = None) -> list[Item]:
    stream = sys.stdout if stream is None else stream
    verb = "pause" if paused else "resume"
    selected = _select(repo, projects, deployments, verb)
    target = api.resolve_api()
    api.check_reachable(target)
    items = api.run(_set_paused(selected, paused, target, stream), target)
    return _finish(items, verb, target, stream)


async def _set_paused(selected: Selection, paused: bool, target: api.ApiTarget,
                      stream: TextIO) -> list[Item]:
    verb, done = ("pausing", "paused") if paused else ("resuming", "resumed")
    async with api.client_session(target) as client:
        items = await _match(client, selected)
        with Progress(len(items), verb, stream) as progress:
            for item in items:
                progress.step(item.label)
                if item.server is None:
                    progress.done(_missing_line(item) if not item.error
                                  else f"{item.dep.name}: FAILED: {item.error}", not item.error)
                    continue
                try:
                    now = await client.read_deployment(item.server.id)
                    if bool(now.paused) == paused:
                        item.result = f"already {'paused' if paused else 'active'}"
                    elif paused:
                        await client.pause_deployment(item.server.id)
                        item.result = done
                    else:
                        await client.resume_deployment(item.server.id)
                        item.result = done
                except Exception as exc:  # noqa: BLE001 - reported per deployment
                    if compat.is_not_found(exc):  # deleted meanwhile
                        item.server, item.result = None, "missing"
                        progress.done(_missing_line(item))
                        continue
                    item.error = api.short_error(exc)
                progress.done(f"{item.label}: "
                              + (f"FAILED: {item.error}" if item.error else item.result),
                              item.error is None)
    return items


# -- delete ------------------------------------------------------------------------------------


def delete(repo: Repo, projects: tuple[str, ...], deployments: tuple[str, ...],
           prune_config: bool = False, prune_flows: bool = False,
           confirm: Callable[[str], bool] | None = None,
           stream: TextIO | None = None) -> list[Item]:
    """Delete from the server; ``confirm(question)`` is asked once (None: no question).

    Declined (nothing changed) when the answer is no.
    """
    stream = sys.stdout if stream is None else stream
    selected = _select(repo, projects, deployments, "delete")
    if prune_config:  # a read-only prefect.yaml is refused before anything is deleted
        for project in dict.fromkeys(dep.project for dep in selected.config):
            fs.require_writable(repo.config_path(project))
    target = api.resolve_api()
    api.check_reachable(target)
    items, flows_deleted = api.run(
        _delete(selected, prune_flows, target, stream, confirm, prune_config), target)
    if items is None:
        raise Declined()
    if prune_config:
        _prune_config(repo, items, stream)
    for name in flows_deleted:
        print(f"deleted flow {name} (no deployments left; its runs went with it)", file=stream)
    return _finish(items, "delete", target, stream)


async def _delete(selected: Selection, prune_flows: bool, target: api.ApiTarget,
                  stream: TextIO, confirm: Callable[[str], bool] | None,
                  prune_config: bool) -> tuple[list[Item] | None, list[str]]:
    async with api.client_session(target) as client:
        items = await _match(client, selected)
        found = [i for i in items if i.server is not None]
        asked = confirm is not None and bool(found or prune_config or prune_flows)
        if asked and not confirm(_question(items, found, target, prune_config, prune_flows)):
            return None, []
        with Progress(len(items), "deleting", stream) as progress:
            deleted = await _bulk_delete(client, [i.server.id for i in found]) if found else set()
            for item in items:
                if item.server is None:
                    progress.done(_missing_line(item) if not item.error
                                  else f"{item.dep.name}: FAILED: {item.error}", not item.error)
                elif item.server.id in deleted:
                    item.result = "deleted"
                    progress.done(f"{item.label}: deleted")
                else:
                    item.result, item.error = "", "the server did not delete it"
                    progress.done(f"{item.label}: FAILED: {item.error}", False)
        flows_deleted: list[str] = []
        if prune_flows:
            gone = [i.server for i in found if i.result == "deleted"]
            # also the conventional flows of the selection: an earlier delete without
            # --prune-flows may have left one without deployments
            named = {expected_flow_name(i.dep) for i in items
                     if i.error is None and i.dep is not None}
            flows_deleted = await _prune_flows(client, gone, sorted(n for n in named if n))
    return items, flows_deleted


def _question(items: list[Item], found: list[Item], target: api.ApiTarget, prune_config: bool,
              prune_flows: bool) -> str:
    """The confirmation question: what is on the server counted and listed, the rest apart."""
    missing = [str(i.dep.name) for i in items if i.server is None and i.error is None]
    extra = (" and remove them from prefect.yaml" if prune_config else "") + (
        " and delete flows left without deployments (with their run history)"
        if prune_flows else "")
    question = f"Delete {len(found)} deployment(s) from {target.shown}{extra}"
    if found:
        question += ": " + ", ".join(i.label for i in found)
    if missing:
        question += ("; not on the server" + (" (removed from prefect.yaml only)"
                                              if prune_config else "")
                     + ": " + ", ".join(missing))
    return question + "?"


async def _bulk_delete(client: Any, ids: list[Any]) -> set[Any]:
    """Ids deleted: bulk requests of 50, or one request each on a server without bulk delete."""
    from uuid import UUID

    deleted: set[Any] = set()
    for i in range(0, len(ids), BULK_LIMIT):
        chunk = ids[i:i + BULK_LIMIT]
        response = await _try_post(client, "/deployments/bulk_delete", {
            "deployments": {"id": {"any_": [str(x) for x in chunk]}}, "limit": len(chunk)})
        if response is None:  # older server: no bulk endpoint
            for dep_id in chunk:
                try:
                    await client.delete_deployment(dep_id)
                    deleted.add(dep_id)
                except Exception as exc:
                    if not compat.is_not_found(exc):
                        raise
            continue
        deleted.update(UUID(str(x)) for x in response.json().get("deleted", []))
    return deleted


async def _try_post(client: Any, path: str, body: dict) -> Any:
    import httpx

    try:
        return await client.request("POST", path, json=body)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code in (404, 405):
            return None
        raise


async def _prune_flows(client: Any, gone: list[ServerDeployment], names: Sequence[str] = ()
                       ) -> list[str]:
    """Delete the flows of ``gone`` and the flows named ``names`` that have no deployment
    left; their names."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterId, FlowFilterName

    flows = {s.flow_id: s.flow_name for s in gone}
    for i in range(0, len(names), 200):
        for flow in await client.read_flows(
                flow_filter=FlowFilter(name=FlowFilterName(any_=list(names[i:i + 200]))),
                limit=200):
            flows.setdefault(flow.id, flow.name)
    if not flows:
        return []
    ids = list(flows)
    remaining: set[Any] = set()
    for i in range(0, len(ids), 200):
        left = await client.read_deployments(
            flow_filter=FlowFilter(id=FlowFilterId(any_=ids[i:i + 200])), limit=200)
        remaining.update(d.flow_id for d in left)
    empty = [f for f in ids if f not in remaining]
    for i in range(0, len(empty), BULK_LIMIT):
        chunk = empty[i:i + BULK_LIMIT]
        response = await _try_post(client, "/flows/bulk_delete", {
            "flows": {"id": {"any_": [str(x) for x in chunk]}}, "limit": len(chunk)})
        if response is None:
            for flow_id in chunk:
                await client.delete_flow(flow_id)
    return sorted(flows[f] for f in empty)


def _prune_config(repo: Repo, items: list[Item], stream: TextIO) -> None:
    """Remove the entries from prefect.yaml (byte-preserving, atomic, locked) — those deleted
    from the server and those that were not on it; never one whose delete failed."""
    by_project: dict[str, list[str]] = {}
    for item in items:
        if item.error is None and item.dep is not None:  # server-only: nothing to remove
            by_project.setdefault(item.dep.project, []).append(item.dep.name)
    pruned: list[str] = []
    for project, names in by_project.items():
        path = repo.config_path(project)
        done = (f"the deployments were deleted on the server, but {', '.join(names)} still "
                f"stand in {path.name}: remove them by hand"
                + (f" ({', '.join(pruned)} already pruned)" if pruned else ""))
        yamledit.update_file(path, lambda text, p=path, n=names: yamledit.remove_deployments(
            text, n, p), done=done)
        pruned.append(str(path.relative_to(repo.root)))
        print(f"removed {len(names)} deployment(s) from {path.relative_to(repo.root)}: "
              + ", ".join(names), file=stream)


def _finish(items: list[Item], verb: str, target: api.ApiTarget, stream: TextIO) -> list[Item]:
    missing = [i for i in items if i.server is None and not i.error]
    failed = [i for i in items if i.error]
    changed = [i for i in items if i.result in ("paused", "resumed", "deleted")]
    past = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
    summary = f"{len(changed)} {past}"
    unchanged = len(items) - len(changed) - len(missing) - len(failed)
    if unchanged:
        summary += f", {unchanged} already {'paused' if verb == 'pause' else 'active'}"
    if missing:
        summary += f", {len(missing)} not on the server"
    if failed:
        summary += f", {len(failed)} failed"
    print(f"{summary} ({target.shown})", file=stream)
    stream.flush()
    if failed:
        raise OperationError(f"{len(failed)} of {len(items)} deployments could not be {past}: "
                             + "; ".join(f"{i.label}: {i.error}" for i in failed))
    return items
