"""Shared by the rule modules: example files and small helpers (not a rule: starts with '_')."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaffold import naming
from scaffold.flowfile import is_valid_flow


def flow_file(project: str = "farm", flow: str = "harvest") -> str:
    """A flow file that follows every convention (as ``cli new-flow`` writes it)."""
    return f'''"""{flow}: an example flow."""
from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {{season}}"


@flow(name="{naming.flow_name(project, flow)}")
def {naming.flow_function(flow)}(season: str = "winter") -> None:
    pick_task(season)


if __name__ == "__main__":
    {naming.flow_function(flow)}()
'''


def config_file(project: str = "farm", flows: tuple[str, ...] = ("harvest",)) -> str:
    """A prefect.yaml with one deployment of each flow, following every convention."""
    entries = "".join(
        f"  - name: {naming.deployment_name(project, flow)}\n"
        f"    entrypoint: {naming.entrypoint(flow)}\n"
        f"    parameters:\n"
        f"      season: winter\n"
        f"    work_pool:\n"
        f"      name: default\n"
        for flow in flows
    )
    return f"name: {project}\ndeployments:\n{entries}"


def entry_flow(entrypoint: object) -> str | None:
    """The valid flow name an entrypoint points at by its file, else None."""
    flow = naming.flow_of_entrypoint(entrypoint) if isinstance(entrypoint, str) else None
    return flow if is_valid_flow(flow) else None


def where(path: str, line: int) -> str:
    return f"{path}:{line}"


def others(places: list[str]) -> str:
    """``a`` / ``a and b`` / ``a, b and 2 more``: the other places a name is used."""
    if len(places) <= 2:
        return " and ".join(places)
    return f"{places[0]}, {places[1]} and {len(places) - 2} more"


def duplicates(places: dict[str, list[tuple[str, Any]]]) -> Iterator[tuple[str, str, Any, str]]:
    """For every name used in 2+ places: (name, path, pos, "the other places") per place.

    The cross-file uniqueness rules (deployment names, @flow names) share this grouping.
    """
    for name, found in places.items():
        if len(found) < 2:
            continue
        for i, (path, pos) in enumerate(found):
            rest = [where(p, q.line) for j, (p, q) in enumerate(found) if j != i]
            yield name, path, pos, others(rest)


def show(value: object) -> str:
    """A YAML value in a message: strings quoted, null as null, a list as 'a list'."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
