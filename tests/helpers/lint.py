"""Helpers for the linter tests: scratch repositories in tmp_path and CLI invocations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.cli import cli
from scaffold.lint.rules._common import config_file, flow_file

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "lint"


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (paths relative to root) and return root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (root / "projects").mkdir(exist_ok=True)
    return root


def clean_project(project: str = "farm", flows: tuple[str, ...] = ("harvest",)) -> dict[str, str]:
    files = {f"projects/{project}/prefect.yaml": config_file(project, flows)}
    for flow in flows:
        files[f"projects/{project}/flows/{flow}.py"] = flow_file(project, flow)
    return files


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def lint(root: Path, *args: str, cwd: Path | None = None) -> Run:
    """`cli --root ROOT lint ARGS...` in-process (CliRunner), from ``cwd`` (default: root)."""
    runner = CliRunner(mix_stderr=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd or root)
        result = runner.invoke(cli, ["--root", str(root), "lint", *args], catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)
