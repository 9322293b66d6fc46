from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, Rule, SetFlowName
from scaffold.lint.rules._common import flow_file

if TYPE_CHECKING:  # pragma: no cover
    import libcst


class MissingFlowNameRule(Rule):
    """## What it does
    Checks that the `@flow` decorator of the main flow passes `name=`.

    ## Why is this bad?
    Without `name=`, Prefect names the flow after the function: `harvest_flow` becomes
    `harvest-flow`. Flow names are global on a Prefect server, so `harvest.py` in two projects
    would be one flow: their runs and deployments get mixed up. The project prefix in
    `<PROJECT>__<FLOW>_flow` keeps them apart.

    ## Example
    `@flow` or `@flow(log_prints=True)` on `def harvest_flow` in `projects/farm/`.

    ## Fix
    Add `name="<PROJECT>__<FLOW>_flow"`. The autofix writes it as the first argument, in the
    layout of the arguments already there.
    """

    code = "PF004"
    name = "missing-flow-name"
    summary = "Main @flow has no name="
    fixable = "always"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None or not flow.flow_ok or not flow.project_ok:
            return
        main = flow.main_candidate()
        if main is not None and main.name_kind == "missing":
            expected = naming.flow_name(flow.project, flow.flow)
            yield self.finding(
                flow.path, main.deco_pos,
                f"@flow of {main.name!r} has no name=; add name=\"{expected}\" (the default "
                f"name {main.effective_name!r} is the same in every project)",
                fix=SetFlowName(main.name, main.deco_index, expected))

    def fix_python(self, module: libcst.Module, finding: Finding) -> libcst.Module | None:
        from scaffold.lint.codemods import set_flow_name

        fix = finding.fix
        return set_flow_name(module, fix.function, fix.deco_index, fix.value)

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}, title="a bare decorator", fixed={"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name="farm__harvest_flow")
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}),
        Example({"farm/flows/harvest.py": '''import prefect
from prefect import task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@prefect.flow(
    log_prints=True,
    retries=2,
)
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}, title="other arguments, one a line", fixed={"farm/flows/harvest.py": '''import prefect
from prefect import task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@prefect.flow(
    name="farm__harvest_flow",
    log_prints=True,
    retries=2,
)
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}),
    )
