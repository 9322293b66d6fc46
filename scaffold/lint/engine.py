"""Run the rules over a repository: discover, read, summarize (cached, in parallel when cold),
check, filter; and the fix loop on top of it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from scaffold import naming
from scaffold.errors import OperationError, UsageError
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

# Measured on 2 cores: a file costs ~0.25 ms of CPU to parse and check, a pool of forked
# workers ~25 ms (start, pickling both ways), so workers pay off from ~250 files; a margin.
POOL_MIN_FILES = 400
JOBS_ENV = "SCAFFOLD_LINT_JOBS"  # worker processes (1: no pool); for benchmarks and debugging
MAX_FIX_ROUNDS = 4


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

    @property
    def fixable(self) -> int:
        return sum(1 for f in self.findings if f.fix is not None)


@dataclass
class FixResult:
    changes: dict[str, tuple[bytes, bytes]]  # path -> (before, after)
    before: LintResult
    after: LintResult
    fixed: int = 0  # findings whose fix was applied


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
    """Like ``Repo.flows``, with dangling symlinks kept (see _is_file_or_link)."""
    try:
        with os.scandir(flows_dir) as entries:
            return sorted(e.name[:-3] for e in entries
                          if e.name.endswith(".py") and not e.name.startswith("_")
                          and (e.is_file() or (e.is_symlink() and not e.is_dir())))
    except (FileNotFoundError, NotADirectoryError):
        return []


class Linter:
    def __init__(self, root: Path, config: LintConfig, codes: Iterable[str] | None = None,
                 paths: list[str] | None = None, use_cache: bool = True,
                 jobs: int | None = None):
        self.root = Path(root)
        self.config = config
        self.codes = set(codes) if codes is not None else {r.code for r in all_rules()}
        self.paths = paths  # root-relative prefixes to report; None: everything
        self.use_cache = use_cache
        if jobs is None and os.environ.get(JOBS_ENV, "").isdigit():
            jobs = int(os.environ[JOBS_ENV]) or None
        self.jobs = jobs
        self.rules = by_code()

    # discovery
    def discover(self) -> tuple[list[Target], dict[str, ProjectInfo], set[str]]:
        projects_dir = self.config.projects
        repo = Repo(self.root, projects_dir)
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
        kept = [f for f in findings if f.code in self.codes and self._selected(f.path)]
        return LintResult(kept, len(targets), len(infos), sources, parsed=parsed)

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
        kept = [f for f in findings
                if not noqa_mod.suppressed(noqa.get(f.path, {}), f.line, f.code)]
        kept.sort(key=lambda f: (f.path, f.line, f.col, f.code))
        return kept, len(todo)

    def _selected(self, path: str) -> bool:
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

    # -- fixing --------------------------------------------------------------------------------

    def fix(self, write: bool = True) -> FixResult:
        """Apply the fixes of the reported findings until none is left (or nothing changes);
        write the files at the end (``write=False``: only compute them, for --diff)."""
        overlay: dict[str, bytes] = {}
        originals: dict[str, bytes] = {}
        applied = 0
        first = result = self.run()
        for _ in range(MAX_FIX_ROUNDS):
            fixable: dict[str, list[Finding]] = {}
            for finding in result.findings:
                if finding.fix is not None:
                    fixable.setdefault(finding.path, []).append(finding)
            changed = False
            for path, found in fixable.items():
                current = result.sources[path]
                originals.setdefault(path, current)
                new, count = self._apply(path, current, found)
                if new != current:
                    overlay[path] = new
                    applied += count
                    changed = True
            if not changed:
                # what is left was tried and refused: it is not advertised as fixable
                result = replace(
                    result, findings=[f._replace(fix=None) for f in result.findings])
                break
            result = self.run(overlay)
        changes = {p: (originals[p], new) for p, new in overlay.items() if new != originals[p]}
        if write:
            self._write(changes)
        return FixResult(changes, first, result, applied if changes else 0)

    def _apply(self, path: str, data: bytes, findings: list[Finding]) -> tuple[bytes, int]:
        """The file with the fixes applied (the same bytes when none applies) and how many."""
        text = data.decode("utf-8")
        # libcst drops a byte order mark: the fixers edit the text after it, which stays
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        text = text[len(bom):]
        count = 0
        ordered = sorted(findings, key=lambda f: (self.rules[f.code].fix_order, -f.line))
        if path.endswith(".py"):
            import ast

            import libcst

            try:
                module = libcst.parse_module(text)
            except libcst.ParserSyntaxError:
                return data, 0
            for finding in ordered:
                fixed = self.rules[finding.code]().fix_python(module, finding)
                if fixed is not None and not fixed.deep_equals(module):
                    module = fixed
                    count += 1
            new = module.code
            try:
                ast.parse(new)
            except SyntaxError:  # never write a file that no longer parses
                return data, 0
        else:
            new = text
            for finding in ordered:
                try:
                    fixed = self.rules[finding.code]().fix_yaml(new, finding)
                except UsageError:  # an unusual layout: the finding stays, to fix by hand
                    fixed = None
                if fixed is not None and fixed != new:
                    new = fixed
                    count += 1
        return (bom + new).encode("utf-8"), count

    def _write(self, changes: dict[str, tuple[bytes, bytes]]) -> None:
        """Write every changed file atomically, after checking that none changed meanwhile."""
        from scaffold.yamledit import locked, write_atomic

        for path, (before, _) in sorted(changes.items()):
            try:
                current = (self.root / path).read_bytes()
            except OSError as err:
                raise OperationError(f"{path}: cannot read it again: {err.strerror}") from None
            if current != before:
                raise OperationError(f"{path} changed while it was being fixed; nothing was "
                                     "written, run `cli lint --fix` again")
        for path, (before, after) in sorted(changes.items()):
            target = self.root / path
            with locked(target.parent):
                if target.read_bytes() == before:
                    write_atomic(target, after)
