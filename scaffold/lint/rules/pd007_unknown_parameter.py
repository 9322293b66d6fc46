from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import config_file, entry_flow, flow_file
from scaffold.repo import did_you_mean


class UnknownParameterRule(Rule):
    """## What it does
    Checks that the `parameters:` of a deployment is a mapping whose keys are arguments of
    the flow function its entrypoint names (any key is accepted when the function takes
    `**kwargs`).

    ## Why is this bad?
    Prefect validates the parameters only when a run starts: a misspelled or removed argument
    fails every scheduled run of the deployment, long after the commit.

    ## Example
    `parameters: {seson: winter}` for `def harvest_flow(season: str = "winter")`.

    ## Fix
    Rename or remove the key so that it matches the flow's signature.
    """

    code = "PD007"
    name = "unknown-parameter"
    summary = "Deployment parameter is not an argument of the flow function"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, config in index.configs.items():
            if config.error is not None:
                continue
            for dep in config.deployments:
                if dep.params_kind == "other":
                    yield self.finding(config.path, dep.params_pos,
                                       "'parameters' must be a mapping of argument names to "
                                       "values")
                    continue
                if not dep.params:
                    continue
                flow = entry_flow(dep.entrypoint)
                summary = index.flow(project, flow) if flow else None
                parsed = naming.parse_entrypoint(dep.entrypoint)
                if summary is None or parsed is None:
                    continue
                funcs = [f for f in summary.flows if f.top_level and f.name == parsed[1]]
                if len(funcs) != 1 or funcs[0].var_kw:
                    continue
                func = funcs[0]
                for key, pos in dep.params:
                    if key not in func.params:
                        yield self.finding(config.path, pos,
                                           f"parameter {key!r} is not an argument of "
                                           f"{func.name}({', '.join(func.params)})"
                                           f"{did_you_mean(key, list(func.params))}")

    VALID = (
        Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),
        Example({"farm/prefect.yaml": config_file().replace("season: winter", "anything: 1"),
                 "farm/flows/harvest.py": flow_file().replace(
                     'season: str = "winter") -> None:\n    pick_task(season)',
                     'season: str = "winter", **options: object) -> None:\n'
                     '    pick_task(season)')},
                title="the flow takes **kwargs"),
    )
    INVALID = (
        Example({"farm/prefect.yaml": config_file().replace("season: winter", "seson: winter"),
                 "farm/flows/harvest.py": flow_file()}, title="a misspelled argument"),
        Example({"farm/prefect.yaml": config_file().replace(
            "    parameters:\n      season: winter\n", "    parameters: [winter]\n"),
                 "farm/flows/harvest.py": flow_file()}, title="not a mapping"),
    )

