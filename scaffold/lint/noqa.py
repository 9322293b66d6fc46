"""``# noqa`` and ``# noqa: CODE[, CODE]`` comments, as in flake8 and ruff (Python and YAML).

Only a comment counts: ``"# noqa"`` inside a string or a YAML value suppresses nothing. The
tokenizers that tell comments from strings run only on files that mention "noqa" at all.
"""

from __future__ import annotations

import io
import re
import tokenize

_NOQA = re.compile(
    r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_ANY = re.compile("noqa", re.IGNORECASE)
# the line breaks of the YAML scanner (its marks give the lines of the findings)
_YAML_LINES = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")

Noqa = dict[int, frozenset[str] | None]


def _add(out: Noqa, lineno: int, comment: str) -> None:
    """Record the noqa directives of one comment (the text from its '#' on)."""
    for match in _NOQA.finditer(comment):
        codes = match.group("codes")
        if codes is None:
            out[lineno] = None
        elif out.get(lineno, frozenset()) is not None:
            found = frozenset(c.upper() for c in _CODE.findall(codes))
            out[lineno] = out.get(lineno, frozenset()) | found


def parse_python(text: str) -> Noqa:
    """Line -> codes suppressed on it (None: all of them, bare ``# noqa``), from the COMMENT
    tokens of a Python source."""
    out: Noqa = {}
    if not _ANY.search(text):
        return out  # the common case: no tokenizing at all
    # newline=None: "\r" and "\r\n" end lines, as for ast
    readline = io.StringIO(text.removeprefix("\ufeff"), newline=None).readline
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT and _ANY.search(token.string):
                _add(out, token.start[0], token.string)
    except (tokenize.TokenError, SyntaxError):
        pass  # a broken file: the comments before the error still count
    return out


def parse_yaml(text: str) -> Noqa:
    """The same for YAML: a '#' is a comment when it lies outside every token of the YAML
    scanner (a quoted or block scalar, a plain value like ``a#b``)."""
    out: Noqa = {}
    if not _ANY.search(text):
        return out
    # candidate '#'s, as (line, column) counted like the scanner's marks (0-based, no BOM)
    candidates: list[tuple[int, int, str]] = []
    for lineno, line in enumerate(_YAML_LINES.split(text.removeprefix("\ufeff"))):
        if "#" in line and _ANY.search(line):
            for match in _NOQA.finditer(line):
                col = match.start()
                if col == 0 or line[col - 1] in " \t":  # else it belongs to a plain value
                    candidates.append((lineno, col, line[col:]))
    if not candidates:
        return out
    comments = _outside_tokens(text, candidates)
    for lineno, _, comment in comments:
        _add(out, lineno + 1, comment)
    return out


def _outside_tokens(text: str, candidates: list[tuple[int, int, str]]
                    ) -> list[tuple[int, int, str]]:
    """The candidates that no token of the YAML scanner covers. After a scanner error the
    rest count as comments (the file gets a PE003 finding anyway)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    kept: list[tuple[int, int, str]] = []
    i = 0
    try:
        for token in yaml.scan(text, Loader=loader):
            start = (token.start_mark.line, token.start_mark.column)
            end = (token.end_mark.line, token.end_mark.column)
            while i < len(candidates) and candidates[i][:2] < start:
                kept.append(candidates[i])  # before this token, after the previous one
                i += 1
            while i < len(candidates) and candidates[i][:2] < end:
                i += 1  # inside the token: part of a value
            if i == len(candidates):
                return kept
    except yaml.YAMLError:
        pass
    kept.extend(candidates[i:])
    return kept


def suppressed(noqa: Noqa, line: int, code: str) -> bool:
    if line not in noqa:
        return False
    codes = noqa[line]
    return codes is None or code in codes


_SPLIT = re.compile(r"(\r\n|[\r\n\x85\u2028\u2029])")


def comment_column(text: str, line: int, yaml: bool) -> int | None:
    """0-based column (characters, BOM excluded) of the noqa comment on ``line`` (in YAML, of
    its directive): a '#' of a real comment, not one inside a string or a YAML value."""
    body = text.removeprefix("\ufeff")
    if yaml:
        lines = _YAML_LINES.split(body)
        if not 1 <= line <= len(lines):
            return None
        row = lines[line - 1]
        candidates = [(line - 1, m.start(), row[m.start():]) for m in _NOQA.finditer(row)
                      if m.start() == 0 or row[m.start() - 1] in " \t"]
        kept = _outside_tokens(body, candidates) if candidates else []
        if not kept:
            return None
        return kept[0][1]
    readline = io.StringIO(body, newline=None).readline
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT and token.start[0] == line \
                    and _NOQA.search(token.string):
                return token.start[1]
    except (tokenize.TokenError, SyntaxError):
        pass
    return None


def remove(text: str, line: int, codes: frozenset[str] | None, yaml: bool) -> str | None:
    """``text`` with ``codes`` taken out of the noqa directive on ``line`` (the whole
    directive when ``codes`` is None or none of its codes is left; the whole comment when
    nothing else is in it). None when there is no such directive."""
    col = comment_column(text, line, yaml)
    if col is None:
        return None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    parts = _SPLIT.split(text[len(bom):])  # [line, sep, line, sep, ...]
    row = parts[2 * (line - 1)]
    code, comment = row[:col], row[col:]
    kept: list[str] = []
    last = 0
    for match in _NOQA.finditer(comment):
        listed = match.group("codes")
        kept.append(comment[last:match.start()])
        last = match.end()
        if listed is not None and codes is not None:
            left = [c for c in _CODE.findall(listed) if c.upper() not in codes]
            if left:
                kept.append(f"# noqa: {', '.join(left)}")
        elif listed is not None or codes is not None:
            kept.append(match.group(0))  # not the directive to remove
    kept.append(comment[last:])
    rest = "".join(kept).strip()
    new_comment = "" if rest in ("", "#") else "".join(kept).rstrip()
    if new_comment and not new_comment.startswith("#"):
        new_comment = "# " + new_comment.lstrip()
    new_row = (code + new_comment) if new_comment else code.rstrip()
    if new_row == row:
        return None
    parts[2 * (line - 1)] = new_row
    return bom + "".join(parts)
