"""The linter's data: findings, per-file summaries, the repository index and the Rule base class.

Summaries are small and picklable: they are what the cache stores and what the cross-file rules
read, so a file is parsed once and never again while its content does not change. They are
dataclasses without ``slots``: a slotted dataclass unpickles through a Python-level
``__setstate__`` (measured: 0.4 s for the 16,000 objects of the 2,000-file bench, where a
plain one unpickles in C).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from scaffold import naming
from scaffold.annotations import (  # noqa: F401 - value shapes of a summary, re-exported
    MAX_SHAPE_ITEMS,
    YamlList,
    YamlMapping,
    value_shape,
)
from scaffold.flowfile import (  # noqa: F401 - the flow-file side of the model, re-exported
    FileError,
    FlowFunc,
    FlowSummary,
    Param,
    Pos,
    Signature,
    is_valid_flow,
    is_valid_project,
)

if TYPE_CHECKING:  # pragma: no cover
    import libcst


# -- fixes: what a finding's autofix will do, read by the rule's fix_python / fix_yaml -------


@dataclass(frozen=True)
class RenameFunction:
    """Rename the module-level function ``old`` to ``new`` (and its uses)."""

    old: str
    new: str


@dataclass(frozen=True)
class SetFlowName:
    """Make decorator ``deco_index`` of the module-level ``function`` read ``name=value``."""

    function: str
    deco_index: int
    value: str


@dataclass(frozen=True)
class ReplaceYamlValue:
    """Set ``key`` of deployment ``index`` (0-based) in a prefect.yaml to ``value``."""

    index: int
    key: str
    value: str
    # (flow file, function): applied only once that function exists (a rename in the same
    # --fix run makes it); until then the edit waits, and it is dropped if the rename is
    requires: tuple[str, str] | None = None


@dataclass(frozen=True)
class RemoveNoqa:
    """Remove ``codes`` from the ``# noqa`` comment on ``line`` (all of it when ``codes`` is
    None, or when no code would be left)."""

    line: int
    codes: frozenset[str] | None


Fix = RenameFunction | SetFlowName | ReplaceYamlValue | RemoveNoqa


class Finding(NamedTuple):
    """One violation. ``path`` is relative to the repository root, POSIX style; line and col
    are 1-based (col counts characters). ``fix`` says what the autofix will do (None: no
    autofix for this finding)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    fix: Fix | None = None


class NotScalar(NamedTuple):
    """A YAML value that is a list or mapping where a plain value belongs."""

    type: str

    def __str__(self) -> str:
        return f"a {self.type}"


# -- prefect.yaml -----------------------------------------------------------------------------


# The value shapes live with the annotation checks that read them (one definition, shared with
# the generator): scaffold.annotations.


@dataclass(frozen=True)
class ParamValue:
    """One key of a deployment's ``parameters``, as the loader reads it (aliases, merges)."""

    key: str
    pos: Pos  # where its value is written: in the entry, or at an anchor / in definitions
    value: Any  # value_shape of the value
    via: str = ""  # "": written in the entry; "alias" / "merge": how the entry gets it


@dataclass(frozen=True)
class ScheduleItem:
    """One item of a deployment's ``schedules`` (or of the legacy ``schedule`` key)."""

    pos: Pos
    key: str  # "schedules" | "schedule"
    value: Any  # a mapping: dict of its scalar keys -> value_shape; anything else: value_shape
    marks: tuple[tuple[str, Pos], ...] = ()  # key -> where a message about its value points
    listed: bool = True  # False: `schedules:` itself is not a list (this is its whole value)

    def mark(self, key: str) -> Pos:
        return next((pos for name, pos in self.marks if name == key), self.pos)


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one YAML mapping (the loader keeps the last value, silently)."""

    pos: Pos  # the repeated key
    key: str
    first_line: int


@dataclass
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
    param_values: tuple[ParamValue, ...] = ()  # when params_kind == "mapping"
    schedules: tuple[ScheduleItem, ...] = ()
    schedules_pos: Pos | None = None  # the `schedules` key (None: absent)
    legacy_schedule_pos: Pos | None = None  # a non-empty legacy `schedule` key


@dataclass
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
    duplicates: tuple[DuplicateKey, ...] = ()

    @property
    def project_ok(self) -> bool:
        return is_valid_project(self.project)


# -- the repository ---------------------------------------------------------------------------


@dataclass
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
    A fixable rule attaches a typed fix (``Fix``) to its findings and overrides
    ``fix_python``, ``fix_yaml`` or ``fix_text``.
    """

    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, stable like the code
    summary: ClassVar[str]  # one line for listings
    fixable: ClassVar[str] = "never"  # "never" | "sometimes" | "always"
    fix_order: ClassVar[int] = 0  # lower runs first within one file
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    @classmethod
    def is_local(cls) -> bool:
        return cls.check_flow is not Rule.check_flow or cls.check_config is not Rule.check_config

    def finding(self, path: str, pos: Pos | tuple[int, int] | None, message: str,
                fix: Fix | None = None) -> Finding:
        line, col = pos if pos is not None else (1, 1)
        return Finding(path, line, col, self.code, message, fix)

    def check_flow(self, flow: FlowSummary) -> Iterable[Finding]:
        return ()

    def check_config(self, config: ConfigSummary) -> Iterable[Finding]:
        return ()

    def check_repo(self, index: Index) -> Iterable[Finding]:
        return ()

    def check_noqa(self, path: str, text: str, directives: dict[int, frozenset[str] | None],
                   used: dict[int, set[str]], known: set[str]) -> Iterable[Finding]:
        """Run once all other findings are known: the noqa directives of one file and what
        each suppressed (``known``: every rule code)."""
        return ()

    def fix_python(self, module: libcst.Module, finding: Finding) -> libcst.Module | None:
        """The module with this finding fixed, or None when it cannot be fixed safely."""
        return None

    def fix_yaml(self, text: str, finding: Finding) -> str | None:
        return None

    def fix_text(self, text: str, finding: Finding) -> str | None:
        """A fix that edits the text of any file (applied before fix_python / fix_yaml)."""
        return None
