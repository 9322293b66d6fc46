"""What changed since a git revision, and which deployments that affects (`--changed-since REF`).

Base layer: stdlib, `naming` and `repo` only; no prefect import. Used by `cli prefect plan|deploy
--changed-since REF` (deployments) and `cli lint --changed-since REF` (files).

Changed files (`changed_files`)
    The commits after REF, as ``git diff REF...`` sees them: the diff from the merge base of REF
    and HEAD (so commits that landed on REF's branch meanwhile are not "changes" of ours, and
    in CI ``--changed-since origin/main`` means "what this branch changed"), to the work tree
    (committed, staged and unstaged changes), plus untracked files that are not ignored.
    When REF is an ancestor of HEAD (the usual "last deployed commit"), the merge base is REF.
    Renames count as a deletion plus an addition (both paths are changed). Three git
    processes: ``rev-parse`` (top level, REF, merge base), then ``diff`` and ``ls-files``
    side by side.

Affected deployments (`affected`)
    A deployment of ``projects/<P>/prefect.yaml`` is selected when
    - its entry changed (compared by name with the file at the merge base; a new entry counts),
    - a project-level section of its file changed (``pull``, ``build``, ``push`` or
      ``definitions``): then every deployment of the project,
    - its flow file (the entrypoint's file) changed or was deleted, or
    - its flow file imports, directly or through other modules of the repository, a module
      that changed (or was deleted).
    Entries present at the merge base and gone now are orphans (by name; a whole deleted
    prefect.yaml makes all its entries orphans).

Import resolution (how Prefect loads a flow: ``load_script_as_module`` puts the flow file's
folder first on ``sys.path``, then the working directory, which the pull step
``set_working_directory`` sets to ``projects/<P>``; the repository root is on the path when the
worker runs from it, as the compose stack does). For a module ``projects/<P>/...`` an absolute
``import a.b`` is looked up, first hit wins as Python does, in: its own folder,
``projects/<P>/flows``, ``projects/<P>``, the repository root (regular packages and modules
first, namespace folders otherwise); relative imports from the module's own folder. Modules
outside ``projects/`` resolve from their own folder and the repository root. Imports anywhere
in a file count (also inside functions and ``try``); names that do not resolve to a file of
the repository (the stdlib, installed packages) are ignored. Not followed: dynamic imports
(``importlib.import_module(name)``), data files a flow reads, and entrypoints that point
outside their project's folder. Symlinked modules are followed to the file they point at.

Speed: only files that can import a changed module are parsed: those whose text contains the
module's name and that can see it (the same project, or any file when the module is outside
``projects/`` or the text also names the ``projects`` folder); then again for what those
files affect, until nothing new is found. Only the prefect.yaml files of projects holding an
affected file, or whose prefect.yaml changed, are read.
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scaffold import naming
from scaffold.errors import ConfigError, UsageError
from scaffold.repo import Deployment, Repo, parse_config

PROJECT_LEVEL = ("pull", "build", "push", "definitions")  # a change selects the whole project
OPTION = "--changed-since"

# A revision is handed to git as one argument (never a shell), but one starting with "-"
# would be read as an option (`--output=FILE` writes a file) and a range is not one commit.
_BAD_REF = re.compile(r"\A-|\.\.|[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ChangedFiles:
    """Files changed since ``ref``: paths are POSIX, relative to ``git_root``."""

    ref: str
    commit: str  # the commit REF names
    base: str  # merge base of REF and HEAD: what the work tree is compared with
    git_root: Path
    paths: frozenset[str]  # committed after base, staged, unstaged, untracked (incl. deleted)
    untracked: frozenset[str]
    listed: frozenset[str]  # every tracked or untracked, not ignored, file (module resolution)
    shallow: bool = False

    def absolute(self) -> set[Path]:
        return {self.git_root / p for p in self.paths}

    def exists(self, rel: str) -> bool:
        return (self.git_root / rel).exists()


@dataclass(frozen=True)
class Orphan:
    """An entry of prefect.yaml at the merge base that is no longer there."""

    project: str
    name: str
    flow: str | None  # the @flow name the conventions gave it (None: entrypoint unusable)


@dataclass
class Selection:
    """What ``--changed-since REF`` selects."""

    changes: ChangedFiles
    deployments: list[Deployment] = field(default_factory=list)  # current entries, repo order
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)  # (project, name) -> why
    orphans: list[Orphan] = field(default_factory=list)
    errors: dict[str, UsageError] = field(default_factory=dict)  # project -> unreadable prefect.yaml

    def reason(self, dep: Deployment) -> str:
        return self.reasons.get((dep.project, str(dep.name)), "")

    def names(self) -> list[str]:
        return [str(d.name) for d in self.deployments]


# -- git ------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # stable English messages; never take the index lock for a stat refresh (a concurrent
    # `git commit` must not fail because we looked)
    env.update({"LC_ALL": "C", "LANGUAGE": "C", "GIT_OPTIONAL_LOCKS": "0",
                "GIT_TERMINAL_PROMPT": "0"})
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):  # e.g. set by a hook
        env.pop(key, None)
    return env


def _popen(args: list[str], cwd: Path, stdin: int | None = None) -> subprocess.Popen:
    try:
        return subprocess.Popen(["git", *args], cwd=cwd, env=_env(), stdin=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise UsageError(f"{OPTION} needs git, which is not installed (or not on PATH)") from None


def _run(args: list[str], cwd: Path) -> tuple[int, bytes, str]:
    proc = _popen(args, cwd)
    out, err = proc.communicate()
    return proc.returncode, out, err.decode("utf-8", "replace")


def _check_ref(ref: str) -> None:
    if not ref or not ref.strip() or _BAD_REF.search(ref):
        raise UsageError(f"{OPTION} {ref!r} is not a git revision: give one commit, branch or "
                         "tag (e.g. origin/main, HEAD~1, a commit id), not an option or a range")


def changed_files(ref: str, start: str | os.PathLike) -> ChangedFiles:
    """The files changed since ``ref`` in the git repository holding ``start`` (see the module
    docstring). UsageError (one line, exit 2) outside a repository or for an unknown ``ref``."""
    _check_ref(ref)
    start = Path(start)
    code, out, err = _run(["rev-parse", "--show-toplevel", "--is-shallow-repository",
                           f"{ref}^{{commit}}...HEAD", "--"], start)
    if code != 0:
        raise _rev_parse_error(ref, start, err)
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    git_root, shallow = Path(lines[0]), lines[1] == "true"
    revs = [x for x in lines[2:] if x and x != "--"]
    commit = revs[1]
    bases = [x[1:] for x in revs if x.startswith("^")]
    if not bases:
        hint = ("this is a shallow clone: fetch more history (git fetch --deepen=N, or "
                "--unshallow; actions/checkout: fetch-depth: 0)" if shallow
                else "they share no history; compare with a commit of this branch")
        raise UsageError(f"{OPTION} {ref}: no common ancestor of {ref} and HEAD; {hint}")
    base = bases[0]  # criss-cross merges: git diff REF... takes the first one too
    diff = _popen(["-c", "core.quotePath=false", "diff", "--name-only", "-z", "--no-renames",
                   "--no-ext-diff", "--no-textconv", base, "--"], git_root)
    listing = _popen(["ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard"],
                     git_root)
    diff_out, diff_err = diff.communicate()
    list_out, list_err = listing.communicate()
    for proc, text in ((diff, diff_err), (listing, list_err)):
        if proc.returncode != 0:
            line = text.decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"{OPTION} {ref}: git failed: {line[-1] if line else proc.returncode}")
    changed = {p for p in diff_out.decode("utf-8", "surrogateescape").split("\0") if p}
    listed: set[str] = set(changed)
    untracked: set[str] = set()
    for item in list_out.decode("utf-8", "surrogateescape").split("\0"):
        if len(item) < 3:
            continue
        tag, path = item[0], item[2:]
        listed.add(path)
        if tag == "?":
            untracked.add(path)
    return ChangedFiles(ref, commit, base, git_root, frozenset(changed | untracked),
                        frozenset(untracked), frozenset(listed), shallow)


def _rev_parse_error(ref: str, start: Path, err: str) -> UsageError:
    if "not a git repository" in err:
        return UsageError(f"{OPTION} needs a git repository, and {start} is not in one; run it "
                          "in a clone of the repository")
    if "safe.directory" in err or "dubious ownership" in err:
        return UsageError(f"{OPTION}: git refuses the repository at {start} (owned by another "
                          "user); see `git config --global --add safe.directory`")
    if re.fullmatch(r"0{7,40}", ref):
        return UsageError(f"{OPTION} {ref}: the null commit (what CI reports as the commit "
                          "before a new branch's first push) has no files to compare with; "
                          "select with -p/-d instead, or compare with the base branch")
    code, _, _ = _run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], start)
    if code != 0:
        return UsageError(f"{OPTION} {ref}: HEAD has no commit yet; commit first, or run "
                          "without --changed-since")
    import shlex  # the name goes into a command a user may paste: quoted

    return UsageError(f"{OPTION}: unknown git revision {ref!r} (not a commit, branch or tag of "
                      "this repository); check the name, or fetch it (git fetch origin "
                      f"{shlex.quote(ref)}; a shallow clone may need --unshallow)")


def changed_paths(ref: str, start: str | os.PathLike) -> set[Path]:
    """Absolute paths of the files changed since ``ref`` (deleted ones included): what
    ``cli lint --changed-since REF`` limits its findings to."""
    return changed_files(ref, start).absolute()


def _show(changes: ChangedFiles, paths: list[str]) -> dict[str, str | None]:
    """Text of files at the merge base, in one ``git cat-file --batch``; None when missing."""
    if not paths:
        return {}
    proc = _popen(["cat-file", "--batch"], changes.git_root, stdin=subprocess.PIPE)
    request = "".join(f"{changes.base}:{p}\n" for p in paths).encode("utf-8", "surrogateescape")
    out, _ = proc.communicate(request)
    result: dict[str, str | None] = {}
    pos = 0
    for path in paths:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            result[path] = out[pos:pos + size].decode("utf-8", "replace")
            pos += size + 1
        else:  # "<name> missing", or not a blob
            result[path] = None
            if len(header) == 3:
                pos += int(header[2]) + 1
    return result


# -- import graph ---------------------------------------------------------------------------------


class Modules:
    """The Python files of a repository, resolved the way Prefect's loader finds them (see the
    module docstring). Paths are POSIX, relative to ``top``; ``files`` lists every file
    (deleted ones too, so that their importers still resolve to them).

    Also for other features that follow imports (lint's rename fix): ``module_file(importer,
    "a.b", level)`` is the file an import statement runs, or None outside the repository."""

    def __init__(self, top: Path, files: frozenset[str] | set[str], root_rel: str = "",
                 projects_rel: str = "projects"):
        self.top = top
        self.root_rel = root_rel  # scaffold root (holds projects/), relative to top
        self.projects_rel = projects_rel
        self.files = files
        dirs: set[str] = set()
        for f in self.files:
            d = posixpath.dirname(f)
            while d and d not in dirs:
                dirs.add(d)
                d = posixpath.dirname(d)
        self.dirs = dirs
        self.py = [f for f in self.files if f.endswith(".py") and self.module_like(f)]
        self._data: dict[str, bytes | None] = {}
        self._imports: dict[str, set[str] | None] = {}
        self._canon: dict[str, str] = {}
        self._symlinks: set[str] | None = None
        self._top = f"{top}/"

    def module_file(self, importer: str, dotted: str, level: int = 0) -> str | None:
        """The file ``import dotted`` (``level`` leading dots) in ``importer`` runs as the
        module itself (a package: its ``__init__.py``); None when no file of the repository."""
        parts = [p for p in dotted.split(".") if p]
        if level:
            base = posixpath.dirname(importer)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            if not parts:
                init = f"{base}/__init__.py" if base else "__init__.py"
                return init if init in self.files else None
            search = [base]
        else:
            if not parts:
                return None
            search = self.roots(importer)
        chain = self._resolve(parts, search)
        tail = "/".join(parts)
        if chain and (chain[-1] == f"{tail}.py" or chain[-1].endswith(
                (f"/{tail}.py", f"/{tail}/__init__.py")) or chain[-1] == f"{tail}/__init__.py"):
            return chain[-1]
        return None

    def project_of(self, rel: str) -> str | None:
        prefix = f"{self.projects_rel}/" if self.projects_rel else ""
        if not rel.startswith(prefix):
            return None
        rest = rel[len(prefix):]
        return rest.split("/", 1)[0] if "/" in rest else None

    def module_like(self, rel: str) -> bool:
        """Code of the repository: files of projects/, and files below the root whose folders
        are Python names (so an un-ignored .venv/ or site-packages/ is never read)."""
        if self.project_of(rel) is not None:
            return True
        prefix = f"{self.root_rel}/" if self.root_rel else ""
        if not rel.startswith(prefix):
            return False
        return all(part.isidentifier() for part in rel[len(prefix):].split("/")[:-1])

    def canon(self, rel: str) -> str:
        """The path a symlinked module points at (relative to the git root), else itself."""
        if rel not in self._canon:
            full = self.top / rel
            value = rel
            try:
                if self._under_link(rel):
                    real = os.path.realpath(full)
                    inside = os.path.relpath(real, self.top)
                    if not inside.startswith(".."):
                        value = Path(inside).as_posix()
            except OSError:
                pass
            self._canon[rel] = value
        return self._canon[rel]

    @property
    def symlinks(self) -> set[str]:
        """Listed entries that are symbolic links (git lists a linked folder as one entry)."""
        if self._symlinks is None:
            self._symlinks = {f for f in self.files if os.path.islink(self._top + f)}
        return self._symlinks

    def _under_link(self, rel: str) -> bool:
        links = self.symlinks
        if not links:
            return False
        while rel:
            if rel in links:
                return True
            rel = posixpath.dirname(rel)
        return False

    def data(self, rel: str) -> bytes | None:
        if rel not in self._data:
            try:
                with open(self._top + rel, "rb") as fh:  # str, not pathlib: 2,000 files
                    self._data[rel] = fh.read()
            except OSError:  # deleted, a dangling link, a folder, unreadable
                self._data[rel] = None
        return self._data[rel]

    def roots(self, rel: str) -> list[str]:
        here = posixpath.dirname(rel)
        project = self.project_of(rel)
        out = [here]
        if project is not None:
            pdir = posixpath.join(self.projects_rel, project)
            out += [posixpath.join(pdir, naming.FLOWS_DIR), pdir]
        out.append(self.root_rel)
        seen: list[str] = []
        for d in out:
            if d not in seen:
                seen.append(d)
        return seen

    def _resolve(self, parts: list[str], search: list[str]) -> list[str]:
        """Files executed by importing ``parts`` from the folders ``search`` (first hit wins)."""
        head, rest = parts[0], parts[1:]
        namespace: list[str] = []
        for folder in search:
            base = posixpath.join(folder, head) if folder else head
            if f"{base}.py" in self.files:
                return [f"{base}.py"]  # a module has no submodules: `rest` is attributes
            init = f"{base}/__init__.py"
            if init in self.files:
                return [init] + (self._resolve(rest, [base]) if rest else [])
            if base in self.dirs:
                namespace.append(base)
            elif base in self.files and (self.top / base).is_dir():  # a symlinked folder
                namespace.append(self.canon(base))
        if namespace and rest:
            return self._resolve(rest, namespace)
        return []

    def imports(self, rel: str) -> set[str] | None:
        """Repository files ``rel`` imports (canonical paths); None when it does not parse."""
        if rel in self._imports:
            return self._imports[rel]
        data = self.data(rel)
        found: set[str] | None = set()
        try:
            tree = ast.parse(data or b"", filename=rel)
        except (SyntaxError, ValueError):
            found = None
        else:
            roots = self.roots(rel)
            here = posixpath.dirname(rel)
            for node in _statements(tree.body):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found.update(self._resolve(alias.name.split("."), roots))
                elif isinstance(node, ast.ImportFrom):
                    names = [a.name for a in node.names if a.name != "*"]
                    if node.level:
                        base = here
                        for _ in range(node.level - 1):
                            base = posixpath.dirname(base)
                        search = [base]
                        mod = node.module.split(".") if node.module else []
                        if not mod:
                            if f"{base}/__init__.py" in self.files:
                                found.add(f"{base}/__init__.py")
                            for n in names:
                                found.update(self._resolve([n], search))
                            continue
                    else:
                        search, mod = roots, (node.module or "").split(".")
                    found.update(self._resolve(mod, search))
                    for n in names:
                        found.update(self._resolve([*mod, n], search))
            found = {self.canon(f) for f in found}
        self._imports[rel] = found
        return found

    def token(self, rel: str) -> bytes:
        """The name an importer must write to import ``rel`` (a package: its folder's name)."""
        name = posixpath.basename(rel)
        if name == "__init__.py":
            name = posixpath.basename(posixpath.dirname(rel))
        return name[:-3].encode() if name.endswith(".py") else name.encode()

    def affected(self, changed: set[str]) -> dict[str, str]:
        """Python files that are or import (transitively) a changed one -> the changed file."""
        via: dict[str, str] = {}
        links: dict[str, list[str]] = {}
        for f in self.symlinks:
            if f.endswith(".py"):
                links.setdefault(self.canon(f), []).append(f)
        frontier = []
        for f in sorted(changed):
            if not self.module_like(f) and f not in links:
                continue
            for g in (f, self.canon(f), *links.get(f, ())):
                if g not in via:
                    via[g] = f
                    frontier.append(g)
        projects_token = posixpath.basename(self.projects_rel).encode() or None
        while frontier:
            # token -> projects that hold a target of that name (None: outside projects/)
            tokens: dict[bytes, set[str | None]] = {}
            for t in frontier:
                tokens.setdefault(self.token(t), set()).add(self.project_of(t))
            frontier = []
            for f in self.py:
                if f in via:
                    continue
                data = self.data(f)
                if not data:
                    continue
                project = self.project_of(f)
                hit = False
                for token, tprojects in tokens.items():
                    if token in data and (None in tprojects or project in tprojects
                                          or (projects_token and projects_token in data)):
                        hit = True
                        break
                if not hit:
                    continue
                imports = self.imports(f)
                if imports is None:  # does not parse: it names a changed module; assume it uses it
                    source = min(via[t] for t in via if self.token(t) in data)
                else:
                    reached = [t for t in imports if t in via]
                    if not reached:
                        continue
                    source = via[min(reached)]
                for g in (f, self.canon(f), *links.get(self.canon(f), ())):
                    if g not in via:
                        via[g] = source
                        frontier.append(g)
        return via


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones included (imports inside functions, ``if``, ``try``...),
    without visiting expressions: ~5x faster than ``ast.walk`` and imports are statements."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if inner:
                stack.extend(reversed(inner))
        for part in (*(getattr(node, "handlers", None) or ()),
                     *(getattr(node, "cases", None) or ())):
            stack.extend(reversed(part.body))


# -- deployments ----------------------------------------------------------------------------------


def _rel(path: Path, top: Path) -> str | None:
    try:
        rel = os.path.relpath(path, top)
    except ValueError:
        return None
    if rel == ".":
        return ""
    return None if rel.startswith("..") else Path(rel).as_posix()


def _entry_file(dep: Deployment, project_rel: str) -> str | None:
    """The flow file of an entry, relative to the git root (entrypoints are relative to the
    project folder, where Prefect deploys from)."""
    ep = dep.entrypoint
    parsed = naming.parse_entrypoint(ep) if isinstance(ep, str) else None
    if not parsed or not parsed[0].endswith(".py"):
        return None
    path = posixpath.normpath(posixpath.join(project_rel, parsed[0].replace("\\", "/")))
    return None if path.startswith("..") else path


def _expected_flow(dep: Deployment) -> str | None:
    flow = naming.flow_of_entrypoint(dep.entrypoint) if isinstance(dep.entrypoint, str) else None
    return naming.flow_name(dep.project, flow) if flow else None


def affected(repo: Repo, ref: str, changes: ChangedFiles | None = None) -> Selection:
    """The deployments of ``repo`` affected by the changes since ``ref`` (module docstring)."""
    if changes is None:
        changes = changed_files(ref, repo.root)
    top = changes.git_root
    root_real = Path(os.path.realpath(repo.root))
    root_rel = _rel(root_real, top)
    projects_rel = _rel(Path(os.path.realpath(repo.projects_dir)), top)
    if root_rel is None or projects_rel is None:
        raise UsageError(f"{OPTION}: the repository root {repo.root} is not inside the git "
                         f"repository at {top}")
    selection = Selection(changes)
    prefix = f"{projects_rel}/" if projects_rel else ""

    yaml_changed: set[str] = set()
    py_changed: set[str] = set()
    for path in changes.paths:
        if path.startswith(prefix):
            parts = path[len(prefix):].split("/")
            # hidden and _-prefixed folders are no projects (Repo.projects skips them too)
            if (len(parts) == 2 and parts[1] == naming.CONFIG_FILE
                    and not parts[0].startswith((".", "_"))):
                yaml_changed.add(parts[0])
        if path.endswith(".py"):
            py_changed.add(path)

    modules = Modules(top, changes.listed, root_rel, projects_rel)
    via = modules.affected(py_changed) if py_changed else {}
    touched = {p for f in via if (p := modules.project_of(f)) is not None}

    existing = set(repo.projects())
    old_texts = _show(changes, [f"{prefix}{p}/{naming.CONFIG_FILE}" for p in sorted(yaml_changed)])
    for project in sorted(touched | yaml_changed):
        project_rel = f"{prefix}{project}"
        current = None
        if project in existing:
            try:
                current = repo.config(project)
            except UsageError as err:
                selection.errors[project] = err
                continue
        reasons: dict[str, str] = {}  # name -> why (the first reason found wins)
        old_by_name: dict[str, Deployment] | None = None
        whole = None
        if project in yaml_changed:
            config_rel = f"{project_rel}/{naming.CONFIG_FILE}"
            old_text = old_texts.get(config_rel)
            old = None
            if old_text is not None:
                try:
                    old = parse_config(old_text, project, Path(f"{ref}:{config_rel}"))
                except ConfigError:
                    whole = f"{naming.CONFIG_FILE} at {ref} did not parse"
            if old is not None:
                old_by_name = {}
                for dep in old.deployments:
                    if isinstance(dep.name, str):
                        old_by_name.setdefault(dep.name, dep)
                if current is not None and whole is None:
                    moved = [k for k in PROJECT_LEVEL if old.data.get(k) != current.data.get(k)]
                    if moved:
                        whole = f"project-level change in {naming.CONFIG_FILE} ({', '.join(moved)})"
            elif whole is None:
                old_by_name = {}  # a new prefect.yaml: every entry is new
            if old_by_name is not None:
                current_names = ({d.name for d in current.deployments} if current else set())
                selection.orphans += [Orphan(project, name, _expected_flow(dep))
                                      for name, dep in old_by_name.items()
                                      if name not in current_names]
        if current is None:
            continue
        for dep in current.deployments:
            name = dep.name if isinstance(dep.name, str) else None
            if name is None:
                continue
            why = None
            if whole:
                why = whole
            elif old_by_name is not None:
                before = old_by_name.get(name)
                if before is None:
                    why = f"new entry in {naming.CONFIG_FILE}"
                elif before.data != dep.data:
                    why = f"entry changed in {naming.CONFIG_FILE}"
            if why is None:
                flow = _entry_file(dep, project_rel)
                hit = flow if flow in via else (modules.canon(flow) if flow else None)
                if hit is not None and hit in via:
                    source = via[hit]
                    if source in (flow, hit):
                        why = ("flow file deleted" if not changes.exists(source)
                               else "flow file changed")
                    else:
                        shown = posixpath.relpath(source, project_rel) \
                            if source.startswith(f"{project_rel}/") else source
                        why = f"imports changed {shown}"
            if why is not None:
                reasons.setdefault(name, why)
        for dep in current.deployments:
            if isinstance(dep.name, str) and dep.name in reasons:
                key = (project, dep.name)
                if key not in selection.reasons:
                    selection.reasons[key] = reasons[dep.name]
                    selection.deployments.append(dep)
    return selection


def summary(selection: Selection) -> list[str]:
    """Lines saying what ``--changed-since`` selected and why (for the commands' output)."""
    sel = selection
    head = (f"changed since {sel.changes.ref} (merge base {sel.changes.base[:12]}): "
            f"{len(sel.changes.paths)} file(s), {len(sel.deployments)} deployment(s) "
            f"selected, {len(sel.orphans)} removed from prefect.yaml")
    lines = [head]
    lines += [f"  {d.name}: {sel.reason(d)}" for d in sel.deployments]
    lines += [f"  {o.name}: removed from projects/{o.project}/{naming.CONFIG_FILE} (orphan)"
              for o in sel.orphans]
    return lines


def restrict(selection: Selection, projects: tuple[str, ...] | list[str] = (),
             names: tuple[str, ...] | list[str] = ()) -> Selection:
    """Only what is also in ``-p``/``-d`` (an intersection; nothing given: all of it)."""
    if not projects and not names:
        return selection

    def keep(project: str, name: str) -> bool:
        return project in projects or name in names

    out = Selection(selection.changes, errors={p: e for p, e in selection.errors.items()
                                               if p in projects})
    out.deployments = [d for d in selection.deployments if keep(d.project, str(d.name))]
    out.reasons = {k: v for k, v in selection.reasons.items() if keep(*k)}
    out.orphans = [o for o in selection.orphans if keep(o.project, o.name)]
    return out
