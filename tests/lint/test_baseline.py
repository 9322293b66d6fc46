"""`cli lint --baseline / --write-baseline` on real git repositories (issue 10 §1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.lint import clean_project, lint, write_files

FLOW = "projects/farm/flows/harvest.py"
CONFIG = "projects/farm/prefect.yaml"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A committed repository with two legacy findings: a flow without name= and a flow
    name copied from another project."""
    files = clean_project("farm", ("harvest", "sow"))
    files[FLOW] = files[FLOW].replace('@flow(name="farm__harvest_flow")', "@flow")
    files["projects/farm/flows/sow.py"] = files["projects/farm/flows/sow.py"].replace(
        '"farm__sow_flow"', '"orchard__sow_flow"')
    root = write_files(tmp_path / "repo", files)
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "legacy")
    return root


def test_write_then_only_new_findings_fail(legacy: Path) -> None:
    assert lint(legacy).exit_code == 1
    run = lint(legacy, "--write-baseline", "baseline.json")
    assert run.exit_code == 0 and "Recorded 2 findings in baseline.json" in run.stderr
    data = json.loads((legacy / "baseline.json").read_text())
    assert {(e["code"], e["path"]) for e in data["findings"]} == {
        ("PF004", FLOW), ("PF005", "projects/farm/flows/sow.py")}
    assert all("line" not in e for e in data["findings"])  # not keyed on lines
    run = lint(legacy, "--baseline", "baseline.json")
    assert (run.exit_code, run.stdout) == (0, "")
    assert "2 in the baseline" in run.stderr

    # a new finding in a new project is reported, the old ones still are not
    write_files(legacy, {"projects/orchard/flows/pick.py": clean_project(
        "orchard", ("pick",))["projects/orchard/flows/pick.py"].replace(
        '@flow(name="orchard__pick_flow")', "@flow"),
        "projects/orchard/prefect.yaml": "name: orchard\ndeployments: []\n"})
    run = lint(legacy, "--baseline", "baseline.json")
    assert run.exit_code == 1
    assert [line.split()[1] for line in run.stdout.splitlines()] == ["PF004"]
    assert "orchard/flows/pick.py" in run.stdout


def test_lines_inserted_above_or_reformatting_do_not_make_a_finding_new(legacy: Path) -> None:
    lint(legacy, "--write-baseline", "baseline.json")
    flow = legacy / FLOW
    text = flow.read_text()
    # 5 lines inserted above, the decorator reformatted, the function's body re-indented
    text = '"""moved."""\nimport os\n\n\nX = os.sep\n' + text.replace(
        "@flow\n", "@flow  \n").replace("    pick_task(season)", "    pick_task(\n        season)")
    flow.write_text(text)
    git(legacy, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "edit")
    run = lint(legacy, "--baseline", "baseline.json")
    assert (run.exit_code, run.stdout) == (0, ""), run.stdout


def test_a_second_copy_of_a_recorded_finding_is_new(legacy: Path) -> None:
    lint(legacy, "--write-baseline", "baseline.json")
    files = clean_project("farm", ("till",))
    write_files(legacy, {"projects/farm/flows/till.py": files["projects/farm/flows/till.py"]
                         .replace('"farm__till_flow"', '"orchard__sow_flow"')})
    run = lint(legacy, "--baseline", "baseline.json", "--select", "PF005")
    assert run.exit_code == 1 and "till.py" in run.stdout and "sow.py" not in run.stdout


