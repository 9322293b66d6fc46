from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._common import config_file, flow_file


class InvalidYamlRule(Rule):
    """## What it does
    Reports a prefect.yaml that is not valid YAML or does not have the shape of a Prefect
    project file: a mapping whose `deployments` is a list of mappings.

    ## Why is this bad?
    `prefect deploy` refuses the file, so none of the project's deployments can be created or
    updated; and the deployment rules cannot check it.

    ## Example
    `deployments:` followed by `name: farm__harvest` (a mapping, not a list of entries).

    ## Fix
    Correct the YAML at the reported line; each deployment is an entry of the list
    (`- name: ...`).
    """

    code = "PE003"
    name = "invalid-yaml"
    summary = "prefect.yaml is not valid YAML or not a mapping with a deployments list"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None and config.error.kind == "yaml":
            yield self.finding(config.path, (config.error.line, config.error.col),
                               config.error.message)

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": "name: farm\ndeployments:\n  - name: [farm__harvest\n",
                 "farm/flows/harvest.py": flow_file()}, title="a syntax error"),
        Example({"farm/prefect.yaml": "- name: farm__harvest\n"
                                      "  entrypoint: flows/harvest.py:harvest_flow\n",
                 "farm/flows/harvest.py": flow_file()}, title="a list, not a mapping"),
        Example({"farm/prefect.yaml": "name: farm\ndeployments:\n  name: farm__harvest\n",
                 "farm/flows/harvest.py": flow_file()}, title="deployments is not a list"),
    )
