"""`cli prefect plan`: what `cli prefect deploy` would change on the server, computed by
Prefect's own deploy path with the writes recorded instead of sent.

For each selected deployment, Prefect's ``_run_single_deploy`` runs exactly as in a deploy
(templating, variables and blocks, schedules, triggers, parameter schema, pull steps, flow
defaults) against a client that reads from the server but records its writes
(``prefect_compat.recording_client_class``). The recorded update payload is compared, field
by field, with what the server holds; `deploy` then sends those same recorded calls, only for
what changed. So plan and deploy cannot disagree, and neither can disagree with Prefect.

Actions: ``create`` (not on the server), ``update`` (fields named), ``unchanged``, ``orphan``
(on the server, owned by a selected project by the conventions: its flow is
``<P>__<F>_flow`` and its name ``<P>__...``, but no longer in that project's prefect.yaml).
A deployment that cannot be deployed (flow file does not import, unknown parameter, missing
work pool, invalid schedule, a ``{{ prefect.variables.x }}`` that does not exist...) is not an
action: it is a problem, one line each naming the deployment and the field.

Not compared, on purpose:
- the pause state, unless the configuration says it (``paused`` in prefect.yaml, `--pause`):
  it is shown; an update never writes it otherwise (see ``apply_calls``);
- a version Prefect infers from git (no ``version`` in prefect.yaml): a new commit alone is
  not a change to a deployment; when it is updated for another reason the new version goes;
- an interval schedule's anchor date when prefect.yaml sets none (Prefect stamps "now").
Build and push steps are not run by the plan (they would build and upload); a project that
has some is planned with them skipped, and says so.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scaffold import naming, schedules
from scaffold.errors import OperationError, UsageError
from scaffold.ops import api
from scaffold.ops import prefect_compat as compat
from scaffold.ops.lookup import ServerDeployment, read_server_deployments, select
from scaffold.ops.report import is_tty, table
from scaffold.repo import Deployment, Repo

ACTIONS = ("create", "update", "unchanged", "orphan")

# Field names of the plan: the server's field -> the name shown
FIELD_NAMES = {
    "parameters": "parameters", "schedules": "schedules", "entrypoint": "entrypoint",
    "work_pool_name": "work pool", "work_queue_name": "work queue",
    "job_variables": "job variables", "tags": "tags", "description": "description",
    "version": "version", "concurrency_limit": "concurrency limit",
    "concurrency_options": "concurrency options",
    "enforce_parameter_schema": "enforce_parameter_schema", "pull_steps": "pull steps",
    "parameter_openapi_schema": "parameter schema", "path": "path", "paused": "paused",
    "triggers": "triggers",
}


@dataclass
class Problem:
    deployment: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.deployment}: {self.field}: {self.message}"


@dataclass
class Row:
    project: str
    name: str
    flow: str | None
    action: str = ""  # create | update | unchanged | orphan ('' while not planned)
    fields: list[str] = field(default_factory=list)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> before, after
    paused: bool | None = None
    server: ServerDeployment | None = None
    calls: list[compat.Call] = field(default_factory=list)  # Prefect's writes, recorded
    triggers_changed: bool = False
    explicit_pause: bool = False  # prefect.yaml's paused or --pause: the update writes it
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action in ("create", "update", "orphan")

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "project": self.project, "flow": self.flow,
                "action": self.action, "fields": list(self.fields), "paused": self.paused}


@dataclass
class Plan:
    server: str
    rows: list[Row]  # selected deployments (planned or with problems) then orphans
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.problems]

    @property
    def planned(self) -> list[Row]:
        return [r for r in self.rows if r.action]

    def as_json(self) -> dict[str, Any]:
        return {"server": self.server, "deployments": [r.as_json() for r in self.planned]}


# -- selection ---------------------------------------------------------------------------------


@dataclass
class Selection:
    """What a plan covers: the config entries, the projects whose orphans count, and orphan
    names known from elsewhere (entries removed since a git REF)."""

    deployments: list[Deployment]
    owner_projects: list[str] = field(default_factory=list)
    orphans: list[tuple[str, str]] = field(default_factory=list)  # (project, deployment name)


def selection(repo: Repo, projects: tuple[str, ...] | list[str] = (),
              deployments: tuple[str, ...] | list[str] = (), verb: str = "plan") -> Selection:
    """-p/-d: the entries, and the -p projects as owners of orphans (a -d alone owns none)."""
    if not projects and not deployments:
        raise UsageError(f"name what to {verb}: -p PROJECT and/or -d DEPLOYMENT (each "
                         f"repeatable), e.g. cli prefect {verb} -p farm")
    selected = select(repo, projects, deployments)  # unknown names: UsageError
    for dep in selected:
        if not isinstance(dep.name, str) or not dep.name:
            raise UsageError("a deployment has no name; give it one",
                             path=repo.config_path(dep.project), line=dep.line)
    return Selection(selected, sorted(set(projects)))


# -- computing the plan ------------------------------------------------------------------------


def compute(repo: Repo, sel: Selection, target: api.ApiTarget, pause: bool = False) -> Plan:
    """The plan (server reads only); problems are in the rows."""
    return api.run(compute_async(repo, sel, target, pause), target)


async def compute_async(repo: Repo, sel: Selection, target: api.ApiTarget,
                        pause: bool = False, client: Any = None, steps: bool = False) -> Plan:
    if client is None:
        with compat.version_info_once():
            async with api.client_session(target, compat.recording_client_class()) as c:
                return await _compute(repo, sel, target, pause, c, steps)
    return await _compute(repo, sel, target, pause, client, steps)


async def _compute(repo: Repo, sel: Selection, target: api.ApiTarget, pause: bool,
                   client: Any, steps: bool = False) -> Plan:
    """``steps``: run the projects' build and push steps (deploy does; a plan does not)."""
    plan = Plan(target.shown, [])
    server = await read_server_deployments(client, [d.name for d in sel.deployments])
    owned = await _owned_server_deployments(client, sel)
    by_full = {s.full_name: s for s in [*server, *owned]}
    client.seed_deployments({name: s.raw for name, s in by_full.items()})
    automations = await _owned_automations(client)
    checker = _Checker(client)

    by_project: dict[str, list[Deployment]] = {}
    for dep in sel.deployments:
        by_project.setdefault(dep.project, []).append(dep)
    flows: dict[str, Any] = {}  # entrypoint -> flow (or its error), the current project's
    with compat.deploy_path_memo(lambda entrypoint: _load_flow(entrypoint, flows)):
        for project, deps in by_project.items():
            flows.clear()
            await _plan_project(repo, project, deps, plan, flows, by_full, automations,
                                checker, client, pause, steps)

    # orphans: owned by a selected project, on the server, not in its prefect.yaml
    in_config = {(d.project, d.name) for d in repo.deployments(list(
        {*sel.owner_projects, *(p for p, _ in sel.orphans)}))}
    wanted = set(sel.orphans)
    for s in sorted(by_full.values(), key=lambda s: s.full_name):
        owner = owner_project(s.flow_name, s.name)
        if owner is None or (owner, s.name) in in_config:
            continue
        if owner in sel.owner_projects or (owner, s.name) in wanted:
            plan.rows.append(Row(owner, s.name, s.flow_name, "orphan", [], {}, s.paused, s))
    return plan


