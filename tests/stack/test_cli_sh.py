"""scripts/cli.sh: the same arguments and exit code, in the prefect-cli container or locally.

The local fallback runs for real (there is no Docker daemon here or on CI, so `docker compose ps`
fails and the script must fall back). The container side cannot run without an engine; it is
checked with a stand-in `docker` executable on PATH that records the `docker compose exec` argv
it would run and answers like the real one.

The local side never uses the checkout's own .venv: VENV points every run at a scratch
virtualenv whose `python -m pip` is a stand-in that records the install scripts/_venv.sh asks
for (no network, nothing installed) and whose `cli` is this test session's.
"""

from __future__ import annotations

import os
import pty
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.stack_files import REPO

CLI_SH = REPO / "scripts" / "cli.sh"
BIN = Path(sys.executable).parent  # this session's virtualenv: it has the package and `cli`


@pytest.fixture(autouse=True)
def scratch_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """VENV for scripts/cli.sh's local side: `python -m pip ...` appends its arguments to
    pip-calls.log and exits 0, any other `python` is this session's; `cli` is this session's."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        if [ "$1" = -m ] && [ "$2" = pip ]; then
            echo "$*" >> '{venv / "pip-calls.log"}'
            exit 0
        fi
        exec '{sys.executable}' "$@"
    """))
    python.chmod(0o755)
    (venv / "bin" / "cli").symlink_to(BIN / "cli")
    monkeypatch.setenv("VENV", str(venv))
    return venv


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, **kw):
    return subprocess.run([str(CLI_SH), *args], cwd=cwd, env=env or os.environ.copy(),
                          capture_output=True, text=True, timeout=120, check=False, **kw)


# -- local fallback, for real -------------------------------------------------------------------


