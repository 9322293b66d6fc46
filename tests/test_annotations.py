"""Which prefect.yaml values fit which annotations (PD013), as Prefect's pydantic (lax) sees them."""

from __future__ import annotations

import datetime

import pytest

from scaffold.annotations import compile_annotation, describe, fits, is_template
from scaffold.lint.model import YamlList, YamlMapping, value_shape


def ok(annotation: str, value: object) -> bool:
    check = compile_annotation(annotation)
    assert check is not None, f"{annotation} should be checked"
    return fits(check, value_shape(value))


FITS = [
    ("int", 3), ("int", "3"), ("int", " -3 "), ("int", 3.0), ("int", True), ("int", "3.0"), ("int", "12"),
    ("float", 3), ("float", 2.5), ("float", "2.5"), ("float", "1e3"),
    ("str", "winter"), ("str", datetime.date(2024, 1, 1)),  # a date reaches Prefect as text
    ("bool", True), ("bool", "yes"), ("bool", "False"), ("bool", 0), ("bool", 1),
    ("None", None), ("Optional[int]", None), ("int | None", 4), ("None | str", "x"),
    ("typing.Optional[str]", None), ("Union[int, str]", "x"), ("int | str", 3),
    ("list", [1, "a"]), ("list[int]", [1, "2"]), ("List[str]", []), ("typing.List[str]", ["a"]),
    ("Sequence[int]", [1]), ("set[str]", ["a", "b"]), ("tuple[int, ...]", [1, 2, 3]),
    ("tuple[int, str]", [1, "a"]), ("tuple", [1, "a", None]),
    ("dict", {"a": 1}), ("dict[str, int]", {"a": 1}), ("Mapping[str, list[int]]", {"a": [1]}),
    ("dict[int, str]", {1: "a"}),  # JSON keys are text; "1" fits an int
    ("Literal['a', 'b']", "a"), ("Literal[1, 2]", 2),
    ("Annotated[int, 'doc']", 3), ("'int'", 3), ("Any", [1]), ("object", {"a": None}),
    ("int", "{{ prefect.variables.days }}"), ("list[int]", [1, "{{ $N }}"]),
    ("str", "{{ prefect.blocks.secret.db }}"),
]


@pytest.mark.parametrize(("annotation", "value"), FITS)
def test_fits(annotation: str, value: object) -> None:
    assert ok(annotation, value)


DOES_NOT_FIT = [
    ("int", "three"), ("int", 3.5), ("int", [1]), ("int", None), ("int", {"a": 1}),
    ("int", "1e3"), ("int", "3.5"), ("Literal[1, 2]", "2"),
    ("float", "fast"), ("float", None),
    ("str", 3), ("str", 2.5), ("str", True), ("str", ["winter", "summer"]), ("str", {"a": 1}),
    ("str", None),
    ("bool", "maybe"), ("bool", 2), ("bool", [True]),
    ("None", 0), ("Optional[int]", "x"), ("int | None", "three"), ("Union[int, bool]", "x"),
    ("list[int]", ["a"]), ("list", "a,b"), ("list[str]", {"a": 1}), ("set[int]", [1, "x"]),
    ("tuple[int, str]", [1, 2]), ("tuple[int, str]", [1]),
    ("dict", [1]), ("dict[str, int]", {"a": "x"}), ("dict[int, str]", {"a": "x"}),
    ("Literal['a', 'b']", "c"), ("Annotated[int, 'doc']", "x"), ("'int'", "x"),
    ("list[int]", [1, "{{ $N }}", "x"]),
]


@pytest.mark.parametrize(("annotation", "value"), DOES_NOT_FIT)
def test_does_not_fit(annotation: str, value: object) -> None:
    assert not ok(annotation, value)


@pytest.mark.parametrize("annotation", [
    "datetime.date", "date", "MyModel", "Path", "list[int", "", "1 +", "Callable[[int], str]",
    "Literal[SOME_CONSTANT]", "Optional[MyModel]", "int | MyModel", "dict[str]",
])
def test_annotations_we_do_not_know_are_not_checked(annotation: str) -> None:
    assert compile_annotation(annotation) is None


def test_a_container_of_an_unknown_type_still_checks_the_container() -> None:
    assert ok("list[MyModel]", [{"a": 1}])
    assert not ok("list[MyModel]", "not a list")


def test_templates_and_descriptions() -> None:
    assert is_template("{{ prefect.variables.x }}") and is_template("a-{{x}}-b")
    assert not is_template("{ x }") and not is_template(3)
    assert describe(value_shape([1])) == "a list" and describe(value_shape({})) == "a mapping"
    assert describe("three") == "'three' (text)" and describe(None) == "null"
    assert describe(True) == "true (a boolean)" and describe(3) == "3 (an integer)"
    assert describe("x" * 100) == "'" + "x" * 36 + "... (text)"


def test_value_shape_is_bounded_and_keeps_what_reaches_prefect() -> None:
    big = value_shape(list(range(1000)))
    assert isinstance(big, YamlList) and len(big.items) == 100 and big.truncated
    deep: object = 1
    for _ in range(20):
        deep = [deep]
    shaped = value_shape(deep)
    for _ in range(5):
        shaped = shaped.items[0]
    assert shaped == YamlList((), True)
    assert value_shape({2: "a", None: "b", True: "c"}) == YamlMapping(
        (("2", "a"), ("null", "b"), ("true", "c")))
    assert value_shape(datetime.datetime(2024, 1, 2, 3, 4)) == "2024-01-02T03:04:00"


def _json(value: object) -> object:
    """A summary's value as Prefect receives it (JSON types)."""
    if isinstance(value, YamlList):
        return [_json(v) for v in value.items]
    if isinstance(value, YamlMapping):
        return {k: _json(v) for k, v in value.items}
    return value


@pytest.mark.parametrize(("annotation", "value", "expected"),
                         [(a, v, True) for a, v in FITS if not is_template(v)
                          and not (isinstance(v, list) and any(map(is_template, v)))]
                         + [(a, v, False) for a, v in DOES_NOT_FIT
                            if not (isinstance(v, list) and any(map(is_template, v)))])
def test_prefect_agrees(annotation: str, value: object, expected: bool) -> None:
    """Each verdict is the one Prefect's own parameter validation gives when a run starts."""
    import logging

    from prefect import flow
    from prefect.exceptions import ParameterTypeError

    namespace: dict = {}
    source = (f"import typing\nfrom typing import *\nfrom collections.abc import Sequence, "
              f"Mapping\ndef f(x: {annotation}): pass")
    exec(source, namespace)  # noqa: S102 - the annotations of this file's own table
    logging.getLogger("prefect.flows").disabled = True  # it logs each failed validation
    try:
        flow(namespace["f"]).validate_parameters({"x": _json(value_shape(value))})
        accepted = True
    except ParameterTypeError:
        accepted = False
    finally:
        logging.getLogger("prefect.flows").disabled = False
    assert accepted is expected
