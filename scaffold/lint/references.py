"""Who else refers to a flow file's names: what ``--fix`` must update, or refuse to touch.

A rename of a module-level function (PF003) is applied only when every reference to it in
the repository can be rewritten: ``from report import make_report [as x]`` becomes
``from report import report_flow [as x]`` (``as make_report`` when the file uses the old
name), and ``report.make_report`` after ``import report`` / ``from flows import report``
becomes ``report.report_flow``. Anything else that names the function in a file that can
import the module (a string, ``getattr``, a star import) makes the rename a manual fix.
A changed flow name (PF004, PF005) is applied only when no other file of the repository
holds the old name as a string.

Files are found by their text first (a bytes search for the name), so only the few files
that mention it are parsed.
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from scaffold.changes import Modules

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".cache", ".tox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"}
# where code or configuration can name a flow; not .json, where lint reports and baselines
# quote the names they found
TEXT_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".sh", ".sql")


class ManualFix(Exception):
    """The fix cannot be applied safely; the message says why (one line)."""


def repository_files(root: Path, suffixes: tuple[str, ...]) -> Iterator[str]:
    """Root-relative POSIX paths of the repository's files with these suffixes; hidden and
    tool folders skipped, symlinked folders not entered (no loops)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                   and not os.path.islink(os.path.join(folder, d))]
        rel = os.path.relpath(folder, root)
        for name in files:
            if name.endswith(suffixes):
                yield name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")


def _read(root: Path, path: str, overlay: dict[str, bytes]) -> bytes | None:
    if path in overlay:
        return overlay[path]
    try:
        with open(os.path.join(root, path), "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _module_names(tree: ast.Module, path: str, module_path: str, modules: Modules
                  ) -> tuple[set[str], set[tuple[int, str]]]:
    """In ``path``: local names bound to the module ``module_path`` (``import report``,
    ``import a.report as r``, ``from flows import report``), and the (level, module) of the
    ``from ... import ...`` statements that import from it. A statement that may import
    another module of that name but resolves to no file makes it a manual fix."""
    stem = posixpath.basename(module_path)[:-3]
    aliases: set[str] = set()
    froms: set[tuple[int, str]] = set()

    def ours(dotted: str, level: int) -> bool:
        found = modules.module_file(path, dotted, level)
        if found is None and dotted.rsplit(".", 1)[-1] == stem:
            raise ManualFix(f"{path} imports {'.' * level}{dotted}, which --fix cannot "
                            f"resolve to a file; rename by hand")
        return found == module_path

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.rsplit(".", 1)[-1] == stem and ours(alias.name, 0):
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if (module.rsplit(".", 1)[-1] == stem or (not module and node.level)) \
                    and module and ours(module, node.level):
                froms.add((node.level, module))
            for alias in node.names:
                if alias.name == stem and ours(f"{module}.{stem}" if module else stem,
                                               node.level):
                    aliases.add(alias.asname or stem)
    return aliases, froms


def plan_rename(root: Path, files: list[str], module_path: str, old: str, new: str,
                overlay: dict[str, bytes], projects_dir: str = "projects") -> dict[str, bytes]:
    """The other files of the repository rewritten for the rename of ``old`` to ``new`` in
    ``module_path`` (root-relative): path -> new content. Raises ManualFix."""
    from scaffold.changes import Modules

    stem = Path(module_path).stem
    # imports resolved as Prefect's loader does, by the one resolver (scaffold.changes)
    modules = Modules(root, {f for f in files if f.endswith(".py")}, "", projects_dir)
    needle = old.encode()
    edits: dict[str, bytes] = {}
    for path in files:
        if path == module_path or not path.endswith(".py"):
            continue
        data = _read(root, path, overlay)
        if data is None or needle not in data or stem.encode() not in data:
            continue
        try:
            text = data.decode("utf-8")
            tree = ast.parse(text.removeprefix("\ufeff"))
        except (UnicodeDecodeError, SyntaxError, ValueError):
            raise ManualFix(f"{path} mentions {old!r} and cannot be parsed") from None
        aliases, froms_of = _module_names(tree, path, module_path, modules)
        if not aliases and not froms_of:
            continue  # imports another module of that name, or none: not a reference
        froms = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                 and (n.level, n.module or "") in froms_of]
        star = [f for f in froms if any(a.name == "*" for a in f.names)]
        if star:
            raise ManualFix(f"{path}:{star[0].lineno} imports * from {stem}; rename by hand")
        uses_from = [(f, a) for f in froms for a in f.names if a.name == old]
        uses_attr = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                     and n.attr == old and isinstance(n.value, ast.Name)
                     and n.value.id in aliases]
        mentioned = sum(1 for n in ast.walk(tree)
                        if (isinstance(n, ast.Name) and n.id == old)
                        or (isinstance(n, ast.Constant) and isinstance(n.value, str)
                            and old in n.value))
        bound_by_import = sum(1 for _, a in uses_from if a.asname is None)
        if not uses_from and not uses_attr:
            if mentioned:
                raise ManualFix(f"{path} refers to {old!r} in a way --fix cannot follow "
                                f"(it imports {stem}); rename by hand")
            continue
        if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and old in n.value
               for n in ast.walk(tree)):
            raise ManualFix(f"{path} names {old!r} in a string; rename by hand")
        new_text = _rewrite(text, froms_of, old, new, aliases, keep_local=bound_by_import > 0)
        if new_text is None:
            raise ManualFix(f"{path} refers to {old!r}; the rewrite failed, rename by hand")
        edits[path] = new_text.encode("utf-8")
    return edits


