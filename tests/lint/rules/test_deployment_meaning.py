"""The meaning-level checks of prefect.yaml (PD008-PD014, PE004) beyond their documented
examples: aliases and merges, templates, where findings point, noqa, the cache, odd input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaffold.lint.rules._common import config_file, flow_file
from tests.helpers.lint import lint, write_files

CODES = "PD008,PD009,PD010,PD011,PD012,PD013,PD014,PE004"


def findings(root: Path, *args: str) -> list[tuple[int, int, str, str]]:
    run = lint(root, "--format", "json", "--select", CODES, *args)
    assert run.exit_code in (0, 1), run.stderr
    return [(f["line"], f["col"], f["code"], f["message"]) for f in json.loads(run.stdout)]


def repo(tmp_path: Path, yaml: str, flow: str | None = None) -> Path:
    return write_files(tmp_path / "repo", {"projects/farm/prefect.yaml": yaml,
                                           "projects/farm/flows/harvest.py": flow or flow_file()})


def flow_with(signature: str) -> str:
    return flow_file().replace('season: str = "winter")', signature + ")")


def test_the_sample_project_and_generated_configs_are_clean(tmp_path) -> None:
    root = repo(tmp_path, config_file())
    assert findings(root) == []


# -- parameters through definitions ---------------------------------------------------------

DEFS = """name: farm
definitions:
  base: &base
    days: three
    season: winter
  other: &other
    season: 4
deployments:
  - name: farm__harvest__merged
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      <<: *base
  - name: farm__harvest__own_wins
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      <<: *base
      days: 3
  - name: farm__harvest__alias
    entrypoint: flows/harvest.py:harvest_flow
    parameters: *other
  - name: farm__harvest__list
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      <<: [*other, *base]
      days: 2
"""


def test_values_from_definitions_are_checked_where_they_are_written(tmp_path) -> None:
    root = repo(tmp_path, DEFS, flow_with('season: str = "winter", days: int = 7'))
    got = findings(root)
    assert got == [
        (4, 11, "PD013", ("parameter 'days' of deployment 'farm__harvest__merged' is 'three' "
                         "(text), merged in here with '<<'; harvest_flow() takes days: int")),
        (7, 13, "PD013", ("parameter 'season' of deployment 'farm__harvest__alias' is 4 "
                         "(an integer), set here through an alias; harvest_flow() takes "
                         "season: str")),
        # '<<: [*other, *base]': the first one wins, as the loader reads it
        (7, 13, "PD013", ("parameter 'season' of deployment 'farm__harvest__list' is 4 "
                         "(an integer), merged in here with '<<'; harvest_flow() takes "
                         "season: str")),
    ]


def test_a_required_argument_set_by_a_merge_or_an_alias_counts(tmp_path) -> None:
    root = repo(tmp_path, DEFS.replace("three", "3").replace("season: 4", "season: x"),
                flow_with("season: str, days: int"))
    got = findings(root)
    # only the alias entry lacks 'days'; its finding points at its parameters
    assert got == [(20, 5, "PD014", ("deployment 'farm__harvest__alias' does not set 'days', "
                                     "which harvest_flow() requires (no default); add it to "
                                     "'parameters'"))]


def test_templated_values_are_not_type_checked(tmp_path) -> None:
    yaml = config_file().replace(
        "season: winter", "season: winter\n      days: '{{ prefect.variables.days }}'\n"
                          "      regions: ['{{ $REGION }}', eu]")
    root = repo(tmp_path, yaml, flow_with('season: str = "winter", days: int = 7, '
                                          "regions: list[int] | None = None"))
    got = findings(root)
    assert [(c, m.split(" is ")[1]) for _, _, c, m in got] == [
        ("PD013", "a list; harvest_flow() takes regions: list[int] | None")]  # 'eu' is no int


def test_unknown_annotations_kwargs_and_missing_flows_give_no_type_finding(tmp_path) -> None:
    yaml = config_file().replace("season: winter", "season: winter\n      day: 2024-13-45x\n"
                                                   "      model: {a: 1}\n      extra: 1")
    flow = flow_with('season: str = "winter", day: "datetime.date | None" = None, '
                     "model: MyModel | None = None, **rest: int")
    assert findings(repo(tmp_path, yaml, flow)) == []
    no_flow = write_files(tmp_path / "other", {"projects/farm/prefect.yaml": yaml})
    assert findings(no_flow) == []  # PD005 reports the missing file; nothing here crashes


def test_positional_only_and_keyword_only_arguments(tmp_path) -> None:
    flow = flow_with('season: str = "winter", /, *, days: int')
    root = repo(tmp_path, config_file().replace("season: winter", "season: 1"), flow)
    got = findings(root)
    assert sorted(c for _, _, c, _ in got) == ["PD013", "PD014"]


def test_parameters_not_a_mapping_is_left_to_pd007(tmp_path) -> None:
    root = repo(tmp_path, config_file().replace("parameters:\n      season: winter",
                                                "parameters: [winter]"),
                flow_with("season: str"))
    assert findings(root) == []
    assert "PD007" in lint(root).stdout


# -- schedules -------------------------------------------------------------------------------

SCHEDULES = """name: farm
definitions:
  nightly: &nightly
    cron: "0 25 * * *"
    timezone: Mars/Olympus
