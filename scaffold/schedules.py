"""Schedules of a deployment: cron, interval, rrule and timezone, checked as Prefect checks them.

Base layer: no Prefect import, no I/O except reading the time-zone database. The generator
validates ``--schedule``/``--timezone`` here, the linter checks the ``schedules:`` items of a
prefect.yaml here, and the operations check them here before a deploy.

Crons are read with ``croniter``, the library Prefect 3.9 uses (vendored there as
``prefect._vendor.croniter``) both to validate a ``CronSchedule`` and, on the server, to compute
the next runs. We are stricter than Prefect's validation in two ways, both on purpose:

- exactly 5 fields (croniter, and so Prefect, reads a 6th field as seconds and a 7th as a year);
- the cron must fire: ``0 6 30 2 *`` (30 February) passes Prefect's validation, deploys, and the
  server's scheduler then fails on it every cycle. We ask croniter for the next fire time, as the
  server does, and refuse a cron for which there is none.

Time zones are IANA names from ``zoneinfo.available_timezones()``, the list Prefect validates
against. Every ``check_*`` returns the problem as text (``None`` when fine); every
``validate_*`` raises `UsageError` with a one-line message that names the option.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from scaffold.errors import UsageError

CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
CRON_EXAMPLE = "0 6 * * *"
# croniter's nicknames for common crons; Prefect accepts them too.
CRON_NICKNAMES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                            "@hourly"})
KINDS = ("cron", "interval", "rrule")
MAX_RRULE_LENGTH = 6500  # Prefect's limit (prefect._internal.schemas.validators)
# Ours, not Prefect's: a real cron is a few dozen characters, and croniter takes seconds on a
# list field of 100,000 characters (a hostile prefect.yaml would stall the linter).
MAX_CRON_LENGTH = 1000
_RANDOM_OR_HASHED = re.compile(r"[HhRr](\(|/|\Z)")  # croniter extensions Prefect refuses
# The start of the search for a first fire time: fixed, so that a check gives the same answer
# every day. A cron that fires only on 29 February still fires within the horizon croniter
# searches (about 50 years from here).
_ANCHOR = _dt.datetime(2024, 1, 1)


def _croniter():
    # imported on first use: ~15 ms, only when a cron is checked
    from croniter import croniter

    return croniter


def check_cron(expr: object, day_or: bool = True) -> str | None:
    """Why ``expr`` is not a cron Prefect can schedule, or None when it is."""
    if not isinstance(expr, str):
        return f"a cron is text such as '{CRON_EXAMPLE}', not {type(expr).__name__}"
    if len(expr) > MAX_CRON_LENGTH:
        return f"it is {len(expr):,} characters long; a cron has at most {MAX_CRON_LENGTH:,}"
    fields = expr.split()
    if not fields:
        return f"it is empty; write 5 fields ({' '.join(CRON_FIELDS)}), e.g. '{CRON_EXAMPLE}'"
    if len(fields) == 1 and fields[0].lower() in CRON_NICKNAMES:
        return None
    if len(fields) != 5:
        extra = ""
        if len(fields) == 6:
            extra = " (a 6th field would be read as seconds)"
        elif len(fields) == 7:
            extra = " (a 6th and 7th field would be read as seconds and year)"
        return (f"it has {len(fields)} fields{extra}; write exactly 5 "
                f"({' '.join(CRON_FIELDS)}), e.g. '{CRON_EXAMPLE}'")
    for name, field in zip(CRON_FIELDS, fields, strict=True):
        if _RANDOM_OR_HASHED.match(field):
            return f"the {name} field {field!r} is a random/hashed expression, which Prefect refuses"
    croniter = _croniter()
    from croniter import CroniterBadDateError, CroniterError

    text = " ".join(fields)
    try:
        it = croniter(text, _ANCHOR, day_or=day_or)
    except (CroniterError, ValueError, TypeError, KeyError, IndexError) as err:
        return f"it is not a valid cron ({_cron_reason(text, err)})"
    try:
        it.get_next(_dt.datetime)
    except (CroniterBadDateError, CroniterError, ValueError, OverflowError):
        return ("it never fires (no such date, e.g. 30 February); the Prefect server would fail "
                "to schedule it")
    return None


def _cron_reason(text: str, err: Exception) -> str:
    """croniter's message without the expression it repeats, in a field's words when possible."""
    message = str(err).replace(f"[{text}]", "").replace(text, "").strip(" :")
    field = re.search(r"in field (\d)", message)
    if field and int(field.group(1)) < len(CRON_FIELDS):
        message = message.replace(f"in field {field.group(1)}",
                                  f"in the {CRON_FIELDS[int(field.group(1))]} field")
    if "out of range" in message or "out of bands" in message:
        bad = _field_out_of_range(text)
        if bad:
            return bad
    return message or type(err).__name__


_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field_out_of_range(text: str) -> str | None:
    """Name the first field holding a number outside its range (croniter does not say which)."""
    for name, field, (low, high) in zip(CRON_FIELDS, text.split(), _RANGES, strict=True):
        for part in field.split(","):
            values = part.split("/")[0]
            for number in re.findall(r"\d+", values):
                if not low <= int(number) <= high:
                    return f"{number} is out of range in the {name} field ({low}-{high})"
    return None


def check_timezone(tz: object) -> str | None:
    """Why ``tz`` is not an IANA time zone Prefect accepts, or None when it is."""
    if not isinstance(tz, str) or not tz:
        return "a time zone is an IANA name such as 'UTC' or 'Europe/Paris'"
    if tz not in available_timezones():
        hint = ""
        lowered = {name.lower(): name for name in available_timezones()}
        if tz.lower() in lowered:
            hint = f" (did you mean {lowered[tz.lower()]!r}?)"
        return f"it is not a known IANA time zone{hint}; use a name such as 'UTC' or 'Europe/Paris'"
    return None


@functools.cache
def available_timezones() -> frozenset[str]:
    """The IANA names Prefect validates against (zoneinfo's list), read once per process."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?\Z")
_CLOCK = re.compile(r"(?:(?P<days>\d+) days?, )?(?P<hours>\d+):(?P<minutes>\d\d):"
                    r"(?P<seconds>\d\d(?:\.\d+)?)\Z")


def interval_seconds(value: object) -> float | None:
    """Seconds of a prefect.yaml ``interval:`` (a number of seconds, an ISO 8601 duration such as
    ``PT1H``, or ``[D days, ]HH:MM:SS``); None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if not isinstance(value, str):
        return None
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    try:
        return sign * float(text)
    except ValueError:
        pass
    match = _ISO_DURATION.match(text) if text not in ("P", "PT") and not text.endswith("T") else None
    if match is None:
        match = _CLOCK.match(text)
    if match is None:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    try:
        return sign * _dt.timedelta(**parts).total_seconds()
    except OverflowError:
        return sign * math.inf  # longer than a timedelta can hold: refused as too long


def check_interval(value: object) -> str | None:
    """Why ``value`` is not a positive interval, or None when it is."""
    seconds = interval_seconds(value)
    if seconds is None:
        return ("an interval is a number of seconds (e.g. 3600) or an ISO 8601 duration "
                "(e.g. PT1H)")
    if not seconds > 0:  # also NaN
        return f"an interval must be positive (got {_short(value)})"
    if seconds > _MAX_INTERVAL:
        return f"an interval must be at most {_MAX_INTERVAL:.0f} seconds (got {_short(value)})"
    return None


# Python's (and so pydantic's and Prefect's) longest timedelta
_MAX_INTERVAL = _dt.timedelta.max.total_seconds()


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "..." + text[-10:]


def check_rrule(value: object) -> str | None:
    """Why ``value`` is not an RRule string Prefect accepts, or None when it is."""
    if not isinstance(value, str) or not value.strip():
        return "an rrule is text such as 'FREQ=DAILY;BYHOUR=6'"
    if len(value) > MAX_RRULE_LENGTH:
        return f"it is {len(value)} characters long; Prefect's maximum is {MAX_RRULE_LENGTH}"
    import dateutil.rrule

    try:
        dateutil.rrule.rrulestr(value, cache=True)
    except (ValueError, TypeError, OverflowError) as err:
        return f"it is not a valid RRule ({err})"
    return None


@dataclass(frozen=True)
class Problem:
    """One defect of a ``schedules:`` item: the key it is about ("" for the item) and why."""

    key: str
    message: str


def check_item(item: object) -> list[Problem]:
    """The problems of one item of a deployment's ``schedules:`` list (empty when fine)."""
    if not isinstance(item, Mapping):
        return [Problem("", "a schedule is a mapping with one of cron, interval or rrule")]
    kinds = [k for k in KINDS if k in item]
    problems: list[Problem] = []
    if len(kinds) > 1:
        problems.append(Problem(kinds[1], f"a schedule has one of cron, interval or rrule; this "
                                          f"one has {' and '.join(kinds)}: split it in two items"))
    elif not kinds:
        problems.append(Problem("", "a schedule needs one of cron, interval or rrule"))
    day_or = item.get("day_or", True)
    checks = {"cron": lambda v: check_cron(v, day_or=day_or is not False),
              "interval": check_interval, "rrule": check_rrule}
    for kind in kinds:
        problem = checks[kind](item[kind])
        if problem:
            problems.append(Problem(kind, f"{kind} {_short(item[kind])}: {problem}"))
    if item.get("timezone") is not None:
        problem = check_timezone(item["timezone"])
        if problem:
            problems.append(Problem("timezone", f"timezone {_short(item['timezone'])}: {problem}"))
    return problems


# -- raising forms, for command-line options --------------------------------------------------


def validate_cron(expr: str, option: str = "--schedule") -> str:
    """``expr`` with its fields separated by single spaces; UsageError when Prefect could not
    schedule it."""
    problem = check_cron(expr)
    if problem:
        raise UsageError(f"{option} {_short(expr)}: {problem}")
    return " ".join(expr.split())


def validate_timezone(tz: str, option: str = "--timezone") -> str:
    problem = check_timezone(tz)
    if problem:
        raise UsageError(f"{option} {_short(tz)}: {problem}")
    return tz
