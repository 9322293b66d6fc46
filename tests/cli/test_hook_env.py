"""The environment pre-commit builds for our hooks in another repository holds the linter only.

A consumer repository points `repo:` at a snapshot of this checkout (a local git repository of
the working tree); the real pre-commit, with an empty cache of its own, installs the package
as it does for any user (`pip install .`, no extras) and runs the hook. Needs git, pre-commit
and the package registry (pre-commit installs click, libcst and PyYAML from it).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold.lint.rules._common import config_file, flow_file

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRE_COMMIT = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not PRE_COMMIT or not shutil.which("git"),
                                 reason="needs pre-commit and git")]

# The distributions of what only the generator and the operations need.
NOT_IN_HOOK = {"prefect", "copier", "jinja2", "ruamel-yaml", "httpx", "pydantic", "sqlalchemy",
               "uvicorn", "fastapi", "rich"}


def run(cwd: Path, env: dict, *cmd: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=timeout)


def snapshot(dst: Path, env: dict) -> str:
    """This checkout's working tree (tracked and new files, as they are now) as a git repository
    at ``dst``; returns its commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = REPO / rel
        if src.is_file() and not src.is_symlink():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    run(dst, env, "git", "init", "-q", "-b", "main")
    run(dst, env, "git", "add", "-A")
    assert run(dst, env, "git", "commit", "-q", "-m", "snapshot").returncode == 0
    return run(dst, env, "git", "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> dict:
    """pre-commit run once in a consumer repository; what it built, and what it printed."""
    tmp = tmp_path_factory.mktemp("hook")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "SCAFFOLD_", "PRE_COMMIT", "VIRTUAL_ENV"))}
    env.update(PRE_COMMIT_HOME=str(tmp / "pre-commit-home"), GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    ours = tmp / "scaffold"
    ours.mkdir()
    rev = snapshot(ours, env)
    consumer = tmp / "consumer"
    (consumer / "projects/farm/flows").mkdir(parents=True)
    # with a schedule: the hook's lint checks its cron (croniter) and zone (tzdata) too
    (consumer / "projects/farm/prefect.yaml").write_text(config_file("farm", ("harvest",)).replace(
        "    work_pool:", '    schedules:\n      - cron: "0 6 * * *"\n        timezone: Europe/Paris\n'
                         "    work_pool:"))
    (consumer / "projects/farm/flows/harvest.py").write_text(flow_file("farm", "harvest"))
    (consumer / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ours}\n    rev: {rev}\n    hooks:\n      - id: lint-names\n")
    run(consumer, env, "git", "init", "-q", "-b", "main")
    run(consumer, env, "git", "add", "-A")
    first = run(consumer, env, PRE_COMMIT, "run", "--all-files", "lint-names", timeout=900)
    # where pre-commit keeps this repository at this rev: its own database says
    with sqlite3.connect(tmp / "pre-commit-home" / "db.db") as db:
        rows = db.execute("SELECT path FROM repos WHERE repo = ? AND ref = ?",
                          (str(ours), rev)).fetchall()
    assert len(rows) == 1, rows
    envs = list(Path(rows[0][0]).glob("py_env-*"))
    assert len(envs) == 1, envs
    return {"consumer": consumer, "env": env, "first": first, "venv": envs[0], "ours": ours}


def distributions(venv: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, re\n"
            "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version"
            " for d in m.distributions()}))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_the_hook_environment_holds_the_linter_without_prefect(hook_env) -> None:
    first = hook_env["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "naming conventions (cli lint)" in first.stdout and "Passed" in first.stdout
    venv = hook_env["venv"]
    assert (venv / ".install_state_v1").is_file() or (venv / ".install_state_v2").is_file()
    dists = distributions(venv)
    assert "scaffold" in dists
    assert {"click", "libcst", "pyyaml", "croniter", "tzdata"} <= dists.keys()
    assert not NOT_IN_HOOK & dists.keys(), sorted(NOT_IN_HOOK & dists.keys())
    size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"hook environment: {len(dists)} distributions, {size / 2**20:.0f} MB")


def test_the_hook_reports_findings_with_that_environment(hook_env) -> None:
    consumer, env = hook_env["consumer"], hook_env["env"]
    flow = consumer / "projects/farm/flows/harvest.py"
    flow.write_text(flow.read_text().replace("farm__harvest_flow", "harvest"))
    config = consumer / "projects/farm/prefect.yaml"
    config.write_text(config.read_text().replace("0 6 * * *", "0 6 30 2 *"))
    broken = run(consumer, env, PRE_COMMIT, "run", "--all-files", "lint-names")
    assert broken.returncode == 1
    assert "PF005 flow name 'harvest' of 'harvest_flow' must be 'farm__harvest_flow'" in (
        broken.stdout)
    assert "PD008 cron '0 6 30 2 *' of deployment 'farm__harvest': it never fires" in broken.stdout
    assert "Installing environment" not in broken.stdout + broken.stderr  # the same one


def test_operations_in_the_hook_environment_say_how_to_install_prefect(hook_env) -> None:
    cli = hook_env["venv"] / "bin" / "cli"
    for argv in (["prefect", "deploy", "-p", "farm"], ["status"], ["server", "start"]):
        result = run(hook_env["consumer"], hook_env["env"], str(cli), *argv)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "pip install 'scaffold[prefect]'" in result.stderr
    gen = run(hook_env["consumer"], hook_env["env"], str(cli), "new-flow", "farm", "sow")
    assert gen.returncode == 2 and "pip install 'scaffold[generate]'" in gen.stderr
    assert not (hook_env["consumer"] / "projects/farm/flows/sow.py").exists()
