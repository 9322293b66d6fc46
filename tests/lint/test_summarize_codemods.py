"""What the parser recognizes as flows and tasks, and the libcst codemods behind --fix."""

from __future__ import annotations

import textwrap

import libcst
import pytest

from scaffold.lint.codemods import rename_function, set_flow_name
from scaffold.lint.summarize import summarize_flow


def _summary(source: str, project: str = "farm", flow: str = "harvest"):
    text = textwrap.dedent(source)
    return summarize_flow(f"projects/{project}/flows/{flow}.py", project, flow, text.encode())


@pytest.mark.parametrize("source", [
    "from prefect import flow\n@flow\ndef harvest_flow(): ...",
    "from prefect import flow\n@flow()\ndef harvest_flow(): ...",
    "from prefect import flow as pflow\n@pflow(name='x')\ndef harvest_flow(): ...",
    "import prefect\n@prefect.flow\ndef harvest_flow(): ...",
    "import prefect as pf\n@pf.flow(retries=1)\ndef harvest_flow(): ...",
    "from prefect.flows import flow\n@flow\nasync def harvest_flow(): ...",
    "try:\n    from prefect import flow\nexcept ImportError:\n    raise\n@flow\ndef harvest_flow(): ...",
    "@flow\ndef harvest_flow(): ...",  # no import at all: still Prefect's name
])
def test_flow_decorator_spellings(source: str) -> None:
    summary = _summary(source)
    assert [f.name for f in summary.flows] == ["harvest_flow"]
    assert summary.main_flow() is not None


@pytest.mark.parametrize("source", [
    "from mylib import flow\n@flow\ndef harvest_flow(): ...",
    "import prefect\n@prefect.task\ndef harvest_flow(): ...",
    "def flow(f): return f\n@other\ndef harvest_flow(): ...",
])
def test_not_a_prefect_flow(source: str) -> None:
    assert _summary(source).flows == []


def test_tasks_subflows_signature_and_names() -> None:
    summary = _summary('''\
        from prefect import flow, task
        from prefect import task as t

        NAME = "farm__harvest_flow"

        @task
        def a(): ...

        @t(retries=2)
        def b(): ...

        class Helper:
            @task
            def method(self): ...

        @flow(name=NAME)
        def harvest_flow(season: str, /, days: int = 1, *args, dry: bool, **opts): ...

        def outer():
            @flow(name=f"farm__{1}")
            def inner(): ...
            return inner

        @flow(**{"name": "x"})
        def spread(): ...
        ''')
    assert summary.tasks == 3
    flows = {f.name: f for f in summary.flows}
    main = flows["harvest_flow"]
    assert (main.name_kind, main.flow_name, main.top_level) == ("constant", "farm__harvest_flow", True)
    assert main.params == ("season", "days", "dry") and main.var_kw
    assert (flows["inner"].name_kind, flows["inner"].top_level) == ("dynamic", False)
    assert flows["spread"].name_kind == "dynamic"
    assert summary.functions.keys() == {"a", "b", "harvest_flow", "outer", "spread"}


@pytest.mark.parametrize(("source", "main"), [
    ("@flow\ndef run(): ...", "run"),
    ("@flow(name='farm__harvest_flow')\ndef a(): ...\n@flow\ndef b(): ...", "a"),
    ("@flow\ndef a(): ...\n@flow\ndef b(): ...\nif __name__ == '__main__':\n    b()", "b"),
    ("@flow\ndef a(): ...\n@flow\ndef b():\n    a()", "b"),
    ("@flow\ndef a(): ...\n@flow\ndef b(): ...", None),  # ambiguous: PF002, nothing renamed
    ("@flow\ndef a(): ...\ndef harvest_flow(): ...", None),  # the name is taken by a non-flow
])
def test_main_flow_candidate(source: str, main: str | None) -> None:
    candidate = _summary("from prefect import flow\n" + source).main_candidate()
    assert (candidate.name if candidate else None) == main


def test_positions_count_characters_not_bytes() -> None:
    summary = _summary('from prefect import flow\n@flow(description="récolte", name="x")\n'
                       'def harvest_flow(): ...\n')
    assert tuple(summary.flows[0].name_pos) == (2, 35)  # the 35th character, 36th byte


# -- codemods ---------------------------------------------------------------------------------


def _rename(source: str, old: str, new: str) -> str | None:
    module = rename_function(libcst.parse_module(textwrap.dedent(source)), old, new)
    return None if module is None else module.code


def test_rename_follows_scopes() -> None:
    source = '''\
        from prefect import flow

        @flow
        def harvest(n: int) -> int:  # the main flow
            return n

        def other():
            harvest = 3  # a local: not the flow
            return harvest

        def caller():
            return harvest(1) + harvest.fn(2)

        if __name__ == "__main__":
            harvest(0)
        '''
    assert _rename(source, "harvest", "harvest_flow") == textwrap.dedent(source).replace(
        "def harvest(", "def harvest_flow(").replace("return harvest(1) + harvest.fn(2)",
        "return harvest_flow(1) + harvest_flow.fn(2)").replace("    harvest(0)", "    harvest_flow(0)")


def test_rename_refuses_to_shadow() -> None:
    assert _rename("def a(): ...\nharvest_flow = 1\n", "a", "harvest_flow") is None
    assert _rename("def a(): ...\ndef a(): ...\n", "a", "b") is None


@pytest.mark.parametrize(("before", "after"), [
    ("@flow\ndef f(): ...", '@flow(name="p__f_flow")\ndef f(): ...'),
    ("@flow()\ndef f(): ...", '@flow(name="p__f_flow")\ndef f(): ...'),
    ("@flow(retries=1)\ndef f(): ...", '@flow(name="p__f_flow", retries=1)\ndef f(): ...'),
    ("@flow(name='x', retries=1)\ndef f(): ...", "@flow(name='p__f_flow', retries=1)\ndef f(): ..."),
    ("@flow(\n    retries=1,\n    log_prints=True,\n)\ndef f(): ...",
     '@flow(\n    name="p__f_flow",\n    retries=1,\n    log_prints=True,\n)\ndef f(): ...'),
    ("@flow(  # why\n    retries=1\n)\ndef f(): ...",
     '@flow(  # why\n    name="p__f_flow",\n    retries=1\n)\ndef f(): ...'),
    ("@prefect.flow\n@other\ndef f(): ...", '@prefect.flow(name="p__f_flow")\n@other\ndef f(): ...'),
])
def test_set_flow_name_keeps_the_layout(before: str, after: str) -> None:
    module = set_flow_name(libcst.parse_module(before + "\n"), "f", 0, "p__f_flow")
    assert module is not None and module.code == after + "\n"


def test_set_flow_name_leaves_computed_names_alone() -> None:
    for source in ('@flow(name=f"p__{x}")\ndef f(): ...\n', "@flow(name=NAME)\ndef f(): ...\n",
                   '@flow(name=b"x")\ndef f(): ...\n'):
        assert set_flow_name(libcst.parse_module(source), "f", 0, "p__f_flow") is None
