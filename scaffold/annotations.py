"""Does a deployment parameter value fit a flow parameter's annotation?

One check, shared by the linter (PD013, on prefect.yaml values) and the generator (`cli
new-deployment --param`, on command-line values). Base layer: stdlib only.

Prefect validates a run's parameters with pydantic, in its lax mode: ``"3"`` is accepted for an
``int`` and ``1`` for a ``bool``, but ``"three"`` for an ``int`` or ``3`` for a ``str`` fail,
when the run starts. Only the types whose rules are plain are checked here (``int``, ``float``,
``str``, ``bool``, ``None``, lists, tuples, sets, dicts, ``Literal``, unions, ``Optional``,
``Annotated``, ``Any``); any other annotation (a class of the user's, ``datetime``, an enum...)
accepts every value, so a finding is always a real error. Annotations are read from their
source text with the stdlib ``ast``: nothing is imported.

Values are shapes (``value_shape``: lists as ``YamlList``, mappings as ``YamlMapping``, dates as
their ISO text: Prefect sends JSON); the linter's summaries keep them so, the generator shapes a
command-line value with ``value_shape`` before ``fits``.
A string holding a ``{{ ... }}`` template is resolved by Prefect at deploy time: never checked.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple


class YamlMapping(NamedTuple):
    """A YAML mapping value in a summary (see ``value_shape``); ``truncated`` when cut."""

    items: tuple[tuple[Any, Any], ...]
    truncated: bool = False


class YamlList(NamedTuple):
    """A YAML list value in a summary (see ``value_shape``); ``truncated`` when cut."""

    items: tuple[Any, ...]
    truncated: bool = False


MAX_SHAPE_ITEMS = 100  # elements of one list or mapping a summary keeps


def value_shape(value: Any, depth: int = 0) -> Any:
    """A loaded YAML value as a summary keeps it: small, picklable, as it reaches Prefect.

    Scalars stay as they are (dates become their ISO text: Prefect sends parameters as JSON);
    lists become ``YamlList``, mappings ``YamlMapping`` with text keys (JSON object keys), both
    cut at ``MAX_SHAPE_ITEMS`` elements and 5 levels.
    """
    import datetime
    from itertools import islice

    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        if depth >= 5:
            return YamlMapping((), True)
        items = list(islice(value.items(), MAX_SHAPE_ITEMS + 1))  # never a copy of it all
        return YamlMapping(tuple((_json_key(k), value_shape(v, depth + 1))
                                 for k, v in items[:MAX_SHAPE_ITEMS]),
                           len(items) > MAX_SHAPE_ITEMS)
    if isinstance(value, list | tuple | set | frozenset):
        if depth >= 5:
            return YamlList((), True)
        items = list(islice(value, MAX_SHAPE_ITEMS + 1))
        return YamlList(tuple(value_shape(v, depth + 1) for v in items[:MAX_SHAPE_ITEMS]),
                        len(items) > MAX_SHAPE_ITEMS)
    return value


def _json_key(key: Any) -> Any:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return str(key).lower()
    if isinstance(key, int | float):
        return str(key)
    return value_shape(key, 5)


TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and TEMPLATE.search(value) is not None


def describe(value: Any) -> str:
    """A value in a message: short, with its YAML kind."""
    if isinstance(value, YamlMapping):
        return "a mapping"
    if isinstance(value, YamlList):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    kind = {int: "an integer", float: "a number", str: "text"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


# -- annotations: source text -> predicate ---------------------------------------------------

Check = Callable[[Any], bool]


def _any(value: Any) -> bool:
    return True


# pydantic's lax int from text: digits, optionally a zero fraction ("3", " 3 ", "3.0"), not "1e3"
_INT = re.compile(r"\s*[+-]?\d+(\.0*)?\s*\Z")


def _int(value: Any) -> bool:
    if isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value == int(value)
    if isinstance(value, str):
        return _INT.match(value) is not None
    return False


def _float(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _str(value: Any) -> bool:
    return isinstance(value, str)


_TRUTHY = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value in (0, 1)
    return isinstance(value, str) and value.strip().lower() in _TRUTHY


def _none(value: Any) -> bool:
    return value is None


def _sequence(item: Check) -> Check:
    return lambda v: isinstance(v, YamlList) and all(fits(item, x) for x in v.items)


def _mapping(key: Check, value: Check) -> Check:
    return lambda v: isinstance(v, YamlMapping) and all(fits(key, k) and fits(value, x)
                                                    for k, x in v.items)


def _tuple(items: list[Check] | None) -> Check:
    def check(v: Any) -> bool:
        if not isinstance(v, YamlList):
            return False
        if items is None or v.truncated:
            return True
        return len(items) == len(v.items) and all(fits(c, x) for c, x in zip(items, v.items))
    return check


def _union(checks: list[Check]) -> Check:
    return lambda v: any(fits(c, v) for c in checks)


def _literal(values: list[Any]) -> Check:
    # pydantic compares a Literal's values without converting: '2' is not Literal[2]
    return lambda v: any(v == x and type(v) is type(x) for x in values)


def fits(check: Check, value: Any) -> bool:
    """Whether ``value`` passes ``check``; a templated string always does."""
    return is_template(value) or check(value)


_SCALARS: dict[str, Check] = {"int": _int, "float": _float, "str": _str, "bool": _bool,
                              "None": _none, "NoneType": _none, "Any": _any, "object": _any}
_SEQUENCES = {"list", "List", "Sequence", "MutableSequence", "Iterable", "Collection", "set",
              "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet"}
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}


def _name(node: ast.expr) -> str | None:
    """``int`` / ``typing.List`` / ``t.Optional`` -> the last part of the name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id in {"typing", "t", "typing_extensions", "collections",
                                              "abc", "builtins"} else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        return node.attr if node.value.attr == "abc" else None  # collections.abc.Sequence
    return None


