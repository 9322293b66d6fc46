"""The summary of one flow file, read with the stdlib ``ast`` (no import of the file, no libcst).

A base-layer module (it imports only ``naming`` and the standard library): the linter's checks
read the summary (``summarize``), the generator reads a flow's signature (``read_signature``),
and both see the same functions, parameters, annotations and defaults.

The stdlib ``ast`` parses a typical flow file in ~0.1 ms where libcst takes ~1 ms: the linter
parses with it, and uses libcst only to rewrite a file (``--fix``).
"""

from __future__ import annotations

import ast
import functools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from scaffold import naming

FLOW_MODULES = ("prefect", "prefect.flows")
TASK_MODULES = ("prefect", "prefect.tasks")
PARSE_FILENAME = "<flow file>"  # a name no file on disk has (see summarize)

_LINES = re.compile(r"\r\n|\r|\n")
_DEF = re.compile(r"(?:async\s+)?def\s+")
_NESTED_DECORATOR = re.compile(r"^[ \t]+@", re.MULTILINE)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


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


class Pos(NamedTuple):
    line: int  # 1-based
    col: int  # 1-based, in characters


@dataclass
class FileError:
    """Why a file could not be summarized."""

    kind: str  # "syntax" | "unreadable" | "yaml"
    line: int
    col: int
    message: str


class SignatureError(ValueError):
    """The signature cannot be read; the message says why, in one line."""


# -- signatures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of a function, as written."""

    name: str
    kind: str  # "positional_only" | "positional" | "keyword_only"
    annotation: str | None  # source text ("int", "list[str] | None"); None when unannotated
    default: str | None  # source text of the default ("3", "None"); None when there is none

    @property
    def required(self) -> bool:
        """A caller (a deployment's parameters) must pass it: it has no default."""
        return self.default is None


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...] = ()
    var_args: bool = False  # takes *args
    var_kw: bool = False  # takes **kwargs: any keyword is accepted

    @property
    def names(self) -> tuple[str, ...]:
        """Names a deployment may set (Prefect binds positional-only ones by name too)."""
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


# -- the summary ------------------------------------------------------------------------------


@dataclass
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
    signature: Signature
    top_level: bool  # a module attribute (an entrypoint can point at it)

    @property
    def params(self) -> tuple[str, ...]:
        """Names a deployment may set."""
        return self.signature.names

    @property
    def var_kw(self) -> bool:
        return self.signature.var_kw

    @property
    def effective_name(self) -> str | None:
        """The name Prefect registers: name= or, missing, the function name with '-' for '_'."""
        if self.name_kind == "missing":
            return self.name.replace("_", "-")
        return self.flow_name


@dataclass
class FlowSummary:
    """``projects/<project>/flows/<flow>.py``: what the checks need, small and picklable."""

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
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)  # filled by the linter

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


def decode(data: bytes) -> tuple[str | None, FileError | None]:
    """UTF-8 text, or why the file is not text (with the line of the first bad byte)."""
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return None, FileError("unreadable", line, 1,
                               "binary file (contains NUL bytes); flow files and prefect.yaml "
                               "must be UTF-8 text")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, FileError("unreadable", line, 1, "not UTF-8 text; save the file as UTF-8")


def parse(text: str) -> ast.Module | FileError:
    """The module's tree, or the syntax error as a FileError."""
    try:
        # not the real path: CPython would read the error line from a file of that name in
        # the current folder when one exists, and compute the column from it
        return ast.parse(text.removeprefix("\ufeff"), filename=PARSE_FILENAME)
    except SyntaxError as err:
        return FileError("syntax", err.lineno or 1, err.offset or 1,
                         f"syntax error: {err.msg}; fix it so the file can be checked")
    except (ValueError, RecursionError, MemoryError) as err:  # e.g. nesting too deep
        return FileError("syntax", 1, 1, f"cannot parse the file: {err}")


def summarize(path: str, project: str, flow: str, data: bytes) -> FlowSummary:
    """The summary of ``projects/<project>/flows/<flow>.py`` from its bytes; a file that is
    not UTF-8 or does not parse gives a summary with ``error`` set (never an exception)."""
    text, error = decode(data)
    if text is None:
        return FlowSummary(path, project, flow, error=error)
    return summarize_text(path, project, flow, text)


def summarize_text(path: str, project: str, flow: str, text: str) -> FlowSummary:
    summary = FlowSummary(path, project, flow)
    tree = parse(text)
    if isinstance(tree, FileError):
        summary.error = tree
        return summary
    _Collector(summary, text.removeprefix("\ufeff")).collect(tree)
    return summary


