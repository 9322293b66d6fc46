"""Property tests: any parameter value spliced into prefect.yaml reads back exactly.

"Exactly" means the same types and values with PyYAML (what scaffold and Prefect's YAML loader
use: YAML 1.1 rules) and with ruamel.yaml (YAML 1.2 rules, safe and round-trip), and every byte
of the file outside the inserted block unchanged. No value can inject YAML.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from scaffold.errors import UsageError
from scaffold.yamledit import (
    emit_flow,
    emit_scalar,
    insert_deployments,
    remove_deployments,
    replace_value,
)
from tests.helpers.splice import splice

FIXTURES = Path(__file__).parent / "fixtures" / "yaml"
# Files of different styles: plain, single- and double-quoted values, CRLF, indented lists,
# 4-space indent, flow-style list, empty list, no key.
BASES = ["insert_prefect_template", "insert_quotes_single", "insert_quotes_double", "insert_crlf",
         "insert_seq_indented", "insert_indent_4", "insert_flow_style_list", "insert_empty_list",
         "insert_no_key", "insert_anchors_aliases_merge"]
BEFORE = {name: (FIXTURES / name / "before.yaml").read_bytes().decode() for name in BASES}

_RUAMEL_SAFE = YAML(typ="safe")
_RUAMEL_RT = YAML(typ="rt")

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Strings that resolve to something else when written plain under YAML 1.1 or 1.2 rules,
# or that carry YAML syntax.
TRICKY = ["yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "", " ",
          "1e3", "1E5", "+1e3", "0o17", "0x1F", "0b101", "09", "1_000", "1:20", "1.", ".5",
          ".inf", "-.Inf", ".NaN", "2024-01-01", "2024-01-01 10:00:00", "=", "<<", "-", "- x",
          "? x", ": x", "a: b", "a:b", "a #b", "#", "a#b", "{{ x }}", "{x: 1}", "[1]", "*x",
          "&x", "!x", "!!str", "%YAML", "@x", "`x`", "|", ">", "'", '"', "\\", "\\n", "---",
          "...", "\t", "\n", "\r\n", "\r", " lead", "trail ", "\x00", "\x07", "\x1b[0m",
          "\x7f", "\x85", "\xa0", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "été",
          "🌾", "\U0010ffff", "C:\\dir\\", "it's", 'say "hi"', "a\\\"b", "x" * 300]

text = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=4).map("".join),
)
scalars = st.one_of(
    text,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
parameters = st.dictionaries(text, values, max_size=4)


def plain(value: Any) -> Any:
    """ruamel.yaml's round-trip types (CommentedMap, ScalarFloat, ...) as plain Python ones."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Equal with types: True is not 1, 1 is not 1.0, -0.0 is not 0.0, NaN is NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return (len(a) == len(b) and all(same(ka, kb) and same(a[ka], b[kb])
                                         for ka, kb in zip(a, b)))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def load_all(text_: str) -> list[Any]:
    """The document as read by PyYAML (C and Python loaders) and ruamel.yaml (safe and rt)."""
    return [
        yaml.load(text_, Loader=yaml.CSafeLoader),
        yaml.safe_load(text_),
        _RUAMEL_SAFE.load(text_),
        plain(_RUAMEL_RT.load(io.StringIO(text_))),
    ]


@PROPS
@given(base=st.sampled_from(BASES), params=parameters, description=values)
@example(base="insert_quotes_single", params={"s": "a\nb"}, description="it's")
@example(base="insert_prefect_template", params={"exp": "1e3", "oct": "0o17", "z": "09"},
         description="yes")
@example(base="insert_crlf", params={"k": "\r\n"}, description="\x85\u2028")
def test_inserted_parameters_read_back_exactly(base: str, params: dict, description: Any):
    before = BEFORE[base]
    entry = {"name": "farm__harvest__x", "description": description,
             "entrypoint": "flows/harvest.py:harvest_flow", "parameters": params}
    after = insert_deployments(before, [entry])

    old = (yaml.safe_load(before) or {}).get("deployments") or []
    for loaded in load_all(after):
        assert same(loaded["deployments"][-1], plain(entry))
        assert len(loaded["deployments"]) == len(old) + 1
    # nothing outside the inserted block changed (empty list: its key line may change)
    if base not in {"insert_empty_list", "insert_flow_style_list"}:
        start, end = splice(before, after)
        assert after[:start] + after[end:] == before
        if "\r\n" in before:
            assert "\n" not in after[start:end].replace("\r\n", "")


