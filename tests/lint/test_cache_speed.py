"""The cache (content-hash keyed, in .cache/lint), the worker pool, and what `cli lint` imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scaffold.lint.config import LintConfig
from scaffold.lint.engine import Linter
from tests.helpers.lint import clean_project, lint, write_files

FLOW = "projects/farm/flows/harvest.py"


def _linter(root: Path, **kw) -> Linter:
    return Linter(root, LintConfig(), **kw)


def test_unchanged_files_are_not_parsed_again(clean_repo: Path) -> None:
    first = _linter(clean_repo).run()
    assert first.parsed == 2 and first.findings == []
    assert (clean_repo / ".cache/lint/.gitignore").read_text().endswith("*\n")
    assert _linter(clean_repo).run().parsed == 0  # the whole run comes from the cache
    path = clean_repo / FLOW
    path.write_text(path.read_text().replace("farm__harvest_flow", "farm_harvest"))
    changed = _linter(clean_repo).run()
    assert changed.parsed == 1 and [f.code for f in changed.findings] == ["PF005"]
    path.write_text(path.read_text().replace("farm_harvest", "farm__harvest_flow"))
    # the old content's entry was not reused wrongly
    assert _linter(clean_repo).run().findings == []


def test_the_cache_is_keyed_by_content_not_by_time(clean_repo: Path) -> None:
    _linter(clean_repo).run()
    path = clean_repo / FLOW
    os.utime(path, (0, 0))
    assert _linter(clean_repo).run().parsed == 0


def test_a_file_copied_to_another_project_is_checked_for_its_new_place(clean_repo: Path) -> None:
    _linter(clean_repo).run()
    write_files(clean_repo, {"projects/orchard/prefect.yaml": "name: orchard\ndeployments: []\n",
                       "projects/orchard/flows/harvest.py": (clean_repo / FLOW).read_text()})
    found = _linter(clean_repo).run().findings
    assert [(f.path, f.code) for f in found] == [
        (FLOW, "PF006"),  # the same content: the same cache key, yet another verdict
        ("projects/orchard/flows/harvest.py", "PF005"),
        ("projects/orchard/flows/harvest.py", "PF006"),
    ]


def test_selection_does_not_pollute_the_cache(clean_repo: Path) -> None:
    path = clean_repo / FLOW
    path.write_text(path.read_text().replace("farm__harvest_flow", "farm_harvest"))
    assert _linter(clean_repo, codes={"PF007"}).run().findings == []
    assert [f.code for f in _linter(clean_repo).run().findings] == ["PF005"]


def test_a_corrupt_or_unwritable_cache_only_costs_time(clean_repo: Path) -> None:
    _linter(clean_repo).run()
    for pickle_file in (clean_repo / ".cache/lint").rglob("*.pickle"):
        pickle_file.write_bytes(b"garbage")
    assert _linter(clean_repo).run().findings == []
    cache = clean_repo / ".cache"
    for folder in [cache, *cache.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o500)
    try:
        assert lint(clean_repo).exit_code == 0
    finally:
        for folder in [cache, *cache.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o700)


def test_no_cache_option_writes_nothing(clean_repo: Path) -> None:
    assert lint(clean_repo, "--no-cache").exit_code == 0
    assert not (clean_repo / ".cache").exists()


def test_worker_processes_give_the_same_findings(broken: Path) -> None:
    serial = _linter(broken, use_cache=False, jobs=1).run()
    pooled = _linter(broken, use_cache=False, jobs=2).run()
    assert pooled.parsed == serial.parsed > 10
    assert pooled.findings == serial.findings


def test_lint_never_imports_prefect_nor_libcst(tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", clean_project())
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("SCAFFOLD_ROOT", None)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "scaffold", "lint"],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    modules = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:") and "|" in line]
    assert "scaffold.lint.engine" in modules  # the measurement saw the linter run
    assert [m for m in modules if m.split(".")[0] == "prefect"] == []
    assert [m for m in modules if m.split(".")[0] == "libcst"] == []  # only --fix needs it
    assert "All checks passed" in proc.stderr
