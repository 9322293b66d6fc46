"""new-project, new-flow, new-deployment: plan, check, then write atomically.

Every check runs before anything is written; the project folder is locked for the whole
transaction; if the prefect.yaml step fails, the flow file just written is removed.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import fs, naming, schedules, yamledit
from scaffold.errors import UsageError
from scaffold.generate import params as P
from scaffold.generate.render import render, templates_dir
from scaffold.repo import Repo, compose, parse_config, read_text

DEFAULT_WORK_POOL = "default-pool"
DEFAULT_TIMEZONE = "UTC"
INSTRUCTIONS = "Instructions for new deployments"


@dataclass
class DeployOptions:
    """Options shared by new-flow and new-deployment; None means "use the project default"."""

    schedule: str | None = None
    timezone: str | None = None
    work_pool: str | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    paused: bool = False


@dataclass
class Result:
    """What a command wrote (or would write, with dry_run)."""

    created: list[Path] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    config: Path | None = None
    config_diff: str = ""
    previews: dict[Path, str] = field(default_factory=dict)


def prefect_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefect")  # reads metadata only: importing prefect takes seconds
    except PackageNotFoundError:
        return "3.9.1"


# -- validation -------------------------------------------------------------------------------


def check_work_pool(name: str) -> str:
    if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise UsageError(f"--work-pool {name!r}: use letters, digits, '-', '_' and '.'")
    return name


def check_text(value: str, option: str) -> str:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise UsageError(f"{option}: the value is not valid text (undecodable bytes)")
    return value


# -- project defaults -------------------------------------------------------------------------


def instructions_template(text: str) -> dict[str, Any]:
    """The commented deployment template under "Instructions for new deployments", parsed."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if INSTRUCTIONS in line and line.lstrip().startswith("#")),
                 None)
    if start is None:
        return {}
    block: list[str] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        body = stripped[1:].removeprefix(" ")
        if body.startswith("- name:") or (block and body.startswith(("  ", "#"))):
            block.append(body)
        elif block:
            break
    if not block:
        return {}
    try:
        _, data = compose("\n".join(block))
    except UsageError:
        return {}
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    tz = re.search(r"timezone:\s*['\"]?([A-Za-z0-9_/+-]+)", "\n".join(block))
    if tz:
        entry.setdefault("_timezone", tz.group(1))
    return entry


def project_defaults(project: str, text: str, deployments: list[dict]) -> dict[str, Any]:
    """Work pool, timezone and tags for new deployments: from the project's existing
    deployments, else its Instructions template, else built-in defaults."""
    template = instructions_template(text)
    pool = tz = None
    tag_sets: list[list[str]] = []
    for dep in deployments:
        wp = dep.get("work_pool")
        if isinstance(wp, dict) and isinstance(wp.get("name"), str) and "{{" not in wp["name"]:
            pool = wp["name"]
        for sched in dep.get("schedules") or []:
            if isinstance(sched, dict) and isinstance(sched.get("timezone"), str):
                tz = sched["timezone"]
        tags = dep.get("tags")
        if isinstance(tags, list):
            tag_sets.append([t for t in tags if isinstance(t, str)])
    if pool is None:
        wp = template.get("work_pool")
        if isinstance(wp, dict) and isinstance(wp.get("name"), str) and "<" not in wp["name"]:
            pool = wp["name"]
    if tz is None:
        tz = template.get("_timezone")
    if tag_sets:
        tags = [t for t in tag_sets[0] if all(t in s for s in tag_sets[1:])]
    else:
        tmpl_tags = template.get("tags")
        tags = [t for t in tmpl_tags if isinstance(t, str)] if isinstance(tmpl_tags, list) else [project]
    return {"work_pool": pool or DEFAULT_WORK_POOL, "timezone": tz or DEFAULT_TIMEZONE, "tags": tags}


def build_entries(project: str, flow: str, variants: list[P.Variant], opts: DeployOptions,
                  defaults: dict[str, Any]) -> list[dict[str, Any]]:
    entries = []
    tags = list(opts.tags) if opts.tags else list(defaults["tags"])
    for v in variants:
        entry: dict[str, Any] = {"name": naming.deployment_name(project, flow, v.suffix)}
        if opts.description:
            entry["description"] = opts.description
        entry["entrypoint"] = naming.entrypoint(flow)
        entry["parameters"] = dict(v.parameters)
        entry["work_pool"] = {"name": opts.work_pool or defaults["work_pool"]}
        if opts.schedule:
            entry["schedules"] = [{"cron": opts.schedule,
                                   "timezone": opts.timezone or defaults["timezone"]}]
        # No schedule: no `schedules` key. Prefect 3.9 reads `schedules: []` on a redeploy as
        # "keep the server's schedules" and warns about it; an absent key means the same, quietly.
        entry["tags"] = tags
        if opts.paused:
            entry["paused"] = True
        entries.append(entry)
    return entries


# -- flow signature ---------------------------------------------------------------------------


