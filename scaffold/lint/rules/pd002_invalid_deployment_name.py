from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._common import config_file, entry_flow, flow_file, show


class InvalidDeploymentNameRule(Rule):
    """## What it does
    Checks that each deployment is named `<PROJECT>__<FLOW>`, or `<PROJECT>__<FLOW>__<PARAM>`
    for one of several parameterized deployments, where `<FLOW>` is the flow of its
    entrypoint.

    ## Why is this bad?
    Deployment names are global on a Prefect server, and `cli prefect deploy -d NAME` selects
    by them: the project and flow in the name keep them unique and lead to the code.

    ## Example
    `name: harvest` or `name: farm__harvest_daily` for `entrypoint: flows/harvest.py:harvest_flow`
    in `projects/farm/prefect.yaml`.

    ## Fix
    Rename the deployment to `<PROJECT>__<FLOW>` (or `<PROJECT>__<FLOW>__<PARAM>`). Not fixed
    automatically: the server knows the deployment by its old name (delete it there with
    `cli prefect deployment delete -d OLD_NAME`).
    """

    code = "PD002"
    name = "invalid-deployment-name"
    summary = "Deployment name is not <PROJECT>__<FLOW>[__<PARAM>]"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None or not config.project_ok:
            return
        for dep in config.deployments:
            flow = entry_flow(dep.entrypoint)
            base = naming.deployment_name(config.project, flow or "<FLOW>")
            wanted = f"{base!r} or '{base}{naming.SEP}<PARAM>'"
            if dep.name is None:
                yield self.finding(config.path, dep.name_pos or dep.pos,
                                   f"deployment #{dep.index + 1} has no name; name it {wanted}")
                continue
            if not isinstance(dep.name, str):
                yield self.finding(config.path, dep.name_pos or dep.pos,
                                   f"deployment name must be a string, not {show(dep.name)}; name it "
                                   f"{wanted}")
                continue
            parsed = naming.parse_deployment_name(dep.name)
            if parsed is None or parsed.project != config.project or (
                    flow is not None and parsed.flow != flow):
                yield self.finding(config.path, dep.name_pos,
                                   f"deployment name {dep.name!r} must be {wanted}")

    VALID = (
        Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest__winter
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: winter
  - name: farm__harvest__summer
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: summer
''', "farm/flows/harvest.py": flow_file()}, title="parameterized deployments"),
    )
    INVALID = (
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: harvest
    entrypoint: flows/harvest.py:harvest_flow
  - name: farm__harvest_daily
    entrypoint: flows/harvest.py:harvest_flow
''', "farm/flows/harvest.py": flow_file()}),
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: orchard__harvest
    entrypoint: flows/harvest.py:harvest_flow
''', "farm/flows/harvest.py": flow_file()}, title="copied from another project"),
    )
