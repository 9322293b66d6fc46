"""`cli lint --changed-since REF` on real git repositories (issue 10 §2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.lint import clean_project, lint, write_files


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Two projects committed on main; farm has a legacy finding (no name=)."""
    files = {**clean_project("farm", ("harvest",)), **clean_project("orchard", ("pick",))}
    files["projects/farm/flows/harvest.py"] = files["projects/farm/flows/harvest.py"].replace(
        '@flow(name="farm__harvest_flow")', "@flow")
    root = write_files(tmp_path / "repo", files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "checkout", "-qb", "work")
    return root


def test_only_changed_files_are_reported(history: Path) -> None:
    assert "PF004" in lint(history).stdout
    run = lint(history, "--changed-since", "main")
    assert (run.exit_code, run.stdout) == (0, "")
    assert "0 files changed since main" in run.stderr
    # an uncommitted edit counts, and so does an untracked file
    pick = history / "projects/orchard/flows/pick.py"
    pick.write_text(pick.read_text().replace('"orchard__pick_flow"', '"orchard__picking"'))
    run = lint(history, "--changed-since", "main")
    assert [line.split()[1] for line in run.stdout.splitlines()] == ["PF005"]
    assert run.exit_code == 1 and "1 file changed since main" in run.stderr


def test_duplicate_name_of_an_untouched_flow_is_reported(history: Path) -> None:
    clean = clean_project()["projects/farm/flows/harvest.py"]
    (history / "projects/farm/flows/harvest.py").write_text(clean)
    git(history, "commit", "-qam", "farm named")
    git(history, "branch", "-f", "main", "HEAD")
    dup = clean_project("orchard", ("store",))["projects/orchard/flows/store.py"].replace(
        '@flow(name="orchard__store_flow")', '@flow(name="orchard__store_flow")\n'
        'def store_flow2() -> None:\n    pass\n\n\n@flow(name="farm__harvest_flow")')
    write_files(history, {"projects/orchard/flows/store.py": dup})
    run = lint(history, "--changed-since", "main", "--select", "PF006")
    # farm's flow has the same finding, but farm did not change since main
    assert run.stdout.splitlines() == [(
        "projects/orchard/flows/store.py:15:12: PF006 flow name 'farm__harvest_flow' is also "
        "used at projects/farm/flows/harvest.py:10; flow names must be unique across all "
        "projects")], run.stdout


@pytest.mark.parametrize(("ref", "message"), [
    ("nope", "nope"),
    ("--output=x", "--output=x"),
    ("main..work", "main..work"),
])
def test_bad_refs_are_usage_errors(history: Path, ref: str, message: str) -> None:
    run = lint(history, "--changed-since", ref)
    assert run.exit_code == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (history / "x").exists()


def test_not_a_git_repository(tmp_path: Path) -> None:
    root = write_files(tmp_path / "plain", clean_project())
    run = lint(root, "--changed-since", "main")
    assert run.exit_code == 2 and "git" in run.stderr


def test_a_root_reached_through_a_link_and_a_deleted_file(history: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(history)
    pick = history / "projects/orchard/flows/pick.py"
    pick.write_text(pick.read_text().replace('"orchard__pick_flow"', '"orchard__picking"'))
    (history / "projects/orchard/prefect.yaml").unlink()  # deleted: changed, nothing to show
    run = lint(link, "--changed-since", "main")
    assert [line.split()[1] for line in run.stdout.splitlines()] == ["PL002", "PF005"]
    assert "2 files changed since main" in run.stderr
