"""The repository model: where the projects are and what their prefect.yaml files say.

Reads are fast (PyYAML's C loader when available) and keep line numbers, so the linter and
the operations can point at the exact line of a value. Nothing here writes.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold import naming
from scaffold.errors import ConfigError, UsageError
from scaffold.fs import read_text

ENV_ROOT = "SCAFFOLD_ROOT"
DEFAULT_PROJECTS_DIR = "projects"

class _SafeConstructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor, with bad typed values reported as YAML errors with a mark.

    PyYAML lets ValueError escape for ``date: 2024-13-45``, ``!!int x`` or an integer of
    5,000 digits; here they become a ConstructorError, so the user gets file, line and fix.
    """

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as err:
            kind = str(node.tag).rpartition(":")[2]
            shown = repr(node.value) if len(str(node.value)) <= 40 else f"{str(node.value)[:37]!r}..."
            raise _BadValue(None, None, f"{shown} is not a valid {kind} ({str(err)[:80]}); "
                            "quote it if it is text", node.start_mark) from None


class _BadValue(yaml.constructor.ConstructorError):
    """Well-formed YAML, but a typed value Python cannot build."""


try:  # libyaml: ~10x faster than the pure-Python parser
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - wheels without libyaml
    CParser = None

if CParser is not None:
    class _Loader(CParser, _SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - wheels without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                  yaml.composer.Composer, _SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def find_root(explicit: str | os.PathLike | None = None, start: str | os.PathLike | None = None,
              projects_dir: str = DEFAULT_PROJECTS_DIR) -> Path:
    """The repository root: ``--root``, else ``$SCAFFOLD_ROOT``, else the nearest folder holding
    ``projects/`` walking up from ``start`` (the current folder)."""
    given = explicit or os.environ.get(ENV_ROOT)
    if given:
        root = Path(given).expanduser().resolve()
        if not root.is_dir():
            source = "--root" if explicit else f"${ENV_ROOT}"
            raise UsageError(f"repository root {str(root)!r} from {source} is not a folder; "
                             f"pass the folder that holds {projects_dir}/")
        return root
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / projects_dir).is_dir():
            return folder
    raise UsageError(
        f"no '{projects_dir}/' folder in {here} or any parent: run inside the repository, "
        f"or pass --root PATH (or set {ENV_ROOT})"
    )


@dataclass
class Deployment:
    """One entry of a project's ``deployments`` list."""

    project: str
    index: int
    data: dict[str, Any]
    line: int  # 1-based line of the item
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (line, col) of value

    @property
    def name(self) -> Any:
        return self.data.get("name")

    @property
    def entrypoint(self) -> Any:
        return self.data.get("entrypoint")

    @property
    def parameters(self) -> Any:
        params = self.data.get("parameters")
        return {} if params is None else params

    def line_of(self, key: str) -> int:
        return self.marks.get(key, (self.line, 1))[0]

    def col_of(self, key: str) -> int:
        return self.marks.get(key, (self.line, 1))[1]


@dataclass
class ProjectConfig:
    """A parsed ``projects/<P>/prefect.yaml``."""

    project: str
    path: Path
    data: dict[str, Any]
    deployments: list[Deployment]
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)  # top-level key -> value mark

    @property
    def name(self) -> Any:
        return self.data.get("name")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a big node graph is built.

    A prefect.yaml of 1,000 deployments is ~60,000 nodes: the collector would walk them over
    and over as they are allocated, which more than doubles the parse time. Nothing built
    here needs it (plain reference counting frees it all), and the previous state comes back.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compose(text: str, path: object = "<string>") -> tuple[Any, Any]:
    """Parse one YAML document into (node graph, python data); ConfigError with file and line."""
    with _gc_paused():
        return _compose(text, path)