async def _plan_project(repo: Repo, project: str, deps: list[Deployment], plan: Plan,
                        flows: dict[str, Any], by_full: dict[str, ServerDeployment],
                        automations: dict[str, list[Any]], checker: _Checker, client: Any,
                        pause: bool, steps: bool) -> None:
    with _in_project(repo.project_dir(project)):
        configs, actions, problem = compat.load_deploy_config(
            Path(repo.config_path(project).name))
        if not steps and (actions.get("build") or actions.get("push") or any(
                c.get("build") or c.get("push") for c in configs)):
            plan.notes.append(f"projects/{project}: build and push steps are not run by "
                              "the plan (deploy runs them)")
        for dep in deps:
            row = Row(project, dep.name, None)
            plan.rows.append(row)
            await _plan_one(row, dep, configs, actions, problem, flows, by_full,
                            automations, checker, client, pause, steps)


def owner_project(flow_name: str, deployment_name: str) -> str | None:
    """The project a server deployment belongs to by the conventions: flow ``<P>__<F>_flow``
    and deployment ``<P>__<F>[__<suffix>]`` of the same project and flow; else None."""
    flow = naming.parse_flow_name(flow_name)
    dep = naming.parse_deployment_name(deployment_name)
    if flow is None or dep is None or (flow.project, flow.flow) != (dep.project, dep.flow):
        return None
    return flow.project