def _rewrite(text: str, modules: set[tuple[int, str]], old: str, new: str, aliases: set[str],
             keep_local: bool) -> str | None:
    """libcst: ``from ..stem import old [as x]`` -> ``import new as old|x``;
    ``alias.old`` -> ``alias.new``. The file's own uses of the local name stay as they are."""
    import libcst as cst

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    try:
        module = cst.parse_module(text[len(bom):])
    except cst.ParserSyntaxError:
        return None

    def dotted(node: cst.BaseExpression | None) -> str:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return f"{dotted(node.value)}.{node.attr.value}"
        return ""

    class Renamer(cst.CSTTransformer):
        def leave_ImportFrom(self, original: cst.ImportFrom,
                             updated: cst.ImportFrom) -> cst.ImportFrom:
            level = len(updated.relative)
            if (level, dotted(updated.module)) not in modules \
                    or isinstance(updated.names, cst.ImportStar):
                return updated
            names = []
            for alias in updated.names:
                if isinstance(alias.name, cst.Name) and alias.name.value == old:
                    asname = alias.asname or (cst.AsName(name=cst.Name(old)) if keep_local
                                              else None)
                    alias = alias.with_changes(name=cst.Name(new), asname=asname)
                names.append(alias)
            return updated.with_changes(names=names)

        def leave_Attribute(self, original: cst.Attribute,
                            updated: cst.Attribute) -> cst.Attribute:
            if updated.attr.value == old and isinstance(updated.value, cst.Name) \
                    and updated.value.value in aliases:
                return updated.with_changes(attr=cst.Name(new))
            return updated

    new_text = module.visit(Renamer()).code
    try:
        ast.parse(new_text)
    except SyntaxError:
        return None
    return bom + new_text


def literal_users(root: Path, files: list[str], value: str, skip: str,
                  overlay: dict[str, bytes]) -> list[str]:
    """Files other than ``skip`` that use ``value`` as text: a flow name other code refers
    to (``run_deployment("farm__harvest_flow/...")``, a query in a script). Another flow's
    own ``@flow(name=...)`` declaring the same name is not a use of ours."""
    needle = value.encode()
    found = []
    for path in files:
        if path == skip:
            continue
        data = _read(root, path, overlay)
        if data is None or needle not in data:
            continue
        if path.endswith(".py"):
            if _only_declares(data, value):
                continue
        elif not _word(value).search(data.decode("utf-8", "replace")):
            continue
        found.append(path)
    return found


def _word(value: str) -> re.Pattern[str]:
    """``value`` used as a flow name in text: quoted on its own (``"farm__harvest_flow"``) or
    as the flow part of ``flow/deployment``; not a part of a longer name, a path, an
    entrypoint or a plain YAML value (``name: harvest`` names a deployment)."""
    v = re.escape(value)
    return re.compile(rf"(?<![\w./:-]){v}/|[\"']{v}[\"']")


def _only_declares(data: bytes, value: str) -> bool:
    """No string is ``value`` (or ``value/...``, a ``flow/deployment`` name) other than
    ``name=`` arguments of decorators."""
    try:
        tree = ast.parse(data.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return False
    declared = {id(kw.value) for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                for deco in node.decorator_list if isinstance(deco, ast.Call)
                for kw in deco.keywords if kw.arg == "name"}
    holders = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, str)
               and (n.value == value or n.value.startswith(value + "/"))]
    return all(id(n) in declared for n in holders)