def _args(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _build(node: ast.expr, depth: int = 0) -> Check | None:
    """A predicate for an annotation's syntax tree; None when it is not one we check."""
    if depth > 10:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return _none
        if isinstance(node.value, str):  # a quoted (forward) annotation
            return compile_annotation(node.value)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _build(node.left, depth + 1), _build(node.right, depth + 1)
        return None if left is None or right is None else _union([left, right])
    name = _name(node)
    if name is not None:
        if name in _SCALARS:
            return _SCALARS[name]
        if name in _SEQUENCES:
            return _sequence(_any)
        if name in _MAPPINGS:
            return _mapping(_any, _any)
        if name in {"tuple", "Tuple"}:
            return _tuple(None)
        return None
    if not isinstance(node, ast.Subscript):
        return None
    name = _name(node.value)
    args = _args(node.slice)
    if name == "Literal":
        if not all(isinstance(a, ast.Constant) for a in args):
            return None
        return _literal([a.value for a in args])
    if name == "Annotated":
        return _build(args[0], depth + 1)
    inner = [_build(a, depth + 1) for a in args]
    unknown = any(c is None for c in inner)
    if name == "Optional":
        return None if unknown else _union([inner[0], _none])
    if name == "Union":
        return None if unknown else _union(inner)
    # a container of an unknown type is still a container: check the container only
    inner_any = [c or _any for c in inner]
    if name in _SEQUENCES:
        return _sequence(inner_any[0])
    if name in _MAPPINGS:
        return _mapping(inner_any[0], inner_any[-1]) if len(inner_any) == 2 else None
    if name in {"tuple", "Tuple"}:
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return _sequence(inner_any[0])
        return _tuple(inner_any)
    return None


@functools.lru_cache(maxsize=1024)
def compile_annotation(text: str) -> Check | None:
    """The predicate for an annotation's source text; None when we do not check that type."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _build(tree.body)
