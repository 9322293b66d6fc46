"""The stack for real: the image built and the four services brought up on a real Docker engine.

Runs only with SCAFFOLD_DOCKER_TIER=1 (.ci/run sets it; by hand: docs/ops.md, "How the stack is
verified"): it takes minutes, needs root to start an engine, and builds images. It installs
what it needs when it can (scripts/ci-docker.sh), starts an engine when none answers, builds
stand-ins for python:3.11-slim and postgres:15 from Debian's packages (no image registry here;
tests/helpers/docker_tier.py), builds the team's image with compose, and brings the services up
from a fresh .env in a copy of this checkout. Then, as a user would from the host: `./scripts/cli.sh`
new-project, new-flow --param, prefect deploy -p, prefect deployment pause -d, status; one
deployment run by the containerised worker to Completed; the dashboard on 127.0.0.1:29020; the
owner of the files the cli container wrote; `down` then `up` keeps the deployments (named
volume). Everything it made is removed at the end, also on failure (containers, the team's
images, volumes; the stand-ins stay cached), and an engine it started is stopped.

The tests below are steps of one scenario, in file order, on one stack.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.helpers import docker_tier as tier
from tests.helpers.stack_files import COMPOSE_FILE, ENV_EXAMPLE, REPO, SERVICES, read_env_file

pytestmark = pytest.mark.docker

if os.environ.get("SCAFFOLD_DOCKER_TIER") != "1":
    pytest.skip("the Docker tier runs with SCAFFOLD_DOCKER_TIER=1 (minutes, root to start an "
                "engine; docs/ops.md: How the stack is verified)", allow_module_level=True)

PROJECT_NAME = "scaffold-docker-tier"
IMAGE = "scaffold-prefect:local"
ROOT_IMAGE = "scaffold-prefect:tier-root"  # the same Dockerfile for a host user who is root
BUILD_CACHE = "scaffold-tier-cache/prefect:last"  # only in the tier's own engine (teardown)
DASHBOARD_PORT = int(os.environ.get("SCAFFOLD_DOCKER_TIER_PORT", "29020"))
FAKE_HOST_ID = 4242  # the checkout's owner when the tier runs as root (see `host_ids`)
OVERRIDE = "tests/stack/docker/compose.host-network.yml"
DERIVED = "docker-compose.tier.yml"
DEPLOYMENT = "farm__harvest__winter"
FLOW = "farm__harvest_flow"


class Stack:
    """The tier's stack: a copy of the checkout with a fresh .env, and compose run in it."""

    def __init__(self, engine: tier.Engine, root: Path, compose: list[str]) -> None:
        self.engine = engine
        self.root = root
        self.compose_cmd = compose
        self.env = dict(engine.env)
        for name in ("COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "SCAFFOLD_CLI", "PREFECT_API_URL"):
            self.env.pop(name, None)  # .env decides, as for a user
        self.api = f"http://127.0.0.1:{DASHBOARD_PORT}/api"
        self.values: dict[str, str] = {}  # the .env the stack runs with
        self.flow_run_id = ""

    def compose(self, *args: str, timeout: float = 600, check: bool = True):
        return tier.run([*self.compose_cmd, *args], env=self.env, cwd=self.root,
                        timeout=timeout, check=check)

    def cli(self, *args: str, cwd: Path | None = None, timeout: float = 300):
        """./scripts/cli.sh from the host, as a user types it (no terminal: `exec -T`)."""
        result = subprocess.run([str(self.root / "scripts" / "cli.sh"), *args],
                                cwd=cwd or self.root, env=self.env, capture_output=True,
                                text=True, timeout=timeout, check=False)
        # It ran in the container: the local fallback would have made a .venv here.
        assert not (self.root / ".venv").exists(), result.stderr[-2000:]
        return result

    def docker(self, *args: str, check: bool = True, timeout: float = 120):
        return tier.run(["docker", *args], env=self.env, timeout=timeout, check=check)

    def container(self, service: str) -> str:
        ids = self.compose("ps", "-q", service).stdout.split()
        assert len(ids) == 1, (service, ids)
        return ids[0]

    def state(self, service: str) -> dict:
        return json.loads(self.docker("inspect", "-f", "{{json .State}}",
                                      self.container(service)).stdout)

    def wait_healthy(self, timeout: float = 300) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            states = {s: self.state(s) for s in SERVICES}
            status = {s: (st.get("Health") or {}).get("Status") or st["Status"]
                      for s, st in states.items()}
            want = {s: "running" if s == "prefect-cli" else "healthy" for s in SERVICES}
            if status == want:
                return status
            broken = [s for s, st in states.items() if st["Status"] in ("exited", "dead")
                      or (st.get("Health") or {}).get("Status") == "unhealthy"]
            if broken or time.monotonic() > deadline:
                logs = self.compose("logs", "--tail", "40", *broken, check=False).stdout
                raise AssertionError(f"services not healthy: {status}\n{logs[-6000:]}")
            time.sleep(2)

    def get(self, path: str, **kw) -> dict | list:
        with urllib.request.urlopen(f"{self.api}{path}", timeout=30, **kw) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict) -> dict | list:
        req = urllib.request.Request(f"{self.api}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def deployment(self) -> dict:
        return self.get(f"/deployments/name/{FLOW}/{DEPLOYMENT}")


def host_ids() -> tuple[int, int]:
    """Who the files the cli container writes must belong to: the user running the tier, or,
    when that is root (CI), a made-up user who owns the copy of the checkout, so that the check
    cannot pass by files happening to belong to root. (The image built for a root host is
    checked apart: test_the_image_builds_for_a_root_host.)"""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    return FAKE_HOST_ID, FAKE_HOST_ID


def copy_checkout(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored): what a user has."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if not src.is_file():
            continue  # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)


def write_tier_compose_files(root: Path) -> None:
    """docker-compose.yml without the server's port mapping (Compose v1 refuses `ports` with
    host networking and has no way to drop a key in an override), then the override applies."""
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    derived = yaml.safe_load(COMPOSE_FILE.read_text())
    derived["services"]["prefect-server"].pop("ports")
    document["services"]["prefect-server"].pop("ports")
    assert derived == document  # only that key differs
    (root / DERIVED).write_text(yaml.safe_dump(derived, sort_keys=False))


def fresh_env(root: Path, images: dict[str, str], uid: int, gid: int) -> dict[str, str]:
    """.env as docs/ops.md says to make it (cp .env.example .env, then edit), plus the tier's
    lines: stand-in images, ports on loopback, the compose files and project name."""
    values = read_env_file(ENV_EXAMPLE)
    values.update(
        POSTGRES_PASSWORD=f"tier-{secrets.token_hex(8)}",  # letters, digits, '-' (.env.example)
        USER_UID=str(uid), USER_GID=str(gid),
        PREFECT_HOST_PORT=str(DASHBOARD_PORT),
        PYTHON_IMAGE=images["python"], POSTGRES_IMAGE=images["postgres"],
        TIER_PG_PORT=str(tier.free_port()), TIER_WORKER_PORT=str(tier.free_port()),
        COMPOSE_PROJECT_NAME=PROJECT_NAME, COMPOSE_FILE=f"{DERIVED}:{OVERRIDE}",
    )
    shutil.copy2(root / ".env.example", root / ".env")
    lines = []
    for line in (root / ".env").read_text().splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={values.pop(key)}" if key in values and "=" in line else line)
    lines += [f"{key}={value}" for key, value in values.items()]
    (root / ".env").write_text("\n".join(lines) + "\n")
    return read_env_file(root / ".env")


def teardown(stack: Stack | None, engine: tier.Engine) -> list[str]:
    """Remove what the tier made; returns what could not be removed."""
    problems = []
    env = engine.env
    if stack is not None:
        stack.compose("down", "-v", "--remove-orphans", "--timeout", "20", check=False,
                      timeout=300)
    # By label too: a crashed earlier run, or a `compose down` that failed.
    label = f"label=com.docker.compose.project={PROJECT_NAME}"
    left = tier.run(["docker", "ps", "-aq", "--filter", label], env=env, check=False)
    if left.stdout.split():
        tier.run(["docker", "rm", "-f", "-v", *left.stdout.split()], env=env, check=False)
    volumes = tier.run(["docker", "volume", "ls", "-q", "--filter", label], env=env, check=False)
    if volumes.stdout.split():
        tier.run(["docker", "volume", "rm", *volumes.stdout.split()], env=env, check=False)
    if engine.own and tier.image_exists(IMAGE, env):
        # The tier's own engine keeps its data in the cache: the image's layers stay there
        # under another name, so the next run's build reuses the pip layers (Docker's layer
        # cache: a changed pyproject.toml or Dockerfile still rebuilds from that step on).
        tier.run(["docker", "tag", IMAGE, BUILD_CACHE], env=env, check=False)
    for image in (IMAGE, ROOT_IMAGE):
        tier.run(["docker", "rmi", "-f", image], env=env, check=False)
    if engine.own:
        # Layers of a failed build; only in the tier's own engine, never a user's.
        tier.run(["docker", "image", "prune", "-f"], env=env, check=False)
    if tier.run(["docker", "ps", "-aq", "--filter", label], env=env, check=False).stdout.strip():
        problems.append("containers left")
    if tier.run(["docker", "volume", "ls", "-q", "--filter", label], env=env,
                check=False).stdout.strip():
        problems.append("volumes left")
    for image in (IMAGE, ROOT_IMAGE):
        if tier.image_exists(image, env):
            problems.append(f"image {image} left")
    return problems


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    started = time.monotonic()
    if tier.missing_tools() and os.getuid() == 0:
        subprocess.run([str(REPO / "scripts" / "ci-docker.sh")], check=False, timeout=900)
    if missing := tier.missing_tools():
        pytest.skip(f"missing {', '.join(missing)} (scripts/ci-docker.sh installs them as root "
                    "with apt-get)")
    engine = tier.Engine()
    try:
        engine.start()
    except PermissionError as exc:
        pytest.skip(str(exc))
    made: Stack | None = None
    try:
        compose = tier.compose_command(engine.env)
        assert compose is not None
        teardown(None, engine)  # leftovers of an interrupted earlier run
        if not tier.port_is_free(DASHBOARD_PORT):
            pytest.fail(f"port {DASHBOARD_PORT} on 127.0.0.1 is in use: stop what listens "
                        "there (cli server stop?) or set SCAFFOLD_DOCKER_TIER_PORT")
        images = tier.standin_images(engine.env)
        tier.log(f"stand-ins ready after {time.monotonic() - started:.0f}s: {images}")

        root = tmp_path_factory.mktemp("docker-tier") / "repo"
        copy_checkout(root)
        uid, gid = host_ids()
        os.chown(root, uid, gid)
        for path in root.rglob("*"):
            os.lchown(path, uid, gid)
        write_tier_compose_files(root)
        env = fresh_env(root, images, uid, gid)
        made = Stack(engine, root, compose)
        made.values = env

        t = time.monotonic()
        made.compose("build", timeout=1500)
        tier.log(f"built {IMAGE} in {time.monotonic() - t:.0f}s")
        t = time.monotonic()
        made.compose("up", "-d", "--no-build", *SERVICES, timeout=600)
        made.wait_healthy()
        tier.log(f"four services healthy {time.monotonic() - t:.0f}s after `up`; "
                 f"{time.monotonic() - started:.0f}s since the start")
        yield made
    finally:
        problems = teardown(made, engine)
        engine.stop()
        if engine.own and tier.engine_answers(engine.env):
            problems.append("the engine the tier started still answers")
        tier.log(f"torn down; the tier took {time.monotonic() - started:.0f}s")
        assert not problems, problems


# -- the steps -------------------------------------------------------------------------------------


def test_the_stand_ins_behave_like_the_official_images(stack):
    # python: the interpreter and pip where the official slim image has them.
    out = stack.docker("run", "--rm", "--network", "host", stack.values["PYTHON_IMAGE"], "sh",
                       "-c", "command -v python; command -v pip; python --version").stdout.split("\n")
    assert out[:2] == ["/usr/local/bin/python", "/usr/local/bin/pip"]
    assert out[2].startswith("Python 3.11.")
    # postgres: the user, password and database of .env, enforced over TCP.
    v = stack.values
    query = ["exec", "-T", "-e", "PGPASSWORD={}", "prefect-postgres", "psql", "-h", "127.0.0.1",
             "-U", v["POSTGRES_USER"], "-d", v["POSTGRES_DB"], "-tAc",
             "select current_user || ' ' || current_database()"]
    good = stack.compose(*[a.format(v["POSTGRES_PASSWORD"]) for a in query])
    assert good.stdout.strip() == f"{v['POSTGRES_USER']} {v['POSTGRES_DB']}"
    bad = stack.compose(*[a.format("wrong") for a in query], check=False)
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr + bad.stdout


def test_services_run_the_image_as_the_host_user(stack):
    uid, gid = host_ids()
    for service in ("prefect-server", "prefect-worker", "prefect-cli"):
        ids = stack.compose("exec", "-T", service, "id", "-u").stdout.strip(), \
            stack.compose("exec", "-T", service, "id", "-g").stdout.strip()
        assert ids == (str(uid), str(gid)), service


def test_new_project_and_new_flow_through_cli_sh(stack):
    created = stack.cli("new-project", "farm")
    assert created.returncode == 0, created.stderr
    assert "created projects/farm/prefect.yaml" in created.stdout
    farm = stack.root / "projects" / "farm"
    assert (farm / "prefect.yaml").is_file()

    # From a sub-folder of the checkout: the container works in the matching folder.
    flow = stack.cli("new-flow", "farm", "harvest", "--param", "season=winter", cwd=farm)
    assert flow.returncode == 0, flow.stderr
    assert (farm / "flows" / "harvest.py").is_file()
    config = yaml.safe_load((farm / "prefect.yaml").read_text())
    [dep] = config["deployments"]
    assert dep["name"] == DEPLOYMENT and dep["parameters"] == {"season": "winter"}
    assert dep["work_pool"]["name"] == stack.values["PREFECT_WORK_POOL"]

    bad = stack.cli("new-flow", "farm", "Harvest")  # the exit code comes back through compose
    assert bad.returncode == 2 and "error:" in bad.stderr


def test_files_the_cli_container_wrote_belong_to_the_host_user(stack):
    uid, gid = host_ids()
    written = list((stack.root / "projects" / "farm").rglob("*"))
    assert len(written) >= 4, written
    for path in written:
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == (uid, gid), (path, st.st_uid, st.st_gid)


def test_deploy_pause_and_status_through_cli_sh(stack):
    deployed = stack.cli("prefect", "deploy", "-p", "farm")
    assert deployed.returncode == 0, deployed.stderr
    assert re.search(rf"{DEPLOYMENT}\s.*created", deployed.stdout), deployed.stdout
    dep = stack.deployment()
    assert dep["paused"] is False
    assert dep["work_pool_name"] == stack.values["PREFECT_WORK_POOL"]
    assert dep["parameters"] == {"season": "winter"}

    paused = stack.cli("prefect", "deployment", "pause", "-d", DEPLOYMENT)
    assert paused.returncode == 0, paused.stderr
    assert stack.deployment()["paused"] is True

    status = stack.cli("status")
    assert status.returncode == 0, status.stderr
    row = next(line.split() for line in status.stdout.splitlines()
               if line.startswith(DEPLOYMENT))
    assert row[1:4] == ["yes", "yes", "paused"], status.stdout
    # The container talks to the server of the stack, not an embedded one.
    assert f"server: http://127.0.0.1:{DASHBOARD_PORT}/api" in status.stdout


def test_a_deployment_runs_on_the_containerised_worker(stack):
    run = stack.cli("prefect", "deployment", "run", f"{FLOW}/{DEPLOYMENT}", "--watch",
                    "--watch-timeout", "240", timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    stack.flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", run.stdout)[1]
    flow_run = stack.get(f"/flow_runs/{stack.flow_run_id}")
    assert flow_run["state_type"] == "COMPLETED", flow_run["state"]
    assert flow_run["parameters"] == {"season": "winter"}
    assert flow_run["work_pool_name"] == stack.values["PREFECT_WORK_POOL"]
    # The stack's worker picked it up (there is no other one).
    worker_logs = stack.compose("logs", "--no-color", "prefect-worker").stdout
    assert stack.flow_run_id in worker_logs
    workers = stack.post(f"/work_pools/{stack.values['PREFECT_WORK_POOL']}/workers/filter", {})
    assert [w["status"] for w in workers] == ["ONLINE"], workers


def test_the_dashboard_answers_on_the_published_port(stack):
    with urllib.request.urlopen(f"http://127.0.0.1:{DASHBOARD_PORT}/", timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers.get_content_type() == "text/html"
        assert b'<div id="app"' in resp.read()
    assert stack.get("/health") is True
    # The dashboard, in the host's browser, calls the API on the published port.
    with urllib.request.urlopen(f"http://127.0.0.1:{DASHBOARD_PORT}/ui-settings",
                                timeout=30) as resp:
        settings = json.loads(resp.read())
    assert settings["api_url"] == f"http://localhost:{DASHBOARD_PORT}/api"


def test_down_then_up_keeps_the_deployments(stack):
    stack.compose("down", timeout=300)
    assert stack.compose("ps", "-q").stdout.strip() == ""
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{stack.api}/health", timeout=5)
    volume = f"{PROJECT_NAME}_prefect-postgres-data"
    assert stack.docker("volume", "ls", "-q").stdout.split().count(volume) == 1

    stack.compose("up", "-d", "--no-build", *SERVICES, timeout=600)
    stack.wait_healthy()
    dep = stack.deployment()
    assert dep["paused"] is True
    assert stack.get(f"/flow_runs/{stack.flow_run_id}")["state_type"] == "COMPLETED"
    status = stack.cli("status")
    assert status.returncode == 0 and re.search(rf"^{DEPLOYMENT}\s+yes\s+yes\s+paused",
                                                status.stdout, re.MULTILINE), status.stdout


def test_the_image_builds_for_a_root_host(stack):
    # USER_UID=0 / USER_GID=0 (a host user who is root) once failed: "GID '0' already exists".
    # The same build as compose's, other ids: only the last layers are rebuilt.
    stack.docker("build", "--network", "host", "--build-arg",
                 f"PYTHON_IMAGE={stack.values['PYTHON_IMAGE']}", "--build-arg", "USER_UID=0",
                 "--build-arg", "USER_GID=0", "-t", ROOT_IMAGE, str(stack.root), timeout=900)
    out = stack.docker("run", "--rm", "--network", "none", ROOT_IMAGE, "sh", "-c",
                       "id -u; id -g; cli --version").stdout.split("\n")
    assert out[:3] == ["0", "0", "cli, version 0.1.0"]
