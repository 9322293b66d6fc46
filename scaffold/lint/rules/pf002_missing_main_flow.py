from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, Rule
from scaffold.lint.rules._common import flow_file


class MissingMainFlowRule(Rule):
    """## What it does
    Checks that a flow file `flows/<FLOW>.py` defines its main flow: one module-level function
    `<FLOW>_flow` decorated with `@flow` (`@flow(...)`, `@prefect.flow(...)` or an imported
    alias of `prefect.flow`). Other `@flow` functions in the file are subflows.

    ## Why is this bad?
    The deployment entrypoint `flows/<FLOW>.py:<FLOW>_flow` names this function; without it,
    or without the decorator, the deployment cannot load or run the flow.

    ## Example
    `flows/harvest.py` with a plain `def harvest_flow():` (no `@flow`), or with no flow at all.

    ## Fix
    Decorate `<FLOW>_flow` with `@flow(name="<PROJECT>__<FLOW>_flow")`. When the main flow
    exists under another name, PF003 reports (and fixes) the name instead. When `<FLOW>_flow`
    is a `@task`, rename the task first, then name the main flow `<FLOW>_flow`.
    """

    code = "PF002"
    name = "missing-main-flow"
    summary = "Flow file has no main flow function <FLOW>_flow decorated with @flow"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None or not flow.flow_ok:
            return
        wanted = naming.flow_function(flow.flow)
        mains = [f for f in flow.flows if f.top_level and f.name == wanted]
        if len(mains) > 1:
            for extra in mains[1:]:
                yield self.finding(flow.path, extra.pos,
                                   f"main flow {wanted!r} is defined {len(mains)} times; keep one")
        elif not mains:
            line = flow.functions.get(wanted)
            if line is not None and wanted in flow.task_functions:
                yield self.finding(flow.path, (line, 1), self._task_message(flow, wanted))
            elif line is not None:
                yield self.finding(flow.path, (line, 1),
                                   f"{wanted!r} is not decorated with @flow; add "
                                   f'@flow(name="{naming.flow_name(flow.project, flow.flow)}")'
                                   if flow.project_ok else
                                   f"{wanted!r} is not decorated with @flow; add @flow(name=...)")
            elif flow.main_candidate() is None:
                yield self.finding(flow.path, None,
                                   f"no main flow in {naming.flow_file(flow.flow)}: define "
                                   f"an @flow function named {wanted!r}")

    @staticmethod
    def _task_message(flow: FlowSummary, wanted: str) -> str:
        """``<FLOW>_flow`` is a task: adding @flow to it would be wrong advice."""
        task = naming.task_function(flow.flow)
        rename = f"rename the task (e.g. to {task!r})" if task not in flow.functions \
            else "rename the task"
        tops = [f.name for f in flow.flows if f.top_level]
        if len(tops) == 1:
            then = f"then rename the flow function {tops[0]!r} to {wanted!r}"
        elif tops:
            then = f"then rename the main one of the @flow functions {', '.join(tops)} to {wanted!r}"
        else:
            then = f"then define the main flow as an @flow function {wanted!r}"
        return (f"{wanted!r} is a @task, but the main flow must be the @flow function "
                f"{wanted!r}: {rename}, {then}")

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/flows/harvest.py": '''from prefect import task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


def harvest_flow(season: str = "winter") -> None:
    pick_task(season)
'''}, title="the function is not a flow"),
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def pick_task(season: str) -> str:
    return f"picked {season}"


@flow(name="farm__pick_flow")
def pick(season: str) -> None:
    pick_task(season)


@flow(name="farm__store_flow")
def store(season: str) -> None:
    pick_task(season)
'''}, title="two flows, neither is the main one"),
        Example({"farm/flows/harvest.py": '''from prefect import flow, task


@task
def harvest_flow(season: str) -> str:
    return f"picked {season}"


@flow(name="farm__harvest_flow")
def main(season: str = "winter") -> None:
    harvest_flow(season)
'''}, title="a task has the main flow's name"),
    )
