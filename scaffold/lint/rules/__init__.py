"""The rules: one class a module, each with a stable code. New rule = new module here."""

from __future__ import annotations

import importlib
import os

from scaffold.lint.model import Rule

_RULES: list[type[Rule]] | None = None


def all_rules() -> list[type[Rule]]:
    """Every rule class, sorted by code (modules starting with '_' are helpers)."""
    global _RULES
    if _RULES is None:
        found: list[type[Rule]] = []
        folder = os.path.dirname(__file__)
        for entry in sorted(os.listdir(folder)):
            if not entry.endswith(".py") or entry.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{entry[:-3]}")
            classes = [obj for obj in vars(module).values()
                       if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule
                       and obj.__module__ == module.__name__]
            if len(classes) != 1:
                raise RuntimeError(f"{module.__name__} must define exactly one rule class")
            found.extend(classes)
        _RULES = sorted(found, key=lambda r: r.code)
    return _RULES


def by_code() -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in all_rules()}
