from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, flow_file


class MissingFlowsRule(Rule):
    """## What it does
    Checks that each project has a `flows/` folder with at least one flow file
    (`flows/<FLOW>.py`; files starting with `_` are helpers, not flows).

    ## Why is this bad?
    A project is a set of flows: a project folder without flows is a half-created or
    half-deleted project, and its deployments (if any) point at nothing.

    ## Example
    `projects/farm/prefect.yaml` and an empty `projects/farm/flows/`.

    ## Fix
    Add a flow (`cli new-flow`), or delete the project folder.
    """

    code = "PL003"
    name = "missing-flows"
    summary = "Project has no flows/ folder or no flow file in it"
    target = "project"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, info in index.projects.items():
            if not info.has_flows_dir:
                yield self.finding(info.path, None,
                                   f"project {project!r} has no {naming.FLOWS_DIR}/ folder; add "
                                   f"a flow ({naming.FLOWS_DIR}/<FLOW>.py) or delete the project")
            elif not info.flow_files:
                yield self.finding(f"{info.path}/{naming.FLOWS_DIR}", None,
                                   f"project {project!r} has no flow file in {naming.FLOWS_DIR}/; "
                                   f"add a flow ({naming.FLOWS_DIR}/<FLOW>.py) or delete the project")

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": "name: farm\ndeployments: []\n"}, title="no flows/ folder"),
        Example({"farm/prefect.yaml": "name: farm\ndeployments: []\n",
                 "farm/flows/_helpers.py": "def clean(value: str) -> str:\n    return value\n"},
                title="only helper modules in flows/"),
    )
