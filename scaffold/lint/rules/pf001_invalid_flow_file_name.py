from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, FlowSummary, Rule
from scaffold.lint.rules._common import flow_file


class InvalidFlowFileNameRule(Rule):
    """## What it does
    Checks that the name of each flow file, `flows/<FLOW>.py`, is a valid flow name:
    snake_case, lowercase ASCII, starting with a letter, no `__`, and no `_flow` suffix.

    ## Why is this bad?
    The file name is the flow name: the function (`<FLOW>_flow`), the `@flow` name
    (`<PROJECT>__<FLOW>_flow`), the deployments (`<PROJECT>__<FLOW>`) and the entrypoint
    (`flows/<FLOW>.py:<FLOW>_flow`) are all made from it. `harvest_flow.py` would give the
    function `harvest_flow_flow`.

    ## Example
    `projects/farm/flows/harvest_flow.py`.

    ## Fix
    Rename the file (`harvest.py`) and the entrypoints that point at it. The other flow-file
    rules wait until the file name is valid.
    """

    code = "PF001"
    name = "invalid-flow-file-name"
    summary = "Flow file name is not a valid flow name"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        try:
            naming.validate_flow(flow.flow)
        except naming.NamingError as err:
            yield self.finding(flow.path, None, f"{err.message}; rename the file")

    VALID = (Example({"farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/flows/harvest_flow.py": flow_file("farm", "harvest")},
                title="the _flow suffix belongs to the function"),
        Example({"farm/flows/Harvest-Crops.py": flow_file("farm", "harvest")},
                title="not snake_case"),
    )
