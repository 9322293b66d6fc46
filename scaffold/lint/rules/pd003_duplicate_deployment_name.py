from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import Example, Finding, Index, Pos, Rule
from scaffold.lint.rules._common import config_file, duplicates, flow_file


class DuplicateDeploymentNameRule(Rule):
    """## What it does
    Checks that every deployment name is used once, across all projects.

    ## Why is this bad?
    `cli prefect deploy -d NAME` and the other deployment commands select by name: with two
    entries of one name, deploying one overwrites the other on the server, and a command
    meant for one acts on the other.

    ## Example
    `name: farm__harvest` twice in `projects/farm/prefect.yaml`, or in two projects' files.

    ## Fix
    Rename one of them; several deployments of one flow each get a `__<PARAM>` suffix
    (`farm__harvest__winter`, `farm__harvest__summer`).
    """

    code = "PD003"
    name = "duplicate-deployment-name"
    summary = "Deployment name is used more than once across all projects"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        seen: dict[str, list[tuple[str, Pos]]] = {}
        for config in index.configs.values():
            if config.error is not None:
                continue
            for dep in config.deployments:
                if isinstance(dep.name, str):
                    seen.setdefault(dep.name, []).append((config.path, dep.name_pos or dep.pos))
        for name, path, pos, elsewhere in duplicates(seen):
            yield self.finding(path, pos, f"deployment name {name!r} is also used at {elsewhere}; "
                                          "deployment names must be unique across all projects")

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": config_file() + '''  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: summer
''', "farm/flows/harvest.py": flow_file()}),
    )