async def _owned_server_deployments(client: Any, sel: Selection) -> list[ServerDeployment]:
    """Server deployments whose flow is named for an owner project (orphan candidates)."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowFilter,
        FlowFilterId,
        FlowFilterName,
    )

    projects = sorted({*sel.owner_projects, *(p for p, _ in sel.orphans)})
    if not projects:
        return []
    flows: dict[Any, str] = {}
    for project in projects:
        offset = 0
        while True:  # like_ is a substring match: the exact owner is checked later
            page = await client.read_flows(
                flow_filter=FlowFilter(name=FlowFilterName(like_=f"{project}{naming.SEP}")),
                limit=200, offset=offset)
            flows.update({f.id: f.name for f in page
                          if f.name.startswith(f"{project}{naming.SEP}")})
            if len(page) < 200:
                break
            offset += 200
    if not flows:
        return []
    out: list[ServerDeployment] = []
    ids = list(flows)
    for i in range(0, len(ids), 200):
        offset = 0
        while True:
            page = await client.read_deployments(
                flow_filter=FlowFilter(id=FlowFilterId(any_=ids[i:i + 200])),
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(like_=naming.SEP)),
                limit=200, offset=offset)
            out += [ServerDeployment(d.id, d.name, d.flow_id, flows[d.flow_id], bool(d.paused),
                                     list(d.schedules or []), d) for d in page]
            if len(page) < 200:
                break
            offset += 200
    return out


async def _owned_automations(client: Any) -> dict[str, list[Any]]:
    """deployment id -> the automations whose actions run it (one paginated read).

    The server does not return which resource owns an automation, so a deployment's trigger
    automations are told apart by what they run (it) and their name (see ``_triggers_of``).
    """
    out: dict[str, list[Any]] = {}
    offset = 0
    while True:
        page = await client.read_automations(limit=200, offset=offset)
        for a in page:
            for target in {str(getattr(x, "deployment_id", None)) for x in a.actions or []}:
                out.setdefault(target, []).append(a)
        if len(page) < 200:
            break
        offset += 200
    return out


def _triggers_of(name: str, recorded: list[Any], candidates: list[Any]) -> list[Any]:
    """The server automations that are this deployment's triggers: those running it named as
    a recorded trigger or as Prefect names an unnamed one (``<deployment>__automation_<n>``);
    an automation made by hand in the dashboard is not one."""
    names = {a.name for a in recorded}
    return [a for a in candidates
            if a.name in names or a.name.startswith(f"{name}__automation_")]


class _in_project:
    """cwd = the project folder; afterwards cwd, sys.path and the project's modules restored,
    so two projects' flows/helpers.py never meet in sys.modules."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self) -> None:
        self.cwd, self.path, self.before = os.getcwd(), list(sys.path), set(sys.modules)
        os.chdir(self.folder)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.cwd)
        sys.path[:] = self.path
        root = str(self.folder.resolve())
        for name in set(sys.modules) - self.before:
            module_file = getattr(sys.modules.get(name), "__file__", None) or ""
            if module_file.startswith(root + os.sep):
                del sys.modules[name]


