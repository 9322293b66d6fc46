"""`--param KEY[:TYPE]=VALUE`: parse, type, and turn into deployments and Python literals.

Types are inferred from the value: ``winter`` str, ``3`` int, ``0.5`` float, ``true``/``false``
bool, ``[...]``/``{...}`` JSON. ``KEY:str=3`` forces a type when inference is not wanted.
A Prefect template (``{{ prefect.variables.region }}``, ``{{ $ENV }}``) is text: Prefect fills
it in when deploying.
"""

from __future__ import annotations

import itertools
import json
import keyword
import math
import re
from dataclasses import dataclass
from typing import Any

from scaffold import naming
from scaffold.annotations import TEMPLATE, is_template
from scaffold.errors import UsageError

TYPES = ("str", "int", "float", "bool", "json")
_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)\Z")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Arguments Prefect reserves on flows and tasks (prefect.flows.Flow / prefect.tasks.Task raise
# ReservedArgumentError for them); the generated flow and task both take every parameter.
PREFECT_RESERVED = ("wait_for", "return_state")


@dataclass(frozen=True)
class Param:
    key: str
    value: Any
    raw: str
    forced: str | None = None  # the :TYPE given, None when the type was inferred from the value

    @property
    def text(self) -> str:
        """The value as typed on the command line."""
        return self.raw.split("=", 1)[1]


def show(raw: str, limit: int = 80) -> str:
    """``raw`` quoted for a one-line message, shortened when long (a value may be megabytes)."""
    return repr(raw if len(raw) <= limit else raw[:limit - 20] + "..." + raw[-10:])


def _fail(raw: str, problem: str) -> UsageError:
    return UsageError(f"--param {show(raw)}: {problem}")


