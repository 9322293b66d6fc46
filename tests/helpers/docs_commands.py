"""The `cli` commands a Markdown page shows, in page order, and their placeholders made real.

A command is a code-block line starting with ``cli `` or an inline code span starting with
``cli `` (prose and table cells alike). Placeholders are filled from a scratch repository:

- ``PROJECT_NAME`` / ``DEPLOYMENT_NAME``: the n-th occurrence in a command gets the n-th name,
  so ``-p PROJECT_NAME -p PROJECT_NAME`` names two different projects;
- a command that deletes gets names nobody else uses (deleted things are gone for the rest);
- ``FLOW_NAME``: a new flow name for each command (the generator refuses an existing flow).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

_FENCE = re.compile(r"^([ \t]*)(```|~~~)[^\n]*\n(.*?)^[ \t]*\2[ \t]*$", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_CLI = re.compile(r"cli\s")

PLACEHOLDERS = ("PROJECT_NAME", "DEPLOYMENT_NAME", "FLOW_NAME")


@dataclass(frozen=True)
class DocCommand:
    text: str   # as shown on the page
    line: int   # 1-based line on the page

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)

    @property
    def destructive(self) -> bool:
        return "delete" in self.argv

    def count(self, placeholder: str) -> int:
        return self.argv.count(placeholder)


def commands(markdown: str) -> list[DocCommand]:
    found: list[tuple[int, str]] = []
    masked = list(markdown)
    for m in _FENCE.finditer(markdown):
        offset = m.start(3)
        for line in m[3].splitlines(keepends=True):
            stripped = line.strip()
            if _CLI.match(stripped):
                found.append((offset, stripped))
            offset += len(line)
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    prose = "".join(masked)
    for m in _SPAN.finditer(prose):
        text = m[1].strip()
        if _CLI.match(text):
            found.append((m.start(), text))
    found.sort()
    return [DocCommand(text, markdown.count("\n", 0, pos) + 1) for pos, text in found]


class Names:
    """Hands out real names for placeholders; see the module docstring."""

    def __init__(self, projects: list[str], deployments: list[str],
                 spare_projects: list[str], spare_deployments: list[str]):
        self.projects, self.deployments = projects, deployments
        self.shared = {*projects, *deployments}
        self.spare_projects = iter(spare_projects)
        self.spare_deployments = iter(spare_deployments)
        self._flows = (f"doc_flow_{n}" for n in range(1, 10_000))

    def fill(self, command: DocCommand) -> list[str]:
        shared = {"PROJECT_NAME": iter(self.projects), "DEPLOYMENT_NAME": iter(self.deployments)}
        spare = {"PROJECT_NAME": self.spare_projects, "DEPLOYMENT_NAME": self.spare_deployments}
        pools = spare if command.destructive else shared
        flow = next(self._flows) if "FLOW_NAME" in command.argv else None
        out = []
        for arg in command.argv:
            if arg == "FLOW_NAME":
                out.append(flow)
            elif arg in pools:
                try:
                    out.append(next(pools[arg]))
                except StopIteration:
                    raise AssertionError(f"not enough names for {arg} in {command.text!r}")
            else:
                assert not any(p in arg for p in PLACEHOLDERS), (
                    f"placeholder inside a word, which the test cannot fill: {arg!r}")
                out.append(arg)
        return out


def spare_needs(cmds: list[DocCommand]) -> tuple[int, int]:
    """How many spare projects and spare deployments the destructive commands consume."""
    destructive = [c for c in cmds if c.destructive]
    return (sum(c.count("PROJECT_NAME") for c in destructive),
            sum(c.count("DEPLOYMENT_NAME") for c in destructive))


def links(markdown: str) -> Iterator[tuple[int, str]]:
    """(line, target) of each inline Markdown link outside code."""
    masked = _FENCE.sub(lambda m: "\n" * m[0].count("\n"), markdown)
    masked = _SPAN.sub(lambda m: " " * len(m[0]), masked)
    for m in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", masked):
        yield masked.count("\n", 0, m.start()) + 1, m[1]


def github_anchor(heading: str) -> str:
    text = re.sub(r"[`*]", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    masked = _FENCE.sub("", markdown)
    headings = re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", masked, re.MULTILINE)
    return {github_anchor(m[1]) for m in headings}
