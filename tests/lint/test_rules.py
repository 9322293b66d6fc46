"""Every rule's VALID and INVALID examples, run as tests (the same examples build docs/rules.md)."""

from __future__ import annotations

import inspect
import re

import pytest

from scaffold.lint.examples import run_example
from scaffold.lint.model import Rule
from scaffold.lint.rules import all_rules

RULES = all_rules()


def _cases(kind: str) -> list:
    return [pytest.param(rule, example, id=f"{rule.code}-{kind}{i}")
            for rule in RULES for i, example in enumerate(getattr(rule, kind))]


@pytest.mark.parametrize(("rule", "example"), _cases("VALID"))
def test_valid_example_is_clean_under_every_rule(rule: type[Rule], example) -> None:
    outcome = run_example(example)
    assert outcome.findings == [], [f"{f.code} {f.message}" for f in outcome.findings]


@pytest.mark.parametrize(("rule", "example"), _cases("INVALID"))
def test_invalid_example_is_found_and_fixed_as_documented(rule: type[Rule], example) -> None:
    outcome = run_example(example)
    assert rule.code in {f.code for f in outcome.findings}
    for finding in outcome.findings:
        assert finding.line >= 1 and finding.col >= 1
    own = [f for f in outcome.findings if f.code == rule.code]
    if example.fixed is None:
        assert all(f.fix is None for f in own), "a fixable finding needs an expected fix"
    else:
        expected = {p: c.encode() if isinstance(c, str) else c for p, c in example.fixed.items()}
        assert outcome.fixed == expected  # byte for byte, and nothing else changed
        assert rule.code not in {f.code for f in outcome.left}
    assert outcome.refixed == {}, "a second --fix must change nothing"


def test_every_rule_has_examples_and_a_ruff_style_docstring() -> None:
    for rule in RULES:
        doc = inspect.cleandoc(rule.__doc__ or "")
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
            assert section in doc, f"{rule.code}: docstring lacks {section!r}"
        assert rule.VALID and rule.INVALID, rule.code
        assert rule.fixable in ("never", "sometimes", "always")
        has_fixed = any(e.fixed for e in rule.INVALID)
        assert has_fixed == (rule.fixable != "never"), rule.code
        overrides_fix = (rule.fix_python is not Rule.fix_python
                         or rule.fix_yaml is not Rule.fix_yaml
                         or rule.fix_text is not Rule.fix_text)
        assert overrides_fix == (rule.fixable != "never"), rule.code


def test_codes_and_names_are_unique_and_stable_in_form() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"P[EFLDN]\d{3}", rule.code), rule.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name
        module = rule.__module__.rsplit(".", 1)[1]
        assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}", module


def test_the_documented_codes_never_change() -> None:
    # Codes are what users write in noqa comments and in configuration: renumbering breaks them.
    assert {r.code: r.name for r in RULES} == {
        "PE001": "syntax-error", "PE002": "unreadable-file", "PE003": "invalid-yaml",
        "PL001": "invalid-project-name", "PL002": "missing-prefect-yaml",
        "PL003": "missing-flows",
        "PF001": "invalid-flow-file-name", "PF002": "missing-main-flow",
        "PF003": "main-flow-function-name", "PF004": "missing-flow-name",
        "PF005": "wrong-flow-name", "PF006": "duplicate-flow-name", "PF007": "missing-task",
        "PD001": "project-name-mismatch", "PD002": "invalid-deployment-name",
        "PD003": "duplicate-deployment-name", "PD004": "invalid-entrypoint",
        "PD005": "entrypoint-not-found", "PD006": "missing-deployment-suffix",
        "PD007": "unknown-parameter", "PN001": "unused-noqa", "PD008": "invalid-cron", "PD009": "unknown-timezone",
        "PD010": "invalid-interval", "PD011": "invalid-rrule", "PD012": "invalid-schedule-kind",
        "PD013": "parameter-type-mismatch", "PD014": "missing-required-parameter",
        "PE004": "duplicate-yaml-key",
    }


def test_pf002_a_task_named_like_the_main_flow_gets_the_right_advice(tmp_path) -> None:
    from tests.helpers.lint import lint, write_files

    flow = '''from prefect import flow, task


@task
def conflict_flow(x: int) -> int:
    return x


@flow(name="farm__conflict_flow")
def main() -> None:
    conflict_flow(1)
'''
    root = write_files(tmp_path / "repo", {"projects/farm/flows/conflict.py": flow,
                                           "projects/farm/prefect.yaml": "name: farm\ndeployments: []\n"})
    run = lint(root, "--select", "PF")
    assert run.stdout == (
        "projects/farm/flows/conflict.py:5:1: PF002 'conflict_flow' is a @task, but the main flow "
        "must be the @flow function 'conflict_flow': rename the task (e.g. to 'conflict_task'), "
        "then rename the flow function 'main' to 'conflict_flow'\n"), run.stdout
    assert "add @flow" not in run.stdout