def convert(raw: str, value: str, type_: str | None) -> Any:
    if type_ == "str":
        return value
    if type_ == "int" or (type_ is None and _INT.match(value)):
        try:
            return int(value)
        except ValueError:
            raise _fail(raw, "not an integer; write KEY=3 or KEY:str=VALUE") from None
    if type_ == "float" or (type_ is None and _FLOAT.match(value)):
        try:
            number = float(value)
        except ValueError:
            raise _fail(raw, "not a number; write KEY=0.5 or KEY:str=VALUE") from None
        if not math.isfinite(number):
            raise _fail(raw, "infinite or NaN is not a valid parameter (JSON has no such value)")
        return number
    if type_ == "bool" or (type_ is None and value in ("true", "false")):
        if value.lower() not in ("true", "false"):
            raise _fail(raw, "a bool is true or false")
        return value.lower() == "true"
    if type_ == "json" or (type_ is None and value[:1] in ("[", "{")):
        try:
            data = json.loads(value, parse_constant=_no_constant)
        except RecursionError:
            raise _fail(raw, f"JSON nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as err:
            if type_ is None and is_template(value):
                return value  # {{ prefect.variables.x }}: a template, text for Prefect to fill
            raise _fail(raw, f"not valid JSON ({err.args[0].split(':')[0]}); "
                             "fix it, or pass it as text with KEY:str=VALUE") from None
        if _depth(data) > MAX_DEPTH:
            raise _fail(raw, f"JSON nested deeper than {MAX_DEPTH} levels")
        return data
    return value


# JSON nested deeper than this is refused: the generated Python literal must parse (CPython's
# parser stops at 200 nested brackets) and a recursive writer must not hit the recursion limit.
MAX_DEPTH = 32


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [c for v in level if isinstance(v, list | dict)
                 for c in (v.values() if isinstance(v, dict) else v)]
    return depth - 1 if depth else 0


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def secret_warning(p: Param) -> str | None:
    """A warning when ``p`` makes Prefect put a secret on the server in clear text."""
    if not isinstance(p.value, str):
        return None
    # a template is resolved by `prefect deploy` (blocks, variables, environment variables)
    for match in TEMPLATE.finditer(p.value):
        ref = match.group(0)[2:-2].strip()
        if ref.startswith(("$", "prefect.blocks.secret.")):
            return (f"--param {show(p.raw)}: Prefect resolves {{{{ {ref} }}}} when deploying and "
                    "stores the value on the server in clear text; for a secret, load a Secret "
                    "block inside the flow instead")
    return None


def parse_param(raw: str) -> Param:
    """``season=winter`` -> Param("season", "winter"); ``days:int=3`` -> Param("days", 3)."""
    if "=" not in raw:
        raise _fail(raw, "expected KEY=VALUE (e.g. --param season=winter)")
    head, value = raw.split("=", 1)
    key, _, type_ = head.partition(":")
    if type_ and type_ not in TYPES:
        raise _fail(raw, f"unknown type {type_!r}; use one of {', '.join(TYPES)}")
    if not _KEY.match(key) or keyword.iskeyword(key):
        raise _fail(raw, f"{key!r} is not a valid Python parameter name; use letters, digits "
                         "and '_' (e.g. season)")
    return Param(key, convert(raw, value, type_ or None), raw, type_ or None)


def annotation(values: list[Any], key: str = "KEY") -> str:
    """The Python annotation for the values given to one key."""
    kinds = {type(v) for v in values}
    if type(None) in kinds:  # JSON null: optional parameter
        rest = [v for v in values if v is not None]
        return f"{annotation(rest, key) if rest else 'object'} | None"
    if kinds == {bool}:
        return "bool"
    if kinds == {int}:
        return "int"
    if kinds <= {int, float}:
        return "float"
    if kinds == {str}:
        return "str"
    if kinds == {list}:
        return "list"
    if kinds == {dict}:
        return "dict"
    names = ", ".join(sorted(k.__name__ for k in kinds))
    raise UsageError(f"--param {key}: its values mix types ({names}); give one type, or force "
                     f"it with --param {key}:TYPE=VALUE")


MUTABLE = (list, dict)


def signature_default(values: list[Any], key: str = "KEY") -> tuple[str, str, str]:
    """(annotation, default literal, fill literal) of the generated flow's parameter.

    A list or dict default would be one object shared by every call, so it becomes ``None`` and
    the body fills it in (``fill``); a template default would be the template text itself when
    the flow runs without its deployment, so the parameter defaults to ``None`` there too.
    """
    first = values[0]
    if all(is_template(v) for v in values if isinstance(v, str)) and is_template(first):
        return "str | None", "None", ""
    kind = annotation(values, key)
    if isinstance(first, MUTABLE):
        optional = kind if kind.endswith("| None") else f"{kind} | None"
        return optional, "None", py_literal(first)
    return kind, py_literal(first), ""


def py_literal(value: Any) -> str:
    """A Python literal that evaluates to exactly ``value`` (JSON-like data only)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, str) and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the quotes a formatter would choose
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    raise TypeError(f"not JSON-like data: {value!r}")


def doc_literal(text: str) -> str:
    """A docstring literal for ``text``: triple quotes when safe, else an escaped literal."""
    if text and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"""{text}"""'
    return repr(text)


@dataclass(frozen=True)
class Variant:
    """One deployment to write: its name suffix (or None) and its parameters."""

    suffix: str | None
    parameters: dict[str, Any]


def variants(params: list[Param], suffix: str | None) -> list[Variant]:
    """Deployments from the ``--param`` list.

    No params: one deployment without suffix. Keys given once apply to all; a key repeated with
    several values makes one deployment per value (several repeated keys: every combination).
    The suffix is ``--suffix`` or made from the varying values (else from the first value
    that is not a Prefect template); a template never becomes a suffix: without another value
    to name the deployment, ``--suffix`` is required.
    """
    if not params:
        if suffix:
            naming.validate_suffix(suffix)
        return [Variant(suffix, {})]
    grouped: dict[str, list[Any]] = {}
    for p in params:
        values = grouped.setdefault(p.key, [])
        if any(v == p.value and type(v) is type(p.value) for v in values):
            raise UsageError(f"--param {show(p.raw)} is given twice")
        values.append(p.value)
    for key, values in grouped.items():
        annotation(values, key)  # one type per key
    varying = [k for k, vs in grouped.items() if len(vs) > 1]
    combos = list(itertools.product(*grouped.values()))
    if suffix and len(combos) > 1:
        raise UsageError(f"--suffix {suffix!r} names one deployment but the --param values make "
                         f"{len(combos)}; drop --suffix (each gets its value as suffix)")
    out: list[Variant] = []
    seen: dict[str, dict] = {}
    for combo in combos:
        parameters = dict(zip(grouped, combo))
        if suffix:
            name = naming.validate_suffix(suffix)
        else:
            # a template ({{ prefect.blocks.secret.x }}, {{ $HOME }}) is filled in only when
            # deploying: its text would name the deployment after a secret's path or a
            # variable, never after the value; the first key with a plain value names it
            keys = varying or [next((k for k in grouped if not is_template(parameters[k])),
                                    next(iter(grouped)))]
            for k in keys:
                if is_template(parameters[k]):
                    raise _templated_suffix(k, parameters[k], several=bool(varying))
            name = "_".join(naming.suffix_from_value(k, parameters[k]) for k in keys)
            naming.validate_suffix(name)
        if name in seen:
            raise UsageError(f"two deployments would get the suffix {name!r} ({seen[name]} and "
                             f"{parameters}); give distinct values or use new-deployment --suffix")
        seen[name] = parameters
        out.append(Variant(name, parameters))
    return out


def _templated_suffix(key: str, value: str, several: bool) -> UsageError:
    """The error for a deployment that only a Prefect template could name."""
    given = show(f"{key}={value}")
    if several:
        return UsageError(f"--param {given}: a Prefect template is filled in only when "
                          f"deploying, so it cannot name one of the deployments that the values "
                          f"of {key!r} make; add that deployment on its own with new-deployment "
                          "and --suffix NAME")
    return UsageError(f"--param {given}: a Prefect template is filled in only when deploying, so "
                      "it cannot name the deployment; pass --suffix NAME (the deployment is then "
                      "PROJECT__FLOW__NAME), or a --param with a plain value")
