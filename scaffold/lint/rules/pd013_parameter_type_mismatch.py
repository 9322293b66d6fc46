from __future__ import annotations

from collections.abc import Iterator

from scaffold.annotations import compile_annotation, describe, fits
from scaffold.lint.model import Example, Finding, Index, Rule
from scaffold.lint.rules._common import flow_file
from scaffold.lint.rules._deployments import config_with, entry_function, label

_VIA = {"alias": ", set here through an alias", "merge": ", merged in here with '<<'"}


class ParameterTypeMismatchRule(Rule):
    """## What it does
    Checks each value in a deployment's `parameters:` against the annotation of the flow
    argument it sets, as Prefect will when a run starts (pydantic, lax: `"3"` fits an `int`,
    `"three"` does not; a number does not fit a `str`). Values set through `definitions`
    anchors, aliases and `<<` merges are checked where they are written. Checked annotations:
    `int`, `float`, `str`, `bool`, `None`, `list`/`tuple`/`set`/`dict` with their item types,
    `Optional`, unions, `Literal` and `Annotated`; other types, and `{{ ... }}` templates, are
    not checked.

    ## Why is this bad?
    Prefect does not look at the parameters when it deploys: every run of the deployment then
    fails in parameter validation, long after the commit.

    ## Example
    `days: three` for `def report_flow(days: int = 7)`; `regions: [eu, us]` for `region: str`.

    ## Fix
    Write a value of the annotated type (`days: 3`), or change the annotation if the flow
    really takes that kind of value.
    """

    code = "PD013"
    name = "parameter-type-mismatch"
    summary = "Deployment parameter value does not fit the flow argument's annotation"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, config in index.configs.items():
            if config.error is not None:
                continue
            for dep in config.deployments:
                if not dep.param_values:
                    continue
                func = entry_function(index, project, dep)
                if func is None:
                    continue
                for value in dep.param_values:
                    param = func.signature.param(value.key)
                    if param is None or param.annotation is None:
                        continue
                    check = compile_annotation(param.annotation)
                    if check is None or fits(check, value.value):
                        continue
                    yield self.finding(
                        config.path, value.pos,
                        f"parameter {value.key!r} of deployment {label(dep)} is "
                        f"{describe(value.value)}{_VIA.get(value.via, '')}; {func.name}() "
                        f"takes {value.key}: {param.annotation}")

    VALID = (
        Example({"farm/prefect.yaml": config_with("", before="").replace(
            "season: winter", "season: winter\n      days: '3'\n      regions: [eu, us]"),
                 "farm/flows/harvest.py": flow_file().replace(
                     'season: str = "winter")',
                     'season: str = "winter", days: int = 7,\n'
                     '                 regions: list[str] | None = None)')},
                title="'3' fits an int (Prefect converts it)"),
        Example({"farm/prefect.yaml": config_with("").replace(
            "season: winter", "season: '{{ prefect.variables.season }}'"),
                 "farm/flows/harvest.py": flow_file()},
                title="a template is resolved at deploy time"),
    )
    INVALID = (
        Example({"farm/prefect.yaml": config_with("").replace(
            "season: winter", "season: winter\n      days: three"),
                 "farm/flows/harvest.py": flow_file().replace(
                     'season: str = "winter")', 'season: str = "winter", days: int = 7)')},
                title="text for an int"),
        Example({"farm/prefect.yaml": config_with("").replace("season: winter",
                                                              "season: [winter, summer]"),
                 "farm/flows/harvest.py": flow_file()},
                title="a list for a str"),
        Example({"farm/prefect.yaml": config_with(
            "", before="definitions:\n  params: &params\n    season: 3\n").replace(
            "    parameters:\n      season: winter\n", "    parameters: *params\n"),
                 "farm/flows/harvest.py": flow_file()},
                title="a value set through a definitions alias"),
    )
