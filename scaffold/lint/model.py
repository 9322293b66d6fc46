"""The linter's data: findings, per-file summaries, the repository index and the Rule base class.

Summaries are small and picklable: they are what the cache stores and what the cross-file rules
read, so a file is parsed once and never again while its content does not change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from scaffold import naming

if TYPE_CHECKING:  # pragma: no cover
    import libcst


@functools.lru_cache(maxsize=8192)
def is_valid_flow(name: object) -> bool:
    """Whether ``name`` is a valid flow name, by ``naming.validate_flow`` (the one source)."""
    if not isinstance(name, str):
        return False
    try:
        naming.validate_flow(name)
    except naming.NamingError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def is_valid_project(name: str) -> bool:
    try:
        naming.validate_project(name)
    except naming.NamingError:
        return False
    return True


class Finding(NamedTuple):
    """One violation. ``path`` is relative to the repository root, POSIX style; line and col
    are 1-based (col counts characters). ``fix`` is rule-specific data for its autofix."""

    path: str
    line: int
    col: int
    code: str
    message: str
    fix: tuple | None = None


class Pos(NamedTuple):
    line: int
    col: int


class NotScalar(NamedTuple):
    """A YAML value that is a list or mapping where a plain value belongs."""

    type: str

    def __str__(self) -> str:
        return f"a {self.type}"


# -- flow files -------------------------------------------------------------------------------


@dataclass(slots=True)
class FlowFunc:
    """A function decorated with ``@flow`` (any spelling: ``flow``, ``flow(...)``,
    ``prefect.flow(...)``, an imported alias)."""

    name: str
    pos: Pos  # the function's name in ``def``
    deco_pos: Pos  # the decorator expression
    deco_index: int  # index in the decorator list (the fixer finds the same node by it)
    name_kind: str  # "missing" | "literal" | "constant" (a module-level str) | "dynamic"
    flow_name: str | None  # the name= value when it is known statically
    name_pos: Pos | None  # the name= value
    params: tuple[str, ...]  # names a caller may pass by keyword
    var_kw: bool  # takes **kwargs
    top_level: bool  # a module attribute (an entrypoint can point at it)

    @property
    def effective_name(self) -> str | None:
        """The name Prefect registers: name= or, missing, the function name with '-' for '_'."""
        if self.name_kind == "missing":
            return self.name.replace("_", "-")
        return self.flow_name


@dataclass(slots=True)
class FileError:
    kind: str  # "syntax" | "unreadable" | "yaml"
    line: int
    col: int
    message: str


@dataclass(slots=True)
class FlowSummary:
    """``projects/<project>/flows/<flow>.py``."""

    path: str
    project: str
    flow: str  # the file's stem
    error: FileError | None = None
    flows: list[FlowFunc] = field(default_factory=list)
    functions: dict[str, int] = field(default_factory=dict)  # top-level def name -> line
    tasks: int = 0  # functions decorated with @task
    task_functions: frozenset[str] = frozenset()  # module-level ones, by name
    main_calls: tuple[str, ...] = ()  # names called under ``if __name__ == "__main__":``
    # names called outside __main__; only filled when several flows make the main one ambiguous
    other_calls: frozenset[str] = frozenset()
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)

    @property
    def project_ok(self) -> bool:
        return is_valid_project(self.project)

    @property
    def flow_ok(self) -> bool:
        return is_valid_flow(self.flow)

    def main_flow(self) -> FlowFunc | None:
        """The top-level ``@flow`` function named ``<flow>_flow`` (None when it is missing)."""
        wanted = naming.flow_function(self.flow)
        found = [f for f in self.flows if f.top_level and f.name == wanted]
        return found[0] if len(found) == 1 else None

    def main_candidate(self) -> FlowFunc | None:
        """The function meant as the main flow: ``<flow>_flow``; else, of the module-level
        flows, the only one, else the one whose name= is the expected one, else the one run
        under ``__main__``, else the one no other code calls. None when no single function
        is left, or when ``<flow>_flow`` exists but is not a flow."""
        main = self.main_flow()
        if main is not None:
            return main
        tops = [f for f in self.flows if f.top_level]
        if self.functions.get(naming.flow_function(self.flow)) is not None:
            return None  # <flow>_flow exists but is not a flow: nothing to rename
        expected = naming.flow_name(self.project, self.flow)
        for narrow in (
            lambda fs: fs,
            lambda fs: [f for f in fs if f.flow_name == expected],
            lambda fs: [f for f in fs if f.name in self.main_calls],
            lambda fs: [f for f in fs if f.name not in self.other_calls],
        ):
            chosen = narrow(tops)
            if len(chosen) == 1:
                return chosen[0]
        return None


# -- prefect.yaml -----------------------------------------------------------------------------


@dataclass(slots=True)
class DeploymentSummary:
    index: int
    pos: Pos  # the item
    name: Any
    name_pos: Pos | None
    entrypoint: Any
    entrypoint_pos: Pos | None
    params_kind: str  # "mapping" | "none" | "other"
    params: tuple[tuple[str, Pos], ...]  # keys with their positions
    params_pos: Pos | None
    # written in this entry as a scalar (not an alias, not merged from '<<'): --fix can edit it
    entrypoint_editable: bool = True


@dataclass(slots=True)
class ConfigSummary:
    """``projects/<project>/prefect.yaml``."""

    path: str
    project: str
    error: FileError | None = None
    name: Any = None
    has_name: bool = False
    name_pos: Pos | None = None
    deployments: list[DeploymentSummary] = field(default_factory=list)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)

    @property
    def project_ok(self) -> bool:
        return is_valid_project(self.project)


# -- the repository ---------------------------------------------------------------------------


@dataclass(slots=True)
class ProjectInfo:
    name: str
    path: str  # projects/<name>
    has_config: bool
    has_flows_dir: bool
    flow_files: list[str]  # stems of flows/*.py (not starting with '_')


@dataclass
class Index:
    """Everything the cross-file rules see: the projects and the summaries of their files."""

    projects: dict[str, ProjectInfo]
    flows: dict[str, FlowSummary]  # path -> summary
    configs: dict[str, ConfigSummary]  # project -> summary
    excluded: frozenset[str] = frozenset()  # paths skipped by configuration
    projects_dir: str = "projects"

    def flow_path(self, project: str, flow: str) -> str:
        return f"{self.projects_dir}/{project}/{naming.flow_path(flow)}"

    def flow(self, project: str, flow: str) -> FlowSummary | None:
        return self.flows.get(self.flow_path(project, flow))

    def flows_of(self, project: str) -> Iterator[FlowSummary]:
        info = self.projects.get(project)
        for stem in info.flow_files if info else ():
            summary = self.flow(project, stem)
            if summary is not None:
                yield summary


# -- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A small repository for a rule's documentation and tests.

    ``files`` maps paths under ``projects/`` to their text; a project without a prefect.yaml
    gets ``name: <project>`` / ``deployments: []`` unless ``auto_config`` is off. ``fixed``
    holds the exact text ``--fix`` must produce for the files it changes.
    """

    files: Mapping[str, str]
    fixed: Mapping[str, str] | None = None
    title: str = ""
    auto_config: bool = True


