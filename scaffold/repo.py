"""The repository model: where the projects are and what their prefect.yaml files say.

A prefect.yaml is read through ``scaffold.prefect_yaml`` (the one loader and shape check);
line numbers are kept, so the linter and the operations can point at the exact line of a
value. Nothing here writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import naming, prefect_yaml
from scaffold.errors import UsageError, printable
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
                             f"pass the folder that holds {printable(projects_dir)}/")
        return root
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / projects_dir).is_dir():
            return folder
    raise UsageError(
        f"no '{printable(projects_dir)}/' folder in {printable(str(here))} or any parent: run "
        f"inside the repository, or pass --root PATH (or set {ENV_ROOT})"
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


@dataclass(frozen=True)
class ServerName:
    """A deployment known to the server: ``FLOW/NAME`` as ``prefect deployment ls`` prints it."""

    flow: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.flow}/{self.name}"


@dataclass
class Selection:
    """What ``-p``/``-d`` select: entries of prefect.yaml files, in the order given without
    duplicates, and ``-d`` names found only among the server's deployments."""

    deployments: list[Deployment]
    server_only: list[ServerName] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (name, message), strict=False


def expected_flow_name(dep: Deployment) -> str | None:
    """The ``@flow`` name the conventions give an entry (None without a usable entrypoint)."""
    flow = naming.flow_of_entrypoint(dep.entrypoint) if isinstance(dep.entrypoint, str) else None
    return naming.flow_name(dep.project, flow) if flow else None


def _print_warning(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr, flush=True)  # seen before what follows


