"""scaffold.prefect_yaml: the one loader (marks, limits), the shape check and the typed model."""

from __future__ import annotations

import time

import pytest
import yaml

from scaffold import prefect_yaml
from scaffold.errors import ConfigError
from scaffold.prefect_yaml import compose, load, pairs


def test_compose_returns_nodes_and_data():
    node, data = compose("a: [1, 2]\n")
    assert data == {"a": [1, 2]} and node.value[0][0].value == "a"
    assert compose("") == (None, None)


def test_compose_leaves_the_garbage_collector_as_it_was():
    import gc

    assert gc.isenabled()
    compose("a: [1, 2]\n")
    assert gc.isenabled()
    gc.disable()
    try:
        compose("a: 1\n")
        with pytest.raises(ConfigError):
            compose("a: [\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ConfigError):
        compose("a: [\n")
    assert gc.isenabled()


def test_reads_use_libyaml_when_available():
    import yaml

    from scaffold import prefect_yaml

    if yaml.__with_libyaml__:
        assert "CParser" in [c.__name__ for c in prefect_yaml._Loader.__mro__]


# -- limits: alias bombs and recursive aliases -------------------------------------------------


def billion_laughs(levels: int = 9, merge: bool = False) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
             if not merge else "a0: &a0 {lol: 1}"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]" if not merge else f"a{i}: &a{i} {{<<: [{refs}]}}")
    return "name: farm\n" + "\n".join(lines) + "\ndeployments: []\n"


@pytest.mark.parametrize("merge", [False, True], ids=["aliases", "merge-keys"])
def test_an_alias_bomb_is_refused_at_once_with_one_line(merge):
    text = billion_laughs(merge=merge)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load(text, "projects/farm/prefect.yaml")
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert message.startswith("projects/farm/prefect.yaml:")
    assert "refused: aliases expand the file to" in message and "alias bomb" in message
    assert "\n" not in message
    assert elapsed < 0.5, elapsed  # a bound, not a benchmark: without it this never ends


def test_a_moderate_use_of_aliases_is_fine():
    text = billion_laughs(levels=4)  # 9**4 = 6,561 values
    assert len(load(text).data["a4"]) == 9


def test_many_entries_merging_one_anchor_are_fine():
    entries = "".join(f"- <<: *base\n  name: farm__f{i}\n" for i in range(3000))
    doc = load("base: &base {entrypoint: flows/f.py:f_flow, parameters: {a: 1}, tags: [x]}\n"
               "deployments:\n" + entries)
    assert len(doc.items) == 3000 and doc.items[-1].data["tags"] == ["x"]


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n",
                                  "deployments:\n- &d {name: x, self: [*d]}\n"])
def test_a_recursive_alias_is_refused(text):
    with pytest.raises(ConfigError) as info:
        load(text, "p.yaml")
    assert str(info.value).startswith("p.yaml:") and "recursive alias" in str(info.value)


def test_deep_nesting_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        load("a: " + "[" * 20000 + "]" * 20000 + "\n", "p.yaml")
    assert str(info.value).startswith("p.yaml") and "\n" not in str(info.value)


# -- merge keys, once ----------------------------------------------------------------------------


def test_pairs_resolve_merge_keys_like_pyyaml_and_leave_the_graph_as_written():
    text = ("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
            "c:\n  <<: [*a, *b]\n  z: 3\n")
    root, data = compose(text)
    assert data["c"] == yaml.safe_load(text)["c"] == {"x": 1, "y": 1, "z": 3}
    c = root.value[2][1]
    assert [k.value for k, _ in c.value] == ["<<", "z"]  # not rewritten by the loader
    got = {p.name: (p.own, p.value.value) for p in pairs(c)}
    assert got["x"] == (False, "1") and got["z"] == (True, "3")
    assert prefect_yaml.keys(c)["y"].value.value == "1"  # *a wins over *b, as in PyYAML


def test_item_keys_own_alias_marks_and_editable():
    doc = load("base: &base {work_pool: {name: p}}\npool: &pool x\n"
               "deployments:\n- <<: *base\n  name: farm__a\n  entrypoint: *pool\n"
               "  tags:\n  - a\n")
    item = doc.items[0]
    assert item.own("work_pool") is None and item.keys["work_pool"].own is False
    assert item.keys["entrypoint"].alias and not item.editable("entrypoint")
    assert item.editable("name") and not item.editable("tags")
    assert item.marks["name"] == (5, 9)
    assert item.marks["entrypoint"] == (6, 3)  # an alias points at its key
    assert item.marks["tags"] == (7, 3)  # a block list points at its key
    assert item.marks["work_pool"] == (1, 25)  # a merged key points at its value


