from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with, label
from scaffold.schedules import KINDS


class InvalidScheduleKindRule(Rule):
    """## What it does
    Checks that every schedule item is a mapping with exactly one of `cron`, `interval` and
    `rrule`, and that a deployment does not use both `schedules:` and the legacy `schedule:`.

    ## Why is this bad?
    Prefect reads an item with several kinds as the first of `cron`, `interval`, `rrule` and
    drops the others without a word: `cron: "0 6 * * *"` with `interval: 600` runs daily, not
    every 10 minutes. An item with none of them fails the deploy ("Unknown schedule type"), and
    so do both keys at once.

    ## Example
    ```yaml
    schedules:
      - cron: "0 6 * * *"
        interval: 600
    ```

    ## Fix
    Split the item in two, one kind each (the same `timezone` can be written in both), or
    remove the kind you did not mean.
    """

    code = "PD012"
    name = "invalid-schedule-kind"
    summary = "Schedule item does not have exactly one of cron, interval and rrule"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if config.error is not None:
            return
        for dep in config.deployments:
            if dep.schedules_pos is not None and dep.legacy_schedule_pos is not None:
                yield self.finding(config.path, dep.legacy_schedule_pos,
                                   f"deployment {label(dep)} has both 'schedules' and the "
                                   "legacy 'schedule'; Prefect refuses both: move this one into "
                                   "'schedules'")
            for item in dep.schedules:
                if not item.listed:
                    yield self.finding(config.path, item.pos,
                                       f"'schedules' of deployment {label(dep)} is not a list; "
                                       "write one '- cron: ...' (or interval, rrule) item a line")
                    continue
                if not isinstance(item.value, dict):
                    yield self.finding(config.path, item.pos,
                                       f"a schedule of deployment {label(dep)} is not a mapping; "
                                       "write '- cron: ...', '- interval: ...' or '- rrule: ...'")
                    continue
                kinds = [k for k in KINDS if k in item.value]
                if len(kinds) > 1:
                    yield self.finding(config.path, item.mark(kinds[1]),
                                       f"a schedule of deployment {label(dep)} has "
                                       f"{' and '.join(kinds)}: Prefect uses only {kinds[0]} "
                                       "and ignores the rest; split it into one item each")
                elif not kinds:
                    yield self.finding(config.path, item.pos,
                                       f"a schedule of deployment {label(dep)} has none of "
                                       "cron, interval and rrule: the deploy fails with "
                                       "'Unknown schedule type'")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * *"\n        timezone: UTC\n'
            "      - interval: 600\n        timezone: UTC\n")}),
        Example({**FLOW, "farm/prefect.yaml": config_with("    schedule: {}\n    schedules: []\n")},
                title="an empty legacy schedule is ignored by Prefect"),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * *"\n        interval: 600\n')},
                title="cron and interval in one item"),
        Example({**FLOW, "farm/prefect.yaml": config_with(
            "    schedules:\n      - timezone: UTC\n        active: true\n")},
                title="no kind at all"),
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedule:\n      cron: "0 6 * * *"\n    schedules:\n      - interval: 600\n')},
                title="schedule and schedules"),
        Example({**FLOW, "farm/prefect.yaml": config_with('    schedules:\n      cron: "0 6 * * *"\n')},
                title="schedules is not a list"),
    )
