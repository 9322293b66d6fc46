"""``[tool.scaffold.lint]`` in the repository's pyproject.toml, and rule selection.

Everything works without it. Keys::

    [tool.scaffold.lint]
    select = ["PF", "PD001"]        # codes or prefixes; default: all rules
    ignore = ["PF007"]
    extend-exclude = ["projects/legacy_*", "scratch.py"]   # globs, relative to the root
    projects = "projects"           # the projects folder
    baseline = "lint-baseline.json" # report only findings not in it (cli lint --write-baseline)
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import UsageError
from scaffold.repo import DEFAULT_PROJECTS_DIR, did_you_mean, find_root

KEYS = ("select", "ignore", "extend-exclude", "projects", "baseline")
SECTION = "[tool.scaffold.lint]"


@dataclass
class LintConfig:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    projects: str = DEFAULT_PROJECTS_DIR
    baseline: str | None = None  # relative to the root
    source: Path | None = None  # the pyproject.toml it came from

    def excluded(self, path: str) -> bool:
        """Whether a root-relative POSIX path (or a folder above it) matches extend-exclude."""
        if not self.extend_exclude:
            return False
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix, base = "/".join(parts[:i]), parts[i - 1]
            for pattern in self.extend_exclude:
                pattern = pattern.rstrip("/")
                if fnmatch.fnmatchcase(prefix, pattern) or fnmatch.fnmatchcase(base, pattern):
                    return True
        return False


def _read_pyproject(path: Path) -> dict | None:
    """The [tool.scaffold.lint] table, None when there is none; UsageError on bad TOML."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if b"scaffold" not in raw:
        return None  # most pyproject.toml files: no TOML parse at all
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"invalid TOML: {err}; fix it or remove {SECTION}", path=path) from None
    table = data.get("tool", {}).get("scaffold", {}).get("lint")
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{SECTION} must be a table", path=path)
    return table


def parse_config(table: dict, path: Path) -> LintConfig:
    config = LintConfig(source=path)
    for key, value in table.items():
        if key not in KEYS:
            hint = did_you_mean(key, list(KEYS)) or f"; known keys: {', '.join(KEYS)}"
            raise UsageError(f"unknown key {key!r} in {SECTION}{hint}", path=path)
        if key == "projects":
            if not isinstance(value, str) or not value or os.path.isabs(value) or ".." in value:
                raise UsageError(f"'projects' in {SECTION} must be a folder relative to the "
                                 f"repository root, like \"projects\"", path=path)
            config.projects = value.strip("/")
            continue
        if key == "baseline":
            if not isinstance(value, str) or not value or os.path.isabs(value):
                raise UsageError(f"'baseline' in {SECTION} must be a file relative to the "
                                 f"repository root, like \"lint-baseline.json\"", path=path)
            config.baseline = value
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{key!r} in {SECTION} must be a list of strings", path=path)
        if key == "select":
            config.select = list(value)
        elif key == "ignore":
            config.ignore = list(value)
        else:
            config.extend_exclude = list(value)
    return config


def load(root: Path) -> LintConfig:
    table = _read_pyproject(root / "pyproject.toml")
    return parse_config(table, root / "pyproject.toml") if table is not None else LintConfig()


def discover(explicit_root: str | None) -> tuple[Path, LintConfig]:
    """The repository root and its configuration.

    The root is ``--root`` / ``$SCAFFOLD_ROOT``, else the nearest folder (walking up) that
    holds the projects folder; a pyproject.toml on the way whose [tool.scaffold.lint] names
    another projects folder counts too.
    """
    if explicit_root or os.environ.get("SCAFFOLD_ROOT"):
        root = find_root(explicit_root)
        return root, load(root)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_PROJECTS_DIR).is_dir():
            return folder, load(folder)
        if (folder / "pyproject.toml").is_file():
            config = load(folder)
            if config.source is not None and (folder / config.projects).is_dir():
                return folder, config
    root = find_root(None)  # raises the shared one-line error
    return root, load(root)


def expand(all_codes: list[str], selectors: list[str], what: str) -> set[str]:
    """Codes named by selectors: exact codes, prefixes (``PF``, ``PD00``) or ``ALL``;
    comma-separated lists are split. ``what`` names the source for the error message."""
    out: set[str] = set()
    for raw in selectors:
        for sel in (s.strip().upper() for s in raw.split(",")):
            if not sel:
                continue
            matched = set(all_codes) if sel == "ALL" else {c for c in all_codes
                                                             if c.startswith(sel)}
            if not matched:
                hint = did_you_mean(sel, list(all_codes))
                raise UsageError(f"unknown rule code {sel!r} in {what}{hint}; "
                                 "`cli lint --list-rules` lists the rules")
            out |= matched
    return out


def active_codes(all_codes: list[str], config: LintConfig, select: list[str] | None = None,
                 ignore: list[str] | None = None) -> set[str]:
    """The rules to run. ``select`` (from the command line) replaces the configured select
    and ignore; ``ignore`` (command line) removes codes from whatever is selected."""
    where = f"{SECTION} of {config.source}" if config.source else SECTION
    configured_ignore = expand(all_codes, config.ignore, f"'ignore' in {where}")
    if select:
        active = expand(all_codes, select, "--select")
        if not active:  # `--select ""`: running no rule would pass whatever the files hold
            raise UsageError("--select names no rule; give codes or prefixes, e.g. "
                             "--select PF,PD004 (`cli lint --list-rules` lists them)")
    else:
        active = (set(all_codes) if config.select is None
                  else expand(all_codes, config.select, f"'select' in {where}"))
        active -= configured_ignore
    return active - expand(all_codes, ignore or [], "--ignore")


def resolve_paths(root: Path, projects: str, raw: tuple[str, ...]) -> list[str] | None:
    """The PATH arguments as root-relative POSIX prefixes to report; None for everything.

    Relative paths are from the current folder; each must exist, inside the repository and
    inside (or above) the projects folder.
    """
    if not raw:
        return None
    out: list[str] = []
    for given in raw:
        path = Path(given)
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:  # also a link under projects/ to outside (as new-flow refuses it)
            raise UsageError(f"{given}: outside the repository {root}; pass paths inside it "
                             "(or --root)") from None
        # A link to a file of the repository keeps its own name, as in a run of everything
        # (there flows/x.py -> ../y.py is the flow file x.py, not y.py outside flows/).
        plain = Path(os.path.normpath(Path.cwd() / path))
        if plain.is_relative_to(root):
            rel = plain.relative_to(root).as_posix()
        if not os.path.lexists(root / rel):
            raise UsageError(f"{given}: no such file or folder")
        if rel == ".":
            return None
        if rel == projects or rel.startswith(projects + "/"):
            out.append(rel)
        elif projects.startswith(rel + "/"):
            return None  # a folder above projects/: everything
        else:
            raise UsageError(f"{given}: not in {projects}/; cli lint checks "
                             f"{projects}/<PROJECT>/prefect.yaml and flows/")
    return out
