"""A throw-away PostgreSQL cluster for tests: Debian's server programs, a temporary data folder,
127.0.0.1 on a free port, password authentication over TCP (as the compose stack uses it).

Installed with scripts/ci-postgres.sh when missing (root with apt-get). ``unavailable()`` says
why a cluster cannot be made, for a skip message. The cluster never touches a system cluster and
is stopped and removed by ``stop()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from tests.helpers.stack_files import REPO


def bindir() -> Path | None:
    """The folder of initdb/pg_ctl: the newest Debian version, else whatever is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def ensure_installed() -> str | None:
    """Install PostgreSQL when missing (as CI does). Returns why it is unavailable, or None."""
    if bindir() is None:
        result = subprocess.run(["bash", str(REPO / "scripts" / "ci-postgres.sh")],
                                capture_output=True, text=True, timeout=900, check=False)
        if bindir() is None:
            return ("PostgreSQL's server programs (initdb, pg_ctl) are not installed and "
                    f"scripts/ci-postgres.sh could not install them: {result.stdout.strip()}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return ("running as root, and there is no 'postgres' user to run the PostgreSQL "
                    "server as (PostgreSQL refuses to run as root)")
        if not shutil.which("runuser"):
            return "running as root without runuser(1) to start PostgreSQL as 'postgres'"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """``with TempPostgres(user, db) as pg: pg.port, pg.password``"""

    def __init__(self, user: str = "prefect", database: str = "prefect"):
        self.user, self.database = user, database
        # URL-safe, as .env.example asks of POSTGRES_PASSWORD
        self.password = secrets.token_urlsafe(18)
        self.bin = bindir()
        self.base = Path(tempfile.mkdtemp(prefix="scaffold-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = _free_port()
        self.started = False

    # -- running the server programs as the right user -----------------------------------------

    def _server_cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        # PostgreSQL refuses to run as root: hand the cluster to the 'postgres' user.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def _run(self, *args: str, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        result = subprocess.run(self._server_cmd(*args), capture_output=True, text=True,
                                timeout=timeout, env=env, cwd=self.base, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}{log}")

    def start(self) -> Self:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in (self.base, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.base.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C", "--no-sync")
        pwfile.unlink()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start", timeout=90)
        self.started = True
        # Over TCP with the password, as prefect-server connects to prefect-postgres.
        self.psql("postgres", f'CREATE DATABASE "{self.database}"')
        return self

    def psql(self, database: str, sql: str) -> str:
        """Run SQL over TCP with password authentication; rows as text, one a line."""
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PG")},
               "PGPASSWORD": self.password}
        psql = self.bin / "psql" if (self.bin / "psql").exists() else Path(shutil.which("psql"))
        result = subprocess.run(
            [str(psql), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, timeout=30, env=env, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        if self.started:
            self.started = False
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pid_file = self.data / "postmaster.pid"
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                    time.sleep(0.5)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _has_c_utf8() -> bool:
    if not shutil.which("locale"):
        return False
    result = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False)
    return any(line.lower() in ("c.utf8", "c.utf-8") for line in result.stdout.split())
