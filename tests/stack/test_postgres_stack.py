"""The stack without Docker: a Prefect server on a real PostgreSQL, configured as
docker-compose.yml configures prefect-server, with the compose file's worker command and
healthchecks, then `cli prefect deploy` and `cli prefect deployment pause|resume` against it.

PostgreSQL is Debian's package (installed by scripts/ci-postgres.sh when missing), run in a
temporary cluster on 127.0.0.1. The test is skipped, saying why, when it cannot be installed
or started. State is checked in PostgreSQL itself, where the dashboard reads it from.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.pg_cluster import TempPostgres, ensure_installed
from tests.helpers.stack_files import (
    ENV_EXAMPLE,
    command_args,
    dockerfile_env,
    environment,
    load_compose,
    read_env_file,
)

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("cli"))
PREFECT = str(Path(sys.executable).with_name("prefect"))
COMPOSE_DB_HOST = "@prefect-postgres:5432/"


@pytest.fixture(scope="module")
def postgres():
    why = ensure_installed()
    if why:
        pytest.skip(f"PostgreSQL-backed stack test skipped: {why}")
    settings = read_env_file(ENV_EXAMPLE)
    pg = TempPostgres(user=settings["POSTGRES_USER"], database=settings["POSTGRES_DB"])
    try:
        pg.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pg.stop()
        pytest.skip(f"PostgreSQL-backed stack test skipped: PostgreSQL did not start: {exc}")
    yield pg
    pg.stop()


def compose_values(pg: TempPostgres) -> dict[str, str]:
    """The .env of this run: .env.example with the cluster's generated password."""
    return {**read_env_file(ENV_EXAMPLE), "POSTGRES_PASSWORD": pg.password}


@pytest.fixture(scope="module")
def pg_compose(postgres) -> dict:
    return load_compose(compose_values(postgres))


@pytest.fixture(scope="module")
def pg_server(postgres, pg_compose):
    """prefect-server's environment from the compose file; only the database host differs
    (127.0.0.1 and the cluster's port instead of prefect-postgres:5432)."""
    import asyncpg  # noqa: F401  - the driver the URL names: a prefect dependency, must be there

    from tests.helpers.prefect_server import PrefectServer

    env = environment(pg_compose["services"]["prefect-server"])
    url = env["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert COMPOSE_DB_HOST in url and url.startswith("postgresql+asyncpg://")
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = url.replace(
        COMPOSE_DB_HOST, f"@127.0.0.1:{postgres.port}/")
    srv = PrefectServer(start_timeout=180)  # the first start migrates the PostgreSQL schema
    srv.env.update(env)
    # The dashboard is on in the stack; its files go where the image's environment says,
    # under the server's PREFECT_HOME (the image's /home/prefect/.prefect).
    image = dockerfile_env()
    srv.env["PREFECT_SERVER_UI_ENABLED"] = "true"
    static = image["PREFECT_SERVER_UI_STATIC_DIRECTORY"]
    srv.env["PREFECT_SERVER_UI_STATIC_DIRECTORY"] = static.replace(image["PREFECT_HOME"],
                                                                   str(srv.home))
    with srv:
        yield srv


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180):
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"{' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def healthcheck(service: dict, port_in_compose: str, port: int) -> list[str]:
    """The compose healthcheck's command, aimed at the port this test uses."""
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    return [sys.executable if a == "python" else a.replace(f":{port_in_compose}/", f":{port}/")
            for a in test[1:]]


def test_server_keeps_its_state_in_postgres(pg_server, postgres, pg_compose):
    tables = set(postgres.psql(postgres.database, "SELECT tablename FROM pg_tables "
                                                  "WHERE schemaname = 'public'").split())
    assert {"flow", "deployment", "flow_run", "work_pool", "alembic_version"} <= tables
    assert postgres.psql(postgres.database, "SELECT count(*) FROM alembic_version").strip() == "1"
    # The compose healthcheck succeeds against it.
    check = healthcheck(pg_compose["services"]["prefect-server"], "4200", pg_server.port)
    assert subprocess.run(check, timeout=30, check=False).returncode == 0


def test_dashboard_calls_the_api_on_the_published_port(pg_server):
    # The browser on the host loads the dashboard, which then calls PREFECT_UI_API_URL: the
    # compose file's http://localhost:29020/api, not the container's own address.
    base = pg_server.api_url.removesuffix("/api")
    with urllib.request.urlopen(f"{base}/", timeout=30) as resp:
        assert resp.status == 200 and b"<html" in resp.read().lower()
    with urllib.request.urlopen(f"{base}/ui-settings", timeout=30) as resp:
        settings = json.loads(resp.read())
    assert settings["api_url"] == "http://localhost:29020/api"
    static = Path(pg_server.env["PREFECT_SERVER_UI_STATIC_DIRECTORY"])
    assert any(static.rglob("index.html")), "the dashboard's files went to the configured folder"


