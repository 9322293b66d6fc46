"""Shared by the meaning-level deployment rules (PD008-PD014): not a rule (starts with '_')."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaffold import naming
from scaffold.annotations import is_template
from scaffold.lint.model import ConfigSummary, DeploymentSummary, FlowFunc, Index, ScheduleItem
from scaffold.lint.rules._common import config_file, entry_flow, flow_file


def schedule_items(config: ConfigSummary) -> Iterator[tuple[DeploymentSummary, ScheduleItem]]:
    """Every schedule item of every deployment of a readable prefect.yaml, with its mapping."""
    if config.error is not None:
        return
    for dep in config.deployments:
        for item in dep.schedules:
            yield dep, item


def schedule_values(config: ConfigSummary,
                    key: str) -> Iterator[tuple[DeploymentSummary, ScheduleItem, Any]]:
    """``(deployment, item, value)`` for each schedule item that sets ``key``, except to a
    Prefect template (``{{ … }}`` is resolved at deploy time: nothing to check here)."""
    for dep, item in schedule_items(config):
        if isinstance(item.value, dict) and key in item.value:
            value = item.value[key]
            if not is_template(value):
                yield dep, item, value


def label(dep: DeploymentSummary) -> str:
    """How a message names a deployment: its name, else its position in the list."""
    return repr(dep.name) if isinstance(dep.name, str) else f"#{dep.index + 1}"


def entry_function(index: Index, project: str, dep: DeploymentSummary) -> FlowFunc | None:
    """The flow function a deployment's entrypoint names, when its file is known and has
    exactly one top-level function of that name decorated with @flow."""
    flow = entry_flow(dep.entrypoint)
    parsed = naming.parse_entrypoint(dep.entrypoint) if flow else None
    summary = index.flow(project, flow) if flow else None
    if summary is None or parsed is None:
        return None
    funcs = [f for f in summary.flows if f.top_level and f.name == parsed[1]]
    return funcs[0] if len(funcs) == 1 else None


def config_with(entry_lines: str, project: str = "farm", flow: str = "harvest",
                before: str = "") -> str:
    """The example prefect.yaml (``_common.config_file``) with ``entry_lines`` added to its
    deployment (indented as its keys, 4 spaces) and ``before`` added above ``deployments:``."""
    text = config_file(project, (flow,))
    if before:
        text = text.replace("deployments:\n", before + "deployments:\n", 1)
    return text.replace("    work_pool:\n", entry_lines + "    work_pool:\n", 1)


# the flow file of the examples, for those that are about the prefect.yaml only
FLOW = {"farm/flows/harvest.py": flow_file()}
