from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, flow_file


class InvalidProjectNameRule(Rule):
    """## What it does
    Checks that each folder in `projects/` has a valid project name: snake_case, lowercase
    ASCII, starting with a letter, without `__`.

    ## Why is this bad?
    The project name is the first part of every flow name (`<PROJECT>__<FLOW>_flow`) and
    deployment name (`<PROJECT>__<FLOW>`); `__` separates those parts, so a project name that
    breaks the pattern makes names that cannot be read back.

    ## Example
    `projects/Farm-2/` (uppercase, `-`).

    ## Fix
    Rename the folder (`projects/farm_2/`), then update the `name:` in its prefect.yaml and
    the flow and deployment names. Folders starting with `_` or `.` are not projects.
    """

    code = "PL001"
    name = "invalid-project-name"
    summary = "Project folder name is not a valid project name"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, info in index.projects.items():
            try:
                naming.validate_project(project)
            except naming.NamingError as err:
                yield self.finding(info.path, None, f"{err.message}; rename the folder")

    VALID = (Example({"farm_2/prefect.yaml": config_file("farm_2"),
                      "farm_2/flows/harvest.py": flow_file("farm_2")}),)
    INVALID = (Example({"Farm-2/prefect.yaml": "name: Farm-2\ndeployments: []\n",
                        "Farm-2/flows/harvest.py": flow_file("farm")}),)
