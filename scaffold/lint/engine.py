"""Run the rules over a repository: discover, read, summarize (cached, in parallel when cold),
check, filter. The fix loop on top of it is ``scaffold.lint.fixer`` (imported by --fix only).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold import naming
from scaffold.errors import UsageError
from scaffold.lint import noqa as noqa_mod
from scaffold.lint.cache import Cache, digest
from scaffold.lint.config import LintConfig
from scaffold.lint.model import (
    ConfigSummary,
    FileError,
    Finding,
    FlowSummary,
    Index,
    ProjectInfo,
    Rule,
)
from scaffold.lint.rules import all_rules, by_code
from scaffold.repo import Repo

if TYPE_CHECKING:  # pragma: no cover
    from scaffold.lint.fixer import FixResult

# Measured on 2 cores: a file costs ~0.25 ms of CPU to parse and check, a pool of forked
# workers ~25 ms (start, pickling both ways), so workers pay off from ~250 files; a margin.
POOL_MIN_FILES = 400
JOBS_ENV = "SCAFFOLD_LINT_JOBS"  # worker processes (1: no pool); for benchmarks and debugging


@dataclass(frozen=True, slots=True)
class Target:
    path: str  # root-relative, POSIX
    kind: str  # "flow" | "config"
    project: str
    flow: str | None = None


@dataclass
class LintResult:
    findings: list[Finding]
    files: int
    projects: int
    sources: dict[str, bytes] = field(default_factory=dict)  # path -> content that was checked
    parsed: int = 0  # files parsed in this run (not from the cache)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unreadable folders, why

    @property
    def fixable(self) -> int:
        return sum(1 for f in self.findings if f.fix is not None)


def _overrides(rule: type[Rule], method: str) -> bool:
    return getattr(rule, method) is not getattr(Rule, method)


# -- one file (runs in worker processes on a cold run) ----------------------------------------

_LOCAL: tuple[list[Rule], list[Rule]] | None = None


def _local_rules() -> tuple[list[Rule], list[Rule]]:
    global _LOCAL
    if _LOCAL is None:
        rules = [cls() for cls in all_rules() if cls.is_local()]
        flow = [r for r in rules if type(r).check_flow is not Rule.check_flow]
        config = [r for r in rules if type(r).check_config is not Rule.check_config]
        _LOCAL = (flow, config)
    return _LOCAL


def analyze(target: Target, data: bytes) -> tuple[FlowSummary | ConfigSummary, list[Finding]]:
    """Parse one file once and run every file rule on its summary (all rules: the cache must
    not depend on --select)."""
    from scaffold.lint.summarize import summarize_config, summarize_flow

    flow_rules, config_rules = _local_rules()
    if target.kind == "flow":
        summary: FlowSummary | ConfigSummary = summarize_flow(
            target.path, target.project, target.flow, data)
        findings = [f for rule in flow_rules for f in rule.check_flow(summary)]
    else:
        summary = summarize_config(target.path, target.project, data)
        findings = [f for rule in config_rules for f in rule.check_config(summary)]
    return summary, findings


def _analyze_batch(batch: list[tuple[Target, bytes]]) -> list[tuple[object, list[Finding]]]:
    return [analyze(target, data) for target, data in batch]


def _workers(files: int) -> int:
    """Worker processes for a cold run: the idle cores, when there is enough work."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    if cpus < 2 or files < POOL_MIN_FILES:
        return 1
    try:
        busy = os.getloadavg()[0]  # other work on the machine: its cores are not ours
    except OSError:
        busy = 0.0
    return max(1, min(cpus, int(cpus - busy + 0.5)))