class Rule:
    """Base class of a rule: one rule a class, one class a module in ``scaffold.lint.rules``.

    A rule overrides ``check_flow`` / ``check_config`` (one file: run in the parsing pass and
    cached with the summary) or ``check_repo`` (cross-file: run on the index every time).
    A fixable rule attaches fix data to its findings and overrides ``fix_python`` or
    ``fix_yaml``.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, stable like the code
    summary: ClassVar[str]  # one line for listings
    target: ClassVar[str]  # "flow" | "config" | "project": where the findings point
    fixable: ClassVar[str] = "never"  # "never" | "sometimes" | "always"
    fix_order: ClassVar[int] = 0  # lower runs first within one file
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    @classmethod
    def is_local(cls) -> bool:
        return cls.check_flow is not Rule.check_flow or cls.check_config is not Rule.check_config

    def finding(self, path: str, pos: Pos | tuple[int, int] | None, message: str,
                fix: tuple | None = None) -> Finding:
        line, col = pos if pos is not None else (1, 1)
        return Finding(path, line, col, self.code, message, fix)

    def check_flow(self, flow: FlowSummary) -> Iterable[Finding]:
        return ()

    def check_config(self, config: ConfigSummary) -> Iterable[Finding]:
        return ()

    def check_repo(self, index: Index) -> Iterable[Finding]:
        return ()

    def fix_python(self, module: libcst.Module, finding: Finding) -> libcst.Module | None:
        """The module with this finding fixed, or None when it cannot be fixed safely."""
        return None

    def fix_yaml(self, text: str, finding: Finding) -> str | None:
        return None
