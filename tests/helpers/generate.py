"""Helpers of the generator tests: the CLI as a process, the state of a tree, a YAML file read."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import yaml

CLI = [sys.executable, "-m", "scaffold"]


def tree_hash(root: Path) -> str:
    """One digest of every path and file content under ``root`` (did a command change nothing?)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))
