from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, RenameFunction, Rule
from scaffold.lint.rules._common import flow_file

if TYPE_CHECKING:  # pragma: no cover
    import libcst


class MainFlowFunctionNameRule(Rule):
    """## What it does
    Checks that the main flow function of `flows/<FLOW>.py` is named `<FLOW>_flow`.

    The main flow is the only module-level `@flow` function; with several, the one whose
    `name=` is `<PROJECT>__<FLOW>_flow`, else the one run under `if __name__ == "__main__":`,
    else the one no other code in the file calls.

    ## Why is this bad?
    The entrypoint of every deployment of the flow is `flows/<FLOW>.py:<FLOW>_flow`; the file,
    the function, the flow and the deployments can be found from one another only when the
    names match.

    ## Example
    `def harvest():` decorated with `@flow` in `flows/harvest.py`.

    ## Fix
    Rename the function to `<FLOW>_flow`. The autofix renames it and its uses in the file
    (calls, `__main__` block), found by scope analysis; uses in other files are not changed.
    It is skipped when `<FLOW>_flow` is already taken in the module. Entrypoints that named
    the old function are rewritten by PD004 in the same `--fix` run.
    """

    code = "PF003"
    name = "main-flow-function-name"
    summary = "Main flow function is not named <FLOW>_flow"
    fixable = "sometimes"
    fix_order = 10  # after the name= fixes, which find the function by its current name

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None or not flow.flow_ok or flow.main_flow() is not None:
            return
        main = flow.main_candidate()
        wanted = naming.flow_function(flow.flow)
        if main is not None and main.name != wanted:
            yield self.finding(flow.path, main.pos,
                               f"main flow function {main.name!r} must be named {wanted!r}",
                               fix=RenameFunction(main.name, wanted))

    def fix_python(self, module: libcst.Module, finding: Finding) -> libcst.Module | None:
        from scaffold.lint.codemods import rename_function

        return rename_function(module, finding.fix.old, finding.fix.new)

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name="farm__harvest_flow")
def harvest(season: str = "winter") -> None:
    pick_task(season)


def main() -> None:
    harvest = "a local name, not the flow"
    print(harvest)


if __name__ == "__main__":
    harvest()
'''}, fixed={"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name="farm__harvest_flow")
def harvest_flow(season: str = "winter") -> None:
    pick_task(season)


def main() -> None:
    harvest = "a local name, not the flow"
    print(harvest)


if __name__ == "__main__":
    harvest_flow()
'''}),
    )
