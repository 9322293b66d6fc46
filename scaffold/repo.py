"""The repository model: where the projects are and what their prefect.yaml files say.

A prefect.yaml is read through ``scaffold.prefect_yaml`` (the one loader and shape check);
line numbers are kept, so the linter and the operations can point at the exact line of a
value. Nothing here writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import naming, prefect_yaml
from scaffold.errors import UsageError
from scaffold.fs import read_text
from scaffold.prefect_yaml import compose  # noqa: F401 - re-exported: the one YAML loader

ENV_ROOT = "SCAFFOLD_ROOT"
DEFAULT_PROJECTS_DIR = "projects"


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
    item: prefect_yaml.Item | None = field(default=None, repr=False, compare=False)

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

    @property
    def marks(self) -> dict[str, tuple[int, int]]:
        """key -> (line, column) of its value (see prefect_yaml.Key.mark)."""
        return self.item.marks if self.item is not None else {}

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
    doc: prefect_yaml.PrefectYaml | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> Any:
        return self.data.get("name")

    @property
    def marks(self) -> dict[str, tuple[int, int]]:  # top-level key -> value mark
        return self.doc.marks if self.doc is not None else {}


def parse_config(text: str, project: str, path: Path) -> ProjectConfig:
    """A prefect.yaml's text -> its ProjectConfig (ConfigError with file and line)."""
    return config_of(prefect_yaml.load(text, path), project)


def config_of(doc: prefect_yaml.PrefectYaml, project: str) -> ProjectConfig:
    """The repository's view of a loaded prefect.yaml (one parse, shared with the editor)."""
    deployments = [Deployment(project, item.index, item.data, item.line, item) for item in doc.items]
    return ProjectConfig(project, Path(str(doc.path)), doc.data, deployments, doc)


class Repo:
    """A monorepo: ``<root>/projects/<PROJECT>/{prefect.yaml,flows/<FLOW>.py}``."""

    def __init__(self, root: str | os.PathLike, projects_dir: str = DEFAULT_PROJECTS_DIR):
        self.root = Path(root)
        self.projects_dir = self.root / projects_dir
        self._configs: dict[str, ProjectConfig] = {}
        # entries of projects/ that projects() could not read (name, reason): symlink loops
        self.skipped: list[tuple[str, str]] = []

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
        self.skipped = []
        names = []
        with entries:
            for e in entries:
                if e.name.startswith((".", "_")):
                    continue
                try:
                    if e.is_dir():
                        names.append(e.name)
                except OSError as err:  # a symlink loop: skipped, the others still count
                    self.skipped.append((e.name, err.strerror or str(err)))
        return sorted(names)

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