def flow_signature(path: Path, function: str) -> tuple[list[str], bool]:
    """(parameter names, takes **kwargs) of the main flow function, read with ast (no import)."""
    source = read_text(path)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as err:
        raise UsageError(f"syntax error: {err.msg}; fix the flow file first", path=path,
                         line=err.lineno) from None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            a = node.args
            names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
            return names, a.kwarg is not None
    raise UsageError(f"no function {function}() in the flow file; run `cli lint --fix` or add it",
                     path=path)


# -- helpers ----------------------------------------------------------------------------------


def _existing_names(repo: Repo, wanted: list[str]) -> dict[str, str]:
    """Deployment name -> project, for the ``wanted`` names that some prefect.yaml defines.

    A file is parsed only when its text contains one of the names: on a repository of hundreds
    of projects this keeps `cli new-flow` at one or two YAML parses instead of hundreds.
    """
    names: dict[str, str] = {}
    for project in repo.projects():
        path = repo.config_path(project)
        try:
            text = read_text(path)
        except UsageError:
            if path.exists():
                raise
            continue
        if not any(name in text for name in wanted):
            continue
        for dep in parse_config(text, project, path).deployments:
            if isinstance(dep.name, str):
                names.setdefault(dep.name, project)
    return names


def _diff(old: str, new: str, path: Path, root: Path) -> str:
    import difflib  # only --dry-run shows a diff

    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{rel}", f"b/{rel}"))


# Names the flow template binds (imports, locals, functions): a parameter of the same name
# would shadow them and the generated flow would not run.
TEMPLATE_NAMES = ("flow", "task", "get_run_logger", "logger", "result")


def _check_reserved(flow: str, params: list[P.Param]) -> None:
    reserved = {*TEMPLATE_NAMES, naming.flow_function(flow), f"{flow}_task"}
    for p in params:
        if p.key in reserved:
            raise UsageError(f"--param {p.raw!r}: {p.key!r} is a name the generated flow code "
                             "uses; pick another parameter name")


def _flow_data(project: str, flow: str, params: list[P.Param], description: str | None) -> dict:
    by_key: dict[str, list[Any]] = {}
    for p in params:
        by_key.setdefault(p.key, []).append(p.value)
    text = description or f"{flow.replace('_', ' ').capitalize()}: a flow of the {project} project."
    return {
        "project": project,
        "flow": flow,
        "flow_name": naming.flow_name(project, flow),
        "function": naming.flow_function(flow),
        "task": f"{flow}_task",
        "doc": P.doc_literal(text),
        "params": [{"name": k, "annotation": P.annotation(vs, k), "default": P.py_literal(vs[0])}
                   for k, vs in by_key.items()],
    }


def _check_entries_unique(repo: Repo, project: str, entries: list[dict]) -> None:
    existing = _existing_names(repo, [entry["name"] for entry in entries])
    for entry in entries:
        owner = existing.get(entry["name"])
        if owner is not None:
            where = "this project" if owner == project else f"project {owner!r}"
            raise UsageError(f"deployment {entry['name']!r} already exists in {where} "
                             f"(projects/{owner}/prefect.yaml); deployment names are unique "
                             "across all projects: use another --param value or --suffix")


# -- commands ---------------------------------------------------------------------------------


