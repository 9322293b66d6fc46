from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, flow_file


class MissingFlowsRule(Rule):
    """## What it does
    Checks that each project has a `flows/` folder. An empty `flows/` is fine: a new project
    starts that way (`cli new-project`), and deployments that point at missing flow files
    are reported by PD005.

    ## Why is this bad?
    Every project keeps its flows in `flows/<FLOW>.py`, and every entrypoint starts with
    `flows/`. A project folder without it was made by hand or half deleted.

    ## Example
    `projects/farm/prefect.yaml` and no `projects/farm/flows/`.

    ## Fix
    Create `flows/` and add a flow (`cli new-flow`), or delete the project folder.
    """

    code = "PL003"
    name = "missing-flows"
    summary = "Project has no flows/ folder"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, info in index.projects.items():
            if not info.has_flows_dir:
                yield self.finding(info.path, None,
                                   f"project {project!r} has no {naming.FLOWS_DIR}/ folder; add "
                                   f"a flow ({naming.FLOWS_DIR}/<FLOW>.py) or delete the project")

    VALID = (
        Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),
        Example({"farm/prefect.yaml": "name: farm\ndeployments: []\n", "farm/flows/.gitkeep": ""},
                title="a new project: flows/ is empty"),
    )
    INVALID = (Example({"farm/prefect.yaml": "name: farm\ndeployments: []\n",
                        "farm/README.md": "# farm\n"}),)
