"""`cli prefect worker start` stops its worker when it gets SIGTERM (docker stop, supervisors)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _alive_with(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and "pytest" not in cmdline:
                pids.append(int(entry.name))
    return pids


def test_sigterm_reaches_the_prefect_worker(ops_server, scratch_repo: Path):
    pool = f"sigterm-{os.getpid()}"
    env = {**ops_server.env, "SCAFFOLD_ROOT": str(scratch_repo)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scaffold", "prefect", "worker", "start", "--pool", pool,
         "--type", "process"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_alive_with(pool)) < 2:  # cli and the prefect worker under it
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)  # to cli only, as `docker stop` does to PID 1
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive_with(pool) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive_with(pool) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in _alive_with(pool):
            os.kill(pid, signal.SIGKILL)


# -- a deploy that loses its server or is interrupted (issue 9 §7) ---------------------------------


def _deploy_until(env: dict[str, str], root: Path, marker: str) -> subprocess.Popen:
    """`cli prefect deploy -p farm` in a process, returned once it printed ``marker``."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "scaffold", "--root", str(root), "prefect", "deploy", "-p",
         "farm"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            proc.seen = seen  # type: ignore[attr-defined]
            return proc
    proc.wait()
    raise AssertionError("deploy ended before " + marker + ": " + "".join(seen)
                         + proc.stderr.read())


def _finish(proc: subprocess.Popen, timeout: float) -> tuple[str, str, float]:
    start = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return "".join(proc.seen) + out, err, time.monotonic() - start  # type: ignore[attr-defined]


def _thirty(root: Path) -> None:
    from tests.helpers.ops import generate

    generate(root, "farm", "daily", *(f"day={i}" for i in range(1, 31)))


def test_a_server_killed_mid_deploy_stops_it_quickly(scratch_repo: Path):
    from scaffold.ops.embedded import DEFAULT_WORK_POOL, ensure_process_pool
    from tests.helpers.prefect_server import PrefectServer

    _thirty(scratch_repo)
    with PrefectServer() as srv:
        ensure_process_pool(srv.api_url, DEFAULT_WORK_POOL)
        env = {**srv.env, "SCAFFOLD_ROOT": str(scratch_repo)}
        proc = _deploy_until(env, scratch_repo, " 3/30]")
        os.killpg(srv.proc.pid, signal.SIGKILL)  # kill -9 of the server and its children
        out, err, seconds = _finish(proc, timeout=120)
    assert proc.returncode == 1, out + err
    assert seconds < 30, f"took {seconds:.1f} s after the server died"
    assert "created" in out and "not applied" in out, out
    assert "stopped answering" in err or "went away" in err, err
    assert "Traceback" not in out + err


def test_ctrl_c_prints_what_was_applied_and_a_rerun_converges(server, scratch_repo: Path):
    from tests.helpers.cli import invoke

    _thirty(scratch_repo)
    env = {**os.environ, "SCAFFOLD_ROOT": str(scratch_repo)}
    proc = _deploy_until(env, scratch_repo, " 2/30]")
    proc.send_signal(signal.SIGINT)
    out, err, _ = _finish(proc, timeout=60)
    assert proc.returncode == 1, out + err
    assert "created" in out and "not applied" in out and "interrupted" in out, out
    assert "Traceback" not in out + err and "Aborted!" not in err
    result = invoke("prefect", "deploy", "-p", "farm", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(server.deployments()) == 30
    result = invoke("prefect", "plan", "-p", "farm", "--exit-code", root=scratch_repo)
    assert result.exit_code == 0, result.stdout
