"""`cli ... | head` ends quietly (issue 8 §8): no "error: Broken pipe", no "Exception ignored",
exit 141 as a shell reports for `git log | head`. Real processes, a real pipe whose reader is
gone before the command writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("cli"))


def run_reader_gone(args: list[str], cwd: Path, env: dict[str, str] | None = None
                    ) -> subprocess.CompletedProcess:
    """Run ``cli ARGS`` with stdout a pipe whose read end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([CLI, *args], cwd=cwd, stdout=write, stderr=subprocess.PIPE,
                              text=True, env=env, check=False, timeout=120)
    finally:
        os.close(write)


def test_lint_into_a_closed_pipe(scratch_repo: Path) -> None:
    flows = scratch_repo / "projects/farm/flows"
    flows.mkdir(parents=True)
    for i in range(50):  # findings to print
        (flows / f"f{i}.py").write_text(f"from prefect import flow\n\n@flow(name='bad{i}')\n"
                                        f"def f{i}_flow():\n    pass\n")
    result = run_reader_gone(["lint"], scratch_repo)
    assert result.stderr == ""  # not even the summary line: the command ended at the pipe
    assert result.returncode == 141


def test_help_into_a_closed_pipe(scratch_repo: Path) -> None:
    result = run_reader_gone(["--help"], scratch_repo)
    assert "Broken pipe" not in result.stderr and "Exception" not in result.stderr
    assert result.returncode != 0


def test_head_reads_the_first_lines(scratch_repo: Path) -> None:
    """The shell form of the report: `cli lint | head -2` prints 2 lines and nothing else."""
    flows = scratch_repo / "projects/farm/flows"
    flows.mkdir(parents=True)
    for i in range(400):
        (flows / f"f{i}.py").write_text(f"from prefect import flow\n\n@flow(name='bad{i}')\n"
                                        f"def f{i}_flow():\n    pass\n")
    result = subprocess.run(["bash", "-c", f"'{CLI}' lint | head -2"],
                            cwd=scratch_repo, capture_output=True, text=True, check=False,
                            timeout=120)
    assert len(result.stdout.splitlines()) == 2
    assert "Broken pipe" not in result.stderr and "Exception" not in result.stderr


@pytest.mark.usefixtures("prefect_server")
def test_status_into_a_closed_pipe(scratch_repo: Path, prefect_server) -> None:
    project = scratch_repo / "projects/farm"
    project.mkdir()
    (project / "prefect.yaml").write_text(
        "deployments:\n- name: farm__harvest\n  entrypoint: flows/harvest.py:harvest_flow\n")
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url}
    result = run_reader_gone(["status"], scratch_repo, env)
    assert result.stderr == ""
    assert result.returncode == 141