def new_project(repo: Repo, project: str, work_pool: str | None = None,
                timezone: str | None = None) -> Result:
    naming.validate_project(project)
    pool = check_work_pool(work_pool) if work_pool else DEFAULT_WORK_POOL
    tz = schedules.validate_timezone(timezone) if timezone else DEFAULT_TIMEZONE
    if not repo.projects_dir.is_dir():
        raise UsageError(f"no projects folder at {repo.projects_dir}; create it or pass --root")
    dest = repo.project_dir(project)
    if dest.exists():
        raise UsageError(f"project {project!r} already exists at {dest}; pick another name")
    files = render(templates_dir(repo.root) / "project",
                   {"project": project, "work_pool": pool, "timezone": tz,
                    "prefect_version": prefect_version()})
    # Build next to the destination, then one rename: the project appears whole or not at all.
    staging = Path(tempfile.mkdtemp(prefix=f".{project}.", dir=repo.projects_dir))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / naming.FLOWS_DIR).mkdir(exist_ok=True)
        os.chmod(staging, fs.new_dir_mode())  # mkdtemp's 0700 would hide the project from workers
        try:
            os.rename(staging, dest)  # fails if dest appeared meanwhile (non-empty dir)
        except OSError:
            raise UsageError(f"project {project!r} already exists at {dest}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Result(created=[dest / rel for rel in files])


def _require_config(repo: Repo, project: str) -> Path:
    path = repo.config_path(project)
    if not path.is_file():
        raise UsageError(f"project {project!r} has no prefect.yaml ({path}); restore it, or move "
                         f"the folder away and run: cli new-project {project}")
    return path


def _plan_deployments(repo: Repo, project: str, flow: str, params: list[P.Param],
                      suffix: str | None, opts: DeployOptions, text: str) -> list[dict]:
    variants = P.variants(params, suffix)
    config = parse_config(text, project, repo.config_path(project))
    defaults = project_defaults(project, text, [d.data for d in config.deployments])
    entries = build_entries(project, flow, variants, opts, defaults)
    _check_entries_unique(repo, project, entries)
    return entries


def _normalize_opts(opts: DeployOptions) -> DeployOptions:
    if opts.timezone is not None and opts.schedule is None:
        raise UsageError("--timezone applies to a schedule: add --schedule CRON")
    for tag in opts.tags:
        if not tag.strip():
            raise UsageError("--tag '': a tag cannot be empty")
    return DeployOptions(
        schedule=schedules.validate_cron(opts.schedule) if opts.schedule is not None else None,
        timezone=schedules.validate_timezone(opts.timezone) if opts.timezone is not None else None,
        work_pool=check_work_pool(opts.work_pool) if opts.work_pool is not None else None,
        tags=tuple(check_text(t, "--tag") for t in opts.tags),
        description=check_text(opts.description, "--description") if opts.description else None,
        paused=opts.paused,
    )


def new_flow(repo: Repo, project: str, flow: str, raw_params: list[str] = (),
             suffix: str | None = None, opts: DeployOptions | None = None,
             deployment: bool = True, dry_run: bool = False) -> Result:
    folder = repo.require_project(project)
    naming.validate_flow(flow)
    opts = _normalize_opts(opts or DeployOptions())
    params = [P.parse_param(check_text(raw, "--param")) for raw in raw_params]
    if suffix:
        naming.validate_suffix(suffix)
    config_path = _require_config(repo, project) if deployment else repo.config_path(project)
    flow_path = repo.flow_file(project, flow)
    if flow_path.exists():
        raise UsageError(f"flow {flow!r} already exists ({flow_path}); to add a deployment of it "
                         f"run: cli new-deployment {project} {flow} --param KEY=VALUE")
    _check_reserved(flow, params)
    data = _flow_data(project, flow, params, opts.description)
    rendered = render(templates_dir(repo.root) / "flow", data)
    source = rendered[naming.flow_file(flow)]
    result = Result(config=config_path)

    with fs.locked(folder):
        old = read_text(config_path) if config_path.exists() else ""
        new = old
        if deployment:
            entries = _plan_deployments(repo, project, flow, params, suffix, opts, old)
            new = yamledit.insert_deployments(old, entries, path=config_path)
            result.deployments = [e["name"] for e in entries]
        if dry_run:
            result.config_diff = _diff(old, new, config_path, repo.root)
            result.previews[flow_path] = source.decode("utf-8")
            return result
        if new != old:
            fs.require_writable(config_path)  # a read-only prefect.yaml: refused before any change
        flow_path.parent.mkdir(exist_ok=True)
        fs.create_exclusive(flow_path, source, "file already exists; choose another flow name")
        result.created.append(flow_path)
        if new != old:
            try:
                fs.write_atomic(config_path, new, done=f"{flow_path.name} was not kept")
            except BaseException:
                flow_path.unlink(missing_ok=True)  # transactional: no flow without its entries
                raise
    return result


def new_deployment(repo: Repo, project: str, flow: str, raw_params: list[str] = (),
                   suffix: str | None = None, opts: DeployOptions | None = None,
                   dry_run: bool = False) -> Result:
    folder = repo.require_project(project)
    naming.validate_flow(flow)
    opts = _normalize_opts(opts or DeployOptions())
    params = [P.parse_param(check_text(raw, "--param")) for raw in raw_params]
    if not params and not suffix:
        raise UsageError("new-deployment needs --param KEY=VALUE (or --suffix NAME): the flow's "
                         "first deployment is made by new-flow")
    if suffix:
        naming.validate_suffix(suffix)
    config_path = _require_config(repo, project)
    flow_path = repo.flow_file(project, flow)
    if not flow_path.is_file():
        known = repo.flows(project)
        from scaffold.repo import did_you_mean

        raise UsageError(f"no flow {flow!r} in project {project!r} ({flow_path} is missing)"
                         f"{did_you_mean(flow, known)}; create it with: cli new-flow {project} {flow}")
    names, takes_kwargs = flow_signature(flow_path, naming.flow_function(flow))
    if not takes_kwargs:
        for p in params:
            if p.key not in names:
                accepted = ", ".join(names) or "no parameters"
                raise UsageError(f"--param {p.raw!r}: {naming.flow_function(flow)}() has no "
                                 f"parameter {p.key!r} (it takes: {accepted})", path=flow_path)
    result = Result(config=config_path)
    with fs.locked(folder):
        old = read_text(config_path) if config_path.exists() else ""
        entries = _plan_deployments(repo, project, flow, params, suffix, opts, old)
        new = yamledit.insert_deployments(old, entries, path=config_path)
        result.deployments = [e["name"] for e in entries]
        if dry_run:
            result.config_diff = _diff(old, new, config_path, repo.root)
        else:
            fs.write_atomic(config_path, new)
    return result
