"""The Docker test tier's machinery (tests/stack/test_docker_stack.py): an engine, stand-in base
images.

Everything stays on this machine. The engine the tier starts has no bridge network
(``--bridge=none --iptables=false``): builds and containers use the host's network, so builds
reach only what the host reaches (the package registries) and the services talk over 127.0.0.1
(``tests/stack/docker/compose.host-network.yml``). Base images come from Debian's packages, not a registry:
``debootstrap --variant=minbase bookworm`` imported as an image, then ``python.Dockerfile`` and
``postgres.Dockerfile`` of tests/stack/docker/ on top. They are tagged with a hash of their recipe and kept
in the cache (``SCAFFOLD_DOCKER_CACHE``, default /var/cache/scaffold-docker): the engine the tier
starts keeps its images there, so a second run on the same machine builds none of them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "tests" / "stack" / "docker"  # the stand-ins' Dockerfiles and the override
SUITE = "bookworm"  # python:3.11-slim and postgres:15 are built on Debian bookworm too
HOST_CERTS = Path("/usr/local/share/ca-certificates")
RUN_DIR = Path("/run/scaffold-docker-tier")  # the socket, pid file and exec root of its engine


def cache_dir() -> Path:
    default = "/var/cache/scaffold-docker" if os.getuid() == 0 else "~/.cache/scaffold-docker"
    path = Path(os.environ.get("SCAFFOLD_DOCKER_CACHE", default)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def log(message: str) -> None:
    # pytest -s, or the captured output of a failure, shows where the time went.
    print(f"[docker-tier {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(args: list[str], *, env: dict[str, str], cwd: Path | None = None, timeout: float = 600,
        check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, check=False, input=input)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}\n"
                           f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # As a server binds: connections of a server that just stopped (TIME_WAIT) are no owner.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# -- the engine ----------------------------------------------------------------------------------


def missing_tools() -> list[str]:
    missing = [tool for tool in ("docker", "dockerd", "debootstrap") if not shutil.which(tool)]
    if compose_command(os.environ) is None:
        missing.append("docker compose / docker-compose")
    return missing


def compose_command(env: dict[str, str]) -> list[str] | None:
    """Compose v2 (the docker plugin) when installed, else v1 (docker-compose)."""
    if shutil.which("docker"):
        v2 = subprocess.run(["docker", "compose", "version"], env=env, capture_output=True,
                            check=False)
        if v2.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def engine_answers(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["docker", "info"], env=env, capture_output=True, timeout=30,
                              check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


class Engine:
    """A running Docker engine: the one this machine has, or one the tier starts and stops."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.process: subprocess.Popen | None = None
        self.own = False  # started here: its images and leftovers are the tier's alone

    def start(self) -> None:
        if engine_answers(self.env):
            log("using the running Docker engine")
            return
        if os.getuid() != 0:
            raise PermissionError("no Docker engine answers and starting one needs root")
        cache = cache_dir()
        run_dir = RUN_DIR
        run_dir.mkdir(parents=True, exist_ok=True)
        sock = run_dir / "docker.sock"
        self.env["DOCKER_HOST"] = f"unix://{sock}"
        self.own = True
        if engine_answers(self.env):
            log(f"using the tier's engine left running at {sock}; it is stopped at the end")
            return
        logfile = open(cache / "dockerd.log", "ab")  # noqa: SIM115  (the engine's lifetime)
        self.process = subprocess.Popen(
            ["dockerd", "--data-root", str(cache / "engine"), "--exec-root",
             str(run_dir / "exec"), "--pidfile", str(run_dir / "dockerd.pid"),
             "-H", f"unix://{sock}", "--bridge=none", "--iptables=false", "--ip6tables=false"],
            stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        logfile.close()
        deadline = time.monotonic() + 90
        while not engine_answers(self.env):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (cache / "dockerd.log").read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"dockerd did not start; its log ends:\n{tail}")
            time.sleep(1)
        log(f"started dockerd (pid {self.process.pid}, data in {cache / 'engine'})")

    def stop(self) -> None:
        if not self.own:
            return
        pid = None
        if self.process is not None:
            pid = self.process.pid
        else:
            pidfile = RUN_DIR / "dockerd.pid"
            if pidfile.is_file():
                pid = int(pidfile.read_text().strip() or 0) or None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.process is not None:
                    if self.process.poll() is not None:
                        break
                else:
                    os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        else:
            os.kill(pid, signal.SIGKILL)
        # dockerd leaves its network namespace file mounted under --exec-root.
        for line in Path("/proc/mounts").read_text().splitlines():
            target = line.split()[1]
            if target.startswith(f"{RUN_DIR}/"):
                subprocess.run(["umount", target], capture_output=True, check=False)
        log(f"stopped dockerd (pid {pid})")


# -- stand-in base images ------------------------------------------------------------------------


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:12]


