"""The suite's own rules (tests/README.md), checked so that they keep holding as tests are added."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(p for p in TESTS.rglob("*.py")
                 if "fixtures" not in p.relative_to(TESTS).parts and "__pycache__" not in p.parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_every_test_folder_is_a_package() -> None:
    # without __init__.py, pytest puts the folder itself on sys.path and two test_cli.py clash
    folders = {p.parent for p in MODULES}
    assert sorted(str(f.relative_to(TESTS.parent)) for f in folders
                  if not (f / "__init__.py").is_file()) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(TESTS)))
def test_one_cli_runner_and_helpers_only_from_tests_helpers(path: Path) -> None:
    imported = _imported_modules(_tree(path))
    if path != TESTS / "helpers" / "cli.py":
        # click 8.1 and 8.2 disagree on CliRunner's arguments and Result.output
        assert "click.testing" not in imported, "use tests.helpers.cli.invoke"
    # shared code is in tests/helpers, never imported from another test module
    assert [m for m in imported if m.startswith("tests.") and m.rsplit(".", 1)[-1].startswith(
        "test_")] == []


def test_fixture_names_have_one_meaning() -> None:
    # `repo` once meant four different things; *_repo is a folder, *_model a scaffold.repo.Repo
    fixtures: dict[str, list[str]] = {}
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef) and any(
                    "fixture" in ast.unparse(d) for d in node.decorator_list):
                fixtures.setdefault(node.name, []).append(str(path.relative_to(TESTS)))
    assert "repo" not in fixtures
    assert fixtures  # the walk found the suite's fixtures at all
