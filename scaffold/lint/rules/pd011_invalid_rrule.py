from __future__ import annotations

import functools
import json
from collections.abc import Iterator

from scaffold import schedules
from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with, label, schedule_values


class InvalidRruleRule(Rule):
    """## What it does
    Checks that the `rrule` of every schedule item is an iCalendar recurrence rule that
    Prefect accepts (`FREQ=DAILY;BYHOUR=6`, optionally with `DTSTART:`), at most 6,500
    characters. Prefect also accepts a JSON object with an `rrule` key: its rule is checked.
    A `{{ ... }}` template is not checked.

    ## Why is this bad?
    The deploy fails on it, part way through a multi-deployment command.

    ## Example
    `rrule: FREQ=DAYLY` (a misspelled frequency), `rrule: BYHOUR=6` (no frequency).

    ## Fix
    Write a valid RRule; `FREQ` is one of `YEARLY`, `MONTHLY`, `WEEKLY`, `DAILY`, `HOURLY`,
    `MINUTELY`, `SECONDLY`.
    """

    code = "PD011"
    name = "invalid-rrule"
    summary = "Schedule rrule is not a valid recurrence rule"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        for dep, item, rrule in schedule_values(config, "rrule"):
            rule = _json_rule(rrule)
            problem = _check(rule) if isinstance(rule, str) else schedules.check_rrule(rule)
            if problem:
                yield self.finding(config.path, item.mark("rrule"),
                                   f"rrule {rrule!r} of deployment {label(dep)}: {problem}")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            "    schedules:\n      - rrule: FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6\n"
            "        timezone: UTC\n"
            "      - rrule: '{\"rrule\": \"FREQ=DAILY;BYHOUR=7\", \"timezone\": \"UTC\"}'\n")}),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with("    schedules:\n      - rrule: FREQ=DAYLY\n")},
                title="a misspelled frequency"),
        Example({**FLOW, "farm/prefect.yaml": config_with(
            "    schedules:\n      - rrule: '{\"rrule\": \"BYHOUR=6\"}'\n")},
                title="JSON form without a frequency"),
    )


def _json_rule(value: object) -> object:
    """Prefect reads an rrule that is a JSON object as RRuleSchedule(**object): its ``rrule``."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return value
        if isinstance(data, dict):
            return data.get("rrule")
    return value


_check = functools.lru_cache(maxsize=1024)(schedules.check_rrule)  # rules repeat across entries