class Repo:
    """A monorepo: ``<root>/projects/<PROJECT>/{prefect.yaml,flows/<FLOW>.py}``.

    Projects are read lazily and one by one: a broken prefect.yaml or a symlink loop under
    ``projects/`` is reported once (``warnings``, and ``on_warning``, by default a line on
    stderr) and skipped by everything that reads all projects; naming that project itself
    (``-p A``, ``config("A")``) is refused with the file and line.
    """

    def __init__(self, root: str | os.PathLike, projects_dir: str = DEFAULT_PROJECTS_DIR,
                 on_warning: Callable[[str], None] | None = _print_warning):
        self.root = Path(root)
        self.projects_dir = self.root / projects_dir
        self.on_warning = on_warning
        self.warnings: list[str] = []
        self._configs: dict[str, ProjectConfig] = {}
        self._errors: dict[str, UsageError] = {}
        # entries of projects/ that the last projects() could not read (name, reason): loops
        self.skipped: list[tuple[str, str]] = []

    @classmethod
    def discover(cls, root: str | os.PathLike | None = None,
                 projects_dir: str = DEFAULT_PROJECTS_DIR) -> Repo:
        return cls(find_root(root, projects_dir=projects_dir), projects_dir)

    def warn(self, message: str) -> None:
        """Report a problem once per repository model (a broken project, a symlink loop).

        The message is escaped (``errors.printable``) here, once for every consumer: it holds
        folder names and file paths, and a newline in one would forge a line of its own (a
        GitHub Actions ``::error`` annotation) on stderr."""
        message = printable(message)
        if message not in self.warnings:
            self.warnings.append(message)
            if self.on_warning is not None:
                self.on_warning(message)

    # -- layout ---------------------------------------------------------------------------------

    def projects(self) -> list[str]:
        """Project folders (hidden and ``_``-prefixed folders are skipped), sorted.

        An entry that cannot be followed (a symlink loop ``loop1 -> loop2 -> loop1``, a link
        the user may not read) is skipped and reported once: it must not stop commands on
        the other projects.
        """
        try:
            entries = os.scandir(self.projects_dir)
        except FileNotFoundError:
            raise UsageError(f"no projects folder at {printable(str(self.projects_dir))}; create "
                             "it or pass --root") from None
        except OSError as err:
            raise UsageError(f"cannot read {printable(str(self.projects_dir))}: "
                             f"{err.strerror}") from None
        found = []
        self.skipped = []
        with entries:
            for entry in entries:
                if entry.name.startswith((".", "_")):
                    continue
                try:
                    if entry.is_dir():
                        found.append(entry.name)
                except OSError as err:
                    self.skipped.append((entry.name, err.strerror or str(err)))
                    self.warn(f"{self._rel(entry.path)}: {err.strerror}; skipped (fix or remove "
                              "the link)")
        return sorted(found)

    def _rel(self, path: str | os.PathLike) -> str:
        """A path for a message: relative to the root, escaped (``errors.printable``)."""
        try:
            return printable(Path(path).relative_to(self.root).as_posix())
        except ValueError:
            return printable(str(path))

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
        except OSError:  # missing, not a folder, a symlink loop: no flows
            return []

    def require_inside(self, path: str | os.PathLike) -> None:
        """Refuse a path that resolves outside the repository (a symlink to elsewhere): what
        the linter will not check, the generator must not write through."""
        path = Path(path)
        try:
            real = Path(os.path.realpath(path, strict=False))
        except OSError as err:
            raise UsageError(f"{self._rel(path)}: {err.strerror}") from None
        root = Path(os.path.realpath(self.root))
        if real != root and root not in real.parents:
            raise UsageError(f"{self._rel(path)} is a symbolic link to {printable(str(real))}, "
                             f"outside the repository {printable(str(root))}; replace the link with the folder or file itself")

    def require_project(self, project: str) -> Path:
        """The folder of an existing project, for the generator: refused when it (or its
        prefect.yaml or flows/) resolves outside the repository."""
        naming.validate_project(project)  # a path or a look-alike: naming's hint names it
        folder = self.project_dir(project)
        try:
            is_dir = folder.is_dir()
        except OSError as err:
            raise UsageError(f"{self._rel(folder)}: {err.strerror}") from None
        if not is_dir:
            known = self.projects()
            raise UsageError(f"unknown project {project!r}{did_you_mean(project, known)}; "
                             f"create it with: cli new-project {project}")
        for path in (folder, self.config_path(project), self.flows_dir(project)):
            if path.is_symlink() or path == folder:
                self.require_inside(path)
        return folder

    # -- prefect.yaml ---------------------------------------------------------------------------

    def config(self, project: str) -> ProjectConfig:
        """The parsed prefect.yaml of a project (cached); an empty one when the file is missing.

        A broken file raises its ConfigError (file and line), every time it is asked for.
        """
        return self._config(project, None)

    def _config(self, project: str, text: str | None) -> ProjectConfig:
        if project in self._configs:
            return self._configs[project]
        if project in self._errors:
            raise self._errors[project]
        path = self.config_path(project)
        try:
            if text is None:
                text = read_text(path) if path.exists() else ""
            config = parse_config(text, project, path)
        except UsageError as err:
            self._errors[project] = err
            raise
        self._configs[project] = config
        return config

    def adopt(self, config: ProjectConfig) -> ProjectConfig:
        """Use a prefect.yaml the caller already loaded (under its lock) as the project's
        config: the index and the selection then do not parse that file again."""
        self._errors.pop(config.project, None)
        self._configs[config.project] = config
        return config

    def readable_config(self, project: str, text: str | None = None) -> ProjectConfig | None:
        """``config(project)``, or None (reported once) when its prefect.yaml is broken."""
        try:
            return self._config(project, text)
        except UsageError as err:
            self.warn(f"{err}; the deployments of project {project!r} are skipped")
            return None

    def broken(self) -> dict[str, UsageError]:
        """Projects whose prefect.yaml could not be read so far, with why."""
        return dict(self._errors)

    def deployments(self, projects: list[str] | None = None) -> list[Deployment]:
        """Entries of these projects (a broken one raises); of every project when None (a
        broken one is reported once and skipped)."""
        out: list[Deployment] = []
        if projects is not None:
            for project in projects:
                out.extend(self.config(project).deployments)
            return out
        for project in self.projects():
            config = self.readable_config(project)
            if config is not None:
                out.extend(config.deployments)
        return out

    def deployment_index(self, names: Iterable[str] | None = None) -> dict[str, Deployment]:
        """Every deployment of the repository by name (first one wins on duplicates; see
        ``deployment_entries`` for all of them)."""
        return {name: deps[0] for name, deps in self.deployment_entries(names).items()}

    def deployment_entries(self, names: Iterable[str] | None = None) -> dict[str, list[Deployment]]:
        """Every deployment of the repository by name, each name with all its entries in
        project order: Prefect keys a deployment by flow and name, so two projects may hold
        the same name under different flows.

        With ``names``, only files whose text holds one of them are parsed: on a repository
        of hundreds of projects a lookup of a few names parses one or two files.
        """
        wanted = None if names is None else [n for n in names if n]
        index: dict[str, list[Deployment]] = {}
        for project in self.projects():
            text = None
            if wanted is not None and project not in self._configs:
                if project in self._errors:
                    continue
                path = self.config_path(project)
                try:
                    text = read_text(path) if path.exists() else ""
                except UsageError as err:
                    self._errors[project] = err
                    self.warn(f"{err}; the deployments of project {project!r} are skipped")
                    continue
                if not any(name in text for name in wanted):
                    continue
            config = self.readable_config(project, text)
            if config is None:
                continue
            for dep in config.deployments:
                if isinstance(dep.name, str):
                    index.setdefault(dep.name, []).append(dep)
        return index

    # -- selection ------------------------------------------------------------------------------

    def select(self, projects: Iterable[str] = (), deployments: Iterable[str] = (),
               server: Iterable[ServerName | tuple[str, str]] = (), strict: bool = True,
               suggest: bool = True) -> Selection:
        """The one selection of ``-p PROJECT`` and ``-d DEPLOYMENT`` (each repeatable, mixable).

        ``-d`` takes a deployment name, or ``FLOW/NAME`` as the server shows it (FLOW must be
        the entry's conventional flow). A bare name held by entries of several projects or
        flows (legal in Prefect: the flows differ) is refused with one line asking for ``FLOW/NAME`` or
        ``-p``, whatever ``strict`` says; a ``-p`` project holding it settles it. ``server`` adds the deployments the server knows as
        candidates: a ``-d`` name that is in no prefect.yaml but on the server is selected as
        ``server_only``, and near matches are proposed among all names, so a suggestion never
        stands in for a deployment that exists. Unknown names raise one UsageError naming all
        of them; with ``strict=False`` unknown ``-d`` names are returned in ``unknown`` (name,
        message) for the caller to look up elsewhere, and ``suggest=False`` leaves near
        matches out of the messages. A broken prefect.yaml stops only a selection that names
        its project.
        """
        projects, deployments = list(projects), list(deployments)
        remote = [s if isinstance(s, ServerName) else ServerName(*s) for s in server]
        known_projects = self.projects()
        errors: list[str] = []
        for project in projects:
            if project not in known_projects:
                errors.append(f"unknown project {project!r}{did_you_mean(project, known_projects)}")
        # keyed by entry: the same entry named twice is selected once; two entries of one name
        # (two flows of a project) are two deployments for Prefect
        chosen: dict[tuple[str, int], Deployment] = {}
        for project in projects:
            if project in known_projects:
                for dep in self.config(project).deployments:  # broken: its file and line
                    chosen.setdefault((dep.project, dep.index), dep)
        if not deployments:
            if errors:
                raise unknown_names(errors)
            return Selection(list(chosen.values()))
        index = self.deployment_entries([name.rpartition("/")[2] for name in deployments])
        remote_full = {s.full_name: s for s in remote}
        remote_by_name: dict[str, list[ServerName]] = {}
        for s in remote:
            remote_by_name.setdefault(s.name, []).append(s)
        server_only: dict[str, ServerName] = {}
        unknown: list[str] = []
        missing: list[tuple[str, str]] = []
        for attempt in (1, 2):
            for name in deployments if attempt == 1 else unknown:
                flow, _, bare = name.rpartition("/")
                entries = index.get(bare, []) if bare else []
                if flow:  # FLOW/NAME: the entry whose conventional flow is FLOW
                    picked = [d for d in entries if expected_flow_name(d) == flow]
                else:
                    picked = _one_project(entries, projects)
                    if picked is None:  # the name is in several projects: never pick one
                        errors.append(_ambiguous(name, entries))
                        continue
                on_server = remote_by_name.get(name, []) if not flow else []
                if picked:
                    for dep in picked:
                        chosen.setdefault((dep.project, dep.index), dep)
                elif name in remote_full:
                    server_only.setdefault(name, remote_full[name])
                elif len(on_server) == 1:
                    server_only.setdefault(on_server[0].full_name, on_server[0])
                elif on_server:
                    names = ", ".join(sorted(s.full_name for s in on_server))
                    missing.append((name, (f"deployment {name!r} is ambiguous on the server "
                                          f"({names}); name it as FLOW/NAME")))
                elif entries:
                    shown = ", ".join(printable(f"{expected_flow_name(d)}/{bare}") for d in entries)
                    missing.append((name, (f"unknown deployment {name!r} (prefect.yaml's {bare!r} "
                                          f"is {shown} on the server)")))
                elif attempt == 1:
                    unknown.append(name)
                else:
                    hint = self._suggest(name, index, remote) if suggest else ""
                    missing.append((name, f"unknown deployment {name!r}{hint}"))
            if not unknown:
                break
            # the names were not in the files that mention them in plain text (an escaped or
            # quoted name): look at every file, which the suggestions need anyway
            index = self.deployment_entries()
        if strict or errors:  # unknown projects raise at once, with the unknown names
            errors += [message for _, message in missing]
            missing = []
        if errors:
            raise unknown_names(errors, {self._rel(e.path) if e.path else p: e
                                         for p, e in self.broken().items()})
        return Selection(list(chosen.values()), list(server_only.values()), missing)

    @staticmethod
    def _suggest(name: str, index: dict[str, list[Deployment]], remote: list[ServerName]) -> str:
        """Near matches among every known name (files and server); ``FLOW/NAME`` is matched
        by its NAME, the name a user then passes to -d."""
        return did_you_mean(name.rpartition("/")[2], list(index) + [s.name for s in remote])

    def resolve(self, projects: Iterable[str] = (), deployments: Iterable[str] = ()) -> list[Deployment]:
        """The entries ``-p``/``-d`` select, from prefect.yaml files only (see ``select``)."""
        return self.select(projects, deployments).deployments