def _load_flow(entrypoint: str, flows: dict[str, Any]) -> Any:
    """The flow object (cached per entrypoint); raises when the file does not import or the
    function is not a flow (Prefect would fall back to a placeholder parsed from the source)."""
    if entrypoint not in flows:
        from prefect.flows import Flow, load_flow_from_entrypoint

        try:
            flow = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
            if not isinstance(flow, Flow):
                raise TypeError(f"{entrypoint} is not a @flow")
            flows[entrypoint] = flow
        except Exception as exc:  # noqa: BLE001 - any error of user code; kept, so the file's other deployments fail the same way
            flows[entrypoint] = exc
    if isinstance(flows[entrypoint], Exception):
        raise flows[entrypoint]
    return flows[entrypoint]


class _Checker:
    """Existence checks against the server, each name asked once per command."""

    def __init__(self, client: Any):
        self.client = client
        self.memo: dict[tuple[str, ...], str | None] = {}

    async def _ask(self, key: tuple[str, ...], call: Any) -> str | None:
        if key not in self.memo:
            try:
                self.memo[key] = await call()
            except Exception as exc:
                if compat.connection_lost(exc):
                    raise
                self.memo[key] = ("does not exist" if compat.is_not_found(exc)
                                  else api.short_error(exc))
        return self.memo[key]

    async def work_pool(self, name: str) -> str | None:
        async def call():
            await self.client.read_work_pool(name)
        problem = await self._ask(("pool", name), call)
        return None if problem is None else (
            f"work pool {name!r} {problem}; create it: cli prefect work-pool create {name} "
            "--type process" if problem == "does not exist" else f"work pool {name!r}: {problem}")

    async def template(self, placeholder: str) -> str | None:
        from prefect.utilities.templating import (
            BLOCK_DOCUMENT_PLACEHOLDER_PREFIX as BLOCK,
        )
        from prefect.utilities.templating import (
            VARIABLE_PLACEHOLDER_PREFIX as VARIABLE,
        )

        if placeholder.startswith(VARIABLE):
            name = placeholder[len(VARIABLE):]

            async def variable():
                if await self.client.read_variable_by_name(name) is None:
                    return "does not exist"
            problem = await self._ask(("variable", name), variable)
            return None if problem is None else (
                f"{{{{ {placeholder} }}}}: variable {name!r} {problem} (Prefect would use ''); "
                f"create it: cli prefect variable set {name} VALUE")
        if placeholder.startswith(BLOCK):
            parts = placeholder[len(BLOCK):].split(".")
            if len(parts) < 2:
                return f"{{{{ {placeholder} }}}}: write prefect.blocks.<type>.<name>"
            slug, name = parts[0], parts[1]

            async def block():
                await self.client.read_block_document_by_name(name, slug)
            problem = await self._ask(("block", slug, name), block)
            return None if problem is None else (
                f"{{{{ {placeholder} }}}}: block {slug}/{name} {problem}")
        return None


def _placeholders(value: Any) -> list[tuple[str, str]]:
    """(top-level key, placeholder name) of the prefect.variables/prefect.blocks templates."""
    from prefect.utilities.templating import PlaceholderType, find_placeholders

    out = []
    if not isinstance(value, dict):
        return out
    for key, item in value.items():
        try:
            found = find_placeholders(item)
        except ValueError:
            continue
        out += sorted((str(key), p.name) for p in found
                      if p.type in (PlaceholderType.VARIABLE, PlaceholderType.BLOCK_DOCUMENT))
    return out