@contextlib.contextmanager
def compose_worker(pg_compose: dict, env: dict[str, str]):
    """prefect-worker's own command and environment, as a process group of this test."""
    worker = pg_compose["services"]["prefect-worker"]
    proc = subprocess.Popen(command_args(worker), env=env, cwd=env["SCAFFOLD_ROOT"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for(what: str, check, timeout: float, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited ({proc.returncode}):\n"
                        f"{proc.stdout.read().decode(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


def deployments(pg: TempPostgres) -> dict[str, bool]:
    rows = pg.psql(pg.database, "SELECT name, paused FROM deployment ORDER BY name")
    return {name: paused == "t" for name, paused in
            (line.split("|") for line in rows.splitlines())}


def test_deploy_run_pause_resume_on_postgres(pg_server, postgres, pg_compose, tmp_path):
    repo = tmp_path / "repo"
    (repo / "projects").mkdir(parents=True)
    env = dict(pg_server.env)
    run([CLI, "new-project", "farm"], env, repo)
    run([CLI, "new-flow", "farm", "harvest", "--param", "season=winter",
         "--param", "season=summer"], env, repo)

    # The worker exactly as compose runs it: it creates the work pool, then polls it.
    worker_service = pg_compose["services"]["prefect-worker"]
    worker_port = _free_port()
    worker_env = {
        **env,
        **environment(worker_service),
        "PREFECT_API_URL": pg_server.api_url,      # instead of http://prefect-server:4200/api
        "SCAFFOLD_ROOT": str(repo),             # instead of the container's /app
        "PREFECT_WORKER_WEBSERVER_PORT": str(worker_port),
        "PREFECT_WORKER_QUERY_SECONDS": "1",    # the default 10 s poll only slows the test
        # `prefect` is on the image's PATH; here it is this environment's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    with compose_worker(pg_compose, worker_env) as worker:
        check = healthcheck(worker_service,
                            environment(worker_service)["PREFECT_WORKER_WEBSERVER_PORT"],
                            worker_port)
        wait_for("the worker's healthcheck",
                 lambda: subprocess.run(check, capture_output=True, timeout=30,
                                        check=False).returncode == 0, 90, worker)
        pool = postgres.psql(postgres.database, "SELECT name, type FROM work_pool "
                                                "WHERE name = 'default-pool'")
        assert pool.strip() == "default-pool|process"

        run([CLI, "prefect", "deploy", "-p", "farm"], env, repo)
        assert deployments(postgres) == {"farm__harvest__summer": False,
                                         "farm__harvest__winter": False}

        # A run through the compose worker, its code found via the pull step's $SCAFFOLD_ROOT.
        started = run([CLI, "prefect", "deployment", "run",
                       "farm__harvest_flow/farm__harvest__winter"], env, repo)
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout)[1]

        def finished() -> str | None:
            state = postgres.psql(postgres.database, "SELECT state_type FROM flow_run "
                                                     f"WHERE id = '{run_id}'").strip()
            return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        final = wait_for("the flow run to finish", finished, 120, worker)
        assert final == "COMPLETED"
        params = postgres.psql(postgres.database,
                               f"SELECT parameters->>'season' FROM flow_run WHERE id = '{run_id}'")
        assert params.strip() == "winter"

    run([CLI, "prefect", "deployment", "pause", "-p", "farm"], env, repo)
    assert deployments(postgres) == {"farm__harvest__summer": True, "farm__harvest__winter": True}
    run([CLI, "prefect", "deployment", "resume", "-d", "farm__harvest__winter"], env, repo)
    assert deployments(postgres) == {"farm__harvest__summer": True,
                                     "farm__harvest__winter": False}


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the ops guide's database commands, run against the same PostgreSQL -----------------------

OPS_MD = Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def ops_lines(prefix: str) -> list[str]:
    return [line.strip() for line in OPS_MD.read_text().splitlines()
            if line.strip().startswith(prefix)]


def test_documented_schema_upgrade_runs_on_postgres(pg_server, postgres):
    # docs/ops.md: docker compose run --rm prefect-server prefect server database upgrade -y
    (line,) = ops_lines("docker compose run --rm prefect-server ")
    args = line.removeprefix("docker compose run --rm prefect-server ").split()
    assert args[:4] == ["prefect", "server", "database", "upgrade"]
    before = postgres.psql(postgres.database, "SELECT version_num FROM alembic_version")
    run([PREFECT, *args[1:]], dict(pg_server.env), pg_server.home, timeout=300)
    assert postgres.psql(postgres.database, "SELECT version_num FROM alembic_version") == before


def deploy_sample(pg_server, tmp_path: Path) -> None:
    """A generated project deployed to the server (its work pool created when missing): data
    of its own for a test, whichever tests ran before it on the shared server."""
    from scaffold.ops.embedded import DEFAULT_WORK_POOL, ensure_process_pool

    ensure_process_pool(pg_server.api_url, DEFAULT_WORK_POOL)
    repo = tmp_path / "sample"
    (repo / "projects").mkdir(parents=True)
    env = dict(pg_server.env)
    run([CLI, "new-project", "backup"], env, repo)
    run([CLI, "new-flow", "backup", "nightly", "--param", "day=monday"], env, repo)
    run([CLI, "prefect", "deploy", "-p", "backup"], env, repo)


def test_documented_backup_and_restore(pg_server, postgres, tmp_path):
    """docs/ops.md's pg_dump and pg_restore lines, as the prefect-postgres container would run
    them (its POSTGRES_USER/POSTGRES_DB in the environment), restored into a second database."""
    deploy_sample(pg_server, tmp_path)
    assert "backup__nightly__monday" in deployments(postgres)
    pattern = re.compile(r"docker compose exec -T prefect-postgres sh -c '([^']*)' ([<>]) (\S+)$")
    (dump_line,) = ops_lines("docker compose exec -T prefect-postgres sh -c 'pg_dump ")
    (restore_line,) = ops_lines("docker compose exec -T prefect-postgres sh -c 'pg_restore ")
    dump, restore = pattern.fullmatch(dump_line), pattern.fullmatch(restore_line)
    assert dump and dump[2] == ">" and restore and restore[2] == "<"
    assert dump[3] == restore[3], "restore reads the file the backup wrote"

    container_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
        "PATH": f"{postgres.bin}{os.pathsep}{os.environ['PATH']}",
        "POSTGRES_USER": postgres.user, "POSTGRES_DB": postgres.database,
        # inside the container pg_dump uses the local socket; here: TCP with the password
        "PGHOST": "127.0.0.1", "PGPORT": str(postgres.port), "PGPASSWORD": postgres.password,
    }
    backup = tmp_path / dump[3]
    with open(backup, "wb") as out:
        subprocess.run(["sh", "-c", dump[1]], env=container_env, stdout=out, check=True,
                       timeout=120)
    assert backup.read_bytes()[:5] == b"PGDMP"  # the custom format

    postgres.psql("postgres", 'CREATE DATABASE "restored"')
    with open(backup, "rb") as inp:
        subprocess.run(["sh", "-c", restore[1]], env={**container_env, "POSTGRES_DB": "restored"},
                       stdin=inp, check=True, timeout=120, capture_output=True)
    for table in ("deployment", "flow", "flow_run", "work_pool", "alembic_version"):
        sql = f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"
        assert postgres.psql("restored", sql) == postgres.psql(postgres.database, sql), table
    assert postgres.psql("restored", "SELECT name FROM deployment WHERE name = "
                                     "'backup__nightly__monday'").strip() == \
        "backup__nightly__monday"


# -- issue 9: plan, then apply, on the PostgreSQL-backed server -------------------------------

def cli_status(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`cli ARGS` whose exit code the caller checks (plan --exit-code answers 0 or 1)."""
    return subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=180, check=False)


def plan_actions(env: dict[str, str], cwd: Path, project: str) -> dict[str, tuple]:
    data = json.loads(run([CLI, "prefect", "plan", "-p", project, "--json"], env, cwd).stdout)
    assert all(d["project"] == project for d in data["deployments"])
    return {d["name"]: (d["action"], d["fields"], d["paused"]) for d in data["deployments"]}


def test_plan_deploy_prune_on_postgres(pg_server, postgres, tmp_path):
    """The plan/apply workflow of tests/ops/test_plan.py and test_deploy.py, on PostgreSQL:
    create, unchanged, a hand edit reverted with its pause kept, an orphan pruned alone."""
    from scaffold import yamledit
    from scaffold.ops.embedded import DEFAULT_WORK_POOL, ensure_process_pool
    from tests.helpers.ops import Server, set_entry

    ensure_process_pool(pg_server.api_url, DEFAULT_WORK_POOL)
    server = Server(pg_server.api_url)
    repo = tmp_path / "repo"
    (repo / "projects").mkdir(parents=True)
    env = dict(pg_server.env)
    for project, flow, params in (("orchard", "pick", ("fruit=apple", "fruit=pear", "fruit=plum")),
                                  ("dairy", "milk", ("cow=bessie",))):
        run([CLI, "new-project", project], env, repo)
        run([CLI, "new-flow", project, flow, *(a for p in params for a in ("--param", p))],
            env, repo)
    # JSONB reorders object keys and keeps nothing of the YAML's order: still unchanged after
    set_entry(repo, "dairy", "dairy__milk__bessie", tags=["dairy", "zeta", "alpha"],
              work_pool={"name": DEFAULT_WORK_POOL, "job_variables": {
                  "env": {"ZETA": "1", "ALPHA": "2"}, "working_dir": str(repo)}},
              concurrency_limit=2,
              schedules=[{"cron": "0 6 * * 1-5", "timezone": "Europe/Paris"},
                         {"rrule": "FREQ=WEEKLY;BYDAY=MO,FR", "timezone": "UTC"},
                         {"interval": 3600, "active": False}])
    flow = "orchard__pick_flow"
    apple, pear, plum = (f"orchard__pick__{f}" for f in ("apple", "pear", "plum"))
    milk = "dairy__milk_flow/dairy__milk__bessie"

    assert plan_actions(env, repo, "orchard") == {
        n: ("create", [], False) for n in (apple, pear, plum)}
    run([CLI, "prefect", "deploy", "-p", "orchard", "-p", "dairy"], env, repo)
    on_server = server.deployments()
    assert {f"{flow}/{n}" for n in (apple, pear, plum)} | {milk} <= set(on_server)
    assert on_server[f"{flow}/{apple}"].parameters == {"fruit": "apple"}
    assert len(on_server[milk].schedules) == 3
    assert on_server[milk].job_variables["env"] == {"ZETA": "1", "ALPHA": "2"}
    assert plan_actions(env, repo, "orchard") == {
        n: ("unchanged", [], False) for n in (apple, pear, plum)}
    assert plan_actions(env, repo, "dairy") == {"dairy__milk__bessie": ("unchanged", [], False)}
    assert cli_status(["prefect", "plan", "-p", "orchard", "--exit-code"], env, repo)\
        .returncode == 0

    async def hand_edit(c):  # the dashboard's edit form, then its pause toggle
        from prefect.client.schemas.actions import DeploymentUpdate

        d = await c.read_deployment_by_name(f"{flow}/{apple}")
        await c.update_deployment(d.id, DeploymentUpdate(parameters={"fruit": "rotten"}))
        await c.pause_deployment(d.id)

    server.call(hand_edit)
    assert plan_actions(env, repo, "orchard") == {
        apple: ("update", ["parameters"], True), pear: ("unchanged", [], False),
        plum: ("unchanged", [], False)}
    assert cli_status(["prefect", "plan", "-p", "orchard", "--exit-code"], env, repo)\
        .returncode == 1
    out = run([CLI, "prefect", "deploy", "-p", "orchard"], env, repo).stdout
    assert f"{apple}: updated (parameters), paused (kept)" in out, out
    reverted = server.deployments()[f"{flow}/{apple}"]
    assert reverted.parameters == {"fruit": "apple"} and reverted.paused is True

    # An entry removed from prefect.yaml is an orphan; a hand-made deployment named without
    # the convention on the project's own flow, and another project's, are not.
    async def adhoc(c):
        await c.create_deployment(flow_id=await c.create_flow_from_name(flow), name="adhoc")

    server.call(adhoc)
    path = repo / "projects" / "orchard" / "prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), [plum]))
    assert plan_actions(env, repo, "orchard") == {
        apple: ("unchanged", [], True), pear: ("unchanged", [], False),
        plum: ("orphan", [], False)}
    out = run([CLI, "prefect", "deploy", "-p", "orchard", "--prune", "--yes"], env, repo).stdout
    assert f"{flow}/{plum}: orphan deleted" in out, out
    after = server.deployments()
    assert f"{flow}/{plum}" not in after
    assert {f"{flow}/{apple}", f"{flow}/{pear}", f"{flow}/adhoc", milk} <= set(after)
    assert after[f"{flow}/{apple}"].paused is True
    assert "orchard__pick__plum" not in deployments(postgres)  # gone from PostgreSQL itself
