from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import Example, Finding, FlowSummary, Rule
from scaffold.lint.rules._common import flow_file


class SyntaxErrorRule(Rule):
    """## What it does
    Reports a flow file that Python cannot parse, at the line of the error.

    ## Why is this bad?
    Prefect cannot import the flow, so its deployments fail at run time; and no other rule
    can check a file that does not parse.

    ## Example
    `def harvest_flow(season: str = "winter" -> None:` (a parenthesis is missing).

    ## Fix
    Correct the syntax at the reported line and column. The other rules check the file as
    soon as it parses.
    """

    code = "PE001"
    name = "syntax-error"
    summary = "Flow file is not valid Python"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None and flow.error.kind == "syntax":
            yield self.finding(flow.path, (flow.error.line, flow.error.col), flow.error.message)

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (Example({"farm/flows/harvest.py": '''from prefect import flow, task


@flow(name="farm__harvest_flow")
def harvest_flow(season: str = "winter" -> None:
    pass
'''}),)
