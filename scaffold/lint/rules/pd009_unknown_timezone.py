from __future__ import annotations

from collections.abc import Iterator

from scaffold import schedules
from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with, label, schedule_values


class UnknownTimezoneRule(Rule):
    """## What it does
    Checks that the `timezone` of every schedule item is an IANA time zone name, the list
    Prefect validates against (`UTC`, `Europe/Paris`, `America/New_York`...). A `{{ ... }}`
    template is not checked.

    ## Why is this bad?
    The deploy fails on it, after the deployments before it in the same command were already
    applied; a near miss in letter case (`europe/paris`) is refused the same way.

    ## Example
    `timezone: Europe/Pariss`, `timezone: CEST` (an abbreviation, not a zone).

    ## Fix
    Use the zone's IANA name; `python -c "import zoneinfo; print(sorted(zoneinfo.available_timezones()))"`
    lists them.
    """

    code = "PD009"
    name = "unknown-timezone"
    summary = "Schedule timezone is not an IANA time zone"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        if not schedules.available_timezones():  # no time-zone database here: cannot tell
            return
        for dep, item, tz in schedule_values(config, "timezone"):
            if tz is None:
                continue
            problem = schedules.check_timezone(tz)
            if problem:
                yield self.finding(config.path, item.mark("timezone"),
                                   f"timezone {tz!r} of deployment {label(dep)}: {problem}")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * *"\n        timezone: America/New_York\n'
            "      - interval: 3600\n        timezone: UTC\n")}),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * *"\n        timezone: Europe/Pariss\n')},
                title="a misspelled zone"),
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * *"\n        timezone: europe/paris\n')},
                title="the wrong letter case"),
    )