def host_apt_sources() -> tuple[str, str | None]:
    """(mirror for debootstrap, deb822 sources for the image or None) from the host's apt.

    The same mirror as the host's apt (no address of our own); on a bookworm host its sources
    (updates and security included) go into the image as they are.
    """
    mirror, sources = "", None
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    codename = ""
    if Path("/etc/os-release").is_file():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                codename = line.partition("=")[2].strip('"')
    if deb822.is_file():
        for line in deb822.read_text().splitlines():
            if line.startswith("URIs:") and not mirror:
                mirror = line.split()[1]
        if codename == SUITE:
            sources = deb822.read_text()
    return mirror, sources


def host_certificates() -> dict[str, bytes]:
    if not HOST_CERTS.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(HOST_CERTS.rglob("*.crt")) if p.is_file()}


def image_exists(tag: str, env: dict[str, str]) -> bool:
    return run(["docker", "image", "inspect", tag], env=env, check=False).returncode == 0


def debian_image(env: dict[str, str]) -> str:
    mirror, sources = host_apt_sources()
    recipe = ["debootstrap", "--variant=minbase", SUITE, mirror, sources or ""]
    tag = f"scaffold-standin/debian:{SUITE}-{_digest(*recipe)}"
    if image_exists(tag, env):
        return tag
    tarball = cache_dir() / f"{tag.replace('/', '_').replace(':', '_')}.tar"
    if not tarball.is_file():
        log(f"debootstrap {SUITE} (minbase) into {tarball}")
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            root = Path(tmp) / "rootfs"
            run([a for a in ["debootstrap", "--variant=minbase", SUITE, str(root), mirror] if a],
                env=env, timeout=1200)
            # As in Debian's official images: no package cache, no lists (apt-get update first).
            for leftover in (root / "var/cache/apt/archives").glob("*.deb"):
                leftover.unlink()
            shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
            (root / "var/lib/apt/lists/partial").mkdir(parents=True)
            if sources is not None:
                (root / "etc/apt/sources.list").unlink(missing_ok=True)
                (root / "etc/apt/sources.list.d/debian.sources").write_text(sources)
            partial = tarball.with_suffix(".partial")
            run(["tar", "-C", str(root), "-cf", str(partial), "."], env=env, timeout=600)
            partial.rename(tarball)
    log(f"docker import {tarball.name} as {tag}")
    with tarball.open("rb") as f:
        imported = subprocess.run(["docker", "import", "-", tag], env=env, stdin=f,
                                  capture_output=True, text=True, timeout=600, check=False)
    if imported.returncode != 0:
        raise RuntimeError(f"docker import failed: {imported.stderr}")
    return tag


def standin_images(env: dict[str, str]) -> dict[str, str]:
    """{"python": tag, "postgres": tag}: stand-ins for python:3.11-slim and postgres:15."""
    base = debian_image(env)
    certs = host_certificates()
    entrypoint = (RECIPES / "postgres-entrypoint.sh").read_bytes()
    recipes = {
        "python": ("3.11", (RECIPES / "python.Dockerfile").read_bytes(),
                   *[name.encode() + data for name, data in certs.items()]),
        "postgres": ("15", (RECIPES / "postgres.Dockerfile").read_bytes(), entrypoint),
    }
    tags = {}
    for name, (version, *parts) in recipes.items():
        tag = f"scaffold-standin/{name}:{version}-{_digest(base, *parts)}"
        tags[name] = tag
        if image_exists(tag, env):
            log(f"cached: {tag}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            context = Path(tmp)
            shutil.copy2(RECIPES / f"{name}.Dockerfile", context / "Dockerfile")
            shutil.copy2(RECIPES / "postgres-entrypoint.sh", context)
            (context / "certs").mkdir()
            for cert, data in certs.items():
                (context / "certs" / cert).write_bytes(data)
            log(f"building {tag}")
            run(["docker", "build", "--network", "host", "--build-arg",
                 f"DEBIAN_IMAGE={base}", "-t", tag, str(context)], env=env, timeout=1200)
    forget_stale_standins({base, *tags.values()}, env)
    return tags


def forget_stale_standins(current: set[str], env: dict[str, str]) -> None:
    """Stand-ins and debootstrap tarballs of older recipes: the cache keeps only the current."""
    listed = run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], env=env).stdout
    stale = [tag for tag in listed.split() if tag.startswith("scaffold-standin/")
             and tag not in current]
    if stale:
        log(f"removing stale stand-ins: {' '.join(stale)}")
        run(["docker", "rmi", *stale], env=env, check=False)
    keep = {f"{tag.replace('/', '_').replace(':', '_')}.tar" for tag in current}
    for tarball in cache_dir().glob("scaffold-standin_debian_*.tar"):
        if tarball.name not in keep:
            tarball.unlink()
