"""scaffold.ops.api: credentials in the API URL are used as Prefect uses them and never printed
(issue 9 §7). Real servers: the session one, and one that requires basic auth."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scaffold.ops import api
from tests.helpers.cli import invoke
from tests.helpers.ops import CLI, run_process

SECRET = "s3cr%40t"  # percent-encoded '@': decoded as httpx does


def with_creds(url: str, user: str = "user", password: str = SECRET) -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


@pytest.mark.parametrize(("text", "shown"), [
    ("http://user:secret@127.0.0.1:4200/api", "http://user:***@127.0.0.1:4200/api"),
    ("https://tok3n@prefect.example.com/api", "https://***@prefect.example.com/api"),
    ("http://127.0.0.1:4200/api", "http://127.0.0.1:4200/api"),
    ("at http://a:b@h/api (x) and https://c:d@e/f", "at http://a:***@h/api (x) and https://c:***@e/f"),
    ("http://user:@h/api", "http://user:***@h/api"),
    ("mailto:x@y and user@host", "mailto:x@y and user@host"),
])
def test_mask_url(text: str, shown: str) -> None:
    assert api.mask_url(text) == shown


def test_split_credentials_and_dashboard() -> None:
    assert api.split_credentials("http://u:p%40ss@h:1/api") == ("http://h:1/api", "u:p@ss")
    assert api.split_credentials("http://h:1/api") == ("http://h:1/api", None)
    assert api.dashboard_url("http://u:p@127.0.0.1:5/api") == "http://localhost:5"
    assert api.ApiTarget("http://u:p@h/api", "x").shown == "http://u:***@h/api"


def test_status_with_credentials_in_the_url(scratch_repo: Path, prefect_server, monkeypatch
                                            ) -> None:
    """Was: 'not reachable (unknown host)' although the server is up, password echoed."""
    url = with_creds(prefect_server.api_url)
    monkeypatch.setenv("PREFECT_API_URL", url)
    result = invoke("status", "--json", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "s3cr" not in result.stdout + result.stderr
    assert f'"api_url": "{api.mask_url(url)}"' in result.stdout
    server_status = invoke("server", "status", root=scratch_repo)
    assert f"operations use: {api.mask_url(url)} (from PREFECT_API_URL)" in server_status.stdout
    assert "s3cr" not in server_status.stdout + server_status.stderr


def test_errors_never_show_the_password(scratch_repo: Path, monkeypatch) -> None:
    from tests.helpers.prefect_server import free_port

    url = f"http://user:{SECRET}@127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    (scratch_repo / "projects/farm").mkdir()
    (scratch_repo / "projects/farm/prefect.yaml").write_text(
        "deployments:\n- name: farm__harvest\n  entrypoint: flows/harvest.py:harvest_flow\n")
    for args in (("status",), ("prefect", "deployment", "pause", "-p", "farm"),
                 ("server", "status")):
        result = invoke(*args, root=scratch_repo)
        assert "s3cr" not in result.stdout + result.stderr, args
        if args != ("server", "status"):  # that one's exit is the embedded server's health
            assert result.exit_code == 1, (args, result.stdout, result.stderr)
    result = invoke("status", root=scratch_repo)
    assert result.stderr == (f"error: Prefect server not reachable at {api.mask_url(url)} "
                             "(connection refused); check the URL (from PREFECT_API_URL) or "
                             "unset it to use the embedded server (`cli server start`)\n")
    # the same through a real process (the pass-through checks reachability first)
    out = run_process([CLI, "prefect", "flows", "ls"], cwd=scratch_repo, env=dict(os.environ))
    assert out.returncode == 1 and "s3cr" not in out.stdout + out.stderr


@pytest.mark.integration
def test_server_that_requires_basic_auth(scratch_repo: Path, monkeypatch) -> None:
    """A server with PREFECT_SERVER_API_AUTH_STRING: the URL's credentials (or
    PREFECT_API_AUTH_STRING) get in, as with Prefect's own client; wrong ones are refused
    with the password masked."""
    from tests.helpers.prefect_server import PrefectServer

    server = PrefectServer()
    server.env["PREFECT_SERVER_API_AUTH_STRING"] = "user:s3cr@t"
    with server:
        (scratch_repo / "projects/farm").mkdir()
        monkeypatch.setenv("PREFECT_API_URL", with_creds(server.api_url))
        ok = invoke("status", "--json", root=scratch_repo)
        assert ok.exit_code == 0, ok.stdout + ok.stderr
        assert "s3cr" not in ok.stdout
        passthrough = run_process([CLI, "prefect", "work-pool", "ls"], cwd=scratch_repo,
                                  env=dict(os.environ))
        assert passthrough.returncode == 0, passthrough.stderr

        monkeypatch.setenv("PREFECT_API_URL", server.api_url)
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", "user:s3cr@t")
        assert invoke("status", root=scratch_repo).exit_code == 0

        monkeypatch.delenv("PREFECT_API_AUTH_STRING")
        monkeypatch.setenv("PREFECT_API_URL", with_creds(server.api_url, password="wr0ng"))
        bad = invoke("status", root=scratch_repo)
        assert bad.exit_code == 1, bad.stdout + bad.stderr
        assert bad.stderr.count("\n") == 1 and "wr0ng" not in bad.stderr
        assert "user:***@127.0.0.1" in bad.stderr and "401" in bad.stderr


def test_probe_sends_the_url_credentials_as_basic_auth() -> None:
    """Against a tiny real HTTP server that checks the header (no Prefect needed)."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://user:{SECRET}@127.0.0.1:{httpd.server_port}/api"
        assert api.probe(url, 2) is None
        assert seen == ["Basic " + base64.b64encode(b"user:s3cr@t").decode()]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_help_shows_the_port_in_effect(scratch_repo: Path, monkeypatch) -> None:
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", "4321")
    result = invoke("server", "--help", root=scratch_repo)
    assert result.exit_code == 0
    assert "`prefect server start` on http://127.0.0.1:4321/api" in result.stdout
    assert "3. the embedded server: http://127.0.0.1:4321/api" in result.stdout
    assert "29020" in result.stdout  # the default, named as such
    monkeypatch.setenv("SCAFFOLD_SERVER_PORT", "nope")
    result = invoke("server", "--help", root=scratch_repo)
    assert result.exit_code == 0 and "is not a port number" in result.stdout
    monkeypatch.delenv("SCAFFOLD_SERVER_PORT")
    # a fresh process reads it too (the help is built when shown, not at import)
    out = subprocess.run([CLI, "server", "--help"], capture_output=True, text=True, check=False,
                         env={**os.environ, "SCAFFOLD_SERVER_PORT": "4555"}, cwd=scratch_repo)
    assert "http://127.0.0.1:4555/api" in out.stdout
