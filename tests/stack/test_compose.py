"""docker-compose.yml, Dockerfile and .env.example, checked without a Docker engine (CI has none):
the Compose Specification's JSON schema, then the properties the seed and docs/ops.md rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helpers.stack_files import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    REPO,
    SERVICES,
    command_args,
    compose_validator,
    dockerfile_args,
    dockerfile_env,
    dockerfile_instructions,
    environment,
    interpolate_str,
    load_compose,
    load_compose_raw,
    pyproject_prefect_pin,
    read_env_file,
    schema_errors,
    strings,
    variables,
)

DASHBOARD_PORT = "29020"  # the seed: http://localhost:29020
PREFECT_IMAGE = "scaffold-prefect:local"  # one `image:` name: compose builds it once


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


def server_port(compose: dict) -> str:
    args = command_args(compose["services"]["prefect-server"])
    return args[args.index("--port") + 1]


# -- the Compose Specification ----------------------------------------------------------------


def test_compose_file_validates_against_the_compose_spec():
    validator = compose_validator()
    assert schema_errors(validator, load_compose_raw()) == []


def test_interpolated_compose_file_validates_against_the_compose_spec(compose):
    assert schema_errors(compose_validator(), compose) == []


def test_the_schema_check_catches_a_broken_file():
    # The validation above must be able to fail: a misspelt key and a wrong type are rejected.
    validator = compose_validator()
    broken = load_compose_raw()
    broken["services"]["prefect-server"]["healthchek"] = {"test": ["CMD", "true"]}
    broken["services"]["prefect-postgres"]["ports"] = "5432"
    errors = schema_errors(validator, broken)
    assert any("healthchek" in e for e in errors), errors
    assert any(e.startswith("services/prefect-postgres/ports") for e in errors), errors


# -- services ---------------------------------------------------------------------------------


def test_the_four_services_of_the_seed(compose):
    assert sorted(compose["services"]) == sorted(SERVICES)


def test_every_published_port_is_on_loopback(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)


def test_postgres_service(compose):
    pg = compose["services"]["prefect-postgres"]
    assert pg["image"] == "postgres:15"  # POSTGRES_IMAGE, the official image by default
    raw = load_compose_raw()["services"]["prefect-postgres"]["image"]
    assert raw == "${POSTGRES_IMAGE:-postgres:15}"
    assert "ports" not in pg, "PostgreSQL needs no host port; backups use docker compose exec"
    volume, _, target = pg["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert "/" not in volume and volume in compose["volumes"], "a named volume holds the data"
    assert pg["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pg_isready" in pg["healthcheck"]["test"][1]
    env = environment(pg)
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= env.keys()


def test_postgres_healthcheck_uses_the_container_variables():
    # `$$` so that the container's shell, not compose, expands them.
    raw = load_compose_raw()["services"]["prefect-postgres"]["healthcheck"]["test"][1]
    assert "$${POSTGRES_USER}" in raw and "$${POSTGRES_DB}" in raw
    assert interpolate_str(raw, {}) == 'pg_isready -U "${POSTGRES_USER}" -d "${POSTGRES_DB}"'


def test_server_service(compose, env_example):
    server = compose["services"]["prefect-server"]
    args = command_args(server)
    assert args[:3] == ["prefect", "server", "start"]
    assert args[args.index("--host") + 1] == "0.0.0.0"  # reachable from the other containers
    port = server_port(compose)
    assert server["ports"] == [f"127.0.0.1:{DASHBOARD_PORT}:{port}"]
    assert server["build"]["context"] == "."
    assert server["image"] == PREFECT_IMAGE  # one local image shared by the three services
    assert server["depends_on"] == {"prefect-postgres": {"condition": "service_healthy"}}

    env = environment(server)
    url = urlsplit(env["PREFECT_API_DATABASE_CONNECTION_URL"])
    pg_env = environment(compose["services"]["prefect-postgres"])
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port) == ("prefect-postgres", 5432)
    assert url.username == pg_env["POSTGRES_USER"] == env_example["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"] == env_example["POSTGRES_PASSWORD"]
    assert url.path == "/" + pg_env["POSTGRES_DB"]
    # The dashboard runs in the host's browser, so it must call the API on the published port.
    assert env["PREFECT_UI_API_URL"] == f"http://localhost:{DASHBOARD_PORT}/api"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"

    check = server["healthcheck"]["test"]
    assert check[0] == "CMD" and check[1:3] == ["python", "-c"]
    assert f"http://127.0.0.1:{port}/api/health" in check[3]
    compile(check[3], "healthcheck", "exec")


def test_worker_service(compose, env_example):
    worker = compose["services"]["prefect-worker"]
    env = environment(worker)
    assert env["PREFECT_API_URL"] == f"http://prefect-server:{server_port(compose)}/api"
    assert env["PREFECT_WORK_POOL"] == env_example["PREFECT_WORK_POOL"]
    assert worker["depends_on"] == {"prefect-server": {"condition": "service_healthy"}}
    assert worker["build"] == compose["services"]["prefect-server"]["build"]
    assert worker["image"] == PREFECT_IMAGE

    args = command_args(worker)
    assert args[:2] == ["sh", "-c"]
    script = args[2]
    assert 'prefect work-pool create --type process "$PREFECT_WORK_POOL"' in script
    assert 'exec prefect worker start --pool "$PREFECT_WORK_POOL" --type process' in script
    subprocess.run(["sh", "-n", "-c", script], check=True)  # valid shell

    check = worker["healthcheck"]["test"]
    assert f"http://127.0.0.1:{env['PREFECT_WORKER_WEBSERVER_PORT']}/health" in check[3]
    assert env["PREFECT_WORKER_WEBSERVER_HOST"] == "127.0.0.1"


def test_worker_sees_flow_code_where_the_pull_step_points(compose):
    # prefect.yaml's pull step is '{{ $SCAFFOLD_ROOT }}/projects/<PROJECT>', resolved by Prefect
    # on the worker at run time: the worker's SCAFFOLD_ROOT must hold projects/, at the same
    # path as in the cli container.
    cli = compose["services"]["prefect-cli"]
    worker = compose["services"]["prefect-worker"]
    workdir = cli["working_dir"]
    assert f".:{workdir}" in cli["volumes"]
    assert environment(worker)["SCAFFOLD_ROOT"] == environment(cli)["SCAFFOLD_ROOT"] == workdir
    assert f"./projects:{workdir}/projects" in worker["volumes"]


def test_projects_pull_steps_and_work_pools_match_the_stack(env_example):
    # Every committed project runs on the stack's worker: same work pool, pull step under
    # $SCAFFOLD_ROOT.
    configs = sorted((REPO / "projects").glob("*/prefect.yaml"))
    assert configs, "the repository has a sample project"
    for path in configs:
        data = yaml.safe_load(path.read_text())
        project = path.parent.name
        key = "prefect.deployments.steps.set_working_directory"
        steps = [step[key] for step in data["pull"] if key in step]
        assert steps == [{"directory": f"{{{{ $SCAFFOLD_ROOT }}}}/projects/{project}"}], path
        for dep in data["deployments"] or []:
            assert dep["work_pool"]["name"] == env_example["PREFECT_WORK_POOL"], (path, dep["name"])


def test_cli_service(compose):
    cli = compose["services"]["prefect-cli"]
    env = environment(cli)
    assert env["PREFECT_API_URL"] == f"http://prefect-server:{server_port(compose)}/api"
    assert env["SCAFFOLD_ROOT"] == cli["working_dir"]
    assert command_args(cli) == ["sleep", "infinity"]  # kept running for `docker compose exec`
    assert cli["init"] is True  # so that `sleep` (pid 1 otherwise) stops on SIGTERM
    assert cli["depends_on"] == {"prefect-server": {"condition": "service_healthy"}}
    assert cli["build"] == compose["services"]["prefect-server"]["build"]
    assert cli["image"] == PREFECT_IMAGE
    # Links printed inside the container must open in the host's browser.
    assert env["PREFECT_UI_URL"] == f"http://localhost:{DASHBOARD_PORT}"


def test_every_healthcheck_and_dependency_condition(compose):
    for name, service in compose["services"].items():
        if name != "prefect-cli":
            assert "healthcheck" in service, name
        for dep, spec in (service.get("depends_on") or {}).items():
            assert "healthcheck" in compose["services"][dep], (name, dep)
            assert spec["condition"] == "service_healthy", (name, dep)


# -- secrets and .env ---------------------------------------------------------------------------


def test_no_secret_literals_in_the_compose_file(env_example):
    text = COMPOSE_FILE.read_text()
    raw = load_compose_raw()
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if secretish.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), (name, key, value)
            for scheme in re.finditer(r"://([^:/@\s]+):([^@\s]+)@", value):
                assert scheme[2].startswith("${") and scheme[2].endswith("}"), (name, key)
    assert env_example["POSTGRES_PASSWORD"] not in text


def test_the_password_is_required(compose):
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        load_compose({k: v for k, v in read_env_file(ENV_EXAMPLE).items()
                       if k != "POSTGRES_PASSWORD"})


def test_env_example_documents_every_variable_the_compose_file_uses(env_example):
    used = variables("\n".join(strings(load_compose_raw())))
    assert set(used) == set(env_example), "keep .env.example and docker-compose.yml in step"
    # Defaults in the compose file agree with the example, so a partial .env behaves the same.
    for name, value in env_example.items():
        for m in re.finditer(r"\$\{" + name + r":-([^}]*)\}", COMPOSE_FILE.read_text()):
            assert m[1] == value, (name, m[1], value)


def test_env_is_ignored_by_git_and_by_docker_build():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    assert ignored.returncode == 0, ".env must be gitignored"
    tracked = subprocess.run(["git", "check-ignore", "-q", ".env.example"],
                             cwd=REPO, check=False)
    assert tracked.returncode == 1, ".env.example must not be ignored"
    dockerignore = (REPO / ".dockerignore").read_text().split()
    for entry in (".env", ".git", ".venv"):
        assert entry in dockerignore, entry


# -- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_base_image_and_prefect_pin():
    instructions = dockerfile_instructions()
    # The base image is a build argument whose default is the official image (a registry-less
    # machine passes a stand-in; docs/ops.md), and compose passes the same default from .env.
    assert instructions[:2] == [("ARG", "PYTHON_IMAGE=python:3.11-slim"),
                                ("FROM", "${PYTHON_IMAGE}")]
    args = load_compose()["services"]["prefect-server"]["build"]["args"]
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert dockerfile_args()["PREFECT_VERSION"] == pyproject_prefect_pin()
    runs = " ".join(args for instr, args in instructions if instr == "RUN")
    assert 'pip install "prefect==${PREFECT_VERSION}"' in runs


def test_dockerfile_runs_as_a_non_root_user():
    users = [args for instr, args in dockerfile_instructions() if instr == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0"), users
    instructions = dockerfile_instructions()
    last_user = max(i for i, (instr, _) in enumerate(instructions) if instr == "USER")
    assert all(instr != "RUN" for instr, _ in instructions[last_user:]), "no RUN after USER"


def test_dockerfile_sets_the_repository_root_the_cli_container_mounts(compose):
    workdirs = [args for instr, args in dockerfile_instructions() if instr == "WORKDIR"]
    env = dockerfile_env()
    assert workdirs[-1] == env["SCAFFOLD_ROOT"] == compose["services"]["prefect-cli"]["working_dir"]


def test_dockerfile_gives_the_server_writable_folders():
    # The image runs as a non-root user: Prefect's home and the dashboard files the server
    # copies on start (by default into site-packages, owned by root) live in its home.
    env = dockerfile_env()
    home = env["HOME"]
    assert home == "/home/prefect"
    for key in ("PREFECT_HOME", "PREFECT_SERVER_UI_STATIC_DIRECTORY"):
        assert env[key].startswith(home + "/"), key
    runs = " ".join(args for instr, args in dockerfile_instructions() if instr == "RUN")
    assert "--create-home" in runs


def _run_snippets(version: str) -> list[str]:
    """The Dockerfile's `python -c` snippets, ARG values substituted, as the build runs them."""
    out = []
    for instr, args in dockerfile_instructions():
        if instr != "RUN":
            continue
        for m in re.finditer(r'python -c "((?:[^"\\]|\\.)*)"', args):
            out.append(m[1].replace("${PREFECT_VERSION}", version).replace('\\"', '"'))
    return out


def test_dockerfile_requirements_step_reads_pyproject(tmp_path):
    # The build step that lists the dependencies, run here on the real pyproject.toml.
    import tomllib

    requirements, _check = _run_snippets(pyproject_prefect_pin())
    out = subprocess.run([sys.executable, "-c", requirements], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    expected = project["dependencies"] + extras["generate"] + extras["prefect"]
    assert out == expected


def test_dockerfile_version_check_step_fails_on_a_mismatch():
    import importlib.metadata

    installed = importlib.metadata.version("prefect")
    _req, check = _run_snippets(installed)
    assert subprocess.run([sys.executable, "-c", check], check=False).returncode == 0
    _req, check = _run_snippets("0.0.1")
    wrong = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                           check=False)
    assert wrong.returncode == 1 and "0.0.1 expected" in wrong.stderr


def test_compose_file_is_plain_yaml_without_tabs():
    text = COMPOSE_FILE.read_text()
    assert "\t" not in text
    yaml.safe_load(text)
    assert DOCKERFILE.read_text().endswith("\n")
