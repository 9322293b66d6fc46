"""Pass-through to the prefect CLI, server down, the embedded server, API URL resolution."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scaffold.errors import OperationError
from scaffold.ops import api
from scaffold.ops.embedded import Embedded, _group_alive, ensure_process_pool
from scaffold.ops.passthrough import needs_api
from tests.helpers.cli import invoke
from tests.helpers.ops import CLI, PREFECT, generate, run_process

# -- pass-through --------------------------------------------------------------------------------


@pytest.mark.integration
def test_pass_through_same_output_and_exit_code(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    assert invoke("prefect", "deploy", "-p", "farm", root=scratch_repo).exit_code == 0
    cases = [["deployments", "ls"], ["deployment", "ls"], ["flows", "ls"],
             ["deployment", "inspect", "nosuch/nosuch"], ["no-such-command"],
             ["deployment", "ls", "--help"], ["version"]]
    env = {**os.environ, "COLUMNS": "250"}  # rich tables of prefect: no wrapped names

    def both(args: list[str]) -> tuple:
        ours = run_process([CLI, "prefect", *args], cwd=scratch_repo, env=env)
        theirs = run_process([PREFECT, *args], cwd=scratch_repo, env=env)
        return args, ours, theirs

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(both, cases))
    for args, ours, theirs in results:
        assert ours.returncode == theirs.returncode, (args, ours.stderr, theirs.stderr)
        if args != ["version"]:  # version prints its own timing-free facts, but wide tables
            assert ours.stdout.split() == theirs.stdout.split(), args
    codes = {tuple(a): o.returncode for a, o, _ in results}
    assert codes[("deployments", "ls")] == 0 and codes[("flows", "ls")] == 0
    assert codes[("deployment", "inspect", "nosuch/nosuch")] != 0
    assert codes[("no-such-command",)] != 0
    listing = {tuple(a): o.stdout for a, o, _ in results}[("deployments", "ls")]
    assert "farm__harvest_flow/farm__harvest__winter" in listing


@pytest.mark.integration
def test_pass_through_uses_the_embedded_default(scratch_repo: Path, server, monkeypatch):
    """Without PREFECT_API_URL, `cli prefect ...` talks to the embedded server's URL."""
    generate(scratch_repo, "farm", "harvest")
    assert invoke("prefect", "deploy", "-p", "farm", root=scratch_repo).exit_code == 0
    port = server.api_url.rsplit(":", 1)[1].split("/")[0]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(SCAFFOLD_SERVER_PORT=port, COLUMNS="250")
    out = run_process([CLI, "prefect", "deployment", "ls"], cwd=scratch_repo, env=env)
    assert out.returncode == 0, out.stderr
    assert "farm__harvest_flow/farm__harvest" in out.stdout


def test_help_lists_ours_and_pass_through(scratch_repo: Path):
    result = invoke("prefect", "--help", root=scratch_repo)
    assert result.exit_code == 0
    for text in ("deploy", "deployment", "Other commands", "cli prefect flows ls"):
        assert text in result.stdout
    result = invoke("prefect", "deployment", "--help", root=scratch_repo)
    assert result.exit_code == 0
    for text in ("pause", "resume", "delete", "prefect deployment COMMAND"):
        assert text in result.stdout
    result = invoke("prefect", "deploy", "--help", root=scratch_repo)
    assert "--pause" in result.stdout and "-p, --project" in result.stdout


