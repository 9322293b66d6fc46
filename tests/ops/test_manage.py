"""`cli prefect deployment pause|resume|delete` against a real Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold import yamledit
from scaffold.ops import manage
from scaffold.repo import Repo
from tests.helpers.cli import invoke
from tests.helpers.ops import generate

pytestmark = pytest.mark.integration

WINTER, SUMMER = "farm__harvest_flow/farm__harvest__winter", "farm__harvest_flow/farm__harvest__summer"
ORDERS = "dw__load_flow/dw__load__orders"
ALL = {WINTER, SUMMER, ORDERS}


@pytest.fixture
def deployed(scratch_repo: Path, server) -> Path:
    generate(scratch_repo, "farm", "harvest", "season=winter", "season=summer")
    generate(scratch_repo, "dw", "load", "table=orders")
    result = invoke("prefect", "deploy", "-p", "farm", "-p", "dw", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert server.paused() == {WINTER: False, SUMMER: False, ORDERS: False}
    return scratch_repo


def test_pause_and_resume_by_project(deployed: Path, server):
    result = invoke("prefect", "deployment", "pause", "-p", "farm", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.paused() == {WINTER: True, SUMMER: True, ORDERS: False}
    assert "[1/2] farm__harvest_flow/farm__harvest__winter: paused" in result.stdout
    assert "2 paused" in result.stdout

    result = invoke("prefect", "deployment", "pause", "-p", "farm", "-p", "dw", root=deployed)
    assert result.exit_code == 0
    assert server.paused() == {WINTER: True, SUMMER: True, ORDERS: True}
    assert "1 paused, 2 already paused" in result.stdout

    result = invoke("prefect", "deployment", "resume", "-p", "farm", "-p", "dw", root=deployed)
    assert result.exit_code == 0
    assert server.paused() == {WINTER: False, SUMMER: False, ORDERS: False}


def test_pause_and_resume_by_name(deployed: Path, server):
    result = invoke("prefect", "deployment", "pause", "-d", "farm__harvest__summer",
                    "-d", "dw__load__orders", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.paused() == {WINTER: False, SUMMER: True, ORDERS: True}
    result = invoke("prefect", "deployment", "resume", "-d", "dw__load__orders", root=deployed)
    assert result.exit_code == 0
    assert server.paused() == {WINTER: False, SUMMER: True, ORDERS: False}
    # mixed: a project and a name
    result = invoke("prefect", "deployment", "pause", "-p", "dw", "-d", "farm__harvest__winter",
                    root=deployed)
    assert result.exit_code == 0
    assert server.paused() == {WINTER: True, SUMMER: True, ORDERS: True}


def test_in_config_not_on_server_is_reported(deployed: Path, server):
    invoke("new-deployment", "farm", "harvest", "--param", "season=autumn", root=deployed)
    for verb in ("pause", "resume"):
        result = invoke("prefect", "deployment", verb, "-p", "farm", root=deployed)
        assert result.exit_code == 0, result.stderr
        assert ("farm__harvest__autumn: not on the server (only in projects/farm/prefect.yaml; "
                "deploy it with: cli prefect deploy -d farm__harvest__autumn)") in result.stdout
        assert "1 not on the server" in result.stdout
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__autumn", root=deployed)
    assert result.exit_code == 0 and "not on the server" in result.stdout
    assert set(server.deployments()) == ALL


def test_unknown_names(deployed: Path, server):
    for verb in ("pause", "resume", "delete"):
        result = invoke("prefect", "deployment", verb, "-d", "farm__harvest__wintr", root=deployed)
        assert result.exit_code == 2
        assert "unknown deployment 'farm__harvest__wintr'" in result.stderr
        # a delete never proposes another (live) deployment
        assert ("did you mean 'farm__harvest__winter'" in result.stderr) == (verb != "delete")
        assert result.stderr.count("\n") == 1
    assert not any(server.paused().values()) and set(server.deployments()) == ALL


def _make_server_only(deployed: Path) -> None:
    """farm__harvest__summer stays on the server but leaves prefect.yaml (`cli status`: only
    on server)."""
    path = deployed / "projects" / "farm" / "prefect.yaml"
    path.write_text(yamledit.remove_deployments(path.read_text(), ["farm__harvest__summer"], path))
    status = invoke("status", "-p", "farm", "--json", root=deployed)
    rows = {r["name"]: r for b in __import__("json").loads(status.stdout)["projects"]
            for r in b["deployments"]}
    assert rows["farm__harvest__summer"]["drift"] == "only on server"


def test_deployment_only_on_the_server_can_be_named(deployed: Path, server):
    """Issue 9 §7: `-d X` (and `-d FLOW/X`) of a deployment in no prefect.yaml finds it on the
    server, saying so, for pause, resume and delete; nothing else is touched."""
    _make_server_only(deployed)
    result = invoke("prefect", "deployment", "pause", "-d", "farm__harvest__summer", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert f"[1/1] {SUMMER} (not in any prefect.yaml): paused" in result.stdout
    assert server.paused() == {WINTER: False, SUMMER: True, ORDERS: False}
    result = invoke("prefect", "deployment", "resume", "-d", SUMMER, root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.paused() == {WINTER: False, SUMMER: False, ORDERS: False}
    # mixed with a config name and a project; `-d X` and `-d FLOW/X` of it count once
    result = invoke("prefect", "deployment", "pause", "-p", "dw", "-d", "farm__harvest__summer",
                    "-d", SUMMER, root=deployed)
    assert result.exit_code == 0, result.stderr
    assert "2 paused" in result.stdout
    assert server.paused() == {WINTER: False, SUMMER: True, ORDERS: True}

    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__summer",
                    "--prune-config", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert f"{SUMMER} (not in any prefect.yaml): deleted" in result.stdout
    assert set(server.deployments()) == {WINTER, ORDERS}


def test_server_only_name_under_two_flows_must_be_qualified(deployed: Path, server):
    _make_server_only(deployed)

    async def twin(client):  # same deployment name under a hand-made flow
        flow_id = await client.create_flow_from_name("hand_made_flow")
        await client.create_deployment(flow_id=flow_id, name="farm__harvest__summer")

    server.call(twin)
    twin_name = "hand_made_flow/farm__harvest__summer"
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__summer", root=deployed)
    assert result.exit_code == 2
    assert (f"deployment 'farm__harvest__summer' is ambiguous on the server ({SUMMER}, "
            f"{twin_name}); name it as FLOW/NAME") in result.stderr
    assert set(server.deployments()) == ALL | {twin_name}
    result = invoke("prefect", "deployment", "delete", "-d", twin_name, root=deployed)
    assert result.exit_code == 0, result.stderr
    assert set(server.deployments()) == ALL


def test_delete_by_name_then_project(deployed: Path, server):
    yaml_before = (deployed / "projects" / "farm" / "prefect.yaml").read_bytes()
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__winter",
                    root=deployed)
    assert result.exit_code == 0, result.stderr
    assert set(server.deployments()) == {SUMMER, ORDERS}
    assert "farm__harvest_flow/farm__harvest__winter: deleted" in result.stdout
    result = invoke("prefect", "deployment", "delete", "-p", "farm", "-p", "dw", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.deployments() == {}
    assert "2 deleted, 1 not on the server" in result.stdout
    # config untouched, flows kept (their run history too) without --prune-*
    assert (deployed / "projects" / "farm" / "prefect.yaml").read_bytes() == yaml_before
    assert server.flows() == {"farm__harvest_flow", "dw__load_flow"}


def test_delete_prune_flows(deployed: Path, server):
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__winter",
                    "--prune-flows", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.flows() == {"farm__harvest_flow", "dw__load_flow"}  # summer still uses it
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__summer",
                    "--prune-flows", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.flows() == {"dw__load_flow"}
    assert "deleted flow farm__harvest_flow" in result.stdout


def test_delete_prune_config_keeps_other_bytes(deployed: Path, server):
    path = deployed / "projects" / "farm" / "prefect.yaml"
    # a comment and odd spacing of our own, to see that the rest stays byte for byte
    path.write_text(path.read_text().replace("deployments:\n", "deployments:   # the list\n"))
    before = path.read_bytes()
    expected = yamledit.remove_deployments(before.decode(), ["farm__harvest__winter"]).encode()
    assert expected != before
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__winter",
                    "--prune-config", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == expected
    assert b"deployments:   # the list\n" in expected and b"farm__harvest__summer" in expected
    assert set(server.deployments()) == {SUMMER, ORDERS}
    assert "removed 1 deployment(s) from projects/farm/prefect.yaml" in result.stdout
    assert not list(path.parent.glob(".prefect.yaml.*"))  # no temp file left behind

    # the last one: the list becomes []; a deployment only in config is pruned too
    invoke("new-deployment", "farm", "harvest", "--param", "season=autumn", root=deployed)
    result = invoke("prefect", "deployment", "delete", "-p", "farm", "--prune-config",
                    root=deployed)
    assert result.exit_code == 0, result.stderr
    assert Repo(deployed).config("farm").deployments == []
    assert "deployments: []" in path.read_text()
    assert set(server.deployments()) == {ORDERS}


def test_delete_confirmation(deployed: Path, server):
    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(manage.Declined, match="^aborted: nothing deleted$"):
        manage.delete(Repo(deployed), ("farm",), (), confirm=no)
    assert len(asked) == 1
    assert "Delete 2 deployment(s)" in asked[0] and "farm__harvest__winter" in asked[0]
    assert set(server.deployments()) == ALL
    items = manage.delete(Repo(deployed), ("farm",), (), confirm=lambda q: True)
    assert {i.result for i in items} == {"deleted"}
    assert set(server.deployments()) == {ORDERS}


def test_many_deployments_bulk(scratch_repo: Path, server):
    """More than one bulk request (50 per request): 53 deployments deleted by one command."""
    generate(scratch_repo, "big", "job", *[f"n=v{i}" for i in range(53)])
    assert invoke("prefect", "deploy", "-p", "big", root=scratch_repo).exit_code == 0
    assert len(server.deployments()) == 53
    result = invoke("prefect", "deployment", "delete", "-p", "big", root=scratch_repo)
    assert result.exit_code == 0, result.stderr
    assert server.deployments() == {}
    assert "53 deleted" in result.stdout


def test_delete_question_counts_and_lists_what_is_on_the_server(deployed: Path, server):
    invoke("new-deployment", "farm", "harvest", "--param", "season=autumn", root=deployed)
    asked: list[str] = []
    with pytest.raises(manage.Declined):
        manage.delete(Repo(deployed), ("farm",), (), confirm=lambda q: asked.append(q) and False)
    assert asked == [(f"Delete 2 deployment(s) from {server.api_url}: {WINTER}, {SUMMER}; "
                      "not on the server: farm__harvest__autumn?")]
    assert set(server.deployments()) == ALL


def test_declining_on_a_terminal_exits_1(deployed: Path, server):
    """The real prompt on a real terminal (a pty): answering no is exit 1, nothing deleted."""
    import os
    import pty
    import subprocess
    import time

    from tests.helpers.ops import CLI

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([CLI, "prefect", "deployment", "delete", "-p", "dw"],
                                cwd=deployed, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 60
        while b"[y/N]" not in seen and time.monotonic() < deadline:
            seen += os.read(master, 4096)
        os.write(master, b"n\n")
        code = proc.wait(timeout=60)
        try:
            while chunk := os.read(master, 4096):
                seen += chunk
        except OSError:  # EIO: the other end closed
            pass
    finally:
        os.close(master)
    text = seen.decode(errors="replace")
    assert code == 1, text
    assert f"Delete 1 deployment(s) from {server.api_url}: {ORDERS}?" in text
    assert "aborted: nothing deleted" in text and "error:" not in text
    assert set(server.deployments()) == ALL


def test_prune_flows_cleans_a_flow_an_earlier_delete_left(deployed: Path, server):
    result = invoke("prefect", "deployment", "delete", "-p", "farm", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.flows() == {"farm__harvest_flow", "dw__load_flow"}  # orphan kept: no flag
    result = invoke("prefect", "deployment", "delete", "-d", "farm__harvest__winter",
                    "--prune-flows", root=deployed)
    assert result.exit_code == 0, result.stderr
    assert "farm__harvest__winter: not on the server" in result.stdout
    assert "deleted flow farm__harvest_flow" in result.stdout
    assert server.flows() == {"dw__load_flow"}
    # a flow that still has deployments is kept, named or not
    invoke("new-deployment", "dw", "load", "--param", "table=users", root=deployed)
    result = invoke("prefect", "deployment", "delete", "-d", "dw__load__users", "--prune-flows",
                    root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.flows() == {"dw__load_flow"} and set(server.deployments()) == {ORDERS}


def test_names_in_prefects_flow_slash_deployment_form(deployed: Path, server):
    result = invoke("prefect", "deployment", "pause", "-d", WINTER, root=deployed)
    assert result.exit_code == 0, result.stderr
    assert server.paused() == {WINTER: True, SUMMER: False, ORDERS: False}
    result = invoke("prefect", "deployment", "pause", "-d", "other_flow/farm__harvest__summer",
                    root=deployed)
    assert result.exit_code == 2
    assert f"unknown deployment 'other_flow/farm__harvest__summer' (prefect.yaml's " \
           f"'farm__harvest__summer' is {SUMMER} on the server)" in result.stderr
    result = invoke("prefect", "deployment", "pause", "-d", "farm__harvest_flow/farm__harvest__smr",
                    root=deployed)
    assert result.exit_code == 2 and "did you mean 'farm__harvest__summer'" in result.stderr
    assert server.paused() == {WINTER: True, SUMMER: False, ORDERS: False}


def test_unknown_names_point_at_prefect_yaml(deployed: Path, server):
    result = invoke("prefect", "deployment", "pause", "-p", "frm", "-d", "nope", root=deployed)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cli status" not in result.stderr  # needs a server: no help for a name
    assert result.stderr.startswith("error: unknown project 'frm' (did you mean 'farm'?); "
                                    "unknown deployment 'nope'; ")
    assert "projects are the folders of projects/" in result.stderr
    assert "deployment names are the `name:` values in projects/<PROJECT>/prefect.yaml" \
        in result.stderr