deployments:
  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: winter
    schedules:
      - *nightly
      - {interval: 0, rrule: "FREQ=DAILY"}
      - cron: "{{ prefect.variables.cron }}"
        timezone: "{{ $TZ }}"
      - interval: PT0S
      - 3600
      - rrule: "FREQ=DAILY;BYHOUR=25"
"""


def test_schedule_items_point_at_their_lines_also_through_aliases(tmp_path) -> None:
    got = findings(repo(tmp_path, SCHEDULES))
    where = [(line, code) for line, _, code, _ in got]
    assert sorted(where) == sorted([
        (4, "PD008"), (5, "PD009"),  # at the anchor, where the text is
        (13, "PD010"), (13, "PD012"),  # interval 0 and rrule in one item
        (16, "PD010"),  # PT0S is not positive
        (17, "PD012"),  # not a mapping
        (18, "PD011"),  # BYHOUR=25
    ])
    messages = {code: message for line, _, code, message in got if line in (4, 5)}
    assert "cron '0 25 * * *' of deployment 'farm__harvest'" in messages["PD008"]
    assert "25 is out of range in the hour field (0-23)" in messages["PD008"]
    assert "timezone 'Mars/Olympus'" in messages["PD009"]


def test_a_flow_mapping_item_points_at_the_key(tmp_path) -> None:
    got = findings(repo(tmp_path, SCHEDULES))
    line13 = sorted((col, code) for line, col, code, _ in got if line == 13)
    # '      - {interval: 0, rrule: "FREQ=DAILY"}': the value 0 and the second kind's value
    assert line13 == [(20, "PD010"), (30, "PD012")]


def test_legacy_schedule_string_is_reported(tmp_path) -> None:
    yaml = config_file().replace("    work_pool:", '    schedule: "0 6 * * *"\n    work_pool:')
    got = findings(repo(tmp_path, yaml))
    assert [(line, code) for line, _, code, _ in got] == [(7, "PD012")]


@pytest.mark.parametrize("cron", ["0 6 * * *", "@hourly", "*/15 8-18 * * 1-5", "0 0 29 2 *"])
def test_good_crons_pass(tmp_path, cron) -> None:
    yaml = config_file().replace("    work_pool:", f'    schedules:\n      - cron: "{cron}"\n'
                                                 "    work_pool:")
    assert findings(repo(tmp_path, yaml)) == []


def test_day_or_false_is_read_as_prefect_reads_it(tmp_path) -> None:
    # 31st of the month AND a Monday: fires some day; day_or false does not make it invalid
    yaml = config_file().replace("    work_pool:", '    schedules:\n      - cron: "0 6 31 * 1"\n'
                                                 "        day_or: false\n    work_pool:")
    assert findings(repo(tmp_path, yaml)) == []


# -- duplicate keys --------------------------------------------------------------------------

DUPS = """name: farm
name: farm
deployments:
  - name: farm__harvest
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: winter
    schedules:
      - cron: "0 6 * * *"
        cron: "0 7 * * *"  # noqa: PE004
    work_pool: {name: a, name: b}
