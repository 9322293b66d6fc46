"""scripts/_venv.sh: which extras it installs, and when it installs nothing.

pip itself is not run here (a real install takes minutes and the registry): the virtualenv's
python is a stand-in that records the arguments it gets, so the script's own decisions (what
to install, the stamps per extra and per pyproject.toml) are what is tested. The real install
is measured by hand and exercised by every `./scripts/test.sh` run and by the hook test.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FAKE = """#!/bin/sh
# stand-in python: `-m venv DIR` makes DIR/bin/python (a copy of this), anything else is logged
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "$*" >> "$CALLS"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "_venv.sh", root / "scripts")
    shutil.copy(REPO / "pyproject.toml", root)
    fake = tmp_path / "python"
    fake.write_text(FAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return root


def source(root: Path, extras: str | None = None) -> tuple[list[str], str]:
    """Source _venv.sh as the scripts do; the pip calls it made and the PATH it exported."""
    calls = root.parent / "calls.log"
    calls.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VENV", "SCAFFOLD_EXTRAS")}
    env.update(PYTHON=str(root.parent / "python"), VENV=str(root.parent / "venv"),
               CALLS=str(calls))
    if extras is not None:
        env["SCAFFOLD_EXTRAS"] = extras
    out = subprocess.run(["bash", "-c", ("set -euo pipefail; source scripts/_venv.sh; "
                                        'echo "$PATH"; echo "${_extras-unset}"')],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    made = calls.read_text().splitlines() if calls.exists() else []
    return made, out.stdout


def pip_targets(calls: list[str]) -> list[str]:
    """What each `pip install` was asked to install (after the pip upgrade that precedes it)."""
    installs = [c.split()[-1] for c in calls if " pip install " in f" {c} "]
    assert installs[0::2] == ["pip>=25"] * len(installs[0::2]), installs
    return installs[1::2]


def test_default_is_everything_once(checkout: Path) -> None:
    calls, out = source(checkout)
    assert pip_targets(calls) == [".[all,dev]"]
    # no --no-compile: with PYTHONDONTWRITEBYTECODE set nothing would write the .pyc later
    assert "--no-compile" not in calls[1] and "-e" in calls[1].split()
    path, leftover = out.splitlines()
    assert path.startswith(str(checkout.parent / "venv" / "bin") + ":")
    assert leftover == "unset"  # its helper variables do not leak into the caller
    again, _ = source(checkout)
    assert again == []


def test_the_demo_installs_less_and_the_tests_add_only_the_rest(checkout: Path) -> None:
    calls, _ = source(checkout, "all")
    assert pip_targets(calls) == [".[all]"]
    assert source(checkout, "all")[0] == []
    calls, _ = source(checkout, "all,dev")
    assert pip_targets(calls) == [".[dev]"]
    assert source(checkout, "all")[0] == [] and source(checkout)[0] == []


def test_a_changed_pyproject_installs_again(checkout: Path) -> None:
    source(checkout)
    (checkout / "pyproject.toml").write_text((checkout / "pyproject.toml").read_text() + "\n# x\n")
    calls, _ = source(checkout, "all")
    assert pip_targets(calls) == [".[all]"]
    stamps = sorted(p.name for p in (checkout.parent / "venv").glob(".scaffold-installed-*"))
    assert len(stamps) == 1 and stamps[0].endswith("-all")  # the old ones are gone
    assert pip_targets(source(checkout)[0]) == [".[dev]"]


def test_demo_sh_asks_for_what_the_demo_runs_only() -> None:
    text = (REPO / "scripts" / "demo.sh").read_text()
    assert 'SCAFFOLD_EXTRAS="${SCAFFOLD_EXTRAS:-all}" source scripts/_venv.sh' in text
    assert "source scripts/_venv.sh" in (REPO / "scripts" / "test.sh").read_text()
