from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, flow_file


class MissingPrefectYamlRule(Rule):
    """## What it does
    Checks that each project folder has a `prefect.yaml`.

    ## Why is this bad?
    The deployments of a project are configured in its `prefect.yaml`; without one, none of
    its flows can be deployed with `cli prefect deploy -p PROJECT`.

    ## Example
    `projects/farm/flows/harvest.py` with no `projects/farm/prefect.yaml`.

    ## Fix
    Create `projects/<PROJECT>/prefect.yaml` with `name: <PROJECT>` and a `deployments:`
    list (`cli new-project` writes one).
    """

    code = "PL002"
    name = "missing-prefect-yaml"
    summary = "Project folder has no prefect.yaml"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, info in index.projects.items():
            if not info.has_config:
                yield self.finding(info.path, None,
                                   f"project {project!r} has no {naming.CONFIG_FILE}; create it "
                                   f"with 'name: {project}' and a 'deployments:' list")

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (Example({"farm/flows/harvest.py": flow_file()}, auto_config=False),)
