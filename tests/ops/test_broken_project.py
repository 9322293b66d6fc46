"""One broken project must not stop commands on the others (issue 9 section 7, issue 8
section 8): a prefect.yaml with a syntax error, a symlink loop under projects/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.cli import invoke
from tests.helpers.ops import generate

pytestmark = pytest.mark.integration

FEED = "zoo__feed_flow/zoo__feed"


def test_a_broken_prefect_yaml_and_a_symlink_loop_stop_only_themselves(scratch_repo: Path, server):
    generate(scratch_repo, "farm", "harvest")
    generate(scratch_repo, "zoo", "feed")
    broken = scratch_repo / "projects" / "farm" / "prefect.yaml"
    broken.write_text("name: farm\ndeployments:\n- name: farm__harvest\n  tags: [a\n")
    os.symlink("loop2", scratch_repo / "projects" / "loop1")
    os.symlink("loop1", scratch_repo / "projects" / "loop2")

    result = invoke("prefect", "deploy", "-p", "zoo", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert set(server.deployments()) == {FEED}

    result = invoke("prefect", "deployment", "pause", "-d", "zoo__feed", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert server.paused() == {FEED: True}

    result = invoke("status", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "zoo__feed" in result.stdout
    warnings = result.stderr.splitlines()
    assert len([w for w in warnings if "projects/farm/prefect.yaml:4: invalid YAML" in w]) == 1
    assert any(w.endswith("the deployments of project 'farm' are skipped") for w in warnings)
    assert len([w for w in warnings if "loop1: Too many levels of symbolic links" in w]) == 1

    # naming the broken project itself: refused with the file and line, nothing deployed
    result = invoke("prefect", "deploy", "-p", "farm", root=scratch_repo)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {broken}:4: invalid YAML")
    # a name of the broken project: unknown, and the warning says which file could not be read
    result = invoke("prefect", "deployment", "pause", "-d", "farm__harvest", root=scratch_repo)
    assert result.exit_code == 2
    assert f"warning: {broken}:4: invalid YAML" in result.stderr
    assert "unknown deployment 'farm__harvest'" in result.stderr
    assert set(server.deployments()) == {FEED}

    # the generator and the linter work on the other projects
    result = invoke("new-flow", "zoo", "water", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    result = invoke("lint", "projects/zoo", root=scratch_repo)
    assert "Traceback" not in result.stderr and "Too many levels" not in result.stdout


def test_delete_prune_config_refuses_a_read_only_prefect_yaml_before_deleting(scratch_repo: Path,
                                                                             server):
    generate(scratch_repo, "zoo", "feed")
    result = invoke("prefect", "deploy", "-p", "zoo", root=scratch_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    config = scratch_repo / "projects" / "zoo" / "prefect.yaml"
    before = config.read_bytes()
    config.chmod(0o444)
    result = invoke("prefect", "deployment", "delete", "-d", "zoo__feed", "--prune-config", "--yes",
                    root=scratch_repo)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: {config}: the file is read-only (mode 444); nothing was changed: make it "
        "writable (chmod u+w) to let this command edit it")
    assert set(server.deployments()) == {FEED} and config.read_bytes() == before
