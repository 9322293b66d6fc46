"""`cli server start|stop|status` with a Prefect server it did not start on the port (issue 9
§7): said clearly, never adopted as the embedded one, never stopped; the demo refuses it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import invoke

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def foreign_port(prefect_server, monkeypatch) -> int:
    """The session server's port made the embedded port: a server `cli server start` of the
    scratch repository did not start."""
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(prefect_server.port))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return prefect_server.port


def test_start_refuses_a_server_it_did_not_start(scratch_repo: Path, foreign_port: int,
                                                 prefect_server) -> None:
    from tests.helpers.prefect_server import healthy

    result = invoke("server", "start", root=scratch_repo)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: a Prefect server ")  # "(version 3.x.y) " if it says
    assert (f"answers at http://127.0.0.1:{foreign_port}/api that `cli server start` of "
            f"{scratch_repo} did not start") in result.stderr
    assert "cli server start --use-running" in result.stderr
    assert "Prefect server a Prefect server" not in result.stderr + result.stdout
    assert not (scratch_repo / ".prefect" / "server.pid").exists()

    stop = invoke("server", "stop", root=scratch_repo)
    assert stop.exit_code == 0 and "not stopped" in stop.stdout
    assert healthy(prefect_server.api_url)  # untouched

    status = invoke("server", "status", root=scratch_repo)
    assert status.exit_code == 0
    assert status.stdout.startswith(f"embedded server: not running; port {foreign_port}: a "
                                    "Prefect server ")
    assert "`cli server stop` will not stop it" in status.stdout


def test_start_use_running(scratch_repo: Path, foreign_port: int, prefect_server) -> None:
    from tests.helpers.prefect_server import healthy

    result = invoke("server", "start", "--use-running", root=scratch_repo)
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("a Prefect server ") and first.endswith(
        "; using it as it is (--use-running): `cli server stop` will not stop it")
    assert "stop it with: cli server stop" not in result.stdout
    assert not (scratch_repo / ".prefect" / "server.pid").exists()
    invoke("server", "stop", root=scratch_repo)
    assert healthy(prefect_server.api_url)


@pytest.mark.integration
def test_demo_refuses_a_server_it_did_not_start(tmp_path: Path, foreign_port: int) -> None:
    env = {**os.environ, "DEMO_DIR": str(tmp_path / "demo")}
    env.pop("SCAFFOLD_DEMO_USE_RUNNING", None)
    out = subprocess.run(["bash", str(REPO / "scripts/demo.sh")], cwd=REPO, env=env,
                         capture_output=True, text=True, check=False, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "SCAFFOLD_DEMO_USE_RUNNING=1 ./scripts/demo.sh" in out.stderr
    assert "cli new-project" not in out.stdout  # stopped before any step after the server
    assert not (tmp_path / "demo").exists()
