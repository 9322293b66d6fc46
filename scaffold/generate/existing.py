"""`new-deployment` of an existing flow: its signature (read by `scaffold.flowfile`, the function
the linter uses too) and the ``--param`` values checked against it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scaffold import flowfile, naming
from scaffold.errors import UsageError
from scaffold.generate import params as P

# Annotation names (without their [...] arguments) and the JSON values each accepts. A name not
# listed here (Any, object, Literal, a class of the project...) accepts anything: we cannot know.
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "List": (list,), "tuple": (list,), "Tuple": (list,), "set": (list,),
    "Set": (list,), "frozenset": (list,), "Sequence": (list,), "Iterable": (list,),
    "dict": (dict,), "Dict": (dict,), "Mapping": (dict,), "None": (type(None),),
}


def read_signature(path: Path, flow: str) -> flowfile.Signature:
    try:
        return flowfile.read_signature(path, naming.flow_function(flow))
    except flowfile.SignatureError as err:
        raise UsageError(f"{err}; fix the flow file first (cli lint shows the details)",
                         path=path) from None


def _split_union(text: str) -> list[str]:
    """``int | None`` -> [int, None]; ``Optional[X]`` -> [X, None]; ``Union[A, B]`` -> [A, B]."""
    text = text.strip().removeprefix("typing.")
    for wrapper, extra in (("Optional[", ["None"]), ("Union[", [])):
        if text.startswith(wrapper) and text.endswith("]"):
            return [p for part in _top_level(text[len(wrapper):-1], ",")
                    for p in _split_union(part)] + extra
    parts = _top_level(text, "|")
    if len(parts) > 1:
        return [p for part in parts for p in _split_union(part)]
    return [text]


def _top_level(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "[(" and 1 or (char in "])" and -1 or 0)
        if char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def accepted(annotation: str | None) -> tuple[type, ...] | None:
    """The JSON value types ``annotation`` accepts; None when it may be anything."""
    if not annotation:
        return None
    types: list[type] = []
    for part in _split_union(annotation):
        base = part.split("[", 1)[0].strip().strip("'\"").removeprefix("typing.")
        if base not in _ACCEPTS:
            return None
        types.extend(_ACCEPTS[base])
    return tuple(types)


def _fits(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _kind(value: object) -> str:
    return "null" if value is None else {bool: "bool", int: "int", float: "float", str: "str",
                                         list: "list", dict: "dict"}[type(value)]


def check_params(params: list[P.Param], signature: flowfile.Signature, flow: str,
                 path: Path) -> list[P.Param]:
    """``params`` checked against the flow's signature; an inferred value is re-read as the
    parameter's declared type (``code=007`` for ``code: str`` is the text "007")."""
    function = naming.flow_function(flow)
    out = []
    for p in params:
        declared = signature.param(p.key)
        if declared is None:
            if signature.var_kw:
                out.append(p)
                continue
            names = ", ".join(signature.names) or "no parameters"
            raise UsageError(f"--param {P.show(p.raw)}: {function}() has no parameter {p.key!r} "
                             f"(it takes: {names})", path=path)
        types = accepted(declared.annotation)
        if types is None or P.is_template(p.value) or _fits(p.value, types):
            out.append(p)
            continue
        simple = {name for t, name in ((str, "str"), (int, "int"), (float, "float"),
                                         (bool, "bool")) if t in types}
        if simple >= {"int", "float"}:
            simple.discard("int")  # float accepts ints: one target type, float
        if p.forced is None and len(simple) == 1:  # inferred: read it as the declared type
            out.append(dataclasses.replace(p, value=P.convert(p.raw, p.text, simple.pop())))
            continue
        raise UsageError(f"--param {P.show(p.raw)}: {function}() declares {p.key}: "
                         f"{declared.annotation}, and this value is {_kind(p.value)}; pass a "
                         f"value of that type", path=path)
    return out
