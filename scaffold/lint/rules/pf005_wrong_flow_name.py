from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, Rule, SetFlowName
from scaffold.lint.rules._common import flow_file

if TYPE_CHECKING:  # pragma: no cover
    import libcst


class WrongFlowNameRule(Rule):
    """## What it does
    Checks that the main flow's `name=` is the string literal `<PROJECT>__<FLOW>_flow`, made
    from the project folder and the file name.

    ## Why is this bad?
    Flow names are global on a Prefect server: the project prefix keeps two projects' flows
    apart, and the rest of the name leads back to the file. A name copied from another flow
    or project silently merges two flows. A computed name cannot be checked.

    ## Example
    `@flow(name="harvest")` or `@flow(name="orchard__harvest_flow")` in
    `projects/farm/flows/harvest.py`.

    ## Fix
    Write `name="<PROJECT>__<FLOW>_flow"`. The autofix replaces a wrong string literal
    (keeping its quotes); a name from a variable or an f-string is left to you.
    """

    code = "PF005"
    name = "wrong-flow-name"
    summary = "Main @flow name= is not the literal <PROJECT>__<FLOW>_flow"
    fixable = "sometimes"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None or not flow.flow_ok or not flow.project_ok:
            return
        main = flow.main_candidate()
        if main is None or main.name_kind == "missing":
            return
        expected = naming.flow_name(flow.project, flow.flow)
        if main.name_kind == "literal" and main.flow_name != expected:
            yield self.finding(flow.path, main.name_pos,
                               f"flow name {main.flow_name!r} of {main.name!r} must be "
                               f"{expected!r}",
                               fix=SetFlowName(main.name, main.deco_index, expected))
        elif main.name_kind == "constant" and main.flow_name != expected:
            yield self.finding(flow.path, main.name_pos,
                               f"flow name {main.flow_name!r} of {main.name!r} must be "
                               f"{expected!r}; write name=\"{expected}\"")
        elif main.name_kind == "dynamic":
            yield self.finding(flow.path, main.name_pos,
                               f"the flow name of {main.name!r} is computed; write the literal "
                               f"name=\"{expected}\" so it can be checked")

    def fix_python(self, module: libcst.Module, finding: Finding) -> libcst.Module | None:
        from scaffold.lint.codemods import set_flow_name

        fix = finding.fix
        return set_flow_name(module, fix.function, fix.deco_index, fix.value)

    VALID = (
        Example({"farm/flows/harvest.py": flow_file()}),
        Example({"farm/flows/harvest.py": flow_file().replace(
            '@flow(name="farm__harvest_flow")',
            'FLOW_NAME = "farm__harvest_flow"\n\n\n@flow(name=FLOW_NAME)')},
            title="a module-level constant with the right value"),
    )
    INVALID = (
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name='orchard__harvest_flow', log_prints=True)
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}, title="copied from another project", fixed={"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name='farm__harvest_flow', log_prints=True)
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}),
        Example({"farm/flows/harvest.py": '''from prefect import flow, task

PROJECT = "farm"


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name=f"{PROJECT}__harvest_flow")
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}, title="a computed name (not fixed automatically)"),
    )
