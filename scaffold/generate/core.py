"""new-project, new-flow, new-deployment: check everything, then write all or nothing.

The jobs live in their own modules: option checks (`options`), the ``--param`` values
(`params`), the project's declared defaults (`defaults`), the entries (`entries`), the existing
flow's signature (`existing`, through `scaffold.flowfile`) and the writes (`transaction`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import naming, schedules, yamledit
from scaffold.errors import UsageError
from scaffold.generate import entries as E
from scaffold.generate import existing
from scaffold.generate import params as P
from scaffold.generate import transaction as T
from scaffold.generate.defaults import INSTRUCTIONS, project_defaults
from scaffold.generate.options import (
    DeployOptions,
    InstalledModules,
    check_text,
    check_work_pool,
    normalize,
)
from scaffold.generate.render import render, templates_dir
from scaffold.repo import Repo, config_of

# Names the flow template binds (imports, locals, functions): a parameter of the same name
# would shadow them and the generated flow would not run.
TEMPLATE_NAMES = ("flow", "task", "get_run_logger", "logger", "result")


@dataclass
class Result:
    """What a command wrote (or would write, with dry_run)."""

    created: list[Path] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    config: Path | None = None
    config_diff: str = ""
    previews: dict[Path, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def prefect_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefect")  # reads metadata only: importing prefect takes seconds
    except PackageNotFoundError:
        return "3.9.1"


def _check_reserved(flow: str, params: list[P.Param]) -> None:
    reserved = {*TEMPLATE_NAMES, naming.flow_function(flow), naming.task_function(flow)}
    for p in params:
        if p.key in P.PREFECT_RESERVED:
            raise UsageError(f"--param {P.show(p.raw)}: {p.key!r} is an argument name Prefect reserves "
                             "(ReservedArgumentError); pick another parameter name")
        if p.key in reserved:
            raise UsageError(f"--param {P.show(p.raw)}: {p.key!r} is a name the generated flow code "
                             "uses; pick another parameter name")


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _parse_params(raw_params: list[str]) -> list[P.Param]:
    params = [P.parse_param(check_text(raw, "--param")) for raw in raw_params]
    for p in params:  # JSON escapes (\u202e) reach the value without being in the raw text
        for text in _strings(p.value):
            check_text(text, f"--param {P.show(p.raw)}")
    return params


def _flow_data(project: str, flow: str, params: list[P.Param], description: str | None) -> dict:
    by_key: dict[str, list[Any]] = {}
    for p in params:
        by_key.setdefault(p.key, []).append(p.value)
    text = description or f"{flow.replace('_', ' ').capitalize()}: a flow of the {project} project."
    rows = []
    for key, values in by_key.items():
        annotation, default, fill = P.signature_default(values, key)
        rows.append({"name": key, "annotation": annotation, "default": default, "fill": fill})
    return {
        "project": project,
        "flow": flow,
        "flow_name": naming.flow_name(project, flow),
        "function": naming.flow_function(flow),
        "task": naming.task_function(flow),
        "doc": P.doc_literal(text),
        "params": rows,
    }


def _require_config(repo: Repo, project: str) -> Path:
    path = repo.config_path(project)
    if not path.is_file():
        raise UsageError(f"project {project!r} has no prefect.yaml ({path}); restore it, or move "
                         f"the folder away and run: cli new-project {project}")
    return path


def _plan(repo: Repo, project: str, flow: str, params: list[P.Param], suffix: str | None,
          opts: DeployOptions, text: str, config_path: Path, result: Result) -> str:
    """Fill in ``result.deployments`` and return the new prefect.yaml text. The file is parsed
    once (the model the editor inserts with); the insert's own check parses the result."""
    doc = yamledit.load(text, config_path)
    variants = P.variants(params, suffix)
    defaults = project_defaults(project, text)
    if not defaults.declared and opts.work_pool is None:
        result.warnings.append(
            f"projects/{project}/{naming.CONFIG_FILE} declares no defaults for new deployments "
            f"(no '{INSTRUCTIONS}' block): used the work pool {defaults.work_pool!r}; "
            "pass --work-pool, or add the block as `cli new-project` writes it")
    entries = E.build(project, flow, variants, opts, defaults)
    E.check_unique(repo, project, entries, config_of(doc, project))
    result.deployments = [e["name"] for e in entries]
    return yamledit.insert_deployments(text, entries, path=config_path, doc=doc)