def _schedule_problems(config: dict) -> list[tuple[str, str]]:
    raw = config.get("schedules")
    if raw is None:
        raw = [config["schedule"]] if isinstance(config.get("schedule"), dict) else []
    if not isinstance(raw, list):
        return [("schedules", "must be a list of schedules")]
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            out.append((f"schedules[{i}]", "must be a mapping (cron:, interval: or rrule:)"))
            continue
        if any(isinstance(v, str) and "{{" in v for v in item.values()):
            continue  # templated: checked once Prefect resolves it
        for p in schedules.check_item(item):
            out.append((f"schedules[{i}]" + (f".{p.key}" if p.key else ""), p.message))
    return out


def _unknown_parameters(flow: Any, parameters: Any) -> list[str]:
    """Keys the flow's signature does not take (none when it takes ``**kwargs``)."""
    import inspect

    if not isinstance(parameters, dict):
        return [] if parameters is None else ["must be a mapping of parameter names to values"]
    known = set(flow.parameters.model_dump(mode="json").get("properties") or {})
    if any(p.kind is inspect.Parameter.VAR_KEYWORD
           for p in inspect.signature(flow.fn).parameters.values()):
        return []
    return [f"unknown parameter {k!r} (the flow takes: {', '.join(sorted(known)) or 'none'})"
            for k in sorted(set(parameters) - known, key=str)]


def _parameter_problems(flow: Any, parameters: dict | None) -> list[str]:
    """The values (as Prefect resolved them) against the flow's parameter schema."""
    from prefect.utilities.schema_tools import validate

    parameters = parameters or {}
    schema = flow.parameters.model_dump(mode="json")
    known = set(schema.get("properties") or {})
    out = []
    for err in validate({k: v for k, v in parameters.items() if k in known}, schema,
                        ignore_required=True):
        where = ".".join(str(p) for p in err.path) or "parameters"
        out.append(f"{where}: {err.message}")
    return out


