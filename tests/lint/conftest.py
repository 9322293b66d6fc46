"""Fixtures of the linter tests (helpers are in tests/helpers/lint.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.lint import FIXTURES, clean_project, write_files


@pytest.fixture
def clean_repo(tmp_path: Path) -> Path:
    """A clean repository with one project (farm) and one flow (harvest)."""
    return write_files(tmp_path / "repo", clean_project())


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/lint/broken: a repository that breaks every rule."""
    root = tmp_path / "broken"
    shutil.copytree(FIXTURES / "broken", root)
    return root