def read_signature(path: Path, function: str) -> Signature:
    """The signature of the module-level function ``function`` of a flow file, read with ast.

    Raises ``SignatureError`` with a one-line reason (unreadable, not UTF-8, syntax error with
    its line, no such function); callers turn it into their own error.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SignatureError(f"cannot read the file: {err.strerror}") from None
    text, error = decode(data)
    if text is None:
        raise SignatureError(error.message)
    tree = parse(text)
    if isinstance(tree, FileError):
        where = f" (line {tree.line})" if tree.kind == "syntax" else ""
        raise SignatureError(f"{tree.message}{where}")
    source = text.removeprefix("\ufeff")
    for stmt in _module_statements(tree):
        if type(stmt) in _FUNCS and stmt.name == function:
            return signature_of(stmt, source)
    raise SignatureError(f"no function {function}() in the flow file")


# -- reading the tree -------------------------------------------------------------------------


def _module_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Every statement that runs at import time at module level: the module's body and,
    recursively, the bodies of module-level if/try/with blocks (not function or class bodies).
    """
    stack = [iter(tree.body)]
    while stack:
        for stmt in stack[-1]:
            yield stmt
            kind = type(stmt)
            if kind is ast.If:
                stack.append(iter([*stmt.body, *stmt.orelse]))
            elif kind is ast.Try or kind is ast.TryStar:
                stack.append(iter([*stmt.body, *(s for h in stmt.handlers for s in h.body),
                                   *stmt.orelse, *stmt.finalbody]))
            elif kind is ast.With or kind is ast.AsyncWith:
                stack.append(iter(stmt.body))
            else:
                continue
            break  # descend first: statements come in source order
        else:
            stack.pop()


def _segment(source: str, lines: list[str], node: ast.expr) -> str:
    """The source text of an expression (ast columns are UTF-8 byte offsets)."""
    if node.lineno == node.end_lineno:
        line = lines[node.lineno - 1]
        if line.isascii():
            return line[node.col_offset:node.end_col_offset]
        return line.encode()[node.col_offset:node.end_col_offset].decode("utf-8", "replace")
    return ast.get_source_segment(source, node) or ast.unparse(node)