# -- duplicate keys -------------------------------------------------------------------------------


def test_duplicate_keys_are_recorded_with_lines():
    doc = load("name: farm\nname: farm2\ndeployments:\n- name: a\n  entrypoint: x\n"
               "  entrypoint: y\n", "p.yaml")
    assert doc.data["name"] == "farm2"  # the loader keeps the last one, as PyYAML does
    assert sorted(doc.duplicates) == [(2, 1, "name", 1), (6, 3, "entrypoint", 5)]


def test_a_key_overriding_a_merged_one_is_not_a_duplicate():
    doc = load("b: &b {name: x}\nc:\n  <<: *b\n  name: y\n")
    assert doc.duplicates == [] and doc.data["c"] == {"name": "y"}


# -- the shape check: one set of messages --------------------------------------------------------


@pytest.mark.parametrize("text, where, message", [
    ("- a\n", (1, 1), "prefect.yaml is a list; it must be a mapping of keys (name, deployments, ...)"),
    ("just text\n", (1, 1), "prefect.yaml is a string; it must be a mapping of keys"),
    ("deployments:\n  a: {}\n", (2, 3), "'deployments' is a mapping; it must be a list of entries ('- name: ...')"),
    ("deployments: 3\n", (1, 14), "'deployments' is a number; it must be a list of entries"),
    ("deployments:\n  - farm__x\n", (2, 5), "deployment #1 is a string; it must be a mapping with 'name' and 'entrypoint'"),
    ("deployments:\n- name: a\n-\n", (3, 2), "deployment #2 is empty (null); it must be a mapping"),
])
def test_shape_errors_have_one_message_each_with_line_and_column(text, where, message):
    with pytest.raises(ConfigError) as info:
        load(text, "p.yaml")
    assert str(info.value).startswith(f"p.yaml:{where[0]}: {message}")
    assert (info.value.line, info.value.column) == where


def test_sections_have_values_and_lines():
    doc = load("name: farm\npull:\n  - a: 1\n\n    b: 2\n# comment\nbuild: null\n"
               "deployments: []\n")
    assert doc.section("pull").value == [{"a": 1, "b": 2}]
    assert doc.section("pull").lines == (2, 5)
    assert doc.section("build").lines == (7, 7) and doc.section("push") is None


def test_a_bom_is_not_part_of_the_text():
    doc = load("\ufeffname: farm\nb: 1\n")
    assert doc.data == {"name": "farm", "b": 1} and doc.keys["name"].key_mark == (1, 1)
    assert doc.bom == "\ufeff" and doc.text[doc.keys["b"].key.start_mark.index] == "b"


def test_every_reader_refuses_an_alias_bomb_through_the_commands(scratch_repo):
    """new-deployment (yamledit), new-flow (generate), lint (summarize) on a billion-laughs
    prefect.yaml: each ends at once; the generators with one line and exit 2."""
    from tests.helpers.cli import invoke

    assert invoke("new-project", "farm").exit_code == 0
    assert invoke("new-flow", "farm", "harvest", "--param", "season=a").exit_code == 0
    config = scratch_repo / "projects" / "farm" / "prefect.yaml"
    text = config.read_text() + billion_laughs().replace("name: farm\n", "").replace(
        "deployments: []\n", "")
    config.write_text(text)
    for args, code in [(["new-deployment", "farm", "harvest", "--param", "season=b"], 2),
                       (["new-flow", "farm", "plant"], 2), (["lint"], 1)]:
        start = time.perf_counter()
        result = invoke(*args)
        assert time.perf_counter() - start < 5, args  # a bound: without the limit, forever
        output = result.stdout + result.stderr  # lint reports it, the generators refuse it
        assert result.exit_code == code, (args, output)
        assert "aliases expand the file to" in output, args
    assert config.read_text() == text
    assert not (scratch_repo / "projects" / "farm" / "flows" / "plant.py").exists()


def test_a_yaml_error_quoting_odd_text_is_one_line():
    """PyYAML quotes what it found (a tag, an escape): the message must stay one line."""
    from scaffold.errors import ConfigError
    from scaffold.prefect_yaml import parse

    with pytest.raises(ConfigError) as info:
        parse('a: "\\q\x1b[2J"\n', "p.yaml")
    assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
