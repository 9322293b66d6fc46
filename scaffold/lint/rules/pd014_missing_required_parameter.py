from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import flow_file
from scaffold.lint.rules._deployments import config_with, entry_function, label


class MissingRequiredParameterRule(Rule):
    """## What it does
    Checks that a deployment's `parameters:` sets every argument of its flow function that has
    no default (keys merged in with `<<` or set through an alias count).

    ## Why is this bad?
    Prefect deploys it without a word; every scheduled run then fails before the flow starts
    ("missing a required argument").

    ## Example
    `def report_flow(day: str)` and a deployment without `parameters: {day: ...}`.

    ## Fix
    Set the argument in the deployment's `parameters:`, or give it a default in the flow.
    """

    code = "PD014"
    name = "missing-required-parameter"
    summary = "Deployment does not set a flow argument that has no default"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, config in index.configs.items():
            if config.error is not None:
                continue
            for dep in config.deployments:
                if dep.params_kind == "other":  # PD007 reports it
                    continue
                func = entry_function(index, project, dep)
                if func is None:
                    continue
                given = {key for key, _ in dep.params}
                missing = [name for name in func.signature.required if name not in given]
                if not missing:
                    continue
                names = ", ".join(repr(name) for name in missing)
                yield self.finding(
                    config.path, dep.params_pos or dep.name_pos or dep.pos,
                    f"deployment {label(dep)} does not set {names}, which {func.name}() "
                    f"requires (no default); add {'it' if len(missing) == 1 else 'them'} "
                    "to 'parameters'")

    VALID = (
        Example({"farm/prefect.yaml": config_with(""),
                 "farm/flows/harvest.py": flow_file().replace('season: str = "winter"',
                                                              "season: str")}),
        Example({"farm/prefect.yaml": config_with(
            "", before="definitions:\n  base: &base\n    season: winter\n").replace(
            "    parameters:\n      season: winter\n",
            "    parameters:\n      <<: *base\n"),
                 "farm/flows/harvest.py": flow_file().replace('season: str = "winter"',
                                                              "season: str")},
                title="set through a merge"),
    )
    INVALID = (
        Example({"farm/prefect.yaml": config_with("").replace(
            "    parameters:\n      season: winter\n", ""),
                 "farm/flows/harvest.py": flow_file().replace('season: str = "winter"',
                                                              "season: str")},
                title="no parameters at all"),
        Example({"farm/prefect.yaml": config_with(""),
                 "farm/flows/harvest.py": flow_file().replace(
                     'season: str = "winter")', 'season: str = "winter", *, day: str)')},
                title="a keyword-only argument without a default"),
    )
