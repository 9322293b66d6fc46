"""Helpers for the linter tests: scratch repositories in tmp_path and CLI invocations."""

from __future__ import annotations

from pathlib import Path

from scaffold.lint.rules._common import config_file, flow_file
from tests.helpers.cli import CliResult, invoke

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


def lint(root: Path, *args: str, cwd: Path | None = None) -> CliResult:
    """`cli --root ROOT lint ARGS...` in-process, from ``cwd`` (default: root)."""
    return invoke("lint", *args, root=root, cwd=cwd or root)
