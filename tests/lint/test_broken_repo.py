"""tests/fixtures/lint/broken breaks every rule: all of it is found, and --fix does exactly
what tests/fixtures/lint/broken.fixed shows."""

from __future__ import annotations

from pathlib import Path

from scaffold.lint.rules import all_rules
from tests.helpers.lint import FIXTURES, lint


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".cache" not in p.parts}


def test_every_violation_is_found_exactly(broken: Path) -> None:
    run = lint(broken)
    assert run.exit_code == 1
    expected = (FIXTURES / "broken.expected").read_text()
    assert run.stdout == expected
    assert run.stderr.strip().endswith("Found 34 findings in 13 files (4 fixable with --fix).")


def test_the_fixture_breaks_every_rule(broken: Path) -> None:
    found = {line.split(" ")[1] for line in lint(broken).stdout.splitlines()}
    assert found == {rule.code for rule in all_rules()}


def test_fix_changes_exactly_the_fixable_parts(broken: Path) -> None:
    before = _tree(broken)
    run = lint(broken, "--fix")
    assert run.exit_code == 1  # findings without a fix are left
    after = _tree(broken)
    golden = _tree(FIXTURES / "broken.fixed")
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == set(golden)
    for path, content in golden.items():
        assert after[path] == content, path
    assert "Fixed 4 findings in 2 files." in run.stderr
    left = {line.split(" ")[1] for line in run.stdout.splitlines()}
    assert not left & {"PF003", "PF004", "PF005", "PN001"}
    # idempotent: a second run changes no byte and reports the same
    again = lint(broken, "--fix")
    assert _tree(broken) == after
    assert again.stdout == run.stdout and "Fixed" not in again.stderr


def test_noqa_in_yaml_keeps_a_fixable_finding_unfixed(broken: Path) -> None:
    lint(broken, "--fix")
    text = (broken / "projects/farm/prefect.yaml").read_text()
    assert "entrypoint: ./flows/harvest.py:harvest_flow  # noqa: PD004" in text
