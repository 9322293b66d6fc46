"""Report formats: ``text`` (``path:line:col: CODE message``), ``json``, ``github``,
``sarif`` (SARIF 2.1.0 for code-scanning pages); ``--statistics``.

Text output never passes a control character through: file names and messages are data, and
a newline or an escape sequence in them would forge lines (a GitHub annotation) or drive the
terminal. They are shown escaped, as Python escapes them (``\\n``, ``\\x1b``, ``\\u202e``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from scaffold.errors import printable as safe  # the one escaping of printed text
from scaffold.lint.model import Finding
from scaffold.lint.rules import by_code

_LINES = re.compile(r"\r\n|\r|\n")
CRLF = "\r\n"


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
            out.append(f"{safe(self.display(f.path))}:{f.line}:{f.col}: {f.code} "
                       f"{safe(f.message)}\n")
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
        # \r and \n are the workflow command's own escapes (%0D, %0A); other controls are
        # escaped as in text output
        return (f"::error file={_gh_property(safe(f.path, CRLF))},line={f.line},col={f.col}::"
                f"{_gh_data(safe(f'{f.code} {f.message}', CRLF))}")


def statistics(findings: list[Finding]) -> str:
    """Findings per code, most frequent first: ``count  CODE  name  [*]`` (fixable)."""
    from collections import Counter

    rules = by_code()
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    width = len(str(max(counts.values(), default=0)))
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if fixable[code] == count else "(*)" if fixable[code] else "   "
        lines.append(f"{count:>{width}}  {code}  {mark} {rules[code].name}\n")
    return "".join(lines)


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
    source = safe(lines[line - 1].expandtabs(1))
    return (f"{' ' * width} |\n{line} | {source}\n"
            f"{' ' * width} | {' ' * (col - 1)}^\n")


def sarif(findings: list[Finding], codes: set[str], root: Path,
          edits: dict[int, dict[str, tuple[bytes, bytes]]]) -> str:
    """A SARIF 2.1.0 log: one rule descriptor per selected code, one result per finding,
    with a fix (its file replacements) where ``edits`` has one for the finding's index."""
    import inspect

    from scaffold import __version__ as version

    rules = [r for r in by_code().values() if r.code in codes]
    index = {r.code: i for i, r in enumerate(rules)}
    descriptors = []
    for rule in rules:
        doc = inspect.cleandoc(rule.__doc__ or "")
        descriptors.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": _section(doc, "What it does") or rule.summary},
            "help": {"text": doc, "markdown": doc},
            "helpUri": f"docs/rules.md#{rule.code}",
            "defaultConfiguration": {"level": "error"},
            "properties": {"fixable": rule.fixable},
        })
    results = []
    for i, f in enumerate(findings):
        result: dict = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line, "startColumn": f.col},
            }}],
        }
        if edits.get(i):
            result["fixes"] = [{
                "description": {"text": f"cli lint --fix: {f.message}"},
                "artifactChanges": [
                    {"artifactLocation": {"uri": _uri(path), "uriBaseId": "%SRCROOT%"},
                     "replacements": [_replacement(before, after)]}
                    for path, (before, after) in sorted(edits[i].items())],
            }]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "scaffold-lint", "version": version,
                                "informationUri": "docs/rules.md", "rules": descriptors}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path)


def _section(doc: str, title: str) -> str:
    """The text of the ``## title`` section of a rule docstring, on one line."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", doc, re.DOTALL | re.MULTILINE)
    return " ".join(match.group(1).split()) if match else ""


def _replacement(before: bytes, after: bytes) -> dict:
    """One SARIF replacement: the differing middle of the two texts (1-based lines, columns
    in code points, the end exclusive)."""
    old, new = before.decode("utf-8"), after.decode("utf-8")
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1

    def where(offset: int) -> tuple[int, int]:
        line = old.count("\n", 0, offset) + 1
        return line, offset - (old.rfind("\n", 0, offset) + 1) + 1

    (sl, sc), (el, ec) = where(start), where(len(old) - end)
    return {"deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el,
                              "endColumn": ec},
            "insertedContent": {"text": new[start:len(new) - end]}}


def summary_line(findings: list[Finding], files: int, projects: int) -> str:
    if not findings:
        return f"All checks passed ({counted(files, 'file')} in {counted(projects, 'project')})."
    fixable = sum(1 for f in findings if f.fix is not None)
    tail = f" ({fixable} fixable with --fix)" if fixable else ""
    return (f"Found {counted(len(findings), 'finding')} in "
            f"{counted(len({f.path for f in findings}), 'file')}{tail}.")


def counted(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    import difflib

    old = before.decode("utf-8").splitlines(keepends=True)
    new = after.decode("utf-8").splitlines(keepends=True)
    shown = safe(path)  # a newline in a file name must not start a line of its own
    lines = difflib.unified_diff(old, new, fromfile=f"a/{shown}", tofile=f"b/{shown}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
