"""A real Prefect server for tests and benchmarks: SQLite, 127.0.0.1, a free port, a private
PREFECT_HOME, analytics off. ``with PrefectServer() as server: server.api_url``.

The server runs ``prefect server start`` in its own process group, so stopping it also stops
every child it started (uvicorn, services), even when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Self

PREFECT = str(Path(sys.executable).with_name("prefect"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a server process (and of clients talking to it)."""
    env = dict(os.environ if base is None else base)
    for key in [k for k in env if k.startswith("PREFECT_")]:
        del env[key]  # a caller's profile or API URL must not leak into the test server
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",  # not needed by tests; starts faster
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",  # no runs from schedules
        "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    })
    return env


def healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


class PrefectServer:
    """Start on enter (waits for /api/health), stop on exit. Owns a temporary PREFECT_HOME."""

    def __init__(self, start_timeout: float = 90.0):
        self.start_timeout = start_timeout
        self.home = Path(tempfile.mkdtemp(prefix="scaffold-prefect-server-"))
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.env = server_env(self.home, self.port)
        self.log = self.home / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrefectServer:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.home, start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while not healthy(self.api_url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"Prefect server did not start:\n{tail}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            # children that outlived the leader
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # manual use: python -m tests.helpers.prefect_server (Ctrl-C or TERM stops)
    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background
    with PrefectServer() as srv:
        print(srv.api_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
