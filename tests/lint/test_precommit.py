"""The real pre-commit, in a scratch git repository, with the hooks of .pre-commit-hooks.yaml.

No network: the hooks are `repo: local` with `language: system` and the entry pointing at this
virtualenv's `cli` (what .pre-commit-hooks.yaml does with `language: python` after pre-commit
has installed this package).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.lint import REPO, clean_project, write_files

BIN = Path(sys.executable).parent
PRE_COMMIT = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not PRE_COMMIT or not shutil.which("git"),
                                 reason="needs pre-commit and git")]


def test_hook_manifest_and_config_are_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_config, load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    assert hooks.keys() == {"lint-names", "fix-names"}
    assert hooks["lint-names"]["entry"] == "cli lint"
    assert hooks["fix-names"]["entry"] == "cli lint --fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False  # uniqueness needs the whole repository
    config = load_config(str(REPO / ".pre-commit-config.yaml"))
    ids = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"lint-names", "ruff", "check-yaml", "end-of-file-fixer"} <= ids
    assert config["exclude"] == "^tests/fixtures/"


def _local_config() -> str:
    """The manifest's hooks as local hooks running this virtualenv's `cli`."""
    manifest = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hooks = []
    for hook in manifest:
        program, _, args = hook["entry"].partition(" ")
        hooks.append({**hook, "language": "system", "entry": f"{BIN / program} {args}".strip(),
                      "stages": ["pre-commit"] if hook["id"] == "lint-names" else ["manual"]})
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, dict]:
    root = write_files(tmp_path / "repo", {
        **clean_project("farm", ("harvest", "sow")), **clean_project("orchard", ("pick",)),
        ".pre-commit-config.yaml": _local_config(), ".gitignore": ".cache/\n"})
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SCAFFOLD_"))}
    env.update(HOME=str(home), PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    git(root, env, "init", "-q", "-b", "main")
    run(root, env, PRE_COMMIT, "install")
    return root, env


def run(root: Path, env: dict, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False,
                          timeout=120)


def git(root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return run(root, env, "git", *args)


def commits(root: Path, env: dict) -> int:
    out = git(root, env, "rev-list", "--count", "HEAD").stdout.strip()
    return int(out) if out.isdigit() else 0


def test_a_clean_commit_passes_and_a_broken_one_is_blocked(git_repo) -> None:
    root, env = git_repo
    git(root, env, "add", "-A")
    ok = git(root, env, "commit", "-q", "-m", "clean")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "naming conventions (cli lint)" in ok.stdout + ok.stderr
    assert commits(root, env) == 1

    # a flow name copied from another project: only orchard's file changes, the hook still
    # sees the duplicate because it checks the whole repository
    pick = root / "projects/orchard/flows/pick.py"
    pick.write_text(pick.read_text().replace("orchard__pick_flow", "farm__sow_flow"))
    git(root, env, "add", "-A")
    blocked = git(root, env, "commit", "-q", "-m", "broken")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert commits(root, env) == 1
    assert "Failed" in output
    assert ("projects/orchard/flows/pick.py:10:12: PF005 flow name 'farm__sow_flow' of "
            "'pick_flow' must be 'orchard__pick_flow'") in output
    assert "projects/farm/flows/sow.py:10:12: PF006 flow name 'farm__sow_flow' is also used" in output


def test_fix_names_repairs_what_it_can(git_repo) -> None:
    root, env = git_repo
    git(root, env, "add", "-A")
    assert git(root, env, "commit", "-q", "-m", "clean").returncode == 0
    sow = root / "projects/farm/flows/sow.py"
    good = sow.read_text().replace("an example flow", "sows the seeds")
    sow.write_text(good.replace('@flow(name="farm__sow_flow")', "@flow"))
    git(root, env, "add", "-A")
    assert git(root, env, "commit", "-q", "-m", "no name").returncode != 0
    fixed = run(root, env, PRE_COMMIT, "run", "fix-names", "--hook-stage", "manual")
    assert fixed.returncode != 0  # pre-commit fails a hook that changed files
    assert "Fixed 1 finding in 1 file." in fixed.stdout
    assert sow.read_text() == good
    git(root, env, "add", "-A")
    again = git(root, env, "commit", "-q", "-m", "fixed")
    assert again.returncode == 0, again.stdout + again.stderr
    assert commits(root, env) == 2
