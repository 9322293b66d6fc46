"""--fix never leaves the repository broken (issue 10 §7): renames follow every reference or
are refused, flow names other code uses are not changed, links are not written through, and
the summary after --fix is what a fresh run reports."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.lint import clean_project, lint, write_files

REPORT = '''"""report: the main flow is misnamed."""
from prefect import flow, task


@task
def render_task(day: str) -> str:
    return day


@flow(name="farm__report_flow")
def make_report(day: str = "today") -> str:
    return render_task(day)
'''
WEEKLY = '''"""weekly: reuses the report flow."""
from prefect import flow, task

from report import make_report


@task
def week_task() -> list[str]:
    return ["mon", "tue"]


@flow(name="farm__weekly_flow")
def weekly_flow() -> list[str]:
    return [make_report(day) for day in week_task()]
'''
CONFIG = '''name: farm
deployments:
  - name: farm__report
    entrypoint: flows/report.py:make_report
  - name: farm__weekly
    entrypoint: flows/weekly.py:weekly_flow
'''


def _repo(root: Path, **extra: str) -> Path:
    return write_files(root, {"projects/farm/flows/report.py": REPORT,
                              "projects/farm/flows/weekly.py": WEEKLY,
                              "projects/farm/prefect.yaml": CONFIG, **extra})


def _imports(flows: Path, module: str) -> subprocess.CompletedProcess:
    """Import the module as Prefect loads a flow: its folder first on sys.path (real Prefect)."""
    env = {**os.environ, "PYTHONPATH": str(flows), "PREFECT_HOME": str(flows.parent / ".ph")}
    return subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=flows,
                          capture_output=True, text=True, check=False)


def test_a_rename_updates_the_imports_of_other_files(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    flows = root / "projects/farm/flows"
    run = lint(root, "--fix")
    assert "def report_flow(" in (flows / "report.py").read_text()
    weekly = (flows / "weekly.py").read_text()
    assert "from report import report_flow as make_report" in weekly
    assert _imports(flows, "weekly").returncode == 0, _imports(flows, "weekly").stderr
    assert "entrypoint: flows/report.py:report_flow" in (flows.parent / "prefect.yaml").read_text()
    assert run.exit_code == 0, run.stdout + run.stderr
    assert lint(root).stderr == run.stderr.splitlines()[-1] + "\n"  # what a fresh run says


def test_attribute_uses_are_renamed(tmp_path: Path) -> None:
    weekly = WEEKLY.replace("from report import make_report", "import report as rp").replace(
        "make_report(day)", "rp.make_report(day)")
    root = _repo(tmp_path / "repo", **{"projects/farm/flows/weekly.py": weekly,
                                       "projects/farm/scripts/adhoc.py":
                                       "from flows import report\n\nreport.make_report()\n"})
    lint(root, "--fix")
    assert "rp.report_flow(day)" in (root / "projects/farm/flows/weekly.py").read_text()
    assert "report.report_flow()" in (root / "projects/farm/scripts/adhoc.py").read_text()
    assert _imports(root / "projects/farm/flows", "weekly").returncode == 0


def test_a_reference_it_cannot_follow_makes_it_a_manual_fix(tmp_path: Path) -> None:
    weekly = WEEKLY.replace("from report import make_report",
                            "import report\n\nmake_report = getattr(report, 'make_report')")
    root = _repo(tmp_path / "repo", **{"projects/farm/flows/weekly.py": weekly})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    run = lint(root, "--fix")
    assert run.exit_code == 1
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before  # nothing renamed
    assert "PF003 not fixed, needs a manual fix: projects/farm/flows/weekly.py refers to " \
           "'make_report' in a way --fix cannot follow" in run.stderr
    assert "PF003" in run.stdout and "fixable" not in run.stderr.splitlines()[-1]
    assert _imports(root / "projects/farm/flows", "weekly").returncode == 0


def test_a_flow_name_other_code_uses_is_not_changed(tmp_path: Path) -> None:
    report = REPORT.replace('name="farm__report_flow"', 'name="farm_report"').replace(
        "def make_report", "def report_flow")
    config = CONFIG.replace("make_report", "report_flow")
    trigger = ('from prefect.deployments import run_deployment\n\n'
               'run_deployment("farm_report/farm__report")\n')
    root = _repo(tmp_path / "repo", **{"projects/farm/flows/report.py": report,
                                       "projects/farm/prefect.yaml": config,
                                       "scripts/trigger.py": trigger})
    run = lint(root, "--fix", "--select", "PF005")
    assert "farm_report" in (root / "projects/farm/flows/report.py").read_text()
    assert "the flow name 'farm_report' is used in scripts/trigger.py" in run.stderr
    assert run.exit_code == 1


def test_fix_does_not_write_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(clean_project()["projects/farm/flows/harvest.py"].replace(
        '@flow(name="farm__harvest_flow")', "@flow"))
    root = write_files(tmp_path / "repo", clean_project())
    link = root / "projects/farm/flows/harvest.py"
    link.unlink()
    link.symlink_to(outside)
    before = outside.read_bytes()
    run = lint(root, "--fix")
    assert outside.read_bytes() == before and link.is_symlink()
    assert "is a symbolic link" in run.stderr and run.exit_code == 1
    assert "PF004" in run.stdout


def test_the_summary_after_fix_is_a_fresh_runs(broken: Path) -> None:
    run = lint(broken, "--fix")
    fresh = lint(broken)
    assert run.stdout == fresh.stdout
    assert run.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1]


def test_fixable_in_the_summary_is_what_fix_fixes(broken: Path) -> None:
    plain = lint(broken).stderr
    diff = lint(broken, "--diff").stderr
    fixable = int(plain.rsplit("(", 1)[1].split()[0])
    assert f"Would fix {fixable} of " in diff, (plain, diff)


def test_an_entrypoint_that_waits_for_a_rename_counts_as_fixable(tmp_path: Path) -> None:
    # PF003 renames make_report; PD004's entrypoint edit needs that rename: both are fixable
    root = _repo(tmp_path / "repo")
    plain = lint(root)
    assert "(2 fixable with --fix)" in plain.stderr, plain.stderr
    diff = lint(root, "--diff")
    assert "Would fix 2 of 2 findings in 3 files; 0 would remain." in diff.stderr, diff.stderr


def test_an_entrypoint_edit_is_dropped_when_its_rename_is_refused(tmp_path: Path) -> None:
    weekly = WEEKLY.replace("from report import make_report",
                            "import report\n\nmake_report = getattr(report, 'make_report')")
    root = _repo(tmp_path / "repo", **{"projects/farm/flows/weekly.py": weekly})
    config = (root / "projects/farm/prefect.yaml").read_bytes()
    run = lint(root, "--fix")
    assert (root / "projects/farm/prefect.yaml").read_bytes() == config
    assert run.exit_code == 1 and "fixable" not in run.stderr.splitlines()[-1]
    assert "PD004 not fixed, needs a manual fix" in run.stderr


def test_a_read_only_file_stops_fix_before_anything_is_written(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    weekly = root / "projects/farm/flows/weekly.py"
    weekly.chmod(0o444)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    run = lint(root, "--fix")
    assert run.exit_code == 2 and "read-only" in run.stderr and "Traceback" not in run.stderr
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()
            and ".cache" not in p.parts} == {p: b for p, b in before.items()
                                             if ".cache" not in p.parts}


def test_an_import_of_another_projects_module_of_that_name_is_left_alone(tmp_path: Path) -> None:
    # orchard has its own report.py with a make_report of its own: not a reference
    orchard_report = REPORT.replace("farm__report_flow", "orchard__report_flow").replace(
        "def make_report", "def report_flow") + "\n\ndef make_report() -> None:\n    pass\n"
    orchard_weekly = WEEKLY.replace("farm__weekly_flow", "orchard__weekly_flow")
    root = _repo(tmp_path / "repo", **{
        "projects/orchard/flows/report.py": orchard_report,
        "projects/orchard/flows/weekly.py": orchard_weekly,
        "projects/orchard/prefect.yaml": "name: orchard\ndeployments: []\n",
        "projects/farm/tests/test_report.py": "from flows.report import make_report\n\n"
                                              "make_report()\n"})
    lint(root, "--fix", "--select", "PF003")
    assert (root / "projects/orchard/flows/weekly.py").read_text() == orchard_weekly
    assert "from report import report_flow as make_report" in (
        root / "projects/farm/flows/weekly.py").read_text()
    assert (root / "projects/farm/tests/test_report.py").read_text().startswith(
        "from flows.report import report_flow as make_report\n")
    assert _imports(root / "projects/orchard/flows", "weekly").returncode == 0


def test_a_rename_whose_importer_is_a_symlink_is_refused(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", **{"projects/farm/lib/weekly_impl.py": WEEKLY})
    weekly = root / "projects/farm/flows/weekly.py"
    weekly.unlink()
    weekly.symlink_to("../lib/weekly_impl.py")
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    run = lint(root, "--fix", "--select", "PF003")
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    assert "is a symbolic link" in run.stderr and run.exit_code == 1


def test_a_write_failing_midway_puts_back_the_files_already_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the rename spans report.py, weekly.py and prefect.yaml; the disk refuses weekly.py after
    # report.py was written: keeping report.py alone would break `import weekly`
    root = _repo(tmp_path / "repo")
    flows = root / "projects/farm/flows"
    before = {p: p.read_bytes() for p in (flows / "report.py", flows / "weekly.py",
                                          root / "projects/farm/prefect.yaml")}
    replace = os.replace

    def failing_replace(src: str, dst: str | os.PathLike) -> None:
        if str(dst).endswith("weekly.py"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        replace(src, dst)

    monkeypatch.setattr("scaffold.fs.os.replace", failing_replace)
    run = lint(root, "--fix")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[-1] == (
        f"error: cannot write {flows / 'weekly.py'}: Input/output error; the file was not "
        "changed; the fixes already written (projects/farm/flows/report.py) were undone: "
        "no file was changed")
    assert {p: p.read_bytes() for p in before} == before
    assert not [p for p in flows.iterdir() if p.name.endswith(".tmp")]
    assert _imports(flows, "weekly").returncode == 0