async def _plan_one(row: Row, dep: Deployment, configs: list[dict], actions: dict,
                    problem: str | None, flows: dict[str, Any],
                    by_full: dict[str, ServerDeployment], automations: dict[str, list[Any]],
                    checker: _Checker, client: Any, pause: bool, steps: bool = False) -> None:
    from prefect.settings import get_current_settings
    from prefect.utilities.templating import apply_values

    def fail(where: str, message: str) -> None:
        row.problems.append(Problem(dep.name, where, message))

    if problem:
        return fail("prefect.yaml", problem)
    if dep.index >= len(configs) or configs[dep.index].get("name") != dep.name:
        return fail("prefect.yaml", "changed while planning; run the command again")
    config = dict(configs[dep.index])
    resolved = apply_values({"entrypoint": config.get("entrypoint")}, os.environ,
                            remove_notset=False)
    if not resolved["entrypoint"]:
        return fail("entrypoint", "missing; set 'entrypoint: flows/<FLOW>.py:<FLOW>_flow'")
    try:
        flow = _load_flow(resolved["entrypoint"], flows)
    except Exception as exc:  # noqa: BLE001 - user code: reported as the entry's problem
        return fail("entrypoint", f"{resolved['entrypoint']}: {api.short_error(exc)}")
    row.flow = flow.name
    existing = by_full.get(f"{flow.name}/{dep.name}")
    row.server = existing

    # as `prefect deploy --all`: the default work pool setting fills a missing one
    pool = config.get("work_pool") or {}
    default_pool = get_current_settings().deployments.default_work_pool_name
    if not pool.get("name") and default_pool:
        config["work_pool"] = {**pool, "name": default_pool}
    pool_name = (config.get("work_pool") or {}).get("name")
    if (isinstance(pool_name, str) and pool_name and "{{" not in pool_name
            and (why := await checker.work_pool(pool_name)) is not None):
        fail("work_pool", why)
    for message in _unknown_parameters(flow, config.get("parameters")):
        fail("parameters", message)
    for where, message in _schedule_problems(config):
        fail(where, message)
    for key, placeholder in _placeholders(config):
        if (why := await checker.template(placeholder)) is not None:
            fail(key, why)
    if row.problems:
        return

    if pause:
        config["paused"] = True
    row.explicit_pause = config.get("paused") is not None
    if not row.explicit_pause and existing is None:
        config["paused"] = False
    if not steps:  # a plan never runs build/push steps (they build and upload): deploy does
        actions = {**actions, "build": None, "push": None}
        config.update({k: None for k in ("build", "push") if k in config})

    console = compat.quiet_console()
    client.start_recording()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await compat.run_single_deploy(config, actions, client, console)
    except (Exception, SystemExit) as exc:
        if isinstance(exc, Exception) and compat.connection_lost(exc):
            raise
        message = api.short_error(exc) if not isinstance(exc, SystemExit) else ""
        printed = api.short_error(Exception(console.file.getvalue())) if not message else ""
        return fail("prefect", message or printed or "prefect refused the deployment")
    finally:
        row.calls = client.stop_recording()
    row.notes = sorted({api.short_error(Exception(str(w.message))) for w in caught})

    payload = compat.deployment_payload(row.calls)
    if payload is None:
        return fail("prefect", "Prefect's deploy path sent no deployment (see prefect_compat)")
    for message in _parameter_problems(flow, payload.get("parameters")):
        fail("parameters", message)
    if row.problems:
        return
    if existing is None:
        row.action = "create"
        row.paused = bool(payload.get("paused"))
        return
    row.paused = existing.paused
    _compare(row, payload, existing.raw, dep, config)
    recorded = compat.recorded_automations(row.calls)
    on_server = _triggers_of(dep.name, recorded, automations.get(str(existing.id), []))
    if _trigger_shape(recorded) != _trigger_shape(on_server):
        row.triggers_changed = True
        row.fields.append("triggers")
        row.changes["triggers"] = ([a.name for a in on_server], [a.name for a in recorded])
    if row.explicit_pause and payload.get("paused") is not None and bool(
            payload["paused"]) != existing.paused:
        row.fields.append("paused")
        row.changes["paused"] = (existing.paused, bool(payload["paused"]))
    row.action = "update" if row.fields else "unchanged"