def test_falls_back_to_the_local_venv_without_a_docker_daemon(scratch_repo):
    # Whatever docker is on PATH here (a client without a daemon, or none at all), the stack is
    # not up, so the command runs from .venv.
    result = run(["--version"], cwd=scratch_repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cli, version 0.1.0"


def test_local_side_installs_into_VENV_once_never_the_checkouts_venv(scratch_repo, scratch_venv):
    checkout_venv = REPO / ".venv"
    before = sorted(checkout_venv.glob(".scaffold-installed-*")) if checkout_venv.exists() else []
    for _ in range(2):
        assert run(["--version"], cwd=scratch_repo).returncode == 0
    calls = (scratch_venv / "pip-calls.log").read_text().splitlines()
    # The package once, then stamped (_venv.sh may upgrade pip itself first: not the package).
    (install,) = [c for c in calls if " -e .[" in c]
    assert install.startswith("-m pip install ")
    # cli.sh asks for what cli runs, not the test tools.
    assert install.endswith(" -e .[all]"), install
    assert list(scratch_venv.glob(".scaffold-installed-*"))
    after = sorted(checkout_venv.glob(".scaffold-installed-*")) if checkout_venv.exists() else []
    assert after == before


def test_local_run_works_in_the_callers_folder_with_the_same_arguments(scratch_repo):
    result = run(["new-project", "farm"], cwd=scratch_repo)
    assert result.returncode == 0, result.stderr
    assert (scratch_repo / "projects" / "farm" / "prefect.yaml").is_file()
    # From a sub-folder: the repository is still found by walking up from where the user is.
    flows = scratch_repo / "projects" / "farm" / "flows"
    result = run(["new-flow", "farm", "harvest", "--param", "season=winter"], cwd=flows)
    assert result.returncode == 0, result.stderr
    assert (flows / "harvest.py").is_file()
    config = scratch_repo / "projects" / "farm" / "prefect.yaml"
    assert "farm__harvest__winter" in config.read_text()


def test_local_run_propagates_the_exit_code_and_keeps_streams_apart(scratch_repo):
    before = sorted(p.name for p in scratch_repo.rglob("*"))
    bad = run(["new-project", "Farm"], cwd=scratch_repo)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().splitlines()[-1].startswith("error: invalid project name 'Farm'")
    assert sorted(p.name for p in scratch_repo.rglob("*")) == before
    unknown = run(["no-such-command"], cwd=scratch_repo)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


def test_local_run_propagates_an_operation_failure(scratch_repo):
    # exit 1: the server named by PREFECT_API_URL does not answer (a free port, nothing there)
    assert run(["new-project", "farm"], cwd=scratch_repo).returncode == 0
    assert run(["new-flow", "farm", "harvest"], cwd=scratch_repo).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    down = run(["prefect", "deployment", "pause", "-p", "farm"], cwd=scratch_repo, env=env)
    assert down.returncode == 1
    assert down.stderr.startswith(f"error: Prefect server not reachable at http://127.0.0.1:{port}")


def test_runs_through_a_symlink_on_path(scratch_repo, tmp_path):
    # e.g. ~/bin/cli -> <repo>/scripts/cli.sh: the repository is found where the file is.
    link = tmp_path / "bin" / "cli"
    link.parent.mkdir()
    link.symlink_to(CLI_SH)
    result = subprocess.run([str(link), "--version"], cwd=scratch_repo, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cli, version 0.1.0"


def test_forced_local_mode_and_a_bad_mode(scratch_repo):
    env = {**os.environ, "SCAFFOLD_CLI": "local"}
    assert run(["--version"], cwd=scratch_repo, env=env).returncode == 0
    env["SCAFFOLD_CLI"] = "elsewhere"
    bad = run(["--version"], cwd=scratch_repo, env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "error: SCAFFOLD_CLI must be auto, docker or local, not 'elsewhere'")


# -- the container side, with a stand-in docker ---------------------------------------------------

FAKE_DOCKER = textwrap.dedent("""\
    #!/usr/bin/env bash
    # Stand-in for the docker client (and, as docker-compose, for Compose v1): records its argv
    # and the folder it runs in, answers `compose version` unless $FAKE_NO_V2, `ps -q` from
    # $FAKE_PS, `inspect` with $FAKE_RUNNING, and `exec` with $FAKE_EXIT like the command in the
    # container.
    log="$FAKE_LOG.$(date +%s%N)"
    printf '%s\\0' "$(basename "$0")" "$PWD" "$@" > "$log"
    args=("$@")
    [ "$(basename "$0")" = docker-compose ] && args=(compose "$@")
    case "${args[0]}" in
        inspect) echo "$FAKE_RUNNING"; exit 0 ;;
        compose)
            [ "${args[1]}" = version ] && { [ -n "${FAKE_NO_V2:-}" ] && exit 1; exit 0; }
            for arg in "${args[@]}"; do
                case "$arg" in
                    ps) [ -n "$FAKE_PS" ] && echo "$FAKE_PS"; exit 0 ;;
                    exec) if [ -t 1 ]; then echo tty-out; fi; exit "$FAKE_EXIT" ;;
                esac
            done ;;
    esac
    exit 1
""")


@pytest.fixture
def fake_docker(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    log = tmp_path / "docker-calls"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "FAKE_LOG": str(log), "FAKE_PS": "3f2a9c", "FAKE_RUNNING": "true", "FAKE_EXIT": "0"}

    def calls() -> list[list[str]]:
        """Each call as [program, folder, *argv], `compose version` probes left out."""
        files = sorted(tmp_path.glob("docker-calls.*"))
        out = [f.read_bytes().decode().split("\0")[:-1] for f in files]
        return [c for c in out if c[2:4] != ["compose", "version"]]

    return env, calls


ROOT = str(REPO.resolve())
V2 = ["docker", ROOT, "compose"]  # `docker compose`, run in the repository's root


def test_runs_in_the_container_when_the_stack_is_up(fake_docker):
    env, calls = fake_docker
    args = ["prefect", "deploy", "-d", "farm__harvest", "--pause", "with space", "", "a'b\"c"]
    result = run(args, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    ps, inspect, exec_ = calls()
    # Compose in the repository's root, no -f: it reads docker-compose.yml, an override file
    # and .env (COMPOSE_FILE, COMPOSE_PROJECT_NAME) as `docker compose` typed there would.
    assert ps == [*V2, "ps", "-q", "prefect-cli"]
    assert inspect[2:] == ["inspect", "-f", "{{.State.Running}}", "3f2a9c"]
    # Not a terminal: -T, the repository's mount as working dir, the arguments untouched.
    assert exec_ == [*V2, "exec", "-T", "-w", "/app", "prefect-cli", "cli", *args]


def test_container_exit_code_is_returned(fake_docker):
    env, _calls = fake_docker
    env["FAKE_EXIT"] = "3"
    assert run(["lint"], cwd=REPO, env=env).returncode == 3


def test_container_working_dir_follows_the_callers_folder(fake_docker):
    env, calls = fake_docker
    sub = REPO / "projects"
    assert run(["lint", "."], cwd=sub, env=env).returncode == 0
    assert calls()[-1][-6:] == ["-w", "/app/projects", "prefect-cli", "cli", "lint", "."]


def test_stack_down_falls_back_to_local(fake_docker, scratch_repo):
    env, calls = fake_docker
    env["FAKE_PS"] = ""  # compose answers, but prefect-cli is not running
    result = run(["--version"], cwd=scratch_repo, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "cli, version 0.1.0"
    assert [c[3] for c in calls()] == ["ps"]


def test_a_stopped_container_falls_back_to_local(fake_docker, scratch_repo):
    # Compose v1 lists stopped containers in `ps -q` too: the engine decides.
    env, calls = fake_docker
    env["FAKE_RUNNING"] = "false"
    result = run(["--version"], cwd=scratch_repo, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "cli, version 0.1.0"
    assert [c[2] for c in calls()] == ["compose", "inspect"]


def test_compose_v1_when_there_is_no_v2_plugin(fake_docker, tmp_path):
    # Debian packages only Compose v1 (`docker-compose`): the same calls through it.
    env, calls = fake_docker
    env["FAKE_NO_V2"] = "1"
    (tmp_path / "bin" / "docker-compose").symlink_to(tmp_path / "bin" / "docker")
    result = run(["status"], cwd=REPO / "projects", env=env)
    assert result.returncode == 0, result.stderr
    ps, _inspect, exec_ = calls()
    assert ps == ["docker-compose", ROOT, "ps", "-q", "prefect-cli"]
    assert exec_ == ["docker-compose", ROOT, "exec", "-T", "-w", "/app/projects", "prefect-cli",
                     "cli", "status"]


def test_forced_docker_mode_without_compose_says_so(fake_docker, scratch_repo, tmp_path):
    env, calls = fake_docker
    # A PATH with the stand-in docker and the few tools the scripts use, so that a real
    # docker-compose on this machine is not found.
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("bash", "env", "dirname", "basename", "date", "head"):
        (tools / name).symlink_to(shutil.which(name))
    env.update(FAKE_NO_V2="1", SCAFFOLD_CLI="docker", PATH=f"{tmp_path / 'bin'}:{tools}")
    result = run(["status"], cwd=scratch_repo, env=env)
    assert result.returncode == 2
    assert "neither 'docker compose' nor 'docker-compose' works here" in result.stderr
    assert calls() == []


def test_terminal_gets_a_tty(fake_docker):
    env, calls = fake_docker
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run([str(CLI_SH), "status"], cwd=REPO, env=env, stdin=terminal,
                              stdout=terminal, stderr=terminal, timeout=60, check=False)
    finally:
        os.close(terminal)
    output = b""
    try:
        while chunk := os.read(controller, 1024):
            output += chunk
    except OSError:
        pass  # EIO once the terminal side is closed
    os.close(controller)
    assert proc.returncode == 0
    assert calls()[-1] == [*V2, "exec", "-w", "/app", "prefect-cli", "cli", "status"]
    assert b"tty-out" in output


def test_forced_docker_mode_does_not_fall_back(fake_docker, scratch_repo):
    env, calls = fake_docker
    env.update(FAKE_PS="", SCAFFOLD_CLI="docker", FAKE_EXIT="1")
    assert run(["--version"], cwd=scratch_repo, env=env).returncode == 1
    assert [c[3] for c in calls()] == ["exec"]


def test_script_is_executable_and_valid_bash():
    assert os.access(CLI_SH, os.X_OK)
    subprocess.run(["bash", "-n", str(CLI_SH)], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(CLI_SH)], check=True)