def test_fixed_findings_are_named_stale_and_the_file_only_shrinks(legacy: Path) -> None:
    lint(legacy, "--write-baseline", "baseline.json")
    assert lint(legacy, "--fix", "--select", "PF004").exit_code == 0
    run = lint(legacy, "--baseline", "baseline.json")
    assert run.exit_code == 0
    assert "stale entry, fixed since recorded: PF004 projects/farm/flows/harvest.py" in run.stderr
    # pruning keeps what still matches and never adds: a new finding stays out of the file
    write_files(legacy, {FLOW: (legacy / FLOW).read_text().replace(
        '"farm__harvest_flow"', '"farm__x_flow"')})
    run = lint(legacy, "--baseline", "baseline.json", "--write-baseline", "baseline.json")
    assert run.exit_code == 0
    data = json.loads((legacy / "baseline.json").read_text())
    assert [(e["code"], e["path"]) for e in data["findings"]] == [
        ("PF005", "projects/farm/flows/sow.py")]
    # only stale entries of what was checked: with --select PD, the PF entries are not stale
    run = lint(legacy, "--baseline", "baseline.json", "--select", "PD")
    assert "stale" not in run.stderr


def test_configured_baseline_and_bad_files(legacy: Path) -> None:
    lint(legacy, "--write-baseline", "lint-baseline.json")
    (legacy / "pyproject.toml").write_text(
        '[tool.scaffold.lint]\nbaseline = "lint-baseline.json"\n')
    run = lint(legacy)
    assert (run.exit_code, run.stdout) == (0, "")
    (legacy / "lint-baseline.json").write_text("{not json")
    run = lint(legacy)
    assert run.exit_code == 2 and "is not a baseline written by" in run.stderr
    assert "Traceback" not in run.stderr
    run = lint(legacy, "--baseline", "missing.json")
    assert run.exit_code == 2 and "missing.json does not exist" in run.stderr
    (legacy / "pyproject.toml").write_text('[tool.scaffold.lint]\nbaseline = 3\n')
    assert lint(legacy).exit_code == 2


def test_line_references_in_messages_are_not_part_of_the_key() -> None:
    from scaffold.lint.baseline import key
    from scaffold.lint.model import Finding

    a = Finding("projects/a/prefect.yaml", 6, 11, "PD003", "deployment name 'x' is also used "
                "at projects/b/prefect.yaml:11 and projects/c/prefect.yml:3; ...")
    b = a._replace(line=60, message=a.message.replace(":11", ":40").replace(":3;", ":9;"))
    assert key(a) == key(b)
    assert key(a)[2] == ("deployment name 'x' is also used at projects/b/prefect.yaml and "
                         "projects/c/prefect.yml; ...")


def test_unwritable_baseline_is_a_usage_error(legacy: Path, tmp_path: Path) -> None:
    run = lint(legacy, "--write-baseline", str(tmp_path / "missing" / "b.json"))
    assert run.exit_code == 2 and "cannot write" in run.stderr
    run = lint(legacy, "--write-baseline", "b.json", "--fix")
    assert run.exit_code == 2 and not (legacy / "b.json").exists()


def test_the_baseline_path_in_messages_is_quoted_and_one_line(legacy: Path) -> None:
    # the path comes from the command line or from pyproject.toml: the hints are commands to
    # paste (quoted) and a newline in the name must not start a line of its own
    name = "my baseline\n::error file=x::forged.json"
    (legacy / "pyproject.toml").write_text(
        f"[tool.scaffold.lint]\nbaseline = {json.dumps(name)}\n")
    run = lint(legacy, "--write-baseline", name)
    assert run.exit_code == 0
    assert run.stderr == ("Recorded 2 findings in 'my baseline\\n::error file=x::forged.json'; "
                          "`cli lint --baseline 'my baseline\\n::error file=x::forged.json'` "
                          "reports only new ones.\n")
    write_files(legacy, {FLOW: clean_project("farm", ("harvest",))[FLOW]})  # PF004 fixed
    run = lint(legacy)
    assert run.exit_code == 0
    assert not any(line.startswith("::") for line in run.stderr.splitlines()), run.stderr
    shown = f"'{legacy}/my baseline\\n::error file=x::forged.json'"  # the configured one
    assert (f"Drop the stale entries: cli lint --baseline {shown} --write-baseline {shown}\n"
            in run.stderr)