def signature_of(node: ast.FunctionDef | ast.AsyncFunctionDef, source: str,
                 lines: list[str] | None = None) -> Signature:
    lines = lines if lines is not None else _LINES.split(source)
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    # defaults belong to the last positional parameters
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + a.defaults
    params: list[Param] = []

    def text(expr: ast.expr | None) -> str | None:
        return None if expr is None else _segment(source, lines, expr)

    for i, (arg, default) in enumerate(zip(positional, defaults)):
        kind = "positional_only" if i < len(a.posonlyargs) else "positional"
        params.append(Param(arg.arg, kind, text(arg.annotation), text(default)))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        params.append(Param(arg.arg, "keyword_only", text(arg.annotation), text(default)))
    return Signature(tuple(params), a.vararg is not None, a.kwarg is not None)


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` in either order."""
    if type(node) is not ast.If or type(node.test) is not ast.Compare:
        return False
    test = node.test
    if len(test.ops) != 1 or type(test.ops[0]) is not ast.Eq:
        return False
    sides = {type(test.left), type(test.comparators[0])}
    values = {getattr(test.left, "id", None), getattr(test.comparators[0], "value", None),
              getattr(test.left, "value", None), getattr(test.comparators[0], "id", None)}
    return sides == {ast.Name, ast.Constant} and {"__name__", "__main__"} <= values


def _calls(node: ast.AST) -> Counter[str]:
    """How often each plain name is called under ``node``."""
    return Counter(sub.func.id for sub in ast.walk(node)
                   if type(sub) is ast.Call and type(sub.func) is ast.Name)


class _Collector:
    """Fills a FlowSummary from the module's tree, in four steps (``collect``)."""

    def __init__(self, summary: FlowSummary, source: str):
        self.s = summary
        self.source = source
        self._lines: list[str] | None = None
        self.flow_names: set[str] = set()  # local names of prefect.flow
        self.task_names: set[str] = set()
        self.prefect_modules: set[str] = set()  # local names of the prefect module
        self.constants: dict[str, str] = {}  # module-level NAME = "string"

    def collect(self, tree: ast.Module) -> None:
        """One pass over the module-level statements; function bodies are entered only when
        the text shows a nested decorator, or when several flows leave the main one
        ambiguous. A full ``ast.walk`` would cost more than the parse itself."""
        defs, containers, main_blocks = self.read_module(tree)
        if _NESTED_DECORATOR.search(self.source):
            defs += [(sub, False) for container in containers for sub in ast.walk(container)
                     if sub is not container and type(sub) in _FUNCS]
        main_calls = Counter[str]()
        for block in main_blocks:
            main_calls.update(_calls(block))
        self.s.main_calls = tuple(sorted(main_calls))
        self.read_decorators(sorted(defs, key=lambda d: (d[0].lineno, d[0].col_offset)))
        self.read_callers(tree, main_calls)

    def read_module(self, tree: ast.Module
                    ) -> tuple[list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]],
                               list[ast.stmt], list[ast.If]]:
        """Step 1: imports of flow/task, string constants, module-level functions; the
        classes and functions (nested decorators may hide in them) and the __main__ blocks."""
        defs: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]] = []
        containers: list[ast.stmt] = []
        main_blocks: list[ast.If] = []
        bound_elsewhere: set[str] = set()  # flow/task imported from something not Prefect
        for stmt in _module_statements(tree):
            kind = type(stmt)
            if kind in _FUNCS:
                defs.append((stmt, True))
                containers.append(stmt)
                self.s.functions.setdefault(stmt.name, stmt.lineno)
            elif kind is ast.ClassDef:
                containers.append(stmt)
            elif kind is ast.ImportFrom:
                self.read_import_from(stmt, bound_elsewhere)
            elif kind is ast.Import:
                for alias in stmt.names:
                    if alias.name == "prefect" or (alias.name.startswith("prefect.")
                                                   and alias.asname is None):
                        self.prefect_modules.add(alias.asname or "prefect")
            elif kind is ast.Assign:
                target, value = stmt.targets[0], stmt.value
                if len(stmt.targets) == 1 and type(target) is ast.Name \
                        and type(value) is ast.Constant and isinstance(value.value, str):
                    self.constants[target.id] = value.value
            elif kind is ast.If and _is_main_guard(stmt):
                main_blocks.append(stmt)
        # a bare @flow / @task without any import still reads as Prefect's (NameError aside)
        for name, names in (("flow", self.flow_names), ("task", self.task_names)):
            if not names and name not in bound_elsewhere:
                names.add(name)
        return defs, containers, main_blocks

    def read_import_from(self, stmt: ast.ImportFrom, bound_elsewhere: set[str]) -> None:
        module = stmt.module or ""
        for alias in stmt.names:
            local = alias.asname or alias.name
            if alias.name == "flow" and module in FLOW_MODULES:
                self.flow_names.add(local)
            elif alias.name == "task" and module in TASK_MODULES:
                self.task_names.add(local)
            elif local in ("flow", "task"):
                bound_elsewhere.add(local)

    def read_decorators(self, defs: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]
                        ) -> None:
        """Step 2: which functions are flows and tasks."""
        top_tasks: list[str] = []
        for node, top_level in defs:
            for index, deco in enumerate(node.decorator_list):
                kind = self.decorator_kind(deco)
                if kind == "task":
                    self.s.tasks += 1
                    if top_level:
                        top_tasks.append(node.name)
                elif kind == "flow":
                    self.s.flows.append(self.flow_func(node, index, deco, top_level))
        self.s.task_functions = frozenset(top_tasks)

    def read_callers(self, tree: ast.Module, main_calls: Counter[str]) -> None:
        """Step 3: who calls whom; it matters only to pick the main flow among several
        misnamed ones, so it is read only then."""
        s = self.s
        tops = [f for f in s.flows if f.top_level]
        if len(tops) > 1 and not any(f.name == naming.flow_function(s.flow) for f in tops):
            calls = _calls(tree)
            s.other_calls = frozenset(n for n, c in calls.items() if c > main_calls.get(n, 0))

    # positions: ast columns are UTF-8 byte offsets; findings count characters
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = _LINES.split(self.source)
        return self._lines

    def pos(self, lineno: int, byte_col: int) -> Pos:
        if self.source.isascii():
            return Pos(lineno, byte_col + 1)
        line = self.lines()[lineno - 1] if lineno - 1 < len(self.lines()) else ""
        return Pos(lineno, len(line.encode()[:byte_col].decode("utf-8", "ignore")) + 1)

    def node_pos(self, node: ast.expr | ast.stmt) -> Pos:
        return self.pos(node.lineno, node.col_offset)

    def def_name_pos(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Pos:
        start = self.node_pos(node)
        lines = self.lines()
        line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
        match = _DEF.match(line, start.col - 1)
        if match and line.startswith(node.name, match.end()):
            return Pos(node.lineno, match.end() + 1)
        return start

    def decorator_kind(self, deco: ast.expr) -> str | None:
        target = deco.func if type(deco) is ast.Call else deco
        if type(target) is ast.Name:
            if target.id in self.flow_names:
                return "flow"
            if target.id in self.task_names:
                return "task"
        elif (type(target) is ast.Attribute and type(target.value) is ast.Name
              and target.value.id in self.prefect_modules and target.attr in ("flow", "task")):
            return target.attr
        return None

    def flow_func(self, node: ast.FunctionDef | ast.AsyncFunctionDef, index: int,
                  deco: ast.expr, top_level: bool) -> FlowFunc:
        name_kind, value, value_pos = "missing", None, None
        if type(deco) is ast.Call:
            for kw in deco.keywords:
                if kw.arg == "name":
                    value_pos = self.node_pos(kw.value)
                    v = kw.value
                    if type(v) is ast.Constant and isinstance(v.value, str):
                        name_kind, value = "literal", v.value
                    elif type(v) is ast.Name and v.id in self.constants:
                        name_kind, value = "constant", self.constants[v.id]
                    else:
                        name_kind = "dynamic"
                    break
                if kw.arg is None:  # **options may carry a name
                    name_kind, value_pos = "dynamic", self.node_pos(kw.value)
        return FlowFunc(
            name=node.name, pos=self.def_name_pos(node), deco_pos=self.node_pos(deco),
            deco_index=index, name_kind=name_kind, flow_name=value, name_pos=value_pos,
            signature=signature_of(node, self.source, self.lines()), top_level=top_level,
        )