def _compose(text: str, path: object) -> tuple[Any, Any]:
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python reader already checks characters here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        context = getattr(err, "context_mark", None)
        if mark is not None and context is not None and mark.index >= len(text.rstrip()):
            mark = context  # an error "at the end of the file" is clearer where the construct began
        line = mark.line + 1 if mark else None
        if line is None and isinstance(getattr(err, "position", None), int):  # ReaderError
            line = text.count("\n", 0, err.position) + 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if isinstance(err, _BadValue):
            raise ConfigError(f"invalid value: {problem}", path=path, line=line) from None
        raise ConfigError(f"invalid YAML: {problem}; fix the syntax", path=path, line=line) from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def _mapping_items(node: Any) -> list[tuple[Any, Any]]:
    """Key/value node pairs of a mapping node, with merge keys (``<<``) resolved one level."""
    pairs: list[tuple[Any, Any]] = []
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    pairs.extend(_mapping_items(src))
        else:
            pairs.append((key, value))
    return pairs


def _marks(node: Any) -> dict[str, tuple[int, int]]:
    """key -> (line, column), 1-based, of where the value is written.

    A scalar or flow value is pointed at itself (``entrypoint: flows/x.py:x_flow`` -> the
    ``flows`` column). A block mapping or list starts on the next line and an alias's marks
    are those of its anchor, elsewhere in the file: both are pointed at their key instead.
    """
    out: dict[str, tuple[int, int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in _mapping_items(node):
            if isinstance(key, yaml.ScalarNode):
                block = (isinstance(value, yaml.CollectionNode) and not value.flow_style
                         and value.value)
                alias = value.start_mark.index < key.end_mark.index
                own = key.start_mark.index >= node.start_mark.index  # not merged in by "<<"
                at = key if own and (block or alias) else value
                out[key.value] = (at.start_mark.line + 1, at.start_mark.column + 1)
    return out


# YAML words for what a value is, in messages ("'deployments' is a string; ...")
_KINDS = {dict: "a mapping", str: "a string", int: "a number", float: "a number",
          bool: "true/false", list: "a list"}


def parse_config(text: str, project: str, path: Path) -> ProjectConfig:
    node, data = compose(text, path)
    if data is None:
        data, node = {}, None
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError("prefect.yaml must be a mapping of keys (name, deployments, ...)",
                          path=path, line=line)
    top = _marks(node) if node is not None else {}
    deployments: list[Deployment] = []
    raw = data.get("deployments")
    if raw is not None:
        # the last one, like the loader, when the key is (wrongly) written twice
        dep_node = [v for k, v in _mapping_items(node) if getattr(k, "value", None) == "deployments"][-1]
        if not isinstance(raw, list):
            what = _KINDS.get(type(raw), "a value of another kind")
            raise ConfigError(f"'deployments' is {what}; it must be a list of entries "
                              "('- name: ...')", path=path, line=dep_node.start_mark.line + 1)
        for i, (item, item_node) in enumerate(zip(raw, dep_node.value)):
            if not isinstance(item, dict):
                raise ConfigError(f"deployment #{i + 1} must be a mapping with 'name' and "
                                  "'entrypoint'", path=path, line=item_node.start_mark.line + 1)
            deployments.append(Deployment(project, i, item, item_node.start_mark.line + 1,
                                          _marks(item_node)))
    return ProjectConfig(project, path, data, deployments, top)


class Repo:
    """A monorepo: ``<root>/projects/<PROJECT>/{prefect.yaml,flows/<FLOW>.py}``."""

    def __init__(self, root: str | os.PathLike, projects_dir: str = DEFAULT_PROJECTS_DIR):
        self.root = Path(root)
        self.projects_dir = self.root / projects_dir
        self._configs: dict[str, ProjectConfig] = {}

    @classmethod
    def discover(cls, root: str | os.PathLike | None = None,
                 projects_dir: str = DEFAULT_PROJECTS_DIR) -> Repo:
        return cls(find_root(root, projects_dir=projects_dir), projects_dir)

    # -- layout ---------------------------------------------------------------------------------

    def projects(self) -> list[str]:
        """Project folders (hidden and ``_``-prefixed folders are skipped), sorted."""
        try:
            entries = os.scandir(self.projects_dir)
        except FileNotFoundError:
            raise UsageError(f"no projects folder at {self.projects_dir}; create it or pass --root") from None
        with entries:
            return sorted(e.name for e in entries
                          if e.is_dir() and not e.name.startswith((".", "_")))

    def project_dir(self, project: str) -> Path:
        return self.projects_dir / project

    def config_path(self, project: str) -> Path:
        return self.project_dir(project) / naming.CONFIG_FILE

    def flows_dir(self, project: str) -> Path:
        return self.project_dir(project) / naming.FLOWS_DIR

    def flow_file(self, project: str, flow: str) -> Path:
        return self.project_dir(project) / naming.flow_path(flow)

    def flows(self, project: str) -> list[str]:
        """Flow names of a project: ``flows/*.py`` not starting with ``_``."""
        try:
            with os.scandir(self.flows_dir(project)) as entries:
                return sorted(e.name[:-3] for e in entries
                              if e.name.endswith(".py") and not e.name.startswith("_") and e.is_file())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def require_project(self, project: str) -> Path:
        naming.validate_project(project)
        folder = self.project_dir(project)
        if not folder.is_dir():
            known = self.projects()
            raise UsageError(f"unknown project {project!r}{did_you_mean(project, known)}; "
                             f"create it with: cli new-project {project}")
        return folder

    # -- prefect.yaml ---------------------------------------------------------------------------

    def config(self, project: str) -> ProjectConfig:
        """The parsed prefect.yaml of a project (cached); an empty one when the file is missing."""
        if project not in self._configs:
            path = self.config_path(project)
            text = read_text(path) if path.exists() else ""
            self._configs[project] = parse_config(text, project, path)
        return self._configs[project]

    def deployments(self, projects: list[str] | None = None) -> list[Deployment]:
        out: list[Deployment] = []
        for project in projects if projects is not None else self.projects():
            out.extend(self.config(project).deployments)
        return out

    def deployment_index(self) -> dict[str, Deployment]:
        """Every deployment of the repository by name (first one wins on duplicates)."""
        index: dict[str, Deployment] = {}
        for dep in self.deployments():
            if isinstance(dep.name, str):
                index.setdefault(dep.name, dep)
        return index

    def resolve(self, projects: tuple[str, ...] | list[str] = (),
                deployments: tuple[str, ...] | list[str] = ()) -> list[Deployment]:
        """Deployments selected by ``-p PROJECT`` and ``-d DEPLOYMENT`` (each repeatable, mixable).

        Unknown names raise one UsageError naming all of them, with near matches; the order
        is the order given, without duplicates.
        """
        known_projects = self.projects()
        errors: list[str] = []
        for project in projects:
            if project not in known_projects:
                errors.append(f"unknown project {project!r}{did_you_mean(project, known_projects)}")
        index = self.deployment_index()
        for name in deployments:
            if name not in index:
                errors.append(f"unknown deployment {name!r}{did_you_mean(name, list(index))}")
        if errors:
            raise unknown_names(errors)
        chosen: dict[tuple[str, Any], Deployment] = {}
        for project in projects:
            for dep in self.config(project).deployments:
                chosen.setdefault((dep.project, dep.name), dep)
        for name in deployments:
            dep = index[name]
            chosen.setdefault((dep.project, dep.name), dep)
        return list(chosen.values())


def unknown_names(errors: list[str]) -> UsageError:
    """One error for all unknown ``-p``/``-d`` names, saying where the names are (offline)."""
    where = []
    if any(e.startswith("unknown project") for e in errors):
        where.append("projects are the folders of projects/")
    if any(e.startswith("unknown deployment") for e in errors):
        where.append("deployment names are the `name:` values in projects/<PROJECT>/prefect.yaml")
    return UsageError("; ".join(errors + where))


def did_you_mean(value: str, candidates: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(value, candidates, n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
