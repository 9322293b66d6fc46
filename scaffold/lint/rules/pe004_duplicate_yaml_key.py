from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with


class DuplicateYamlKeyRule(Rule):
    """## What it does
    Checks that no key is written twice in one mapping of a prefect.yaml (the file's top
    level, a deployment, its parameters, a schedule...).

    ## Why is this bad?
    YAML loaders, Prefect's included, keep the last value and drop the first without a word:
    a second `parameters:` further down a long entry silently replaces the first one, and an
    edit to the first has no effect.

    ## Example
    ```yaml
    - name: farm__harvest
      parameters:
        season: winter
      parameters:
        season: summer
    ```

    ## Fix
    Keep one of the two keys (merge their values if both matter). To share values between
    entries, use a `definitions` anchor and `<<: *anchor`, where a key written in the entry
    wins over a merged one on purpose.
    """

    code = "PE004"
    name = "duplicate-yaml-key"
    summary = "Key written twice in one prefect.yaml mapping"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None:
            return
        for dup in config.duplicates:
            yield self.finding(config.path, dup.pos,
                               f"key {dup.key!r} is written again here (first at line "
                               f"{dup.first_line}); YAML keeps only this value and drops the "
                               "first: remove one of them")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            "", before="definitions:\n  base: &base\n    work_pool:\n      name: default\n")
            .replace("  - name: farm__harvest\n", "  - <<: *base\n    name: farm__harvest\n")},
                title="a key written in the entry overrides a merged one: not a duplicate"),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with("    parameters:\n      season: summer\n")},
                title="parameters twice in one deployment"),
        Example({**FLOW, "farm/prefect.yaml": config_with("").replace(
            "      season: winter\n", "      season: winter\n      season: summer\n")},
                title="a parameter twice"),
    )
