from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, entry_flow, flow_file


class EntrypointNotFoundRule(Rule):
    """## What it does
    Checks that the file and the function of each entrypoint `flows/<FLOW>.py:<FLOW>_flow`
    exist in the project.

    ## Why is this bad?
    `prefect deploy` fails on a missing file; a missing function fails later, when the
    deployment runs. Both usually follow a flow that was renamed or deleted while its
    deployment stayed.

    ## Example
    `entrypoint: flows/sow.py:sow_flow` with no `projects/farm/flows/sow.py`.

    ## Fix
    Point the entrypoint at an existing flow, add the flow, or delete the deployment.
    """

    code = "PD005"
    name = "entrypoint-not-found"
    summary = "Entrypoint file or function does not exist"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, config in index.configs.items():
            if config.error is not None:
                continue
            for dep in config.deployments:
                flow = entry_flow(dep.entrypoint)
                if flow is None or dep.entrypoint != naming.entrypoint(flow):
                    continue  # malformed: PD004
                path = index.flow_path(project, flow)
                if path in index.excluded:
                    continue
                summary = index.flows.get(path)
                if summary is None:
                    yield self.finding(config.path, dep.entrypoint_pos,
                                       f"entrypoint file {naming.flow_path(flow)} does not exist "
                                       f"in {index.projects_dir}/{project}/; add the flow or fix "
                                       "the entrypoint")
                elif summary.error is None and naming.flow_function(flow) not in summary.functions:
                    yield self.finding(config.path, dep.entrypoint_pos,
                                       f"entrypoint function {naming.flow_function(flow)!r} is not "
                                       f"defined in {naming.flow_path(flow)}")

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": config_file("farm", ("harvest", "sow")),
                 "farm/flows/harvest.py": flow_file()}, title="the file is missing"),
        Example({"farm/prefect.yaml": config_file(),
                 "farm/flows/harvest.py": flow_file().replace("def harvest_flow", "def run_flow")
                 .replace("    harvest_flow()", "    run_flow()")},
                title="the function is missing"),
    )