def _one_project(entries: list[Deployment], projects: list[str]) -> list[Deployment] | None:
    """The entries of a bare ``-d`` name when they are one deployment for Prefect (one project,
    one flow), or those in the ``-p`` projects (selected whole anyway); None when the name
    stays ambiguous: two projects, or two flows of one project, hold it."""
    among = [d for d in entries if d.project in projects]
    if among:
        return among
    if len({(d.project, expected_flow_name(d)) for d in entries}) <= 1:
        return entries
    return None


def _ambiguous(name: str, entries: list[Deployment]) -> str:
    """One line for a bare ``-d`` name held by several entries: which, and how to pick one."""
    where = ", ".join(printable(f"{d.project} ({expected_flow_name(d) or '?'}/{name})")
                      for d in entries)
    example = next((f"{expected_flow_name(d)}/{name}" for d in entries if expected_flow_name(d)),
                   None)
    how = f"name it as FLOW/NAME (e.g. -d {printable(example)})" if example else "name it as FLOW/NAME"
    return (f"deployment {name!r} is the name of {len(entries)} deployments: {where}; "
            f"{how} or select its project with -p PROJECT")


def _path_project(value: str) -> str | None:
    """``projects/billing``, ``./projects/billing/`` -> ``billing``: a project named by its path."""
    parts = [p for p in value.replace(os.sep, "/").split("/") if p not in ("", ".")]
    return parts[-1] if parts else None


