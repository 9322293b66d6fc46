"""``cli lint --fix`` / ``--diff``: apply the findings' typed fixes with libcst codemods (Python),
byte-preserving splices (YAML) and text edits (noqa comments), in rounds until nothing changes.

A fix is applied only when it leaves the repository working: a rename follows every import of
the function in other files (``references``) or is refused, a flow name other code uses is not
changed, nothing is written through a symbolic link, a read-only file stops the run before any
write. The result after fixing is a fresh run, so its summary is what the next run reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from scaffold.errors import OperationError, UsageError
from scaffold.lint.engine import Linter, LintResult, _overrides
from scaffold.lint.model import Finding, RenameFunction, SetFlowName

MAX_FIX_ROUNDS = 4


@dataclass
class FixResult:
    changes: dict[str, tuple[bytes, bytes]]  # path -> (before, after)
    before: LintResult
    after: LintResult  # a fresh run after the fixes (the same findings a next run reports)
    fixed: int = 0  # findings of ``before`` with a fix that are gone from ``after``
    manual: list[tuple[Finding, str]] = field(default_factory=list)  # not fixed, and why


def _key(finding: Finding) -> tuple[str, str, str]:
    """A finding across the rounds of --fix (lines move when a fix adds or removes some)."""
    return finding.path, finding.code, finding.message


class Fixer:
    def __init__(self, linter: Linter):
        self.linter = linter

    def fix(self, write: bool = True) -> FixResult:
        """Apply the fixes of the reported findings until none is left (or nothing changes);
        write the files at the end (``write=False``: only compute them, for --diff).

        A fix that cannot be applied safely (it would leave another file broken, or write
        through a symbolic link) is not applied; its finding is listed in ``manual`` with the
        reason. The result after fixing is a fresh run of the written files, so its summary
        is what the next `cli lint` reports."""
        overlay: dict[str, bytes] = {}
        originals: dict[str, bytes] = {}
        manual: dict[tuple[str, str, str], str] = {}  # finding key -> why not fixed
        applied: set[tuple[str, str, str]] = set()
        tried: set[tuple[str, str, str]] = set()
        first = result = self.linter.run()
        repo_files: list[str] | None = None
        for _ in range(MAX_FIX_ROUNDS):
            fixable: dict[str, list[Finding]] = {}
            for finding in result.findings:
                if finding.fix is not None and _key(finding) not in manual:
                    fixable.setdefault(finding.path, []).append(finding)
            if fixable and repo_files is None:
                from scaffold.lint.references import TEXT_SUFFIXES, repository_files

                repo_files = sorted(repository_files(self.linter.root, TEXT_SUFFIXES))
            changed = False
            for path, found in fixable.items():
                current = overlay.get(path, result.sources.get(path))
                if current is None:
                    continue
                edits, done, refused = self._apply(path, current, found, overlay, repo_files)
                manual.update(refused)
                tried.update(_key(f) for f in found)
                for other, new in edits.items():
                    if other not in originals:
                        before = overlay.get(other) if other in overlay else \
                            result.sources.get(other)
                        if before is None:
                            before = (self.linter.root / other).read_bytes()
                        originals[other] = before
                    if new != overlay.get(other, originals[other]):
                        overlay[other] = new
                        changed = True
                applied.update(done)
            if not changed:
                break
            result = self.linter.run(overlay)
        changes = {p: (originals[p], new) for p, new in overlay.items() if new != originals[p]}
        if write and changes:
            self._write(changes)
            after = self.linter.run()  # what a fresh run reports
        else:
            after = result if changes else first
        for f in after.findings:  # tried and refused by the fixer itself: not advertised
            if f.fix is not None and _key(f) in tried and _key(f) not in manual:
                manual[_key(f)] = "the automatic fix does not apply here; fix it by hand"
        after = replace(after, findings=[
            f._replace(fix=None) if _key(f) in manual else f for f in after.findings])
        left = {_key(f) for f in after.findings}
        fixed = sum(1 for f in first.findings if f.fix is not None and _key(f) not in left)
        still = [(f, manual[_key(f)]) for f in after.findings if _key(f) in manual]
        return FixResult(changes, first, after, fixed, still)

    def _apply(self, path: str, data: bytes, findings: list[Finding],
               overlay: dict[str, bytes], repo_files: list[str]
               ) -> tuple[dict[str, bytes], set, dict]:
        """The files changed by the fixes of ``findings`` in ``path`` (its own new content,
        and other files a rename rewrites), the keys of the findings fixed, and of those
        refused with why."""
        refused: dict[tuple[str, str, str], str] = {}
        link = self._link(path)
        if link:
            return {}, set(), {_key(f): link for f in findings}
        text = data.decode("utf-8")
        # libcst drops a byte order mark: the fixers edit the text after it, which stays
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        text = text[len(bom):]
        done: set = set()
        others: dict[str, bytes] = {}
        ordered = sorted(findings, key=lambda f: (self.linter.rules[f.code].fix_order, -f.line))
        for finding in [f for f in ordered if _overrides(self.linter.rules[f.code], "fix_text")]:
            fixed = self.linter.rules[finding.code]().fix_text(text, finding)
            if fixed is not None and fixed != text:
                text = fixed
                done.add(_key(finding))
        ordered = [f for f in ordered if not _overrides(self.linter.rules[f.code], "fix_text")]
        if path.endswith(".py") and ordered:
            import ast

            import libcst

            try:
                module = libcst.parse_module(text)
            except libcst.ParserSyntaxError:
                return {}, set(), refused
            for finding in ordered:
                why = self._unsafe(path, finding, overlay, repo_files, others)
                if why:
                    refused[_key(finding)] = why
                    continue
                fixed = self.linter.rules[finding.code]().fix_python(module, finding)
                if fixed is not None and not fixed.deep_equals(module):
                    module = fixed
                    done.add(_key(finding))
            new = module.code
            try:
                ast.parse(new)
            except SyntaxError:  # never write a file that no longer parses
                return {}, set(), refused
            text = new
        elif ordered:
            for finding in ordered:
                if not self._ready(finding, overlay):
                    continue  # waits for the rename it needs (next round)
                try:
                    fixed = self.linter.rules[finding.code]().fix_yaml(text, finding)
                except UsageError:  # an unusual layout: the finding stays, to fix by hand
                    fixed = None
                if fixed is not None and fixed != text:
                    text = fixed
                    done.add(_key(finding))
        for other in list(others):
            why = self._link(other)
            if why:  # the rename would write through a link: not at all
                return {}, set(), {**refused, **{_key(f): why for f in findings
                                                 if isinstance(f.fix, RenameFunction)}}
        return {path: (bom + text).encode("utf-8"), **others}, done, refused

    def _unsafe(self, path: str, finding: Finding, overlay: dict[str, bytes],
                repo_files: list[str], others: dict[str, bytes]) -> str | None:
        """Why the fix of ``finding`` would break other files (None: safe). A rename records
        the rewrites of the files that import the function in ``others``."""
        from scaffold.lint.references import ManualFix, literal_users, plan_rename

        fix = finding.fix
        if isinstance(fix, RenameFunction):
            try:
                edits = plan_rename(self.linter.root, repo_files, path, fix.old, fix.new,
                                    {**overlay, **others}, self.linter.config.projects)
            except ManualFix as err:
                return str(err)
            others.update(edits)
        elif isinstance(fix, SetFlowName):
            summary = None
            data = overlay.get(path)
            if data is None:
                try:
                    data = (self.linter.root / path).read_bytes()
                except OSError:
                    data = b""
            from scaffold.flowfile import summarize

            summary = summarize(path, "", "", data)
            old = next((f.effective_name for f in summary.flows
                        if f.top_level and f.name == fix.function), None)
            if old and old != fix.value:
                users = literal_users(self.linter.root, repo_files, old, path, overlay)
                if users:
                    more = f" and {len(users) - 1} more" if len(users) > 1 else ""
                    return (f"the flow name {old!r} is used in {users[0]}{more}; rename it "
                            "there too, by hand")
        return None

    def fix_edits(self, findings: list[Finding], sources: dict[str, bytes]
                  ) -> dict[int, dict[str, tuple[bytes, bytes]]]:
        """For each fixable finding (by index), the files its fix alone changes: path ->
        (before, after). For SARIF's ``fixes``; a fix that would be refused gets none."""
        out: dict[int, dict[str, tuple[bytes, bytes]]] = {}
        fixable = [(i, f) for i, f in enumerate(findings) if f.fix is not None]
        if not fixable:
            return out
        from scaffold.lint.references import TEXT_SUFFIXES, repository_files

        repo_files = sorted(repository_files(self.linter.root, TEXT_SUFFIXES))
        for i, finding in fixable:
            data = sources.get(finding.path)
            if data is None:
                continue
            edits, done, _ = self._apply(finding.path, data, [finding], {}, repo_files)
            if done:
                out[i] = {p: (sources.get(p) or (self.linter.root / p).read_bytes(), new)
                          for p, new in edits.items()
                          if new != (sources.get(p) or (self.linter.root / p).read_bytes())}
        return out

    def _ready(self, finding: Finding, overlay: dict[str, bytes]) -> bool:
        """Whether the function a fix needs exists now (in the fixed text, if any)."""
        needs = getattr(finding.fix, "requires", None)
        if needs is None:
            return True
        from scaffold.flowfile import summarize

        path, function = needs
        data = overlay.get(path)
        if data is None:
            try:
                data = (self.linter.root / path).read_bytes()
            except OSError:
                return False
        return function in summarize(path, "", "", data).functions

    def _link(self, path: str) -> str | None:
        """Why ``path`` must not be written by --fix: it is, or lies under, a symbolic link."""
        full = os.path.join(str(self.linter.root), path)
        if os.path.realpath(full) != os.path.join(os.path.realpath(str(self.linter.root)), path):
            return f"{path} is a symbolic link (or under one); --fix does not write through links"
        return None

    def _write(self, changes: dict[str, tuple[bytes, bytes]]) -> None:
        """Write every changed file atomically, after checking that none changed meanwhile
        and that every one may be written (a read-only file: exit 2, nothing written)."""
        from scaffold import fs

        for path, (before, _) in sorted(changes.items()):
            try:
                current = (self.linter.root / path).read_bytes()
            except OSError as err:
                raise OperationError(f"{path}: cannot read it again: {err.strerror}") from None
            if current != before:
                raise OperationError(f"{path} changed while it was being fixed; nothing was "
                                     "written, run `cli lint --fix` again")
            fs.require_writable(self.linter.root / path)
        written: list[str] = []
        for path, (before, after) in sorted(changes.items()):
            target = self.linter.root / path
            with fs.locked(target.parent):
                if target.read_bytes() == before:
                    try:
                        fs.write_atomic(target, after)
                    except fs.WriteError as err:
                        # a rename spans files: half of it written breaks imports, so the
                        # files already written get their old bytes back
                        raise OperationError(f"{err}; {self._undo(written, changes)}") from None
                    written.append(path)

    def _undo(self, written: list[str], changes: dict[str, tuple[bytes, bytes]]) -> str:
        """Put the files already written back as they were; what was and was not undone."""
        from scaffold import fs

        if not written:
            return "no file was changed"
        kept = []
        for path in reversed(written):
            try:
                fs.write_atomic(self.linter.root / path, changes[path][0])
            except (fs.WriteError, UsageError):
                kept.append(path)
        if not kept:
            return f"the fixes already written ({', '.join(written)}) were undone: no file was changed"
        return (f"written and not undone: {', '.join(sorted(kept))} (run `cli lint` to see what "
                "is left)")