def test_help_does_not_import_prefect(scratch_repo: Path):
    code = ("import sys\nfrom scaffold.cli import main\nfor args in ({}):\n"
            "    try:\n        main(list(args))\n    except SystemExit:\n        pass\n"
            "assert 'prefect' not in sys.modules, 'prefect imported'\n")
    argv = (["--help"], ["prefect", "--help"], ["prefect", "deployment", "--help"],
            ["prefect", "deploy", "--help"], ["server", "--help"], ["status", "--help"])
    out = subprocess.run([sys.executable, "-c", code.format(repr(tuple(map(tuple, argv))))],
                         cwd=scratch_repo, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


# -- server down ---------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def farm_config(scratch_repo: Path) -> Path:
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    return scratch_repo


COMMANDS = [("prefect", "deploy", "-p", "farm"),
            ("prefect", "deployment", "pause", "-p", "farm"),
            ("prefect", "deployment", "resume", "-d", "farm__harvest__winter"),
            ("prefect", "deployment", "delete", "-p", "farm", "--yes", "--prune-config"),
            ("status",)]


def test_server_down_one_line_exit_1(farm_config: Path, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    before = (farm_config / "projects" / "farm" / "prefect.yaml").read_bytes()
    for args in COMMANDS:
        start = time.monotonic()
        result = invoke(*args, root=farm_config)
        assert time.monotonic() - start < 5, args
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"error: Prefect server not reachable at {url} "
                                        "(connection refused)")
        assert "cli server start" in result.stderr
    assert (farm_config / "projects" / "farm" / "prefect.yaml").read_bytes() == before


def test_server_down_embedded_default_says_how_to_start(farm_config: Path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(closed_port()))
    start = time.monotonic()
    out = run_process([CLI, "prefect", "deploy", "-p", "farm"], cwd=farm_config)
    assert time.monotonic() - start < 10
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1
    assert out.stderr.endswith("; start it with `cli server start`\n")


def test_server_not_answering_times_out(farm_config: Path, monkeypatch):
    """A port that accepts connections but never answers: bounded by SCAFFOLD_API_TIMEOUT."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api"
        monkeypatch.setenv("PREFECT_API_URL", url)
        monkeypatch.setenv("SCAFFOLD_API_TIMEOUT", "1")
        start = time.monotonic()
        result = invoke("prefect", "deployment", "pause", "-p", "farm", root=farm_config)
        assert time.monotonic() - start < 4
    assert result.exit_code == 1
    assert f"not reachable at {url} (no answer within 1 s)" in result.stderr


# -- API URL resolution --------------------------------------------------------------------------


def test_resolution_order(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    base = {"PREFECT_HOME": str(home)}
    target = api.resolve_api(base)
    assert target.url == "http://127.0.0.1:29020/api" and target.source.startswith("embedded")
    assert api.resolve_api({**base, "SCAFFOLD_SERVER_PORT": "4200"}).url == \
        "http://127.0.0.1:4200/api"
    (home / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://team:4200/api"\n'
        '[profiles.other]\nPREFECT_API_URL = "http://other:4200/api"\n')
    assert api.resolve_api(base).url == "http://team:4200/api"
    assert api.resolve_api({**base, "PREFECT_PROFILE": "other"}).url == "http://other:4200/api"
    env = {**base, "PREFECT_API_URL": "http://env:1/api/"}
    assert api.resolve_api(env) == api.ApiTarget("http://env:1/api", "PREFECT_API_URL")
    with pytest.raises(api.UsageError):
        api.embedded_port({"SCAFFOLD_SERVER_PORT": "http"})


def test_server_help_documents_resolution(scratch_repo: Path):
    result = invoke("server", "--help", root=scratch_repo)
    assert result.exit_code == 0
    for text in ("1. PREFECT_API_URL in the environment", "2. PREFECT_API_URL in the active",
                 "3. the embedded server: http://127.0.0.1:29020/api", "http://localhost:29020"):
        assert text in result.stdout


# -- the embedded server -----------------------------------------------------------------------


@pytest.mark.integration
def test_embedded_server_start_status_stop(scratch_repo: Path, monkeypatch):
    """`cli server start|status|stop` with the real `prefect server start` (own port)."""
    from tests.helpers.prefect_server import free_port

    port = free_port()
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(port))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    emb = Embedded(scratch_repo)
    try:
        out = run_process([CLI, "server", "start"], cwd=scratch_repo, timeout=150)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"started (pid {emb.pid()}) at http://127.0.0.1:{port}/api" in out.stdout
        assert "created the process work pool 'default-pool'" in out.stdout
        assert f"dashboard: http://localhost:{port}" in out.stdout
        assert "cli server stop" in out.stdout
        assert (scratch_repo / ".prefect" / "server.pid").exists()
        assert (scratch_repo / ".prefect" / "server.log").exists()
        assert list((scratch_repo / ".prefect").glob("*.db"))  # SQLite under <root>/.prefect

        again = invoke("server", "start", root=scratch_repo)
        assert again.exit_code == 0 and "already running" in again.stdout
        status = invoke("server", "status", root=scratch_repo)
        assert status.exit_code == 0 and "healthy" in status.stdout
        assert f"operations use: http://127.0.0.1:{port}/api" in status.stdout

        # the operations use it without PREFECT_API_URL
        generate(scratch_repo, "farm", "harvest")
        result = invoke("prefect", "deploy", "-p", "farm", root=scratch_repo)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert f"deployed to http://127.0.0.1:{port}/api" in result.stdout
        pid = emb.pid()
    finally:
        stopped = invoke("server", "stop", root=scratch_repo)
    assert stopped.exit_code == 0 and f"stopped (pid {pid})" in stopped.stdout
    assert not _group_alive(pid)  # the whole process group is gone (zombies aside)
    assert not (scratch_repo / ".prefect" / "server.pid").exists()
    status = invoke("server", "status", root=scratch_repo)
    assert status.exit_code == 1 and "not running" in status.stdout
    stop = invoke("server", "stop", root=scratch_repo)
    assert stop.stdout.strip() == "Prefect server not running"


def test_stop_ignores_a_stale_pid_file(scratch_repo: Path, monkeypatch):
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(closed_port()))
    (scratch_repo / ".prefect").mkdir()
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        # a live process that is not a Prefect server must never be signalled
        (scratch_repo / ".prefect" / "server.pid").write_text(f"{sleeper.pid}\n")
        result = invoke("server", "stop", root=scratch_repo)
        assert result.exit_code == 0 and "not running" in result.stdout
        assert sleeper.poll() is None
    finally:
        os.killpg(sleeper.pid, signal.SIGKILL)
        sleeper.wait()


# -- something that answers HTTP but is no Prefect API -------------------------------------------


class _Everything200(http.server.BaseHTTPRequestHandler):
    """Like a web app that answers every path with a page (the dashboard's UI does)."""

    def do_GET(self):
        body = b"<html><body>an app</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(params=["files", "everything-200"])
def web_server(request, tmp_path: Path):
    """A real `http.server` on a free loopback port (404 for /api/health, or 200 with HTML)."""
    handler = (functools.partial(_Files, directory=str(tmp_path)) if request.param == "files"
               else _Everything200)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


NOT_PREFECT_HINT = "is this a Prefect API? the URL usually ends in /api"


def test_not_a_prefect_api_one_line_exit_1(farm_config: Path, web_server: int, monkeypatch):
    for url in (f"http://127.0.0.1:{web_server}/api", f"http://127.0.0.1:{web_server}"):
        monkeypatch.setenv("PREFECT_API_URL", url)
        for args in [*COMMANDS, ("prefect", "flows", "ls"), ("prefect", "deployment", "ls")]:
            result = invoke(*args, root=farm_config)
            assert result.exit_code == 1, (args, result.stdout, result.stderr)
            assert result.stderr.count("\n") == 1, (args, result.stderr)
            assert result.stderr.startswith(f"error: {url} (PREFECT_API_URL) answers HTTP but "
                                            "is not a Prefect API"), result.stderr
            assert result.stderr.rstrip().endswith(NOT_PREFECT_HINT)


def test_client_failing_to_reach_the_api_is_one_line(web_server: int):
    """api.run: prefect's client raises RuntimeError('Failed to reach API ...') on its first
    request to something that is no Prefect API (here: without the probe in front)."""
    url = f"http://127.0.0.1:{web_server}/api"
    with pytest.raises(OperationError) as info:
        ensure_process_pool(url, "default-pool")
    assert str(info.value) == (f"Prefect server at {url} (embedded) did not answer as a "
                               f"Prefect API; {NOT_PREFECT_HINT}")


def test_embedded_port_held_by_another_web_server(scratch_repo: Path, web_server: int, monkeypatch):
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(web_server))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = invoke("server", "start", root=scratch_repo)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr == (f"error: port {web_server} on 127.0.0.1 is used by another "
                             "program; stop it or set SCAFFOLD_SERVER_PORT to a free port\n")
    assert not (scratch_repo / ".prefect" / "server.pid").exists()
    status = invoke("server", "status", root=scratch_repo)
    assert status.exit_code == 1
    assert "a Prefect server answers" not in status.stdout
    assert f"port {web_server} is used by another program" in status.stdout


# -- pass-through with the server down ---------------------------------------------------------


def test_pass_through_server_down_one_line(scratch_repo: Path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", str(closed_port()))
    env = dict(os.environ)
    for args in (["flows", "ls"], ["deployment", "ls"], ["work-pool", "ls"]):
        out = run_process([CLI, "prefect", *args], cwd=scratch_repo, env=env)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert out.stdout == "" and out.stderr.count("\n") == 1, out.stderr
        assert out.stderr.startswith("error: Prefect server not reachable at http://127.0.0.1:")
        assert out.stderr.endswith("; start it with `cli server start`\n")
    # no server needed: forwarded unchecked, prefect's own result
    for args in (["version"], ["flows", "ls", "--help"], ["config", "view"]):
        out = run_process([CLI, "prefect", *args], cwd=scratch_repo, env=env)
        assert out.returncode == 0, (args, out.stderr)


def test_needs_api():
    assert needs_api(["flows", "ls"]) and needs_api(["worker", "start", "--pool", "p"])
    assert needs_api(["deployment", "inspect", "f/d"])
    for args in (["version"], ["server", "start"], ["config", "view"], ["profile", "ls"],
                 ["flows", "ls", "--help"], ["flows", "ls", "-h"], ["flows"],
                 ["no-such-command", "x"]):
        assert not needs_api(args), args


def test_a_name_in_two_projects_is_refused_before_the_server(tmp_path: Path, monkeypatch):
    """-d farm__harvest held by farm and barn: exit 2, one line, before any server is asked
    (the server here is down: an exit 1 would mean it was contacted first)."""
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
    for project, flow in (("farm", "harvest"), ("barn", "store")):
        (tmp_path / "projects" / project / "flows").mkdir(parents=True)
        (tmp_path / "projects" / project / "prefect.yaml").write_text(
            f"name: {project}\ndeployments:\n- name: farm__harvest\n"
            f"  entrypoint: flows/{flow}.py:{flow}_flow\n")
    for args in (("prefect", "plan", "-d", "farm__harvest"),
                 ("prefect", "deployment", "pause", "-d", "farm__harvest")):
        result = invoke(*args, root=tmp_path)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert "deployment 'farm__harvest' is the name of 2 deployments" in result.stderr
        assert "FLOW/NAME" in result.stderr and "-p PROJECT" in result.stderr
