from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._common import config_file, flow_file, show


class ProjectNameMismatchRule(Rule):
    """## What it does
    Checks that the top-level `name:` of `projects/<PROJECT>/prefect.yaml` is `<PROJECT>`,
    the folder's name.

    ## Why is this bad?
    Prefect shows this name for the project; when it differs from the folder, a copied
    project file points the reader (and `cli prefect deploy -p`) at the wrong project.

    ## Example
    `name: orchard` in `projects/farm/prefect.yaml`.

    ## Fix
    Set `name: <PROJECT>`.
    """

    code = "PD001"
    name = "project-name-mismatch"
    summary = "prefect.yaml name: is not the project folder name"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None or not config.project_ok:
            return
        if not config.has_name:
            yield self.finding(config.path, None,
                               f"prefect.yaml has no 'name:'; add 'name: {config.project}'")
        elif config.name != config.project:
            yield self.finding(config.path, config.name_pos,
                               f"name {show(config.name)} must be the project folder name "
                               f"{config.project!r}")

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": config_file().replace("name: farm\n", "name: orchard\n"),
                 "farm/flows/harvest.py": flow_file()}, title="copied from another project"),
        Example({"farm/prefect.yaml": config_file().replace("name: farm\n", ""),
                 "farm/flows/harvest.py": flow_file()}, title="no name"),
    )
