"""Run a rule's VALID / INVALID examples in a scratch repository (for the tests and the docs)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from scaffold import naming
from scaffold.lint.config import LintConfig
from scaffold.lint.engine import Linter
from scaffold.lint.model import Example, Finding

PROJECTS = "projects"


def write_example(root: Path, example: Example) -> None:
    """The example's files under ``root/projects/``, plus a minimal prefect.yaml for each
    project that has none (unless ``auto_config`` is off)."""
    projects: set[str] = set()
    for rel, content in example.files.items():
        path = root / PROJECTS / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        projects.add(rel.split("/", 1)[0])
    (root / PROJECTS).mkdir(parents=True, exist_ok=True)
    if example.auto_config:
        for project in projects:
            config = root / PROJECTS / project / naming.CONFIG_FILE
            if not config.exists():
                config.write_text(f"name: {project}\ndeployments: []\n")


@dataclass
class Outcome:
    findings: list[Finding]  # before any fix
    fixed: dict[str, bytes]  # files changed by --fix (paths under projects/) -> new content
    refixed: dict[str, bytes]  # what a second --fix changed (must be empty)
    left: list[Finding]  # after --fix


def run_example(example: Example, codes: set[str] | None = None) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="lint-example-") as tmp:
        root = Path(tmp)
        write_example(root, example)
        linter = Linter(root, LintConfig(), codes=codes, use_cache=False)
        findings = linter.run().findings
        fix = linter.fix(write=True)
        again = linter.fix(write=True)
        strip = len(PROJECTS) + 1
        return Outcome(
            findings=findings,
            fixed={p[strip:]: after for p, (_, after) in fix.changes.items()},
            refixed={p[strip:]: after for p, (_, after) in again.changes.items()},
            left=fix.after.findings,
        )