def _norm(value: Any) -> Any:
    """JSON-comparable: None and empty containers are the same 'nothing'."""
    if value in (None, {}, []):
        return None
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _same_schedules(mine: list[dict], theirs: list[dict], anchors: list[bool]) -> bool:
    """The same schedules in any order (the server does not keep prefect.yaml's): each of
    mine matches one of theirs by the schedule (an interval's anchor only when prefect.yaml
    sets one) and the other keys the payload sets (active, parameters, slug...)."""
    if len(mine) != len(theirs):
        return False
    left = list(theirs)
    for i, a in enumerate(mine):
        keep_anchor = i < len(anchors) and anchors[i]
        match = next((b for b in left if _same_schedule(a, b, keep_anchor)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _same_schedule(a: dict, b: dict, keep_anchor: bool) -> bool:
    sa, sb = dict(a.get("schedule") or {}), dict(b.get("schedule") or {})
    if not keep_anchor:
        sa.pop("anchor_date", None)
        sb.pop("anchor_date", None)
    if _norm(sa) != _norm(sb):
        return False
    return all(_norm(value) == _norm(b.get(key)) for key, value in a.items()
               if key != "schedule" and value is not None)


def _compare(row: Row, payload: dict, server: Any, dep: Deployment, config: dict) -> None:
    current = server.model_dump(mode="json")
    for key, after in payload.items():
        if key in ("paused", "version_info", "name", "flow_name", "triggers", "version_type",
                   "storage_document_id", "infrastructure_document_id"):
            continue
        if key == "version" and not config.get("version"):
            continue  # inferred from git: not a change by itself
        before = current.get(key)
        if key == "schedules":
            anchors = [isinstance(s, dict) and "anchor_date" in s
                       for s in (config.get("schedules") or [])]
            same = _same_schedules(after or [], before or [], anchors)
            before = [s.get("schedule") for s in before or []]
            after = [s.get("schedule") for s in after or []]
        elif key == "description":
            # no description: Prefect's create path stores the text "None", its update None
            nothing = (None, "", "None")
            same = after == before or (after in nothing and before in nothing)
        elif key == "work_queue_name" and after is None:
            same = True  # the pool's default queue
        elif key == "parameter_openapi_schema":
            same = _norm(after) == _norm(before)
        elif key == "concurrency_limit":
            limit = (current.get("global_concurrency_limit") or {}).get("limit")
            same = after == limit
            before = limit
        else:
            same = _norm(after) == _norm(before)
        if not same:
            row.fields.append(FIELD_NAMES.get(key, key))
            row.changes[FIELD_NAMES.get(key, key)] = (before, after)


def _trigger_shape(automations: list[Any]) -> list[str]:
    out = []
    for a in automations:
        data = a.model_dump(mode="json", exclude={"id", "created", "updated", "owner_resource"})
        for action in data.get("actions") or []:
            if isinstance(action, dict):
                action.pop("deployment_id", None)
        trigger = data.get("trigger")
        if isinstance(trigger, dict):
            trigger.pop("id", None)
        out.append(json.dumps(data, sort_keys=True, default=str))
    return sorted(out)


# -- output ------------------------------------------------------------------------------------


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 3] + "..."


def _state(row: Row) -> str:
    return "" if row.paused is None else ("paused" if row.paused else "active")


def print_plan(plan: Plan, stream: TextIO, tty: bool | None = None) -> None:
    tty = is_tty(stream) if tty is None else tty
    rows = plan.planned
    if rows:
        table(("action", "deployment", "project", "flow", "changes", "state"),
              [(r.action, r.name, r.project, r.flow or "", ", ".join(r.fields), _state(r))
               for r in rows], stream=stream, tty=tty)
    if tty:
        for r in rows:
            if r.action == "update":
                print(f"\n{r.name}:", file=stream)
                for name, (before, after) in r.changes.items():
                    print(f"  {name}: {_short(before)} -> {_short(after)}", file=stream)
    for note in plan.notes:
        print(f"note: {note}", file=stream)
    counts = {a: sum(r.action == a for r in rows) for a in ACTIONS}
    print(f"\nplan for {plan.server}: {counts['create']} to create, {counts['update']} to "
          f"update, {counts['unchanged']} unchanged, {counts['orphan']} orphaned "
          "(on the server, no longer in prefect.yaml"
          + ("; delete them with: cli prefect deploy --prune" if counts["orphan"] else "")
          + ")", file=stream)
    stream.flush()


def print_problems(problems: list[Problem], err: TextIO) -> None:
    for p in problems:
        print(f"invalid: {p}", file=err)
    err.flush()


def plan_command(repo: Repo, sel: Selection, as_json: bool = False, exit_code: bool = False,
                 stream: TextIO | None = None, err: TextIO | None = None) -> int:
    """`cli prefect plan`: prints the plan; the exit code (0, or 1 with ``exit_code`` when
    anything would change; 1 when a deployment is invalid)."""
    stream = sys.stdout if stream is None else stream
    err = sys.stderr if err is None else err
    target = api.resolve_api()
    api.check_reachable(target)
    plan = compute(repo, sel, target)
    if as_json:
        json.dump(plan.as_json(), stream, indent=2)
        stream.write("\n")
        stream.flush()
    else:
        print_plan(plan, stream)
    if plan.problems:
        print_problems(plan.problems, err)
        raise OperationError(f"{len({p.deployment for p in plan.problems})} deployment(s) "
                             "cannot be deployed as configured (see above)")
    if exit_code and any(r.changed for r in plan.planned):
        return 1
    return 0
