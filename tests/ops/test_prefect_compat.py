"""The one Prefect seam: no module of scaffold but ``scaffold/ops/prefect_compat.py`` imports a
private Prefect module (any dotted part starting with ``_``) or matches exceptions by name."""

from __future__ import annotations

import ast
from pathlib import Path

import scaffold

PACKAGE = Path(scaffold.__file__).parent
SEAM = PACKAGE / "ops" / "prefect_compat.py"


def _prefect_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every prefect module or name imported, at any depth."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "__import__" and node.args
              and isinstance(node.args[0], ast.Constant)):
            found.append((node.lineno, str(node.args[0].value)))
    return [(line, name) for line, name in found if name.split(".")[0] == "prefect"]


def _private(name: str) -> bool:
    return any(part.startswith("_") for part in name.split(".")[1:])


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != SEAM)


def test_no_private_prefect_import_outside_the_seam():
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
                      for line, name in _prefect_imports(tree) if _private(name)]
    assert offenders == []


def test_no_exception_matched_by_class_name_outside_the_seam():
    """``type(exc).__name__ == "..."`` / ``exc.__class__.__name__``: match by type instead."""
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)
                    and node.left.attr == "__name__"
                    and isinstance(node.left.value, ast.Call | ast.Attribute)):
                inner = node.left.value
                if (isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "type") or (
                        isinstance(inner, ast.Attribute) and inner.attr == "__class__"):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == []


def test_the_seam_is_where_the_private_names_are():
    """The check above finds private imports (it would not pass by finding nothing), and the
    seam's docstring names each private module it imports."""
    tree = ast.parse(SEAM.read_text(encoding="utf-8"))
    private = {name.rsplit(".", 1)[0] for _, name in _prefect_imports(tree) if _private(name)}
    assert {"prefect.cli.deploy._core", "prefect.cli.deploy._config",
            "prefect.cli.deploy._models"} <= private
    doc = ast.get_docstring(tree) or ""
    for module in private:
        assert module in doc, module
    assert "test_same_result_as_prefect_deploy" in doc


def test_upgrading_prefect_docs_name_the_seam_and_the_parity_test():
    text = (PACKAGE.parent / "docs" / "ops.md").read_text(encoding="utf-8")
    section = text[text.index("## Upgrading Prefect"):]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else None]
    assert "scaffold/ops/prefect_compat.py" in section
    assert "test_same_result_as_prefect_deploy" in section
    assert "prefect deploy --all" in section
