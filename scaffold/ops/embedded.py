"""The embedded Prefect server of `cli server start|stop|status`.

``prefect server start`` on 127.0.0.1:29020 (``$SCAFFOLD_SERVER_PORT``), in the background, in
its own process group, with SQLite under the repository-local, gitignored PREFECT_HOME
``<root>/.prefect/``: ``server.pid`` and ``server.log`` live there too. Analytics are off.
`stop` signals the whole process group, so the server's children stop with it.

Nothing here imports prefect: the server is another process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from scaffold import naming
from scaffold.errors import OperationError
from scaffold.ops import api
from scaffold.ops.passthrough import prefect_command

HOME_DIR = ".prefect"
PID_FILE = "server.pid"
LOG_FILE = "server.log"
DEFAULT_WORK_POOL = naming.DEFAULT_WORK_POOL  # what the generator writes; $PREFECT_WORK_POOL as the stack
START_TIMEOUT = 120.0  # the first start creates the database (migrations take a while)
STOP_TIMEOUT = 20.0


@dataclass
class Embedded:
    root: Path

    @property
    def home(self) -> Path:
        return self.root / HOME_DIR

    @property
    def pid_file(self) -> Path:
        return self.home / PID_FILE

    @property
    def log_file(self) -> Path:
        return self.home / LOG_FILE

    @property
    def port(self) -> int:
        return api.embedded_port()

    @property
    def api_url(self) -> str:
        return api.embedded_api_url()

    @property
    def dashboard(self) -> str:
        return api.dashboard_url(self.api_url)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in [k for k in env if k.startswith("PREFECT_")]:
            del env[key]  # a user's profile or PREFECT_API_URL must not reconfigure this server
        env.update({
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_API_HOST": api.DEFAULT_HOST,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_API_URL": self.api_url,  # what the dashboard calls
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        })
        return env

    # -- state ----------------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The server's pid from the pid file when that process is still the server."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_server(pid) else None

    def healthy(self, timeout: float = 1.0) -> bool:
        return api.probe(self.api_url, timeout) is None

    # -- commands ----------------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT, use_running: bool = False) -> str:
        """Start (or find running) and wait until healthy; returns what happened, one line.

        A Prefect server that this repository's `cli server start` did not start (another
        checkout's, a `prefect server start` in a shell, the compose stack on this port) is
        never taken for the embedded one: OperationError saying what answers there, unless
        ``use_running`` (then it is used as it is, and `stop` will not stop it)."""
        pid = self.pid()
        if pid is not None:
            if self.healthy() or self._wait_healthy(pid, timeout):
                return f"Prefect server already running (pid {pid}) at {self.api_url}"
            raise OperationError(f"the server (pid {pid}) does not answer at {self.api_url}; "
                                 f"see {self.log_file}, or restart: cli server stop && cli server start")
        if self.healthy():
            what = self.foreign()
            if use_running:
                return (f"{what}; using it as it is (--use-running): `cli server stop` will "
                        "not stop it")
            raise OperationError(
                f"{what}; not starting the embedded server. Use that server as it is with "
                f"`cli server start --use-running`, stop it, or set {api.ENV_PORT} to a free "
                "port")
        if _port_in_use(self.port):
            raise OperationError(f"port {self.port} on {api.DEFAULT_HOST} is used by another "
                                 f"program; stop it or set {api.ENV_PORT} to a free port")
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n--- cli server start {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                [*prefect_command(), "server", "start", "--host", api.DEFAULT_HOST,
                 "--port", str(self.port)],
                env=self.env(), cwd=self.home, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,  # own group: stop gets all
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        if not self._wait_healthy(proc.pid, timeout, proc):
            self.stop()
            raise OperationError(f"the Prefect server did not start within {timeout:g} s; "
                                 f"see {self.log_file}")
        return f"Prefect server started (pid {proc.pid}) at {self.api_url}"

    def foreign(self) -> str:
        """What answers on the embedded port when it is not the server started here."""
        version = _server_version(self.api_url)
        kind = f"a Prefect server (version {version})" if version else "a Prefect server"
        return (f"{kind} answers at {self.api_url} that `cli server start` of {self.root} did "
                f"not start (no running server in {self.pid_file})")

    def ensure_work_pool(self) -> str | None:
        """Create the process work pool deployments point at, when missing (as the stack's
        worker does); returns a line when it was created."""
        return ensure_process_pool(self.api_url, work_pool_name())

    def _wait_healthy(self, pid: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return True
            if (proc.poll() is not None) if proc is not None else not _alive(pid):
                return False
            time.sleep(0.25)
        return False

    def stop(self, timeout: float = STOP_TIMEOUT) -> str:
        pid = self.pid()
        if pid is None:
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()
            return "not running"
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        return f"stopped (pid {pid})"

    def status(self) -> tuple[bool, list[str]]:
        pid = self.pid()
        up = self.healthy()
        lines = []
        if pid is not None:
            lines.append(f"embedded server: running (pid {pid}), "
                         + ("healthy" if up else "not answering yet"))
        elif up:
            lines.append(f"embedded server: not running; port {self.port}: {self.foreign()}; "
                         "`cli server stop` will not stop it")
        elif _port_in_use(self.port):
            lines.append(f"embedded server: not running; port {self.port} is used by another "
                         f"program (not a Prefect API): stop it or set {api.ENV_PORT} to a "
                         "free port")
        else:
            lines.append("embedded server: not running (start it with: cli server start)")
        lines += [f"  API:          {self.api_url}",
                  f"  dashboard:    {self.dashboard}",
                  f"  PREFECT_HOME: {self.home}",
                  f"  log:          {self.log_file}"]
        target = api.resolve_api()
        lines.append(f"operations use: {target.shown} (from {target.source})")
        return up, lines


def _server_version(api_url: str, timeout: float = 3.0) -> str | None:
    """The version a Prefect server reports (``GET /api/admin/version``), None when it does not say."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url}/admin/version", timeout=timeout) as response:
            value = json.loads(response.read(200))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) and len(value) < 40 and value.isprintable() else None


def work_pool_name() -> str:
    return os.environ.get("PREFECT_WORK_POOL") or DEFAULT_WORK_POOL


def ensure_process_pool(api_url: str, name: str) -> str | None:
    target = api.ApiTarget(api_url, "embedded")
    return api.run(_ensure_process_pool(target, name), target)


async def _ensure_process_pool(target: api.ApiTarget, name: str) -> str | None:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    async with api.client_session(target) as client:
        try:
            await client.read_work_pool(name)
            return None
        except ObjectNotFound:
            pass
        template = ProcessWorker.get_default_base_job_template()
        try:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process",
                                                         base_job_template=template))
        except ObjectAlreadyExists:  # created meanwhile by a worker: fine
            return None
    return f"created the process work pool {name!r}"


# -- processes ---------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child not yet reaped) is not alive
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # only zombies left?
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _is_server(pid: int) -> bool:
    """The pid is alive, leads its process group (as started here) and, where /proc tells,
    runs `prefect server` (a recycled pid must not be signalled)."""
    if not _alive(pid):
        return False
    try:
        if os.getpgid(pid) != pid:
            return False
    except ProcessLookupError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            return b"server" in args and any(b"prefect" in a for a in args)
    return True


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((api.DEFAULT_HOST, port))
        except OSError:
            return True
    return False
