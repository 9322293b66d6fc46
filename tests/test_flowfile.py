"""scaffold.flowfile: the ast summary of a flow file, shared by the linter and the generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold import flowfile
from scaffold.flowfile import Param, read_signature, summarize

SOURCE = '''"""A flow with every kind of parameter."""
from prefect import flow, task
import prefect

NAME = "farm__harvest_flow"


@task
def pick_task(season: str) -> str:
    return season


if True:
    @flow(name=NAME)
    def harvest_flow(season: str, days: int = 3, /, tags: list[str] | None = None, *rest,
                     dry: bool = False, when: "dict[str, int]", **options) -> None:
        pick_task(season)

try:
    @prefect.flow
    def helper(x):
        return x
except ImportError:
    pass


class Box:
    @flow(name="inner")
    def method(self):
        pass


if __name__ == "__main__":
    harvest_flow("winter")
'''


def test_summary_reads_flows_tasks_and_the_full_signature() -> None:
    s = summarize("projects/farm/flows/harvest.py", "farm", "harvest", SOURCE.encode())
    assert s.error is None
    assert [(f.name, f.top_level) for f in s.flows] == [
        ("harvest_flow", True), ("helper", True), ("method", False)]
    main = s.main_flow()
    assert main is not None and main.name_kind == "constant"
    assert main.flow_name == "farm__harvest_flow"
    sig = main.signature
    assert sig.params == (
        Param("season", "positional_only", "str", None),
        Param("days", "positional_only", "int", "3"),
        Param("tags", "positional", "list[str] | None", "None"),
        Param("dry", "keyword_only", "bool", "False"),
        Param("when", "keyword_only", "'dict[str, int]'".replace("'", '"'), None),
    )
    assert sig.var_args and sig.var_kw
    assert sig.required == ("season", "when")
    assert main.params == ("season", "days", "tags", "dry", "when") and main.var_kw
    assert s.tasks == 1 and s.task_functions == frozenset({"pick_task"})
    assert s.main_calls == ("harvest_flow",)
    assert s.functions == {"pick_task": 9, "harvest_flow": 15, "helper": 21}


def test_non_ascii_and_multiline_defaults_keep_their_text() -> None:
    src = ('from prefect import flow\n\n@flow\ndef café_flow(label: str = "crème",\n'
           '              sizes: tuple[int, ...] = (\n    1,\n    2,\n)):\n    pass\n')
    s = summarize("p/flows/café.py", "p", "café", src.encode())
    (func,) = s.flows
    assert func.signature.param("label") == Param("label", "positional", "str", '"crème"')
    assert func.signature.param("sizes").default == "(\n    1,\n    2,\n)"
    assert func.pos == (4, 5)


@pytest.mark.parametrize(("data", "kind", "line"), [
    (b"def f(:\n", "syntax", 1),
    (b"x = 1\n\xff\n", "unreadable", 2),
    (b"a\0b", "unreadable", 1),
])
def test_a_bad_file_is_an_error_field_never_an_exception(data: bytes, kind: str,
                                                           line: int) -> None:
    s = summarize("p/flows/f.py", "p", "f", data)
    assert s.error is not None and (s.error.kind, s.error.line) == (kind, line)
    assert s.flows == []


def test_read_signature_is_the_generators_reader(tmp_path: Path) -> None:
    path = tmp_path / "harvest.py"
    path.write_text(SOURCE)
    sig = read_signature(path, "harvest_flow")
    assert sig.names == ("season", "days", "tags", "dry", "when") and sig.var_kw
    with pytest.raises(flowfile.SignatureError, match=r"no function nope\(\)"):
        read_signature(path, "nope")
    path.write_text("def f(:\n")
    with pytest.raises(flowfile.SignatureError, match=r"syntax error.*\(line 1\)"):
        read_signature(path, "f")
    with pytest.raises(flowfile.SignatureError, match="cannot read the file"):
        read_signature(tmp_path / "missing.py", "f")


def test_module_statements_come_in_source_order_without_growing_a_list() -> None:
    import ast

    tree = ast.parse("a = 1\nif x:\n    b = 2\n    try:\n        c = 3\n    except E:\n"
                     "        d = 4\nelse:\n    e = 5\nf = 6\n")
    names = [s.targets[0].id for s in flowfile._module_statements(tree)
             if isinstance(s, ast.Assign)]
    assert names == ["a", "b", "c", "d", "e", "f"]


def test_flowfile_imports_only_the_base_layer() -> None:
    import ast

    tree = ast.parse(Path(flowfile.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m and m.startswith("scaffold")} <= {"scaffold"}
