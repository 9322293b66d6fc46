"""Checks of the generator's command-line options, before anything is read or written.

Each check raises `UsageError` (one line, exit 2) naming the option and how to fix it.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass

from scaffold import schedules
from scaffold.errors import UsageError


@dataclass
class DeployOptions:
    """Options shared by new-flow and new-deployment; None means "use the project default"."""

    schedule: str | None = None
    timezone: str | None = None
    work_pool: str | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    paused: bool = False


def check_work_pool(name: str, option: str = "--work-pool") -> str:
    if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise UsageError(f"{option} {name!r}: use letters, digits, '-', '_' and '.'")
    return name


# Characters that reorder or hide text when shown (the "Trojan Source" set, CVE-2021-42574):
# written raw into prefect.yaml or a flow file, the text a reviewer sees is not what runs.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


def check_text(value: str, option: str) -> str:
    """Text for a file: no undecodable bytes, no bidirectional control characters."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise UsageError(f"{option}: the value is not valid text (undecodable bytes)")
    bidi = next((c for c in value if c in BIDI_CONTROLS), None)
    if bidi is not None:
        raise UsageError(f"{option}: the value contains the bidirectional control character "
                         f"U+{ord(bidi):04X} ({unicodedata.name(bidi, 'unnamed')}), which makes "
                         "the file show other text than it holds; remove it")
    return value


def normalize(opts: DeployOptions) -> DeployOptions:
    """The options checked and normalized (a cron's fields separated by one space)."""
    if opts.timezone is not None and opts.schedule is None:
        raise UsageError("--timezone applies to a schedule: add --schedule CRON")
    for tag in opts.tags:
        if not tag.strip():
            raise UsageError("--tag '': a tag cannot be empty")
    return DeployOptions(
        schedule=schedules.validate_cron(opts.schedule) if opts.schedule is not None else None,
        timezone=(schedules.validate_timezone(opts.timezone) if opts.timezone is not None
                  else None),
        work_pool=check_work_pool(opts.work_pool) if opts.work_pool is not None else None,
        tags=tuple(check_text(t, "--tag") for t in opts.tags),
        description=check_text(opts.description, "--description") if opts.description else None,
        paused=opts.paused,
    )


class InstalledModules:
    """Top-level modules importable where flows run, asked one name at a time.

    ``name in InstalledModules()`` looks the name up on ``sys.path`` (a few stat calls, well
    under a millisecond) instead of listing every installed distribution
    (``importlib.metadata.packages_distributions()`` takes ~0.7 s in this environment), so
    `cli new-flow` stays fast. The current folder is left out: it is not where Prefect runs flows.
    """

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not name.isidentifier():
            return False
        import importlib.machinery
        import os

        cwd = os.getcwd()
        path = [p for p in sys.path if p not in ("", ".", cwd)]
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        except (ImportError, ValueError, OSError):
            return False
        if spec is None:
            return False
        if spec.origin is None:  # a namespace package: any folder of that name on sys.path
            # counts only when installed (google.*, ...), not a folder of a source checkout
            return any(part in ("site-packages", "dist-packages")
                       for loc in spec.submodule_search_locations or ()
                       for part in os.path.normpath(loc).split(os.sep))
        return True
