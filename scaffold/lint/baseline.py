"""A baseline: today's findings of a legacy repository, so that only new ones fail.

An entry is the rule, the file and the finding's message with line references taken out
(``a.yaml:12`` -> ``a.yaml``): the message names the offending name or text, so lines
inserted above, or the file reformatted, do not make a recorded finding "new". Identical
entries are counted: a third copy of a finding recorded twice is new.

The file is JSON, sorted, one entry a line-group, so its diff in review shows what was fixed::

    {"version": 1, "findings": [{"code": "PF004", "path": "projects/a/flows/b.py",
                                 "message": "...", "count": 1}, ...]}
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import UsageError
from scaffold.lint.model import Finding

VERSION = 1
# "projects/a/prefect.yaml:12", "line 3": where another finding is, which moves with edits
_LINE_REFS = re.compile(r"(\.py|\.ya?ml):\d+|\b(line) \d+")

Key = tuple[str, str, str]  # code, path, message without line references


def key(finding: Finding) -> Key:
    return finding.code, finding.path, _LINE_REFS.sub(r"\1\2", finding.message)


@dataclass
class Comparison:
    new: list[Finding]  # not in the baseline (what is reported)
    known: int  # findings the baseline covers
    stale: list[tuple[Key, int]]  # entries (and how many of them) that match nothing now


def load(path: Path) -> Counter[Key]:
    """The baseline file's entries; UsageError (exit 2) when it is missing or malformed."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"baseline {path} does not exist; record one with "
                         f"`cli lint --write-baseline {path}`") from None
    except OSError as err:
        raise UsageError(f"cannot read the baseline {path}: {err.strerror}") from None
    try:
        data = json.loads(raw)
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        entries: Counter[Key] = Counter()
        for item in data["findings"]:
            count = item.get("count", 1)
            if not (isinstance(item["code"], str) and isinstance(item["path"], str)
                    and isinstance(item["message"], str) and isinstance(count, int)
                    and count > 0):
                raise ValueError(f"bad entry {item!r}")
            entries[(item["code"], item["path"], item["message"])] += count
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise UsageError(f"baseline {path} is not a baseline written by `cli lint "
                         f"--write-baseline` ({err}); write it again") from None
    return entries


def dump(entries: Counter[Key]) -> bytes:
    items = [{"code": c, "path": p, "message": m, "count": n}
             for (c, p, m), n in sorted(entries.items()) if n > 0]
    body = ",\n".join("    " + json.dumps(i, ensure_ascii=False) for i in items)
    text = f'{{\n  "version": {VERSION},\n  "findings": [\n{body}\n  ]\n}}\n' if items \
        else f'{{\n  "version": {VERSION},\n  "findings": []\n}}\n'
    return text.encode("utf-8")


def entries_of(findings: Iterable[Finding]) -> Counter[Key]:
    return Counter(key(f) for f in findings)


def compare(findings: list[Finding], baseline: Counter[Key],
            in_scope: Callable[[str, str], bool]) -> Comparison:
    """Split ``findings`` into new and known; ``in_scope(code, path)`` says whether this run
    could have reported an entry (its rule selected, its file among the checked paths), so
    entries outside it are not called stale."""
    left = Counter(baseline)
    new: list[Finding] = []
    known = 0
    for f in findings:
        k = key(f)
        if left[k] > 0:
            left[k] -= 1
            known += 1
        else:
            new.append(f)
    stale = [(k, n) for k, n in sorted(left.items()) if n > 0 and in_scope(k[0], k[1])]
    return Comparison(new, known, stale)


def write(path: Path, entries: Counter[Key]) -> None:
    from scaffold import fs
    from scaffold.errors import OperationError

    try:
        fs.write_atomic(path, dump(entries))
    except OSError as err:
        raise UsageError(f"cannot write the baseline {path}: {err.strerror}") from None
    except OperationError as err:  # the folder is missing or not writable: a usage error
        raise UsageError(str(err)) from None