def _analyze_all(todo: list[tuple[Target, bytes]], jobs: int | None) -> list:
    workers = jobs if jobs is not None else _workers(len(todo))
    if workers <= 1:
        return _analyze_batch(todo)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return _analyze_batch(todo)  # spawn would re-import everything: not worth it
    _local_rules()  # build once before forking
    size = max(16, len(todo) // (workers * 4) + 1)
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [item for chunk in pool.map(_analyze_batch, batches) for item in chunk]


# -- the repository ---------------------------------------------------------------------------


def _is_file_or_link(path: str) -> bool:
    """A file, or a symlink that does not lead to a folder: a dangling link is reported
    as unreadable (PE002) instead of being skipped in silence."""
    return os.path.isfile(path) or (os.path.islink(path) and not os.path.isdir(path))


def _flow_stems(flows_dir: str) -> list[str]:
    """Like ``Repo.flows``, with dangling symlinks and symlink loops kept (see
    _is_file_or_link): reading them fails, and they are reported as unreadable (PE002)."""
    stems = []
    try:
        with os.scandir(flows_dir) as entries:
            for e in entries:
                if not e.name.endswith(".py") or e.name.startswith("_"):
                    continue
                try:
                    keep = e.is_file() or (e.is_symlink() and not e.is_dir())
                except OSError:  # a symlink loop
                    keep = True
                if keep:
                    stems.append(e.name[:-3])
    except OSError:  # missing, not a folder, a loop
        return []
    return sorted(stems)


class Linter:
    def __init__(self, root: Path, config: LintConfig, codes: Iterable[str] | None = None,
                 paths: list[str] | None = None, use_cache: bool = True,
                 jobs: int | None = None, changed: Iterable[str] | None = None):
        self.root = Path(root)
        self.config = config
        self.codes = set(codes) if codes is not None else {r.code for r in all_rules()}
        self.paths = paths  # root-relative prefixes to report; None: everything
        # --changed-since: report findings in these files and in the folders above them
        # (a deleted prefect.yaml is reported at its project's folder, PL002)
        self.changed: set[str] | None = None
        if changed is not None:
            self.restrict_to(changed)
        self.use_cache = use_cache
        if jobs is None and os.environ.get(JOBS_ENV, "").isdigit():
            jobs = int(os.environ[JOBS_ENV]) or None
        self.jobs = jobs
        self.rules = by_code()
        self.skipped: list[tuple[str, str]] = []

    # discovery
    def discover(self) -> tuple[list[Target], dict[str, ProjectInfo], set[str]]:
        """The files to check, the projects, the paths excluded by configuration; entries
        of the projects folder that cannot be read (symlink loops) go to ``self.skipped``."""
        projects_dir = self.config.projects
        repo = Repo(self.root, projects_dir, on_warning=None)  # skipped folders: reported below
        if repo.projects_dir.exists() and not repo.projects_dir.is_dir():
            raise UsageError(f"{repo.projects_dir} is not a folder; the projects live in "
                             f"{projects_dir}/<PROJECT>/")
        targets: list[Target] = []
        infos: dict[str, ProjectInfo] = {}
        excluded: set[str] = set()
        root = str(self.root)  # os.path on strings: pathlib costs ~10 us a join, x thousands
        for project in repo.projects():
            base = f"{projects_dir}/{project}"
            if self.config.excluded(base):
                continue
            folder = os.path.join(root, base)
            has_config = _is_file_or_link(os.path.join(folder, naming.CONFIG_FILE))
            flows_dir = os.path.join(folder, naming.FLOWS_DIR)
            has_flows = os.path.isdir(flows_dir)
            stems = _flow_stems(flows_dir) if has_flows else []
            infos[project] = ProjectInfo(project, base, has_config, has_flows, stems)
            config_path = f"{base}/{naming.CONFIG_FILE}"
            if has_config and not self.config.excluded(config_path):
                targets.append(Target(config_path, "config", project))
            for stem in stems:
                path = f"{base}/{naming.flow_path(stem)}"
                if self.config.excluded(path):
                    excluded.add(path)
                else:
                    targets.append(Target(path, "flow", project, stem))
        self.skipped = [(f"{projects_dir}/{name}", why) for name, why in repo.skipped]
        return targets, infos, excluded

    def run(self, overlay: dict[str, bytes] | None = None) -> LintResult:
        overlay = overlay or {}
        targets, infos, excluded = self.discover()
        cache = Cache(self.root, self.use_cache)
        sources: dict[str, bytes] = {}
        keys: dict[str, bytes] = {}  # path -> digest of the content (readable files)
        unreadable: dict[str, str] = {}  # path -> why it cannot be read
        run_key = hashlib.blake2b(self.config.projects.encode(), digest_size=16)
        run_key.update(repr((sorted(infos.items()), sorted(excluded))).encode())
        root = str(self.root)
        for target in targets:
            data = overlay.get(target.path)
            if data is None:
                try:
                    with open(os.path.join(root, target.path), "rb") as fh:
                        data = fh.read()
                except OSError as err:
                    unreadable[target.path] = err.strerror or str(err)
            run_key.update(target.path.encode() + b"\0")
            if data is None:
                run_key.update(b"unreadable\0" + unreadable[target.path].encode())
            else:
                sources[target.path] = data
                keys[target.path] = digest(data)
                run_key.update(keys[target.path])
        # nothing changed since the last run: its findings, without loading any summary
        findings = cache.load_run(run_key.digest())
        parsed = 0
        if findings is None:
            findings, parsed = self._check(targets, infos, excluded, sources, keys, unreadable,
                                           cache)
            present: dict[str, set[str]] = {}
            for target in targets:
                present.setdefault(target.project, set()).add(target.path)
            cache.save(present, run_key.digest(), findings)
        kept = [f for f in findings if f.code in self.codes and self.selected(f.path)]
        return LintResult(kept, len(targets), len(infos), sources, parsed=parsed,
                          skipped=self.skipped)

    def _check(self, targets: list[Target], infos: dict[str, ProjectInfo], excluded: set[str],
               sources: dict[str, bytes], keys: dict[str, bytes], unreadable: dict[str, str],
               cache: Cache) -> tuple[list[Finding], int]:
        """Every finding of every rule (selection and paths are applied by the caller, so the
        result can be cached whole), noqa applied, sorted."""
        results: dict[str, tuple[object, list[Finding]]] = {}
        todo: list[tuple[Target, bytes]] = []
        for target in targets:
            data = sources.get(target.path)
            if data is None:
                results[target.path] = self._unreadable(target, unreadable[target.path])
                continue
            hit = cache.get(target.project, target.path, keys[target.path])
            if hit is not None:
                results[target.path] = hit
            else:
                todo.append((target, data))
        for (target, _), (summary, found) in zip(todo, _analyze_all(todo, self.jobs)):
            results[target.path] = (summary, found)
            cache.put(target.project, target.path, keys[target.path], summary, found)

        flows: dict[str, FlowSummary] = {}
        configs: dict[str, ConfigSummary] = {}
        findings: list[Finding] = []
        for target in targets:
            summary, found = results[target.path]
            if target.kind == "flow":
                flows[target.path] = summary
            else:
                configs[target.project] = summary
            findings.extend(found)
        index = Index(infos, flows, configs, frozenset(excluded), self.config.projects)
        for rule in all_rules():
            if not rule.is_local():
                findings.extend(rule().check_repo(index))
        noqa = {s.path: s.noqa for s in (*flows.values(), *configs.values()) if s.noqa}
        kept: list[Finding] = []
        used: dict[str, dict[int, set[str]]] = {}  # path -> line -> codes its noqa suppressed
        for f in findings:
            if noqa_mod.suppressed(noqa.get(f.path, {}), f.line, f.code):
                used.setdefault(f.path, {}).setdefault(f.line, set()).add(f.code)
            else:
                kept.append(f)
        known = set(self.rules)
        for rule in all_rules():
            if _overrides(rule, "check_noqa"):
                for path, directives in noqa.items():
                    text = sources[path].decode("utf-8", "replace")
                    kept.extend(rule().check_noqa(path, text, directives, used.get(path, {}),
                                                  known))
        kept.sort(key=lambda f: (f.path, f.line, f.col, f.code))
        return kept, len(todo)

    def restrict_to(self, changed: Iterable[str]) -> None:
        """Report only findings in these files and in the folders above them."""
        self.changed = set()
        for path in changed:
            while path and path not in self.changed:
                self.changed.add(path)
                path = path.rpartition("/")[0]

    def selected(self, path: str) -> bool:
        """Whether a finding at ``path`` is reported (PATH arguments, --changed-since)."""
        if self.changed is not None and path not in self.changed:
            return False
        if self.paths is None:
            return True
        return any(p == "" or path == p or path.startswith(p + "/") for p in self.paths)

    @staticmethod
    def _unreadable(target: Target, reason: str) -> tuple[object, list[Finding]]:
        error = FileError("unreadable", 1, 1, f"cannot read the file: {reason}")
        summary = (FlowSummary(target.path, target.project, target.flow or "", error=error)
                   if target.kind == "flow" else ConfigSummary(target.path, target.project,
                                                               error=error))
        flow_rules, config_rules = _local_rules()
        if target.kind == "flow":
            return summary, [f for r in flow_rules for f in r.check_flow(summary)]
        return summary, [f for r in config_rules for f in r.check_config(summary)]

    # -- fixing: scaffold.lint.fixer ------------------------------------------------------------

    def fix(self, write: bool = True) -> FixResult:
        """Apply the safe fixes (see ``scaffold.lint.fixer.Fixer.fix``)."""
        from scaffold.lint.fixer import Fixer

        return Fixer(self).fix(write)

    def fix_edits(self, findings: list[Finding], sources: dict[str, bytes]
                  ) -> dict[int, dict[str, tuple[bytes, bytes]]]:
        """For SARIF: what each fixable finding's fix alone changes."""
        from scaffold.lint.fixer import Fixer

        return Fixer(self).fix_edits(findings, sources)
