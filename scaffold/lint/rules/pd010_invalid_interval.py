from __future__ import annotations

from collections.abc import Iterator

from scaffold import schedules
from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with, label, schedule_values


class InvalidIntervalRule(Rule):
    """## What it does
    Checks that the `interval` of every schedule item is a positive duration: a number of
    seconds (`3600`), an ISO 8601 duration (`PT1H`) or `HH:MM:SS`. A `{{ ... }}` template is
    not checked.

    ## Why is this bad?
    `interval: 0` makes Prefect skip the item's interval (it reads 0 as "not set") and fail
    with "Unknown schedule type" at deploy time; a negative interval or text that is not a
    duration fails the deploy too, part way through a multi-deployment command.

    ## Example
    `interval: 0`, `interval: -60`, `interval: one hour`.

    ## Fix
    Write the interval in seconds (`interval: 3600`) or as an ISO 8601 duration (`PT1H`).
    """

    code = "PD010"
    name = "invalid-interval"
    summary = "Schedule interval is not a positive duration"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        for dep, item, interval in schedule_values(config, "interval"):
            problem = schedules.check_interval(interval)
            if problem:
                yield self.finding(config.path, item.mark("interval"),
                                   f"interval {interval!r} of deployment {label(dep)}: {problem}")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            "    schedules:\n      - interval: 3600\n      - interval: PT15M\n"
            '      - interval: "1:30:00"\n      - interval: 0.5\n')}),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with("    schedules:\n      - interval: 0\n")},
                title="zero"),
        Example({**FLOW, "farm/prefect.yaml": config_with("    schedules:\n      - interval: -60\n")},
                title="negative"),
        Example({**FLOW, "farm/prefect.yaml": config_with("    schedules:\n      - interval: one hour\n")},
                title="not a duration"),
    )