"""


def test_duplicate_keys_everywhere_and_noqa(tmp_path) -> None:
    got = findings(repo(tmp_path, DUPS))
    assert [(line, col, code) for line, col, code, _ in got] == [
        (2, 1, "PE004"), (11, 26, "PE004")]
    assert got[0][3] == ("key 'name' is written again here (first at line 1); YAML keeps only "
                         "this value and drops the first: remove one of them")


def test_a_broken_yaml_gives_pe003_only(tmp_path) -> None:
    root = repo(tmp_path, "name: farm\ndeployments: [\n")
    assert findings(root) == []
    assert "PE003" in lint(root).stdout


# -- the cache -------------------------------------------------------------------------------


def test_cached_runs_report_the_same_and_see_a_changed_annotation(tmp_path) -> None:
    yaml = SCHEDULES.replace("season: winter", "season: winter\n      days: '3'")
    root = repo(tmp_path, yaml, flow_with('season: str = "winter", days: int = 7'))
    cold = findings(root)
    assert findings(root) == cold  # warm: from .cache/lint
    assert not [f for f in cold if f[2] == "PD013"]
    # only the flow file changes: the prefect.yaml summary comes from the cache, and the
    # repository-level check sees the new annotation
    flow = root / "projects/farm/flows/harvest.py"
    flow.write_text(flow_with('season: str = "winter", days: list[int] | None = None'))
    again = findings(root)
    assert [f for f in again if f[2] == "PD013"] == [
        (11, 13, "PD013", ("parameter 'days' of deployment 'farm__harvest' is '3' (text); "
                          "harvest_flow() takes days: list[int] | None"))]
    assert [f for f in again if f[2] != "PD013"] == cold


def test_hostile_values_are_refused_quickly(tmp_path) -> None:
    # a 100,000-character cron (croniter would take seconds), a parameter list of 100,000
    # items (the summary keeps 100), a deeply nested annotation
    yaml = config_file().replace("    work_pool:", '    schedules:\n      - cron: "'
                                 + "1," * 50_000 + '1 * * * *"\n    work_pool:').replace(
        "season: winter", "season: [" + ", ".join(["1"] * 100_000) + "]")
    flow = flow_with("season: " + "list[" * 200 + "int" + "]" * 200)
    got = findings(repo(tmp_path, yaml, flow))
    assert [(code, message.split(": ", 1)[1]) for _, _, code, message in got] == [
        ("PD008", "it is 100,009 characters long; a cron has at most 1,000")]


def test_without_a_time_zone_database_no_zone_is_called_unknown(tmp_path) -> None:
    # a machine without /usr/share/zoneinfo and without the tzdata package: PD009 cannot know
    import subprocess
    import sys

    yaml = config_file().replace("    work_pool:", '    schedules:\n      - cron: "0 6 * * *"\n'
                                                 "        timezone: Europe/Paris\n"
                                                 "      - cron: \"61 * * * *\"\n    work_pool:")
    root = repo(tmp_path, yaml)
    code = ("import sys; sys.modules['tzdata'] = None\n"
            "from scaffold.cli import main; main()")
    env = {**__import__("os").environ, "PYTHONTZPATH": str(tmp_path / "no-zoneinfo")}
    out = subprocess.run([sys.executable, "-c", code, "--root", str(root), "lint", "--no-cache",
                          "--select", "PD008,PD009"], capture_output=True, text=True, env=env,
                         check=False, timeout=60)
    assert out.returncode == 1, out.stderr
    assert [line.split()[1] for line in out.stdout.splitlines()] == ["PD008"]


def test_parameters_merged_with_the_whole_entry(tmp_path) -> None:
    yaml = """name: farm
definitions:
  defaults: &defaults
    entrypoint: flows/harvest.py:harvest_flow
    parameters:
      season: 7
deployments:
  - <<: *defaults
    name: farm__harvest
"""
    got = findings(repo(tmp_path, yaml))
    assert got == [(6, 15, "PD013", ("parameter 'season' of deployment 'farm__harvest' is 7 "
                                     "(an integer), merged in here with '<<'; harvest_flow() "
                                     "takes season: str"))]
