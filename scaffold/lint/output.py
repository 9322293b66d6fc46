"""Report formats: ``text`` (``path:line:col: CODE message``), ``json``, ``github``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from scaffold.lint.model import Finding
from scaffold.lint.rules import by_code

_LINES = re.compile(r"\r\n|\r|\n")


class Reporter:
    def __init__(self, root: Path, cwd: Path | None = None):
        self.root = root
        self.cwd = cwd or Path.cwd()

    def display(self, path: str) -> str:
        """Paths relative to the current folder, so editors and terminals can open them."""
        full = self.root / path
        try:
            return os.path.relpath(full, self.cwd)
        except ValueError:  # another drive (Windows)
            return str(full)

    def render(self, findings: list[Finding], fmt: str, sources: dict[str, bytes],
               show_source: bool = False) -> str:
        if fmt == "json":
            return self.json(findings) + "\n"
        if fmt == "github":
            return "".join(self.github(f) + "\n" for f in findings)
        out = []
        for f in findings:
            out.append(f"{self.display(f.path)}:{f.line}:{f.col}: {f.code} {f.message}\n")
            if show_source:
                out.append(source_excerpt(sources.get(f.path), f.line, f.col))
        return "".join(out)

    def json(self, findings: list[Finding]) -> str:
        rules = by_code()
        return json.dumps([
            {"path": self.display(f.path), "line": f.line, "col": f.col, "code": f.code,
             "rule": rules[f.code].name, "message": f.message, "fixable": f.fix is not None}
            for f in findings], indent=2)

    def github(self, f: Finding) -> str:
        """A GitHub Actions workflow command; paths relative to the repository root."""
        return (f"::error file={_gh_property(f.path)},line={f.line},col={f.col}::"
                f"{_gh_data(f'{f.code} {f.message}')}")


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def source_excerpt(data: bytes | None, line: int, col: int) -> str:
    """The reported line with a caret under the column, as ruff shows it."""
    if data is None:
        return ""
    text = data.decode("utf-8", "replace")
    lines = _LINES.split(text)
    if not 1 <= line <= len(lines):
        return ""
    width = len(str(line))
    source = lines[line - 1].expandtabs(1)
    return (f"{' ' * width} |\n{line} | {source}\n"
            f"{' ' * width} | {' ' * (col - 1)}^\n")


def summary_line(findings: list[Finding], files: int, projects: int) -> str:
    if not findings:
        return f"All checks passed ({_n(files, 'file')} in {_n(projects, 'project')})."
    fixable = sum(1 for f in findings if f.fix is not None)
    tail = f" ({fixable} fixable with --fix)" if fixable else ""
    return (f"Found {_n(len(findings), 'finding')} in "
            f"{_n(len({f.path for f in findings}), 'file')}{tail}.")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    import difflib

    old = before.decode("utf-8").splitlines(keepends=True)
    new = after.decode("utf-8").splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