def new_project(repo: Repo, project: str, work_pool: str | None = None,
                timezone: str | None = None) -> Result:
    naming.validate_project(project)
    pool = check_work_pool(work_pool) if work_pool else naming.DEFAULT_WORK_POOL
    tz = schedules.validate_timezone(timezone) if timezone else naming.DEFAULT_TIMEZONE
    if not repo.projects_dir.is_dir():
        raise UsageError(f"no projects folder at {repo.projects_dir}; create it or pass --root")
    dest = repo.project_dir(project)
    if dest.exists() or dest.is_symlink():
        raise UsageError(f"project {project!r} already exists at {dest}; pick another name")
    files = render(templates_dir(repo.root) / "project",
                   {"project": project, "work_pool": pool, "timezone": tz,
                    "prefect_version": prefect_version()})
    dest = T.create_project(repo, project, files)
    return Result(created=[dest / rel for rel in files])


def new_flow(repo: Repo, project: str, flow: str, raw_params: list[str] = (),
             suffix: str | None = None, opts: DeployOptions | None = None,
             deployment: bool = True, dry_run: bool = False) -> Result:
    folder = repo.require_project(project)  # symlinks out of the repository refused
    naming.validate_flow(flow)  # the cheap rules first; then the installed packages
    naming.validate_flow(flow, InstalledModules())
    opts = normalize(opts or DeployOptions())
    params = _parse_params(raw_params)
    if suffix:
        naming.validate_suffix(suffix)
    config_path = _require_config(repo, project) if deployment else repo.config_path(project)
    flow_path = repo.flow_file(project, flow)
    if flow_path.exists() or flow_path.is_symlink():
        raise UsageError(f"flow {flow!r} already exists ({flow_path}); to add a deployment of it "
                         f"run: cli new-deployment {project} {flow} --param KEY=VALUE")
    T.check_flows_dir(flow_path.parent, f"projects/{project}/{naming.FLOWS_DIR}")
    _check_reserved(flow, params)
    data = _flow_data(project, flow, params, opts.description)
    source = render(templates_dir(repo.root) / "flow", data)[naming.flow_file(flow)]
    result = Result(config=config_path, warnings=[w for p in params if (w := P.secret_warning(p))])

    with T.locked(folder):
        old = new = T.read_config(config_path)
        if deployment:
            new = _plan(repo, project, flow, params, suffix, opts, old, config_path, result)
        if dry_run:
            result.config_diff = T.diff(old, new, config_path, repo.root)
            result.previews[flow_path] = source.decode("utf-8")
            return result
        T.add_flow(flow_path, source, config_path, old, new)
        result.created.append(flow_path)
    return result


def new_deployment(repo: Repo, project: str, flow: str, raw_params: list[str] = (),
                   suffix: str | None = None, opts: DeployOptions | None = None,
                   dry_run: bool = False) -> Result:
    folder = repo.require_project(project)  # symlinks out of the repository refused
    naming.validate_flow(flow)
    opts = normalize(opts or DeployOptions())
    params = _parse_params(raw_params)
    if not params and not suffix:
        raise UsageError("new-deployment needs --param KEY=VALUE (or --suffix NAME): the flow's "
                         "first deployment is made by new-flow")
    if suffix:
        naming.validate_suffix(suffix)
    config_path = _require_config(repo, project)
    flow_path = repo.flow_file(project, flow)
    if not flow_path.is_file():
        from scaffold.repo import did_you_mean

        raise UsageError(f"no flow {flow!r} in project {project!r} ({flow_path} is missing)"
                         f"{did_you_mean(flow, repo.flows(project))}; create it with: "
                         f"cli new-flow {project} {flow}")
    signature = existing.read_signature(flow_path, flow)
    params = existing.check_params(params, signature, flow, flow_path)
    result = Result(config=config_path, warnings=[w for p in params if (w := P.secret_warning(p))])
    with T.locked(folder):
        old = T.read_config(config_path)
        new = _plan(repo, project, flow, params, suffix, opts, old, config_path, result)
        if dry_run:
            result.config_diff = T.diff(old, new, config_path, repo.root)
        else:
            T.write_config(config_path, new)
    return result
