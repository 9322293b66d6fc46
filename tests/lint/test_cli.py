"""`cli lint` through click: exit codes, output formats, selection, paths, --fix / --diff."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.lint import clean_project, lint, write_files

BAD_NAME = ('@flow(name="farm__harvest_flow")', '@flow(name="farm_harvest")')


def _break_flow_name(root: Path) -> Path:
    path = root / "projects/farm/flows/harvest.py"
    path.write_text(path.read_text().replace(*BAD_NAME))
    return path


def test_clean_repository_exits_0_with_a_summary_on_stderr(clean_repo: Path) -> None:
    run = lint(clean_repo)
    assert (run.exit_code, run.stdout) == (0, "")
    assert run.stderr == "All checks passed (2 files in 1 project).\n"


def test_findings_exit_1_one_clickable_line_each(clean_repo: Path) -> None:
    _break_flow_name(clean_repo)
    run = lint(clean_repo)
    assert run.exit_code == 1
    assert run.stdout == ("projects/farm/flows/harvest.py:10:12: PF005 flow name 'farm_harvest' "
                          "of 'harvest_flow' must be 'farm__harvest_flow'\n")
    assert run.stderr == "Found 1 finding in 1 file (1 fixable with --fix).\n"


def test_paths_are_relative_to_the_current_folder(clean_repo: Path) -> None:
    _break_flow_name(clean_repo)
    run = lint(clean_repo, cwd=clean_repo / "projects/farm")
    assert run.stdout.startswith("flows/harvest.py:10:12: PF005 ")


def test_usage_errors_exit_2_with_one_line(clean_repo: Path, tmp_path: Path) -> None:
    for args, message in [
        (("--select", "PX001"), "unknown rule code 'PX001' in --select"),
        (("--select", ""), "--select names no rule"),  # would run nothing and pass
        (("--select", " , "), "--select names no rule"),
        (("--ignore", "PF0O4"), "unknown rule code 'PF0O4' in --ignore (did you mean 'PF004'"),
        (("projects/nope",), "projects/nope: no such file or folder"),
        ((str(tmp_path),), "outside the repository"),
        (("--format", "xml"), "Invalid value for '--format'"),
    ]:
        run = lint(clean_repo, *args)
        assert run.exit_code == 2, args
        assert message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr and run.stdout == ""
        if args[0] != "--format":  # click's own usage errors come with a usage line
            assert run.stderr.count("\n") == 1, run.stderr


def test_a_path_outside_projects_is_a_usage_error(clean_repo: Path) -> None:
    (clean_repo / "docs").mkdir()
    run = lint(clean_repo, "docs")
    assert run.exit_code == 2
    assert run.stderr == "error: docs: not in projects/; cli lint checks projects/<PROJECT>/prefect.yaml and flows/\n"


def test_select_and_ignore_take_codes_and_prefixes(broken: Path) -> None:
    def codes(*args: str) -> set[str]:
        return {line.split()[1] for line in lint(broken, *args).stdout.splitlines()}

    assert codes("--select", "PF004") == {"PF004"}
    assert codes("--select", "PE,PL") == {"PE001", "PE002", "PE003", "PE004", "PL001", "PL002",
                                          "PL003"}
    assert codes("--select", "PL", "--select", "PE001") == {"PE001", "PL001", "PL002", "PL003"}
    assert codes("--ignore", "PD,PF,PE,PN") == {"PL001", "PL002", "PL003"}
    assert codes("--select", "ALL", "--ignore", "PD00,PD01,PF,PL,PN,PE002,PE003,PE004") == {"PE001"}


def test_paths_limit_the_report_but_uniqueness_sees_everything(broken: Path) -> None:
    run = lint(broken, "projects/orchard/flows/pick.py")
    assert run.stdout.splitlines() == [
        ("projects/orchard/flows/pick.py:10:20: PF006 flow name 'shared__prepare_flow' is also "
         "used at projects/farm/flows/sow.py:10; flow names must be unique across all projects")]
    run = lint(broken, "projects/no_flows", "projects/no_config/")
    assert [line.split()[1] for line in run.stdout.splitlines()] == ["PL002", "PL003"]
    assert lint(broken, ".").stdout == lint(broken).stdout


def test_json_format(broken: Path) -> None:
    run = lint(broken, "--format", "json", "--select", "PF003,PD001")
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data == [
        {"path": "projects/farm/flows/harvest.py", "line": 11, "col": 5, "code": "PF003",
         "rule": "main-flow-function-name",
         "message": "main flow function 'harvest' must be named 'harvest_flow'", "fixable": True},
        {"path": "projects/farm/prefect.yaml", "line": 2, "col": 7, "code": "PD001",
         "rule": "project-name-mismatch",
         "message": "name 'orchard' must be the project folder name 'farm'", "fixable": False},
    ]
    clean = write_files(broken.parent / "clean", clean_project())
    assert json.loads(lint(clean, "--format", "json").stdout) == []


def test_github_format_is_actions_annotations(broken: Path) -> None:
    run = lint(broken, "--format", "github", cwd=broken / "projects")
    lines = run.stdout.splitlines()
    assert len(lines) == 34
    pattern = re.compile(r"::error file=[^,:]+,line=\d+,col=\d+::P[EFLDN]\d{3} .+")
    assert all(pattern.fullmatch(line) for line in lines), lines
    # paths from the repository root (what GitHub expects), not from the current folder
    assert "::error file=projects/farm/flows/harvest.py,line=11,col=5::PF003 main flow function " \
           "'harvest' must be named 'harvest_flow'" in lines


def test_show_source_points_at_the_column(clean_repo: Path) -> None:
    _break_flow_name(clean_repo)
    run = lint(clean_repo, "--show-source")
    assert run.stdout.splitlines()[1:] == [
        "   |",
        '10 | @flow(name="farm_harvest")',
        "   |            ^",
    ]


def test_fix_writes_and_reports_what_is_left(clean_repo: Path) -> None:
    path = _break_flow_name(clean_repo)
    (clean_repo / "projects/farm/flows/sow.py").write_text(
        "from prefect import flow\n\n@flow\ndef sow():\n    pass\n")
    run = lint(clean_repo, "--fix")
    assert run.exit_code == 1
    assert path.read_text().count('@flow(name="farm__harvest_flow")') == 1
    assert (clean_repo / "projects/farm/flows/sow.py").read_text() == (
        'from prefect import flow\n\n@flow(name="farm__sow_flow")\ndef sow_flow():\n    pass\n')
    assert [line.split()[1] for line in run.stdout.splitlines()] == ["PF007"]
    assert "Fixed 3 findings in 2 files." in run.stderr
    (clean_repo / "projects/farm/flows/sow.py").unlink()
    run = lint(clean_repo, "--fix")
    assert (run.exit_code, run.stdout) == (0, "")


def test_diff_shows_the_fix_and_writes_nothing(clean_repo: Path) -> None:
    path = _break_flow_name(clean_repo)
    before = path.read_bytes()
    run = lint(clean_repo, "--diff")
    assert run.exit_code == 1
    assert path.read_bytes() == before
    assert run.stdout == (
        "--- a/projects/farm/flows/harvest.py\n"
        "+++ b/projects/farm/flows/harvest.py\n"
        "@@ -7,7 +7,7 @@\n"
        '     return f"picked {season}"\n'
        ' \n \n'
        '-@flow(name="farm_harvest")\n'
        '+@flow(name="farm__harvest_flow")\n'
        ' def harvest_flow(season: str = "winter") -> None:\n'
        '     pick_task(season)\n'
        ' \n')
    assert "Would fix 1 of 1 finding in 1 file; 0 would remain." in run.stderr
    path.write_bytes(before.replace(b'"farm_harvest"', b'"farm__harvest_flow"'))
    assert lint(clean_repo, "--diff").exit_code == 0


def test_list_rules(clean_repo: Path) -> None:
    run = lint(clean_repo, "--list-rules")
    assert run.exit_code == 0
    assert "PF004 [*] missing-flow-name" in run.stdout
    assert "PD004 (*) invalid-entrypoint" in run.stdout
    assert len([line for line in run.stdout.splitlines() if re.match(r"P[EFLD]\d{3} ", line)]) == 28


def test_help_lists_the_options(clean_repo: Path) -> None:
    run = lint(clean_repo, "--help")
    for option in ("--fix", "--diff", "--format", "--select", "--ignore", "--show-source"):
        assert option in run.stdout


def test_fix_renames_the_function_then_follows_with_its_entrypoint(clean_repo: Path) -> None:
    """The entrypoint pointed at the old name; after the rename (round 1) it is rewritten
    (round 2), and the deployment keeps working at every step of the written result."""
    flow = clean_repo / "projects/farm/flows/harvest.py"
    config = clean_repo / "projects/farm/prefect.yaml"
    good_flow, good_config = flow.read_bytes(), config.read_bytes()
    flow.write_bytes(good_flow.replace(b"harvest_flow(", b"harvest("))
    config.write_bytes(good_config.replace(b"harvest.py:harvest_flow", b"harvest.py:harvest"))
    before = lint(clean_repo)
    assert [line.split()[1] for line in before.stdout.splitlines()] == ["PF003", "PD004"]
    # PD004 alone cannot fix it: harvest_flow does not exist yet, so nothing is written
    only_yaml = lint(clean_repo, "--fix", "--select", "PD004")
    assert only_yaml.exit_code == 1 and "Fixed" not in only_yaml.stderr
    assert config.read_bytes() == good_config.replace(b"harvest.py:harvest_flow",
                                                      b"harvest.py:harvest")
    run = lint(clean_repo, "--fix")
    assert (run.exit_code, run.stdout) == (0, "")
    assert (flow.read_bytes(), config.read_bytes()) == (good_flow, good_config)


def test_fix_rewrites_an_entrypoint_written_as_a_block_scalar(clean_repo: Path) -> None:
    config = clean_repo / "projects/farm/prefect.yaml"
    good = config.read_text()
    config.write_text(good.replace("entrypoint: flows/harvest.py:harvest_flow",
                                   "entrypoint: >-  # folded\n      ./flows/harvest.py:harvest_flow"))
    before = lint(clean_repo)
    assert "PD004" in before.stdout and "(1 fixable with --fix)" in before.stderr, before
    run = lint(clean_repo, "--fix")
    assert (run.exit_code, run.stdout) == (0, ""), (run.stdout, run.stderr)
    assert config.read_text() == good.replace("harvest_flow\n", "harvest_flow  # folded\n", 1)


def test_an_entrypoint_that_cannot_be_edited_is_not_called_fixable(clean_repo: Path) -> None:
    """An entrypoint that is an alias of another value: replace_value refuses it."""
    config = clean_repo / "projects/farm/prefect.yaml"
    config.write_text("x-ep: &ep ./flows/harvest.py:harvest_flow\n" + config.read_text().replace(
        "entrypoint: flows/harvest.py:harvest_flow", "entrypoint: *ep"))
    before = config.read_bytes()
    assert "fixable" not in lint(clean_repo).stderr  # an alias is known not to be editable
    run = lint(clean_repo, "--fix")
    assert run.exit_code == 1 and "PD004" in run.stdout
    assert "fixable" not in run.stderr, run.stderr
    assert config.read_bytes() == before


def test_after_fix_nothing_left_is_called_fixable(clean_repo: Path, monkeypatch) -> None:
    """Whatever a fixer refuses (here every YAML edit) is not advertised once --fix tried it."""
    from scaffold.lint.rules import pd004_invalid_entrypoint as pd004

    monkeypatch.setattr(pd004.InvalidEntrypointRule, "fix_yaml", lambda self, text, f: None)
    config = clean_repo / "projects/farm/prefect.yaml"
    config.write_text(config.read_text().replace("entrypoint: flows/", "entrypoint: ./flows/"))
    assert "(1 fixable with --fix)" in lint(clean_repo).stderr
    run = lint(clean_repo, "--fix")
    assert run.exit_code == 1 and "PD004" in run.stdout
    assert "fixable" not in run.stderr, run.stderr


def test_a_linked_flow_file_named_on_the_command_line_is_linted_as_in_a_full_run(
        clean_repo: Path) -> None:
    # flows/linked.py -> ../linked_source.py: a run of everything lints it as the flow file
    # linked.py; naming it must report the same, not resolve it to a file outside flows/
    (clean_repo / "projects/farm/linked_source.py").write_text(
        "from prefect import flow, task\n\n\n@task\ndef linked_task():\n    return 1\n\n\n"
        "@flow\ndef linked_flow():\n    linked_task()\n")
    (clean_repo / "projects/farm/flows/linked.py").symlink_to("../linked_source.py")
    everything = [line for line in lint(clean_repo).stdout.splitlines() if "linked" in line]
    assert everything and everything[0].startswith("projects/farm/flows/linked.py:9:2: PF004 ")
    named = lint(clean_repo, "projects/farm/flows/linked.py")
    assert named.exit_code == 1
    assert named.stdout.splitlines() == everything
