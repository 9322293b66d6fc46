"""Report formats (issue 10 §3, §7): SARIF valid against the 2.1.0 schema, --statistics,
--explain, and text output that never passes control characters through."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scaffold.lint.rules import all_rules
from tests.helpers.lint import REPO, clean_project, lint, write_files


def _sarif_schema() -> dict:
    """../shared/schemas/sarif-schema-2.1.0.json from the repository root (in CI, shared/ is a
    copy beside the clone; from a git worktree, beside the main checkout)."""
    candidates = [REPO.parent / "shared"]
    common = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--path-format=absolute",
                             "--git-common-dir"], capture_output=True, text=True, check=False)
    if common.returncode == 0:
        candidates.append(Path(common.stdout.strip()).parent.parent / "shared")
    for folder in candidates:
        path = folder / "schemas" / "sarif-schema-2.1.0.json"
        if path.is_file():
            return json.loads(path.read_text())
    pytest.fail(f"no SARIF schema in {', '.join(map(str, candidates))}")


def test_sarif_is_valid_and_complete(broken: Path) -> None:
    from jsonschema import Draft4Validator

    run = lint(broken, "--format", "sarif")
    assert run.exit_code == 1
    log = json.loads(run.stdout)
    Draft4Validator.check_schema(_sarif_schema())
    errors = sorted(Draft4Validator(_sarif_schema()).iter_errors(log), key=str)
    assert not errors, errors[0]
    (sarif_run,) = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]  # one per code
    pf004 = next(r for r in rules if r["id"] == "PF004")
    assert pf004["shortDescription"]["text"] == "Main @flow has no name="
    assert pf004["fullDescription"]["text"].startswith("Checks that the `@flow` decorator")
    assert pf004["helpUri"] == "docs/rules.md#PF004"
    results = sarif_run["results"]
    text = lint(broken).stdout.splitlines()
    assert len(results) == len(text)
    by_rule = {r["ruleId"]: r for r in results}
    region = by_rule["PF003"]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (11, 5)
    assert by_rule["PF003"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
        == "projects/farm/flows/harvest.py"
    # fixes where a rule can fix: PF004 adds name= in the decorator
    (fix,) = by_rule["PF004"]["fixes"]
    (change,) = fix["artifactChanges"]
    (rep,) = change["replacements"]
    assert rep["insertedContent"]["text"] == '(name="farm__harvest_flow")'
    assert rep["deletedRegion"] == {"startLine": 10, "startColumn": 6, "endLine": 10,
                                    "endColumn": 6}
    assert "fixes" not in by_rule["PL001"]


def test_statistics_most_frequent_first(broken: Path) -> None:
    run = lint(broken, "--statistics")
    lines = run.stdout.splitlines()
    counts = [int(line.split()[0]) for line in lines]
    assert counts == sorted(counts, reverse=True) and sum(counts) == 34
    assert lines[0].split()[:2] == ["2", "PD003"]
    assert any(line.split()[1:] == ["PF004", "[*]", "missing-flow-name"] for line in lines)
    assert run.exit_code == 1


def test_explain_prints_the_rules_docs_and_suggests_codes(clean_repo: Path) -> None:
    run = lint(clean_repo, "--explain", "pf004")
    assert run.exit_code == 0
    assert run.stdout.startswith("PF004 missing-flow-name: Main @flow has no name=.")
    assert "## Why is this bad?" in run.stdout
    run = lint(clean_repo, "--explain", "PF04")
    assert run.exit_code == 2 and "unknown rule code 'PF04' (did you mean" in run.stderr
    assert "'PF004'" in run.stderr and "Traceback" not in run.stderr


def test_file_names_with_newlines_and_escapes_cannot_forge_lines(tmp_path: Path) -> None:
    evil = "nl\n::error file=evil.py,line=1::INJECTED.py"
    root = write_files(tmp_path / "repo", {**clean_project(),
                                           f"projects/farm/flows/{evil}": "x = 1\n",
                                           "projects/farm/flows/esc\x1b[31m.py": "x = 1\n"})
    for fmt in ("text", "github"):
        run = lint(root, "--format", fmt, "--show-source")
        for line in run.stdout.splitlines() + run.stderr.splitlines():
            assert not line.startswith("::error file=evil.py"), line
        assert "\x1b" not in run.stdout + run.stderr
    text = lint(root).stdout
    assert "flows/nl\\n::error file=evil.py,line=1::INJECTED.py:1:1: PF001" in text
    assert "esc\\x1b[31m.py" in text


def test_unused_noqa_is_found_and_removed(tmp_path: Path) -> None:
    files = clean_project()
    flow = "projects/farm/flows/harvest.py"
    files[flow] = files[flow].replace('@flow(name="farm__harvest_flow")',
                                      '@flow(name="farm__harvest_flow")  # keep # noqa: PF004')
    files[flow] = files[flow].replace("@task\n", "@task  # noqa\n")
    root = write_files(tmp_path / "repo", files)
    run = lint(root)
    assert run.stdout.splitlines() == [
        ("projects/farm/flows/harvest.py:5:8: PN001 bare noqa suppresses no finding of cli "
         "lint; remove it, or name the codes of the tool it is for (# noqa: E501)"),
        ("projects/farm/flows/harvest.py:10:35: PN001 unused noqa code PF004: no such finding "
         "on this line; remove it")]
    assert "(1 fixable with --fix)" in run.stderr
    run = lint(root, "--fix")
    text = (root / flow).read_text()
    assert '@flow(name="farm__harvest_flow")  # keep\n' in text
    assert "@task  # noqa\n" in text  # a bare noqa in Python may be another linter's
    assert run.exit_code == 1 and "Fixed 1 finding in 1 file." in run.stderr


def test_diff_headers_escape_file_names(tmp_path: Path) -> None:
    evil = "nl\n::error file=evil.py,line=1::INJECTED.py"
    root = write_files(tmp_path / "repo", {
        **clean_project(), f"projects/farm/flows/{evil}": "x = 1  # noqa: PF004\n"})
    run = lint(root, "--diff")
    assert "+++ b/projects/farm/flows/nl\\n::error file=evil.py,line=1::INJECTED.py" \
        in run.stdout
    assert not any(line.startswith("::error") for line in run.stdout.splitlines())
