"""Property: any parameter value arrives exactly in prefect.yaml and in the Python default.

No YAML or code injection: quotes, backslashes, newlines, '#', ': ', '{{ }}', non-ASCII, control
characters all round-trip. Checked by loading both back (yaml.safe_load, ruamel.yaml, ast).
"""

from __future__ import annotations

import ast
import itertools
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from scaffold.errors import UsageError
from scaffold.generate.core import new_flow, new_project
from scaffold.generate.options import BIDI_CONTROLS
from scaffold.generate.params import is_template
from scaffold.repo import Repo

_counter = itertools.count()

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
tricky = st.sampled_from(['a: b', '#x', "it's", 'say "hi"', "back\\slash", "{{ prefect.x }}",
                          "line\nbreak", " lead", "trail ", "yes", "null", "1e3", "- item",
                          "[x]", "{a: 1}", "\t", "\x00\x07", "\u2028", "é日本", "abc\u202edef", "@at", "%pct",
                          "`tick`", "*star", "&amp", "!tag", "|pipe", ">gt", "?q", "~", ""])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def farm_model() -> Repo:
    """The model of one scratch repository with project farm, shared by the module's examples."""
    with tempfile.TemporaryDirectory(prefix="scaffold-props-") as tmp:
        (Path(tmp) / "projects").mkdir()
        repo = Repo(tmp)
        new_project(repo, "farm")
        yield repo


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)


def _check(farm_model: Repo, raw_param: str, expected) -> None:
    flow = f"f{next(_counter)}"
    if any(c in BIDI_CONTROLS for t in _texts(expected) for c in t):
        before = farm_model.config_path("farm").read_bytes()
        with pytest.raises(UsageError, match="bidirectional control character"):
            new_flow(farm_model, "farm", flow, [raw_param], suffix="v")
        assert farm_model.config_path("farm").read_bytes() == before
        return
    new_flow(farm_model, "farm", flow, [raw_param], suffix="v")
    config = farm_model.config_path("farm").read_text(encoding="utf-8")
    (entry,) = [d for d in yaml.safe_load(config)["deployments"] if d["name"] == f"farm__{flow}__v"]
    assert entry["parameters"] == {"p": expected}
    (rt_entry,) = [d for d in YAML(typ="safe", pure=True).load(config)["deployments"]
                   if d["name"] == f"farm__{flow}__v"]
    assert rt_entry["parameters"] == {"p": expected}
    tree = ast.parse(farm_model.flow_file("farm", flow).read_text(encoding="utf-8"))
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f"{flow}_flow")
    assert [a.arg for a in func.args.args] == ["p"]
    default = ast.literal_eval(func.args.defaults[0])
    if isinstance(expected, list | dict):
        # no mutable default: None, and the body fills in the value
        assert default is None
        fill = next(n for n in func.body if isinstance(n, ast.If))
        assert ast.literal_eval(fill.body[0].value) == expected
    elif is_template(expected):
        assert default is None  # a template belongs to the deployment, not to the Python default
    else:
        assert default == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=text | tricky)
def test_any_text_value_round_trips(farm_model: Repo, value: str):
    _check(farm_model, f"p:str={value}", value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_value_round_trips(farm_model: Repo, value):
    _check(farm_model, f"p:json={json.dumps(value)}", value)


def test_undecodable_argument_is_refused(farm_model: Repo):
    before = farm_model.config_path("farm").read_bytes()
    with pytest.raises(UsageError, match="not valid text"):
        new_flow(farm_model, "farm", "bad", ["p=caf\udce9"], suffix="v")
    assert farm_model.config_path("farm").read_bytes() == before
    assert not farm_model.flow_file("farm", "bad").exists()
