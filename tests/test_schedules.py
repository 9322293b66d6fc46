"""scaffold.schedules: crons, intervals, rrules and time zones, checked as Prefect checks them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scaffold import schedules as S
from scaffold.errors import UsageError

GOOD_CRONS = ["0 6 * * *", "*/5 * * * *", "0 6 * * mon-fri", "0 6 L * *", "0 6 * * 5#3",
              "0 0 29 2 *", "0 6 * * 7", "5/15 * * * *", "@daily", "@HOURLY", "  0  6 * * * "]

BAD_CRONS = [
    ("", "it is empty"),
    ("every day", "it has 2 fields; write exactly 5"),
    ("0 0 6 * * *", "it has 6 fields (a 6th field would be read as seconds); write exactly 5"),
    ("0 0 6 * * * 2030", "it has 7 fields"),
    ("61 * * * *", "61 is out of range in the minute field (0-59)"),
    ("0 24 * * *", "24 is out of range in the hour field (0-23)"),
    ("0 6 * 13 *", "13 is out of range in the month field (1-12)"),
    ("*/0 * * * *", "step '0' in the minute field is not acceptable"),
    ("1-70 * * * *", "70 is out of range in the minute field"),
    ("0 6 30 2 *", "it never fires"),
    ("0 0 31 4 *", "it never fires"),
    # 31 April OR a weekday: cron would fire on weekdays, croniter (and so Prefect's scheduler)
    # finds no date at all; refusing it is what keeps the server from failing on it
    ("0 0 31 4 1-5", "it never fires"),
    ("H * * * *", "random/hashed expression"),
    ("R 6 * * *", "random/hashed expression"),
    ("0 6 * * funday", "not a valid cron"),
    ("@fortnightly", "has 1 fields"),
]


@pytest.mark.parametrize("cron", GOOD_CRONS)
def test_good_crons(cron: str):
    assert S.check_cron(cron) is None
    assert S.validate_cron(cron) == " ".join(cron.split())


@pytest.mark.parametrize(("cron", "message"), BAD_CRONS, ids=[c or "empty" for c, _ in BAD_CRONS])
def test_bad_crons(cron: str, message: str):
    problem = S.check_cron(cron)
    assert problem is not None and message in problem, problem
    with pytest.raises(UsageError) as err:
        S.validate_cron(cron)
    text = str(err.value)
    assert text.startswith(f"--schedule {cron!r}: ") and "\n" not in text


def test_cron_is_not_text():
    assert "not int" in S.check_cron(5)


def test_answer_does_not_depend_on_today():
    # Leap day: fires in 2024/2028; the fixed anchor makes the check reproducible.
    assert S.check_cron("0 0 29 2 *") is None


@pytest.mark.parametrize(("tz", "ok"), [("UTC", True), ("Europe/Paris", True),
                                        ("Asia/Tokyo", True), ("Mars/Base", False), ("", False),
                                        ("europe/paris", False), ("../../etc/passwd", False),
                                        ("Europe/Paris\n", False)])
def test_timezones(tz: str, ok: bool):
    assert (S.check_timezone(tz) is None) is ok


def test_timezone_case_hint():
    assert "did you mean 'Europe/Paris'" in S.check_timezone("europe/paris")
    with pytest.raises(UsageError, match=r"--timezone 'Mars/Base': it is not a known IANA"):
        S.validate_timezone("Mars/Base")


@pytest.mark.parametrize(("value", "seconds"), [
    (3600, 3600.0), (0.5, 0.5), ("3600", 3600.0), ("PT1H", 3600.0), ("P1D", 86400.0),
    ("P1W", 604800.0), ("PT1H30M", 5400.0), ("01:00:00", 3600.0), ("1 day, 00:00:01", 86401.0),
    ("-60", -60.0), (True, None), ("soon", None), (None, None), ([1], None), ("PT", None),
])
def test_interval_seconds(value, seconds):
    assert S.interval_seconds(value) == seconds


@pytest.mark.parametrize(("value", "message"), [
    (0, "must be positive"), (-5, "must be positive"), ("-PT1H", "must be positive"),
    (float("nan"), "must be positive"), ("hourly", "number of seconds"), (False, "number of seconds"),
])
def test_bad_intervals(value, message: str):
    assert message in S.check_interval(value)


def test_rrules():
    assert S.check_rrule("FREQ=DAILY;BYHOUR=6") is None
    assert S.check_rrule("DTSTART:20240101T000000\nRRULE:FREQ=WEEKLY;BYDAY=MO") is None
    assert "not a valid RRule" in S.check_rrule("FREQ=SOMETIMES")
    assert "maximum is 6500" in S.check_rrule("FREQ=DAILY;" + "x" * 7000)
    assert "an rrule is text" in S.check_rrule(3)


def test_check_item():
    assert S.check_item({"cron": "0 6 * * *", "timezone": "UTC"}) == []
    assert S.check_item({"interval": 60}) == []
    assert S.check_item({"rrule": "FREQ=DAILY", "timezone": "Asia/Tokyo"}) == []
    mixed = S.check_item({"cron": "0 6 * * *", "interval": 60})
    assert [p.key for p in mixed] == ["interval"] and "cron and interval" in mixed[0].message
    assert S.check_item({"timezone": "UTC"})[0].message.startswith("a schedule needs one of")
    assert S.check_item(["cron"])[0].key == ""
    bad = S.check_item({"cron": "61 * * * *", "timezone": "Mars/Base"})
    assert [p.key for p in bad] == ["cron", "timezone"]
    assert bad[0].message == ("cron '61 * * * *': it is not a valid cron (61 is out of range in "
                              "the minute field (0-59))")
    assert S.check_item({"cron": "0 6 30 2 1", "day_or": False})[0].key == "cron"
    assert S.check_item({"interval": 0})[0].message == "interval 0: an interval must be positive (got 0)"


def test_imports_no_prefect_and_is_fast_to_import():
    code = "import sys, scaffold.schedules as s; s.validate_cron('0 6 * * *'); " \
           "s.validate_timezone('UTC'); print(any(m.split('.')[0] == 'prefect' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


PARITY = [c for c in GOOD_CRONS if not c.startswith("@")] + [
    c for c, m in BAD_CRONS if "out of range" in m or "not acceptable" in m or "hashed" in m]


@pytest.mark.parametrize("cron", PARITY)
def test_prefect_agrees(cron: str):
    # What we accept, Prefect's own CronSchedule validation accepts; what we refuse as invalid
    # (not just "never fires" or "5 fields only", where we are stricter on purpose), it refuses.
    schemas = pytest.importorskip("prefect.client.schemas.schedules")
    try:
        schemas.CronSchedule(cron=" ".join(cron.split()), timezone="UTC")
        prefect_ok = True
    except ValueError:
        prefect_ok = False
    assert prefect_ok is (S.check_cron(cron) is None)


@pytest.mark.parametrize("cron", ["0 6 30 2 *", "0 0 31 4 *", "0 0 31 4 1-5", "0 0 29 2 *",
                                  "0 6 * * *"])
def test_never_fires_as_prefects_scheduler_sees_it(cron: str):
    # The server computes next runs with Prefect's vendored croniter: where it finds no date,
    # we refuse; where it finds one, we accept.
    vendored = pytest.importorskip("prefect._vendor.croniter")
    import datetime

    try:
        vendored.croniter(cron, datetime.datetime(2024, 1, 1)).get_next(datetime.datetime)
        fires = True
    except vendored.CroniterBadDateError:
        fires = False
    assert fires is (S.check_cron(cron) is None)


@pytest.mark.parametrize(("value", "message"), [
    ("P" + "1" * 20000 + "D", "at most"),
    ("PT" + "9" * 400 + "H", "at most"),
    ("1" * 400, "at most"),  # float('1' * 400) is 1e399: finite, and too long
    ("1" * 20000, "at most"),
    (float("inf"), "at most"),
    (10**30, "at most"),
])
def test_huge_intervals_are_refused_not_crashed(value, message: str):
    problem = S.check_interval(value)
    assert problem is not None and message in problem and len(problem) < 200


def test_huge_crons_are_refused_quickly():
    import time

    start = time.monotonic()
    problem = S.check_cron("0,1" + ",2" * 50000 + " * * * *")
    assert problem is not None and "characters" in problem
    assert time.monotonic() - start < 1


def test_messages_stay_short_for_huge_values():
    (problem,) = S.check_item({"cron": "x" * 100000})
    assert len(problem.message) < 300
    with pytest.raises(UsageError) as err:
        S.validate_timezone("Z" * 100000)
    assert len(str(err.value)) < 300
