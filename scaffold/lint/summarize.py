"""Parse one file into its summary: the only place that reads Python or YAML syntax.

Flow files are parsed with the stdlib ``ast`` (C, ~0.1 ms for a typical flow file, where
libcst takes ~1 ms); prefect.yaml with PyYAML's C loader via ``scaffold.repo.compose``. A file
that cannot be read or parsed gives a summary with an ``error`` instead of an exception.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from scaffold import naming
from scaffold.errors import UsageError
from scaffold.lint import noqa
from scaffold.lint.model import (
    ConfigSummary,
    DeploymentSummary,
    FileError,
    FlowFunc,
    FlowSummary,
    NotScalar,
    Pos,
)

_LINES = re.compile(r"\r\n|\r|\n")
_DEF = re.compile(r"(?:async\s+)?def\s+")
_NESTED_DECORATOR = re.compile(r"^[ \t]+@", re.MULTILINE)
FLOW_MODULES = ("prefect", "prefect.flows")
TASK_MODULES = ("prefect", "prefect.tasks")
PARSE_FILENAME = "<flow file>"  # a name no file on disk has


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


# -- flow files -------------------------------------------------------------------------------


def summarize_flow(path: str, project: str, flow: str, data: bytes) -> FlowSummary:
    summary = FlowSummary(path, project, flow)
    text, error = decode(data)
    if error is not None:
        summary.error = error
        return summary
    summary.noqa = noqa.parse_python(text)
    source = text.removeprefix("\ufeff")
    try:
        # not the real path: CPython would read the error line from a file of that name in
        # the current folder when one exists, and compute the column from it
        tree = ast.parse(source, filename=PARSE_FILENAME)
    except SyntaxError as err:
        summary.error = FileError("syntax", err.lineno or 1, err.offset or 1,
                                  f"syntax error: {err.msg}; fix it so the file can be checked")
        return summary
    except (ValueError, RecursionError, MemoryError) as err:  # e.g. nesting too deep
        summary.error = FileError("syntax", 1, 1, f"cannot parse the file: {err}")
        return summary
    _FlowCollector(summary, source).run(tree)
    return summary


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


class _FlowCollector:
    def __init__(self, summary: FlowSummary, source: str):
        self.s = summary
        self.source = source
        self._lines: list[str] | None = None
        self.flow_names: set[str] = set()
        self.task_names: set[str] = set()
        self.prefect_modules: set[str] = set()

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

    def run(self, tree: ast.Module) -> None:
        """One pass over the module-level statements (also inside module-level if/try/with);
        function bodies are entered only when the text shows a nested decorator, or when
        several flows leave the main one ambiguous. A full ``ast.walk`` would cost more than
        the parse itself."""
        s = self.s
        defs: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]] = []
        containers: list[ast.AST] = []  # classes and functions, for nested decorators
        constants: dict[str, str] = {}
        main_blocks: list[ast.If] = []
        bound_elsewhere: set[str] = set()
        stmts = list(tree.body)
        for stmt in stmts:  # grows while iterating: the bodies of if/try/with
            kind = type(stmt)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                defs.append((stmt, True))
                containers.append(stmt)
                s.functions.setdefault(stmt.name, stmt.lineno)
            elif kind is ast.ImportFrom:
                module = stmt.module or ""
                for alias in stmt.names:
                    local = alias.asname or alias.name
                    if alias.name == "flow" and module in FLOW_MODULES:
                        self.flow_names.add(local)
                    elif alias.name == "task" and module in TASK_MODULES:
                        self.task_names.add(local)
                    elif local in ("flow", "task"):
                        bound_elsewhere.add(local)
            elif kind is ast.Import:
                for alias in stmt.names:
                    if alias.name == "prefect" or (alias.name.startswith("prefect.")
                                                   and alias.asname is None):
                        self.prefect_modules.add(alias.asname or "prefect")
            elif kind is ast.Assign:
                if len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name \
                        and type(stmt.value) is ast.Constant and isinstance(stmt.value.value, str):
                    constants[stmt.targets[0].id] = stmt.value.value
            elif kind is ast.ClassDef:
                containers.append(stmt)
            elif kind is ast.If:
                if _is_main_guard(stmt):
                    main_blocks.append(stmt)
                stmts.extend(stmt.body)
                stmts.extend(stmt.orelse)
            elif kind is ast.Try or kind is ast.TryStar:
                stmts.extend(stmt.body)
                stmts.extend(stmt.orelse)
                stmts.extend(stmt.finalbody)
                for handler in stmt.handlers:
                    stmts.extend(handler.body)
            elif kind is ast.With:
                stmts.extend(stmt.body)
        # a bare @flow / @task without any import still reads as Prefect's (NameError aside)
        for name, names in (("flow", self.flow_names), ("task", self.task_names)):
            if not names and name not in bound_elsewhere:
                names.add(name)
        if _NESTED_DECORATOR.search(self.source):
            for container in containers:
                for sub in ast.walk(container):
                    if sub is not container and type(sub) in (ast.FunctionDef, ast.AsyncFunctionDef):
                        defs.append((sub, False))
        main_calls = Counter(sub.func.id for block in main_blocks for sub in ast.walk(block)
                             if type(sub) is ast.Call and type(sub.func) is ast.Name)
        s.main_calls = tuple(sorted(main_calls))

        defs.sort(key=lambda d: (d[0].lineno, d[0].col_offset))
        top_tasks: list[str] = []
        for node, top_level in defs:
            for index, deco in enumerate(node.decorator_list):
                kind = self.decorator_kind(deco)
                if kind == "task":
                    s.tasks += 1
                    if top_level:
                        top_tasks.append(node.name)
                elif kind == "flow":
                    s.flows.append(self.flow_func(node, index, deco, constants, top_level))
        s.task_functions = frozenset(top_tasks)

        # who calls whom matters only to pick the main flow among several misnamed ones
        wanted = f"{s.flow}{naming.FLOW_SUFFIX}"
        tops = [f for f in s.flows if f.top_level]
        if len(tops) > 1 and not any(f.name == wanted for f in tops):
            calls = Counter(sub.func.id for sub in ast.walk(tree)
                            if type(sub) is ast.Call and type(sub.func) is ast.Name)
            s.other_calls = frozenset(n for n, c in calls.items() if c > main_calls.get(n, 0))

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
                  deco: ast.expr, constants: dict[str, str], top_level: bool) -> FlowFunc:
        name_kind, value, value_pos = "missing", None, None
        if type(deco) is ast.Call:
            for kw in deco.keywords:
                if kw.arg == "name":
                    value_pos = self.node_pos(kw.value)
                    v = kw.value
                    if type(v) is ast.Constant and isinstance(v.value, str):
                        name_kind, value = "literal", v.value
                    elif type(v) is ast.Name and v.id in constants:
                        name_kind, value = "constant", constants[v.id]
                    else:
                        name_kind = "dynamic"
                    break
                if kw.arg is None:  # **options may carry a name
                    name_kind, value_pos = "dynamic", self.node_pos(kw.value)
        args = node.args
        params = tuple(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
        return FlowFunc(
            name=node.name, pos=self.def_name_pos(node), deco_pos=self.node_pos(deco),
            deco_index=index, name_kind=name_kind, flow_name=value, name_pos=value_pos,
            params=params, var_kw=args.kwarg is not None, top_level=top_level,
        )


# -- prefect.yaml -----------------------------------------------------------------------------


def summarize_config(path: str, project: str, data: bytes) -> ConfigSummary:
    import yaml

    from scaffold.repo import _mapping_items, compose

    summary = ConfigSummary(path, project)
    text, error = decode(data)
    if error is not None:
        summary.error = error
        return summary
    summary.noqa = noqa.parse_yaml(text)

    def pos(node: yaml.Node) -> Pos:
        return Pos(node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(node: yaml.Node | None, message: str) -> ConfigSummary:
        line, col = pos(node) if node is not None else (1, 1)
        summary.error = FileError("yaml", line, col, message)
        return summary

    try:
        root, value = compose(text, path)
    except UsageError as err:
        summary.error = FileError("yaml", err.line or 1, 1, err.message)
        return summary
    except (RecursionError, MemoryError, ValueError) as err:
        return fail(None, f"cannot read the YAML: {err}")
    if root is None:
        return summary  # an empty file: no name, no deployments (reported by the rules)
    if not isinstance(root, yaml.MappingNode) or not isinstance(value, dict):
        return fail(root, "prefect.yaml must be a mapping of keys (name, deployments, ...), "
                          f"not a {type(value).__name__}")
    deployments_node = None
    for key, node in _mapping_items(root):
        if isinstance(key, yaml.ScalarNode):
            if key.value == "name":
                summary.has_name, summary.name_pos = True, pos(node)
                summary.name = _plain(value.get("name"))
            elif key.value == "deployments":
                deployments_node = node
    items = value.get("deployments")
    if items is None:
        return summary
    if not isinstance(items, list) or not isinstance(deployments_node, yaml.SequenceNode):
        return fail(deployments_node, "'deployments' must be a list of entries "
                                      f"('- name: ...'), not a {type(items).__name__}")
    for index, (item, node) in enumerate(zip(items, deployments_node.value)):
        if not isinstance(item, dict) or not isinstance(node, yaml.MappingNode):
            return fail(node, f"deployment #{index + 1} must be a mapping with 'name' and "
                              f"'entrypoint', not a {type(item).__name__}")
        pairs = {k.value: (k, v) for k, v in _mapping_items(node) if isinstance(k, yaml.ScalarNode)}
        marks = {k: v for k, (_, v) in pairs.items()}
        ep_key, ep_node = pairs.get("entrypoint", (None, None))
        editable = (ep_key is not None and isinstance(ep_node, yaml.ScalarNode)
                    and ep_key.start_mark.index >= node.start_mark.index
                    and ep_node.start_mark.index >= ep_key.end_mark.index)
        params = item.get("parameters")
        params_node = marks.get("parameters")
        keys: tuple = ()
        if params is None:
            params_kind = "none"
        elif isinstance(params, dict) and isinstance(params_node, yaml.MappingNode):
            params_kind = "mapping"
            keys = tuple((str(k.value), pos(k)) for k, _ in _mapping_items(params_node)
                         if isinstance(k, yaml.ScalarNode))
        else:
            params_kind = "other"
        summary.deployments.append(DeploymentSummary(
            index=index, pos=pos(node),
            name=_plain(item.get("name")),
            name_pos=pos(marks["name"]) if "name" in marks else None,
            entrypoint=_plain(item.get("entrypoint")),
            entrypoint_pos=pos(marks["entrypoint"]) if "entrypoint" in marks else None,
            params_kind=params_kind, params=keys,
            params_pos=pos(params_node) if params_node is not None else None,
            entrypoint_editable=editable,
        ))
    return summary


def _plain(value: object) -> object:
    """Scalars as they are; a collection as a marker of its type (summaries stay small)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return NotScalar(type(value).__name__)
