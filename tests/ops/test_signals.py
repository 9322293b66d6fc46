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
