from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import ConfigSummary, Example, Finding, FlowSummary, Rule
from scaffold.lint.rules._common import config_file, flow_file


class UnreadableFileRule(Rule):
    """## What it does
    Reports a flow file or prefect.yaml that cannot be read as UTF-8 text: a binary file, another
    encoding, or a file the linter has no permission to read.

    ## Why is this bad?
    Python and Prefect read these files as UTF-8; anything else fails when the flow is imported
    or deployed, and none of the other rules can check the file.

    ## Example
    A prefect.yaml saved as Latin-1 (`name: farm  # récolte` with the byte `0xE9`).

    ## Fix
    Save the file as UTF-8, or move files that are not flows out of `flows/` (or start their
    name with `_`).
    """

    code = "PE002"
    name = "unreadable-file"
    summary = "Flow file or prefect.yaml is not readable UTF-8 text"

    def check_flow(self, flow: FlowSummary) -> Iterator[Finding]:
        if flow.error is not None and flow.error.kind == "unreadable":
            yield self.finding(flow.path, (flow.error.line, flow.error.col), flow.error.message)

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None and config.error.kind == "unreadable":
            yield self.finding(config.path, (config.error.line, config.error.col),
                               config.error.message)

    VALID = (Example({"farm/prefect.yaml": config_file() + "# récolte\n",
                      "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": "name: farm  # r\xe9colte\ndeployments: []\n".encode("latin-1"),
                 "farm/flows/harvest.py": flow_file()}, title="Latin-1 text"),
        Example({"farm/flows/harvest.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
                title="a binary file"),
    )
