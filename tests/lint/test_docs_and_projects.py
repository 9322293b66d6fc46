"""docs/rules.md is generated and up to date; the repository's own projects are clean."""

from __future__ import annotations

import functools

import pytest

from scaffold.lint import docs
from scaffold.lint.rules import all_rules
from tests.helpers.cli import invoke
from tests.helpers.lint import REPO, lint


@functools.cache
def _rendered() -> str:
    return docs.render()


def test_rules_md_is_up_to_date() -> None:
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == _rendered(), "run: python -m scaffold.lint.docs"


def test_rules_md_documents_every_rule_with_its_output() -> None:
    text = _rendered()
    for rule in all_rules():
        assert f"## {rule.code} `{rule.name}`" in text
        assert f": {rule.code} " in text  # the real output on its invalid example
    assert {r.code[:2] for r in all_rules()} <= {prefix for prefix, _ in docs.GROUPS}


def test_docs_check_mode(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    rendered = _rendered()  # before the patch: run alone, _rendered would call itself
    monkeypatch.setattr(docs, "render", lambda: rendered)
    out = tmp_path / "rules.md"
    assert docs.main(["--output", str(out), "--check"]) == 1
    assert "out of date; run: python -m scaffold.lint.docs" in capsys.readouterr().err
    assert docs.main(["--output", str(out)]) == 0
    assert docs.main(["--output", str(out), "--check"]) == 0
    assert out.read_text(encoding="utf-8") == _rendered()


def test_the_repository_projects_are_clean() -> None:
    assert any((REPO / "projects").glob("*/flows/*.py")), "the sample project is missing"
    run = lint(REPO, "--no-cache")  # read-only: no cache written into the repository
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.stdout == "" and run.stderr.startswith("All checks passed")


def test_what_the_generator_writes_is_clean(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    (root / "projects").mkdir(parents=True)
    monkeypatch.chdir(root)
    for args in (["new-project", "farm"], ["new-project", "orchard"],
                 ["new-flow", "farm", "harvest", "--param", "season=winter",
                  "--param", "season=summer"],
                 ["new-flow", "farm", "sow"], ["new-flow", "orchard", "harvest"]):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
    run = lint(root)
    assert (run.exit_code, run.stdout) == (0, ""), run.stdout
    assert run.stderr == "All checks passed (5 files in 2 projects).\n"


def test_rules_md_has_no_raw_angle_brackets_outside_code() -> None:
    import re

    prose = re.sub(r"(`{3,}).*?\1", "", _rendered(), flags=re.DOTALL)  # code blocks
    prose = re.sub(r"`[^`\n]*`", "", prose)  # code spans
    prose = re.sub(r"<!--.*?-->", "", prose)
    # the one intended tag: the anchor that SARIF's helpUri docs/rules.md#CODE points at
    prose = re.sub(r'^<a id="P[A-Z]\d{3}"></a>$', "", prose, flags=re.MULTILINE)
    assert re.findall(r"<[A-Za-z/]", prose) == []  # would be read as HTML tags