@PROPS
@given(value=values, quote=st.sampled_from(["", "'", '"']))
def test_emitted_scalars_and_flow_values_read_back_exactly(value: Any, quote: str):
    if isinstance(value, dict | list):
        docs = [f"k: {emit_flow(value, quote)}\n", f"- [{emit_flow(value, quote)}]\n"]
    else:
        docs = [f"k: {emit_scalar(value, quote)}\n", f"- [{emit_flow(value, quote)}]\n",
                f"? {emit_scalar(value, quote)}\n: v\n"]
    for doc in docs:
        for loaded in load_all(doc):
            got = (loaded["k"] if "k" in doc[:2] else loaded[0][0] if doc[0] == "-"
                   else next(iter(loaded)))
            assert same(got, value), doc


@PROPS
@given(base=st.sampled_from(["replace_plain", "replace_single_quoted",
                             "replace_double_quoted_comment", "replace_null",
                             "replace_crlf_non_ascii", "replace_flow_item"]),
       value=st.one_of(text, st.integers(), st.booleans(), st.none(), st.floats()))
def test_replaced_value_reads_back_exactly(base: str, value: Any):
    before = (FIXTURES / base / "before.yaml").read_bytes().decode()
    target = (yaml.safe_load(before)["deployments"][-1]).get("name")
    after = replace_value(before, target, "entrypoint", value)
    for loaded in load_all(after):
        entry = next(d for d in loaded["deployments"] if d.get("name") == target)
        assert same(entry["entrypoint"], value)
    # one line changed, the others are byte for byte the same
    b_lines, a_lines = before.splitlines(True), after.splitlines(True)
    assert len(a_lines) == len(b_lines)
    assert sum(x != y for x, y in zip(b_lines, a_lines)) == 1


@PROPS
@given(base=st.sampled_from(BASES), params=parameters)
def test_insert_then_remove_gives_the_file_back(base: str, params: dict):
    before = BEFORE[base]
    entry = {"name": "farm__harvest__x", "entrypoint": "flows/harvest.py:harvest_flow",
             "parameters": params}
    after = remove_deployments(insert_deployments(before, [entry]), ["farm__harvest__x"])
    if base in {"insert_empty_list", "insert_no_key", "insert_flow_style_list"}:
        assert yaml.safe_load(after) == {**(yaml.safe_load(before) or {}),
                                         "deployments": (yaml.safe_load(before) or {}).get(
                                             "deployments") or []}
    else:
        assert after == before


surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
with_surrogate = st.tuples(text, surrogate, text).map("".join)


@settings(max_examples=50, deadline=None)
@given(bad=with_surrogate, where=st.sampled_from(["value", "key", "nested", "description"]))
def test_lone_surrogates_are_a_usage_error(bad: str, where: str):
    params = {"value": {"k": bad}, "key": {bad: 1}, "nested": {"k": [1, {"x": bad}]},
              "description": {}}[where]
    entry = {"name": "farm__harvest__x", "entrypoint": "flows/harvest.py:harvest_flow",
             "parameters": params}
    if where == "description":
        entry["description"] = bad
    for base in ("insert_prefect_template", "insert_flow_style_list", "insert_quotes_single"):
        with pytest.raises(UsageError) as info:
            insert_deployments(BEFORE[base], [entry])
        assert "surrogate" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(UsageError):
        replace_value(BEFORE["insert_prefect_template"], "farm__plant", "entrypoint", bad)


@pytest.mark.parametrize("size", [1000, 1022, 1100, 5000])
def test_keys_longer_than_yaml_allows_are_a_usage_error(size: int):
    """An implicit key is limited to 1024 characters (quotes included)."""
    before = BEFORE["insert_prefect_template"]
    for key in ("k" * size, "é" * size):
        entry = {"name": "farm__harvest__x", "entrypoint": "flows/harvest.py:harvest_flow",
                 "parameters": {"nested": {key: [1]}}}
        if len(emit_scalar(key)) > 1024:
            with pytest.raises(UsageError) as info:
                insert_deployments(before, [entry])
            assert "at most 1024" in str(info.value)
            continue
        for loaded in load_all(insert_deployments(before, [entry])):
            assert same(loaded["deployments"][-1], entry)
