from __future__ import annotations

from collections.abc import Iterator

from scaffold import naming
from scaffold.lint.model import Example, Finding, Index, ReplaceYamlValue, Rule
from scaffold.lint.rules._common import config_file, entry_flow, flow_file, show


class InvalidEntrypointRule(Rule):
    """## What it does
    Checks that each deployment's entrypoint is `flows/<FLOW>.py:<FLOW>_flow`: the flow file
    of the project and its main flow function.

    ## Why is this bad?
    Prefect loads the flow from the entrypoint. Any other form (another function, `./flows/`,
    a path outside `flows/`) works around the conventions that tie the deployment, the file
    and the flow together, and usually means a rename was done halfway.

    ## Example
    `entrypoint: flows/harvest.py:harvest` or `entrypoint: ./flows/harvest.py:harvest_flow`.

    ## Fix
    Write `flows/<FLOW>.py:<FLOW>_flow`. The autofix rewrites the value in place, keeping the
    rest of the file byte for byte, when the new entrypoint resolves: the flow file (found
    from the path, or from a `<FLOW>_flow` function name) defines `<FLOW>_flow`, possibly
    after the PF003 rename of the same `--fix` run. A block scalar (`entrypoint: >-`) becomes
    a plain value on the key's line; an alias (`*anchor`) or a value merged from `<<:` is left
    to fix by hand.
    """

    code = "PD004"
    name = "invalid-entrypoint"
    summary = "Entrypoint is not flows/<FLOW>.py:<FLOW>_flow"
    fixable = "sometimes"

    def check_repo(self, index: Index) -> Iterator[Finding]:
        for project, config in index.configs.items():
            if config.error is not None:
                continue
            info = index.projects.get(project)
            existing = set(info.flow_files) if info else set()
            for dep in config.deployments:
                ep = dep.entrypoint
                label = repr(dep.name) if isinstance(dep.name, str) else f"#{dep.index + 1}"
                if ep is None or ep == "":
                    yield self.finding(config.path, dep.entrypoint_pos or dep.pos,
                                       f"deployment {label} has no entrypoint; add 'entrypoint: "
                                       f"{naming.entrypoint('<FLOW>')}'")
                    continue
                if not isinstance(ep, str):
                    yield self.finding(config.path, dep.entrypoint_pos,
                                       f"entrypoint must be a string like "
                                       f"'{naming.entrypoint('<FLOW>')}', not {show(ep)}")
                    continue
                flow = entry_flow(ep)
                if flow is not None and ep == naming.entrypoint(flow):
                    continue
                target = flow if flow in existing else None
                if target is None:
                    parsed = naming.parse_entrypoint(ep)
                    by_func = naming.flow_of_function(parsed[1]) if parsed else None
                    if by_func in existing and entry_flow(naming.entrypoint(by_func)):
                        target = by_func
                expected = naming.entrypoint(target or flow or "<FLOW>")
                # fixed only when the new entrypoint resolves: the function is there, or the
                # PF003 rename of the same --fix run makes it (then the edit waits for it)
                summary = index.flow(project, target) if target else None
                fix = None
                if summary is not None and dep.entrypoint_editable:
                    wanted = naming.flow_function(target)
                    main = summary.main_candidate() if summary.error is None else None
                    if wanted in summary.functions:
                        fix = ReplaceYamlValue(dep.index, "entrypoint", expected)
                    elif main is not None and summary.flow_ok:
                        fix = ReplaceYamlValue(dep.index, "entrypoint", expected,
                                               requires=(summary.path, wanted))
                yield self.finding(config.path, dep.entrypoint_pos,
                                   f"entrypoint {ep!r} must be {expected!r}", fix=fix)

    def fix_yaml(self, text: str, finding: Finding) -> str | None:
        from scaffold.yamledit import replace_value

        fix = finding.fix
        return replace_value(text, fix.index, fix.key, fix.value, path=finding.path)

    VALID = (Example({"farm/prefect.yaml": config_file(), "farm/flows/harvest.py": flow_file()}),)
    INVALID = (
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: "flows/harvest.py:harvest"  # the function was renamed
    parameters: {season: winter}
''', "farm/flows/harvest.py": flow_file()}, fixed={"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: "flows/harvest.py:harvest_flow"  # the function was renamed
    parameters: {season: winter}
'''}),
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: ./flows/harvest.py:harvest_flow
''', "farm/flows/harvest.py": flow_file()}, title="a path of another form",
            fixed={"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
'''}),
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: >-
      flows/harvest.py:harvest
''', "farm/flows/harvest.py": flow_file()}, title="a block scalar, made a plain value",
            fixed={"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
'''}),
        Example({"farm/prefect.yaml": '''name: farm
deployments:
  - name: farm__harvest
    entrypoint: src/harvest.py:run
''', "farm/flows/harvest.py": flow_file()}, title="not a flow file (not fixed automatically)"),
    )
