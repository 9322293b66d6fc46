from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import ConfigSummary, DeploymentSummary, Example, Finding, Rule
from scaffold.lint.rules._common import entry_flow, flow_file


class MissingDeploymentSuffixRule(Rule):
    """## What it does
    Checks that when a flow has several deployments in a project, each of them has a
    `__<PARAM>` suffix: `<PROJECT>__<FLOW>__<PARAM>`.

    ## Why is this bad?
    A parameterized flow is deployed once per set of parameters; the suffix says which
    deployment runs which parameters. A bare `<PROJECT>__<FLOW>` among them hides that, and
    reads as "the" deployment of the flow.

    ## Example
    `farm__harvest` and `farm__harvest__summer`, both for `flows/harvest.py:harvest_flow`.

    ## Fix
    Add a suffix from the parameter value (`season: winter` gives `farm__harvest__winter`)
    or a short name for the set of parameters.
    """

    code = "PD006"
    name = "missing-deployment-suffix"
    summary = "One of several deployments of a flow has no __<PARAM> suffix"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None or not config.project_ok:
            return
        by_flow: dict[str, list[DeploymentSummary]] = {}
        for dep in config.deployments:
            flow = entry_flow(dep.entrypoint)
            if flow is not None:
                by_flow.setdefault(flow, []).append(dep)
        for flow, deps in by_flow.items():
            if len(deps) < 2:
                continue
            for dep in deps:
                parsed = naming.parse_deployment_name(dep.name) if isinstance(dep.name, str) else None
                if parsed is None or parsed.suffix is not None or (
                        parsed.project, parsed.flow) != (config.project, flow):
                    continue  # a name of another project or flow is PD002's
                example = naming.deployment_name(config.project, flow, "<PARAM>")
                yield self.finding(config.path, dep.name_pos or dep.pos,
                                   f"flow {flow!r} has {len(deps)} deployments: name "
                                   f"{dep.name!r} after its parameters, e.g. {example!r}")

    VALID = (Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest__winter
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: winter
  - name: farm__harvest__summer
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: summer
''', "farm/flows/harvest.py": flow_file()}),)
    INVALID = (Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: winter
  - name: farm__harvest__summer
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: summer
''', "farm/flows/harvest.py": flow_file()}),)
