"""`cli prefect deploy`: deploy the entries of projects/<P>/prefect.yaml with Prefect's own code.

Each deployment goes through Prefect's ``_run_single_deploy`` (via ``prefect_compat``), the function
`prefect deploy` itself runs for every deployment (build, push and pull steps, schedules, work
pool and job variables, parameters, triggers, templating, parameter schema), called the way
`prefect deploy --all` calls it but:

- in one process with one client (prefect's ``get_client()`` returns it to every call),
  which is where the speed comes from: no CLI start-up per deployment, no client per call;
- from the project's folder (entrypoints and steps are relative to it), cwd restored after;
- never interactive (no prompts, never re-writes prefect.yaml: ``is_interactive`` is False);
- keeping the pause state a deployment has on the server: Prefect's redeploy resets
  ``paused`` to prefect.yaml's value (false when absent), silently resuming what an operator
  paused. Here ``paused`` comes from, in order: ``--pause``, ``paused`` in prefect.yaml, the
  current state on the server, else active;
- a flow file that fails to import fails its deployments only (Prefect would fall back to a
  placeholder flow parsed from the source; here the flow must import, as the worker needs).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scaffold.errors import OperationError, UsageError
from scaffold.ops import api
from scaffold.ops import prefect_compat as compat
from scaffold.ops.lookup import ServerDeployment, read_server_deployments, select
from scaffold.ops.report import Progress, table
from scaffold.repo import Deployment, Repo


@dataclass
class Outcome:
    project: str
    name: str
    action: str = "failed"  # created | updated | failed
    paused: bool | None = None
    why: str = ""  # where the pause state came from: --pause | prefect.yaml | kept | new
    flow_name: str | None = None
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def state(self) -> str:
        if self.paused is None:
            return ""
        text = "paused" if self.paused else "active"
        return {"--pause": f"{text} (--pause)", "prefect.yaml": f"{text} (prefect.yaml)",
                "kept": f"{text} (kept)"}.get(self.why, text)

    def line(self) -> str:
        if not self.ok:
            return f"{self.name}: FAILED: {self.error}"
        return f"{self.name}: {self.action}, {self.state}"


def deploy(repo: Repo, projects: tuple[str, ...] = (), deployments: tuple[str, ...] = (),
           pause: bool = False, stream: TextIO | None = None,
           err: TextIO | None = None) -> list[Outcome]:
    """Deploy the selection; prints progress and a summary. OperationError when any failed."""
    stream = sys.stdout if stream is None else stream
    err = sys.stderr if err is None else err
    if not projects and not deployments:
        raise UsageError("name what to deploy: -p PROJECT and/or -d DEPLOYMENT (each repeatable), "
                         "e.g. cli prefect deploy -p farm")
    selected = select(repo, projects, deployments)  # unknown names: UsageError, nothing deployed
    if not selected:
        names = ", ".join(projects)
        raise UsageError(f"no deployments in prefect.yaml of {names}; add one with "
                         "`cli new-flow` or `cli new-deployment`")
    for dep in selected:
        if not isinstance(dep.name, str) or not dep.name:
            raise UsageError("a deployment has no name; give it one",
                             path=repo.config_path(dep.project), line=dep.line)
    target = api.resolve_api()
    api.check_reachable(target)
    outcomes = api.run(_deploy(repo, selected, pause, target, stream), target)
    _summary(outcomes, target, stream, err)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise OperationError(f"{len(failed)} of {len(outcomes)} deployments failed (see above)")
    return outcomes


async def _deploy(repo: Repo, selected: list[Deployment], pause: bool, target: api.ApiTarget,
                  stream: TextIO) -> list[Outcome]:
    by_project: dict[str, list[Deployment]] = {}
    for dep in selected:
        by_project.setdefault(dep.project, []).append(dep)
    outcomes: list[Outcome] = []
    with Progress(len(selected), "deploying", stream) as progress, compat.version_info_once():
        async with api.client_session(target, compat.deploy_client_class()) as client:
            current = await read_server_deployments(client, [d.name for d in selected])
            on_server = {s.full_name: s for s in current}
            client.seed_deployments({s.full_name: s.raw for s in current})
            for project, deps in by_project.items():
                with _in_project(repo.project_dir(project)):
                    configs, actions, problem = compat.load_deploy_config(
                        Path(repo.config_path(project).name))
                    flows: dict[str, Any] = {}
                    for dep in deps:
                        progress.step(dep.name)
                        out = await _deploy_one(client, dep, configs, actions, problem, flows,
                                                on_server, pause)
                        outcomes.append(out)
                        progress.done(out.line(), out.ok)
    return outcomes


@contextlib.contextmanager
def _in_project(folder: Path) -> Iterator[None]:
    """cwd = the project folder; afterwards cwd, sys.path and the project's modules are restored,
    so two projects' flows/helpers.py never meet in sys.modules."""
    cwd, path = os.getcwd(), list(sys.path)
    before = set(sys.modules)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        root = str(folder.resolve())
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules.get(name), "__file__", None) or ""
            if module_file.startswith(root + os.sep):
                del sys.modules[name]


