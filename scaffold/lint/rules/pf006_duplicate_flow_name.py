from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import Example, Finding, Index, Pos, Rule
from scaffold.lint.rules._common import duplicates, flow_file


class DuplicateFlowNameRule(Rule):
    """## What it does
    Checks that every `@flow` name in the repository is used once, across all projects,
    subflows included. A flow without `name=` counts with Prefect's default name (the
    function name with `-` for `_`).

    ## Why is this bad?
    A Prefect server keys flows by name: two functions with one name are one flow on the
    server, so their runs, deployments and dashboards are mixed, and deploying one project
    changes what another project's deployments run.

    ## Example
    `@flow(name="farm__clean_flow")` in `projects/farm/flows/harvest.py` and in
    `projects/farm/flows/sow.py`.

    ## Fix
    Give one of them another name. Main flows follow `<PROJECT>__<FLOW>_flow` (PF005);
    for a subflow, start its name with the project and flow it belongs to.
    """

    code = "PF006"
    name = "duplicate-flow-name"
    summary = "@flow name is used more than once across all projects"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        seen: dict[str, list[tuple[str, Pos]]] = {}
        for path, flow in index.flows.items():
            for func in flow.flows:
                name = func.effective_name
                if name is not None:
                    seen.setdefault(name, []).append((path, func.name_pos or func.deco_pos))
        for name, path, pos, elsewhere in duplicates(seen):
            yield self.finding(path, pos, f"flow name {name!r} is also used at {elsewhere}; flow "
                                          "names must be unique across all projects")

    VALID = (Example({"farm/flows/harvest.py": flow_file("farm", "harvest"),
                      "orchard/flows/harvest.py": flow_file("orchard", "harvest")},
                     title="the same flow in two projects, told apart by the prefix"),)
    INVALID = (
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def wash_task(crop: str) -> str:
    return crop


@flow(name="farm__clean_flow")
def clean(crop: str) -> str:
    return wash_task(crop)


@flow(name="farm__harvest_flow")
def harvest_flow(season: str = "winter") -> None:
    clean(season)
''', "farm/flows/sow.py": '''from prefect import flow, task


@task
def wash_task(seed: str) -> str:
    return seed


@flow(name="farm__clean_flow")
def clean(seed: str) -> str:
    return wash_task(seed)


@flow(name="farm__sow_flow")
def sow_flow(seed: str = "wheat") -> None:
    clean(seed)
'''}, title="a subflow copied into another file"),
    )
