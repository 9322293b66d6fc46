"""Shared fixtures. Every test runs with a private PREFECT_HOME and analytics off.

Fixture names say what they are: ``*_repo`` is the root folder (a Path) of a repository on disk
(``scratch_repo`` empty, ``clean_repo`` one clean project, ``harvest_repo`` one generated flow,
``base_repo`` committed in git), ``*_model`` is a ``scaffold.repo.Repo``. One name, one meaning.
"""

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


def pytest_collection_modifyitems(config, items):
    # Whatever its marks say, a test that needs the session's Prefect server is an integration
    # test: the unit tier (-m "not integration and not e2e") never starts a server.
    for item in items:
        if "prefect_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def scratch_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty monorepo (``projects/`` only) in tmp_path, made the current folder."""
    root = tmp_path / "repo"
    (root / "projects").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect server for the test session (one per xdist worker): SQLite, 127.0.0.1, a
    free port, its own PREFECT_HOME, analytics off. Stopped with its children at the end, also
    when tests failed. See tests/helpers/prefect_server.py."""
    from tests.helpers.prefect_server import PrefectServer

    server = PrefectServer().start()
    try:
        yield server
    finally:
        server.stop()