def unknown_names(errors: list[str], broken: dict[str, UsageError] | None = None) -> UsageError:
    """One error for all unknown ``-p``/``-d`` names, saying where the names are (offline)
    and which prefect.yaml files could not be read (their names are not known)."""
    where = []
    if any(e.startswith("unknown project") for e in errors):
        where.append("projects are the folders of projects/")
    if any(e.startswith("unknown deployment") for e in errors):
        where.append("deployment names are the `name:` values in projects/<PROJECT>/prefect.yaml")
        if broken:
            where.append("not read (broken): " + ", ".join(
                f"{path}:{err.line}" if err.line else str(path) for path, err in broken.items()))
    return UsageError("; ".join(errors + where))


# -- did you mean ------------------------------------------------------------------------------

def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` with the closest candidates, or "".

    Sensible first, fuzzy last: a path (``projects/billing``) is matched by its last part; a
    name that differs only in case, width or look-alike letters of another script (Cyrillic
    ``а``) is matched whole and said so; then difflib's near matches, compared on those
    skeletons so a look-alike never counts as a different letter.
    """
    import difflib

    candidates = list(dict.fromkeys(c for c in candidates if isinstance(c, str)))
    if not candidates or not isinstance(value, str):
        return ""
    if "/" in value or os.sep in value:
        last = _path_project(value)
        if last in candidates:
            return f" (did you mean {last!r}?)"
    skeleton = naming.skeleton(value)
    by_skeleton: dict[str, list[str]] = {}
    for c in candidates:
        by_skeleton.setdefault(naming.skeleton(c), []).append(c)
    same = [c for c in by_skeleton.get(skeleton, []) if c != value]
    if same:
        note = ""
        odd = sorted({ch for ch in value if not ch.isascii()})
        if odd:
            note = "; the name has letters of another script: " + ", ".join(
                f"{ch!r} U+{ord(ch):04X}" for ch in odd)
        return " (did you mean " + " or ".join(repr(c) for c in same[:3]) + f"?{note})"
    close = difflib.get_close_matches(skeleton, list(by_skeleton), n=3, cutoff=0.6)
    names = [c for sk in close for c in by_skeleton[sk]][:3]
    if not names:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in names) + "?)"
