from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, Rule
from scaffold.lint.rules._common import flow_file


class MissingTaskRule(Rule):
    """## What it does
    Checks that a flow file defines at least one `@task` (`@task(...)`, `@prefect.task`, an
    imported alias).

    ## Why is this bad?
    In this repository a flow orchestrates tasks: the work is done in tasks, which Prefect
    retries, caches and reports one by one. A flow without tasks is one opaque step.

    ## Example
    A `harvest_flow` that does all of its work in its own body.

    ## Fix
    Move the work into one or more `@task` functions and call them from the flow.
    """

    code = "PF007"
    name = "missing-task"
    summary = "Flow file has no @task"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is None and flow.tasks == 0:
            yield self.finding(flow.path, None,
                               f"no @task in {naming.flow_file(flow.flow)}; a flow file has "
                               "one or more tasks that its flow calls")

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (Example({"farm/flows/harvest.py": '''from prefect import flow


@flow(name="farm__harvest_flow")
def harvest_flow(season: str = "winter") -> None:
    print(f"picked {season}")
'''}),)
