"""``# noqa`` and ``# noqa: CODE[, CODE]`` comments, as in flake8 and ruff (Python and YAML)."""

from __future__ import annotations

import re

_NOQA = re.compile(
    r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_ANY = re.compile("noqa", re.IGNORECASE)
_LINES = re.compile(r"\r\n|\r|\n")  # the line breaks ast and YAML count; not str.splitlines


def parse(text: str) -> dict[int, frozenset[str] | None]:
    """Line -> codes suppressed on it (None: all of them, bare ``# noqa``)."""
    out: dict[int, frozenset[str] | None] = {}
    if not _ANY.search(text):
        return out  # the common case: no line scan at all
    for lineno, line in enumerate(_LINES.split(text), 1):
        if "#" not in line:
            continue
        for match in _NOQA.finditer(line):
            codes = match.group("codes")
            if codes is None:
                out[lineno] = None
            elif out.get(lineno, frozenset()) is not None:
                found = frozenset(c.upper() for c in _CODE.findall(codes))
                out[lineno] = out.get(lineno, frozenset()) | found
    return out


def suppressed(noqa: dict[int, frozenset[str] | None], line: int, code: str) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or code in codes
