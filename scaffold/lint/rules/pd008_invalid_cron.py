from __future__ import annotations

import functools
from collections.abc import Iterator

from scaffold import schedules
from scaffold.lint.model import ConfigSummary, Example, Finding, Rule
from scaffold.lint.rules._deployments import FLOW, config_with, label, schedule_values


class InvalidCronRule(Rule):
    """## What it does
    Checks that the `cron` of every schedule item (in `schedules:`, or the legacy `schedule:`)
    is a cron that Prefect can schedule: exactly 5 fields (minute hour day-of-month month
    day-of-week) or a nickname such as `@daily`, each field in range, and a date that exists
    (the cron fires at least once). A `{{ ... }}` template is not checked.

    ## Why is this bad?
    Prefect checks the cron only when the deployment is deployed, and some crons pass that
    check and never run: `0 6 30 2 *` (30 February) deploys, then the server fails to schedule
    it every cycle; a 6th field is read as seconds, so `0 6 * * * 1` fires every minute...
    in the wrong minute.

    ## Example
    `cron: "61 * * * *"` (minute 61), `cron: "*/0 * * * *"`, `cron: "0 6 30 2 *"`.

    ## Fix
    Write a valid 5-field cron (`0 6 * * *` is 06:00 every day); https://crontab.guru explains
    each field.
    """

    code = "PD008"
    name = "invalid-cron"
    summary = "Schedule cron does not parse or never fires"

    def check_config(self, config: ConfigSummary) -> Iterator[Finding]:
        for dep, item, cron in schedule_values(config, "cron"):
            day_or = item.value.get("day_or") is not False
            problem = (_check(cron, day_or) if isinstance(cron, str)
                       else schedules.check_cron(cron, day_or=day_or))
            if problem:
                yield self.finding(config.path, item.mark("cron"),
                                   f"cron {cron!r} of deployment {label(dep)}: {problem}")

    VALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "0 6 * * 1-5"\n        timezone: Europe/Paris\n'
            "      - cron: '@daily'\n")}),
        Example({**FLOW, "farm/prefect.yaml": config_with(
            '    schedules:\n      - cron: "{{ prefect.variables.farm_cron }}"\n')},
                title="a template is resolved by Prefect at deploy time"),
    )
    INVALID = (
        Example({**FLOW, "farm/prefect.yaml": config_with('    schedules:\n      - cron: "61 * * * *"\n')},
                title="a minute out of range"),
        Example({**FLOW, "farm/prefect.yaml": config_with('    schedules:\n      - cron: "0 6 30 2 *"\n')},
                title="30 February: it never fires"),
        Example({**FLOW, "farm/prefect.yaml": config_with('    schedules:\n      - cron: "0 6 * * * 1"\n')},
                title="6 fields"),
        Example({**FLOW, "farm/prefect.yaml": config_with('    schedule:\n      cron: "*/0 * * * *"\n')},
                title="the legacy schedule key"),
    )


# A repository repeats a few crons in many deployments: croniter takes ~0.5 ms a cron.
_check = functools.lru_cache(maxsize=4096)(schedules.check_cron)