def _load_flow(entrypoint: str, flows: dict[str, Any]) -> Any:
    """The flow object (cached per entrypoint); raises when the file does not import."""
    if entrypoint not in flows:
        from prefect.flows import load_flow_from_entrypoint

        try:
            flows[entrypoint] = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
        except Exception as exc:  # noqa: BLE001 - any error of user code; kept, so the file's other deployments fail the same way
            flows[entrypoint] = exc
    if isinstance(flows[entrypoint], Exception):
        raise flows[entrypoint]
    return flows[entrypoint]


async def _deploy_one(client: Any, dep: Deployment, configs: list[dict], actions: dict,
                      problem: str | None, flows: dict[str, Any],
                      on_server: dict[str, ServerDeployment], pause: bool) -> Outcome:
    from prefect.settings import get_current_settings
    from prefect.utilities.templating import apply_values

    out = Outcome(dep.project, dep.name)
    started = time.perf_counter()
    console = compat.quiet_console()
    try:
        if problem:
            raise UsageError(problem)
        if dep.index >= len(configs) or configs[dep.index].get("name") != dep.name:
            raise UsageError("prefect.yaml changed while deploying; run the command again")
        config = dict(configs[dep.index])
        # names and entrypoints may hold {{ $ENV }} placeholders: resolved as prefect does
        resolved = apply_values({"name": config.get("name"), "entrypoint": config.get("entrypoint")},
                                os.environ, remove_notset=False)
        if not resolved["entrypoint"]:
            raise UsageError("no entrypoint; set 'entrypoint: flows/<FLOW>.py:<FLOW>_flow'")
        flow = _load_flow(resolved["entrypoint"], flows)
        out.flow_name = flow.name
        existing = on_server.get(f"{flow.name}/{resolved['name']}")

        if pause:
            config["paused"], out.why = True, "--pause"
        elif config.get("paused") is not None:
            out.why = "prefect.yaml"
        elif existing is not None:
            config["paused"], out.why = existing.paused, "kept"
        else:
            out.why = "new"
        out.paused = bool(config.get("paused"))

        # as `prefect deploy --all`: the default work pool setting fills a missing one
        pool = config.get("work_pool") or {}
        default_pool = get_current_settings().deployments.default_work_pool_name
        if not pool.get("name") and default_pool:
            config["work_pool"] = {**pool, "name": default_pool}

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await compat.run_single_deploy(config, actions, client, console)
        out.notes = sorted({api.short_error(Exception(str(w.message))) for w in caught})
        out.action = "updated" if existing is not None else "created"
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - one deployment fails alone
        out.action, out.paused = "failed", None
        message = api.short_error(exc) if not isinstance(exc, SystemExit) else ""
        printed = api.short_error(Exception(console.file.getvalue())) if not message else ""
        out.error = _hint(message or printed or "prefect refused the deployment")
    out.seconds = time.perf_counter() - started
    return out


def _hint(error: str) -> str:
    """Prefect's message plus what to run here."""
    if compat.is_missing_work_pool(error):
        error += (" Create it: cli prefect work-pool create NAME --type process (`cli server "
                  "start` creates default-pool on the embedded server).")
    return error


def _summary(outcomes: list[Outcome], target: api.ApiTarget, stream: TextIO,
             err: TextIO) -> None:
    rows = [(o.name, o.project, o.flow_name or "", "FAILED" if not o.ok else o.action,
             o.state, f"{o.seconds:.2f}s") for o in outcomes]
    print(file=stream)
    table(("deployment", "project", "flow", "result", "state", "time"), rows, stream=stream)
    ok = [o for o in outcomes if o.ok]
    print(f"\n{len(ok)} of {len(outcomes)} deployed to {target.shown} "
          f"(dashboard: {api.dashboard_url(target.url)}/deployments)", file=stream)
    kept = [o.name for o in ok if o.why == "kept" and o.paused]
    if kept:
        print(f"note: {len(kept)} deployment(s) were paused on the server and stay paused "
              "(prefect.yaml sets no 'paused'): " + ", ".join(kept)
              + "; resume with: cli prefect deployment resume -d NAME", file=stream)
    notes = sorted({n for o in ok for n in o.notes})
    for note in notes:  # prefect's own warnings, once each, first sentence
        first, _, rest = note.partition(". ")
        print(f"prefect warning: {first}{'. (...)' if rest else ''}", file=stream)
    stream.flush()
    failed = [o for o in outcomes if not o.ok]
    if failed:
        print("errors:", file=err)
        for o in failed:
            print(f"  {o.project}/{o.name}: {o.error}", file=err)
        err.flush()
