"""Shared fixtures. Every test runs with a private PREFECT_HOME and analytics off."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Set before anything imports prefect: tests must never touch ~/.prefect or phone home.
_HOME = tempfile.mkdtemp(prefix="scaffold-test-prefect-home-")
os.environ["PREFECT_HOME"] = _HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.pop("SCAFFOLD_ROOT", None)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def scratch_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty monorepo (``projects/`` only) in tmp_path, made the current folder."""
    root = tmp_path / "repo"
    (root / "projects").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root
