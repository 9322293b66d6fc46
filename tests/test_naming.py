"""The naming conventions (scaffold.naming): validation, builders, exact parsing, suffixes."""

from __future__ import annotations

import keyword
import string
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold import naming
from scaffold.errors import UsageError
from scaffold.naming import (
    DeploymentName,
    FlowName,
    NamingError,
    check_flow,
    check_part,
    deployment_name,
    entrypoint,
    flow_file,
    flow_function,
    flow_name,
    flow_of_entrypoint,
    flow_of_function,
    flow_path,
    is_valid_part,
    parse_deployment_name,
    parse_entrypoint,
    parse_flow_name,
    suffix_from_value,
    suggest,
    validate_flow,
    validate_project,
    validate_suffix,
)

VALIDATORS = [validate_project, validate_flow, validate_suffix]

# -- validation --------------------------------------------------------------------------------

VALID = ["farm", "harvest", "dw_tutorial", "a1", "a", "x9_y8", "match", "case", "flow"]

INVALID = [  # (name, words the message must contain)
    ("Harvest", "lowercase"),
    ("harvest-2", "snake_case"),
    ("2harvest", "start with a letter"),
    ("class", "keyword"),
    ("None", "lowercase"),
    ("async", "keyword"),
    ("a__b", "'__' separates"),
    ("_x", "start with '_'"),
    ("x_", "end with '_'"),
    ("", "empty"),
    ("a/b", "not a path"),
    ("../farm", "not a path"),
    ("..", "not a path"),
    (".", "not a path"),
    ("a\\b", "not a path"),
    ("a b", "snake_case"),
    ("a.b", "snake_case"),
    ("été", "ASCII"),
    ("farm\n", "snake_case"),
    ("\tfarm", "snake_case"),
]


@pytest.mark.parametrize("name", VALID)
@pytest.mark.parametrize("validate", VALIDATORS)
def test_valid_names(validate, name):
    assert validate(name) == name
    assert is_valid_part(name) and check_part(name) is None


@pytest.mark.parametrize("name, words", INVALID)
@pytest.mark.parametrize("validate", VALIDATORS)
def test_invalid_names(validate, name, words):
    with pytest.raises(NamingError) as info:
        validate(name)
    err = info.value
    assert isinstance(err, UsageError) and err.exit_code == 2
    msg = str(err)
    assert words in msg
    assert repr(name) in msg  # names the value
    assert "\n" not in msg and "\r" not in msg  # one line
    assert not is_valid_part(name)


@pytest.mark.parametrize("validate, kind", [
    (validate_project, "project name"), (validate_flow, "flow name"),
    (validate_suffix, "deployment suffix")])
def test_message_says_what_and_how(validate, kind):
    with pytest.raises(NamingError) as info:
        validate("Harvest-Time")
    assert str(info.value) == (f"invalid {kind} 'Harvest-Time': use lowercase ASCII letters, "
                               "digits and '_' (try 'harvest_time')")


def test_flow_name_with_the_flow_suffix():
    with pytest.raises(NamingError) as info:
        validate_flow("harvest_flow")
    assert str(info.value) == ("invalid flow name 'harvest_flow': drop the '_flow' suffix, it is "
                               "added to the function (try 'harvest')")
    # only the flow part carries the rule: a project or suffix may end in _flow
    assert validate_project("harvest_flow") == "harvest_flow"
    assert validate_suffix("cash_flow") == "cash_flow"


@pytest.mark.parametrize("name", ["email", "calendar", "json", "queue", "statistics", "prefect",
                                  "pydantic", "yaml", "httpx"])
def test_flow_name_shadowing_a_module_is_refused(name):
    with pytest.raises(NamingError) as info:
        validate_flow(name)
    msg = str(info.value)
    assert f"flows/{name}.py would shadow the Python module '{name}'" in msg
    assert f"(try '{name}_job')" in msg
    assert validate_project(name) == name  # projects are folders, not modules


def test_every_stdlib_module_is_refused_as_a_flow():
    for name in sys.stdlib_module_names:
        assert check_flow(name) is not None, name


@pytest.mark.parametrize("name", ["class", "..", "", "__", "_"])
def test_no_hint_that_equals_the_value_or_is_invalid(name):
    with pytest.raises(NamingError) as info:
        validate_project(name)
    assert info.value.hint == "" or is_valid_part(info.value.hint)
    assert "(try ''" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_hints_are_valid_names_of_their_kind(value):
    for validate, check in [(validate_project, check_part), (validate_suffix, check_part),
                            (validate_flow, check_flow)]:
        try:
            validate(value)
        except NamingError as err:
            assert err.hint == "" or check(err.hint) is None, (value, err.hint)
            assert "\n" not in str(err) and "\r" not in str(err)
            assert str(err).startswith("invalid ")


@pytest.mark.parametrize("value", [None, 3, b"farm", ["farm"]])
def test_non_strings_are_invalid(value):
    assert not is_valid_part(value)
    for validate in VALIDATORS:
        with pytest.raises(NamingError):
            validate(value)
    assert parse_deployment_name(value) is None
    assert parse_flow_name(value) is None
    assert parse_entrypoint(value) is None


def test_every_keyword_is_refused():
    for word in keyword.kwlist:
        if word.islower():
            assert check_part(word) == "it is a Python keyword"


# -- builders ----------------------------------------------------------------------------------


def test_builders_for_the_seed_example():
    assert flow_file("harvest") == "harvest.py"
    assert flow_path("harvest") == "flows/harvest.py"
    assert flow_function("harvest") == "harvest_flow"
    assert flow_name("farm", "harvest") == "farm__harvest_flow"
    assert deployment_name("farm", "harvest") == "farm__harvest"
    assert deployment_name("farm", "harvest", "winter") == "farm__harvest__winter"
    assert deployment_name("farm", "harvest", "summer") == "farm__harvest__summer"
    assert deployment_name("farm", "harvest", None) == "farm__harvest"
    assert entrypoint("harvest") == "flows/harvest.py:harvest_flow"
    assert naming.CONFIG_FILE == "prefect.yaml" and naming.FLOWS_DIR == "flows"


def test_entrypoint_helpers():
    assert parse_entrypoint("flows/harvest.py:harvest_flow") == ("flows/harvest.py", "harvest_flow")
    assert parse_entrypoint("C:/x/flows/h.py:h_flow") == ("C:/x/flows/h.py", "h_flow")
    for bad in ["flows/harvest.py", ":harvest_flow", "flows/harvest.py:", ""]:
        assert parse_entrypoint(bad) is None
    assert flow_of_entrypoint("flows/harvest.py:harvest_flow") == "harvest"
    assert flow_of_entrypoint("./flows/harvest.py:other") == "harvest"
    assert flow_of_entrypoint("flows\\harvest.py:harvest_flow") == "harvest"
    for bad in ["harvest.py:harvest_flow", "src/harvest.py:harvest_flow",
                "flows/sub/harvest.py:harvest_flow", "flows/harvest.txt:x", "nonsense"]:
        assert flow_of_entrypoint(bad) is None
    assert flow_of_function("harvest_flow") == "harvest"
    assert flow_of_function("_flow") is None
    assert flow_of_function("harvest") is None


# -- exact parsing -----------------------------------------------------------------------------


def test_parse_the_seed_example():
    assert parse_deployment_name("farm__harvest") == DeploymentName("farm", "harvest", None)
    assert parse_deployment_name("farm__harvest__winter") == DeploymentName("farm", "harvest",
                                                                            "winter")
    assert parse_flow_name("farm__harvest_flow") == FlowName("farm", "harvest")
    assert str(DeploymentName("farm", "harvest", "winter")) == "farm__harvest__winter"
    assert str(FlowName("farm", "harvest")) == "farm__harvest_flow"


@pytest.mark.parametrize("name", [
    "farm", "farm__", "__harvest", "farm__harvest__", "farm__harvest__winter__x",
    "Farm__harvest", "farm__Harvest", "farm___harvest", "farm__harvest___winter",
    "farm__harvest_flow",  # a flow name is not a deployment name
    "farm-x__harvest", "farm__harvest__2x", "farm__class", "",
    "farm__harvest__winter ", " farm__harvest",
])
def test_invalid_deployment_names_parse_to_none(name):
    assert parse_deployment_name(name) is None


@pytest.mark.parametrize("name", [
    "farm__harvest", "farm_harvest_flow", "farm__harvest_flow_flow", "farm__harvest__x_flow",
    "farm___harvest_flow", "_farm__harvest_flow", "farm__Harvest_flow", "farm__class_flow",
    "farm__harvest_Flow", "_flow", "farm___flow", "farm__harvest_flow ",
])
def test_invalid_flow_names_parse_to_none(name):
    assert parse_flow_name(name) is None


parts = st.from_regex(r"[a-z]([a-z0-9]|_(?=[a-z0-9])){0,12}", fullmatch=True).filter(
    lambda p: not keyword.iskeyword(p))
flows = parts.filter(lambda p: not p.endswith("_flow"))


@settings(max_examples=300, deadline=None)
@given(project=parts, flow=flows, suffix=st.none() | parts)
def test_parse_inverts_build_exactly(project, flow, suffix):
    dep = deployment_name(project, flow, suffix)
    assert parse_deployment_name(dep) == DeploymentName(project, flow, suffix)
    assert str(parse_deployment_name(dep)) == dep
    fname = flow_name(project, flow)
    assert parse_flow_name(fname) == FlowName(project, flow)
    assert str(parse_flow_name(fname)) == fname
    assert flow_of_entrypoint(entrypoint(flow)) == flow
    assert flow_of_function(flow_function(flow)) == flow
    # a deployment name is never a flow name and the other way round
    assert parse_flow_name(dep) is None or dep.endswith("_flow")
    assert parse_deployment_name(fname) is None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet=string.ascii_lowercase + "_09", max_size=30),
                 st.text(max_size=30)))
def test_parse_is_exact_or_none(name):
    dep = parse_deployment_name(name)
    if dep is not None:
        assert str(dep) == name
        assert all(is_valid_part(p) for p in (dep.project, dep.flow, dep.suffix or "x"))
    flow = parse_flow_name(name)
    if flow is not None:
        assert str(flow) == name
        assert is_valid_part(flow.project) and check_part(flow.flow) is None


# -- suffixes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, suffix", [
    ("season", "winter", "winter"),
    ("days", 3, "days_3"),
    ("days", -3, "days_minus_3"),
    ("days", 0, "days_0"),
    ("region", "EU West", "eu_west"),
    ("full", True, "full_true"),
    ("full", False, "full_false"),
    ("ratio", 0.5, "ratio_0_5"),
    ("ratio", -0.5, "ratio_minus_0_5"),
    ("season", "Été", "ete"),
    ("season", "  winter  ", "winter"),
    ("kind", "class", "kind_class"),
    ("year", "2024", "year_2024"),
    ("name", "harvest__winter", "harvest_winter"),
    ("name", "Harvest-Time!", "harvest_time"),
])
def test_suffix_from_value(key, value, suffix):
    assert suffix_from_value(key, value) == suffix
    assert validate_suffix(suffix) == suffix


@pytest.mark.parametrize("key, value, shown", [
    ("season", "", "season="),
    ("season", "!!!", "season=!!!"),
    ("season", "日本", "season=日本"),
    ("tables", ["a", "b"], 'tables=["a", "b"]'),
    ("options", {"a": 1}, 'options={"a": 1}'),
    ("maybe", None, "maybe=null"),
])
def test_value_with_no_suffix_asks_for_suffix(key, value, shown):
    with pytest.raises(NamingError) as info:
        suffix_from_value(key, value)
    msg = str(info.value)
    assert "--suffix" in msg
    assert repr(shown) in msg
    assert "\n" not in msg


def test_signs_give_different_suffixes():
    assert suffix_from_value("d", 3) != suffix_from_value("d", -3)


@settings(max_examples=300, deadline=None)
@given(key=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
       value=st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
                       st.none(), st.lists(st.integers(), max_size=2)))
def test_suffix_is_valid_or_asks_for_suffix(key, value):
    try:
        suffix = suffix_from_value(key, value)
    except NamingError as err:
        assert "--suffix" in str(err) and "\n" not in str(err)
    else:
        assert check_part(suffix) is None


def test_suggest():
    assert suggest("HarvestTime") == "harvest_time"
    assert suggest("harvest-2") == "harvest_2"
    assert suggest("2harvest") == "n2harvest"
    assert suggest("class") == "class_x"
    assert suggest("Île de France") == "ile_de_france"
    assert suggest("__") == ""


# -- length, device names, installed packages (issue 8 §2, §8) --------------------------------


def test_maximum_length_of_a_name_part():
    ok = "a" * naming.MAX_PART_LENGTH
    assert check_part(ok) is None and check_flow(ok) is None
    long = ok + "b"
    assert check_part(long) == "it is 64 characters long; the maximum is 63"
    for validate, kind in ((naming.validate_project, "project name"),
                           (naming.validate_flow, "flow name"),
                           (naming.validate_suffix, "deployment suffix")):
        with pytest.raises(NamingError) as err:
            validate("x" * 300)
        message = str(err.value)
        assert message.startswith(f"invalid {kind} 'xxxx") and "300 characters long" in message
        assert "\n" not in message and len(message) < 250  # the value is shortened in the message
        assert len(err.value.hint) <= naming.MAX_PART_LENGTH


def test_longest_names_fit_file_system_limits():
    part = "a" * naming.MAX_PART_LENGTH
    assert len(flow_file(part).encode()) + len(".cpython-399t.pyc") <= 255
    assert len(f".{flow_file(part)}.XXXXXXXX.tmp") <= 255  # the exclusive-create temp name
    assert len(deployment_name(part, part, part)) == 3 * 63 + 4
    assert len(flow_name(part, part)) == 2 * 63 + 2 + len("_flow")


def test_conventions_md_states_the_limits():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text()
    table = text.split("<!-- example: limits -->", 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in table.strip().splitlines()[2:]]
    limits = {what: int(n) for what, n in rows}
    part = "a" * naming.MAX_PART_LENGTH
    assert limits == {
        "name part (project, flow, suffix)": naming.MAX_PART_LENGTH,
        "flow file name `<FLOW_NAME>.py`": len(flow_file(part)),
        "`@flow` decorator `name` parameter": len(flow_name(part, part)),
        "deployment name, parameterized": len(deployment_name(part, part, part)),
    }
    assert f"at most {naming.MAX_PART_LENGTH} characters" in text


@pytest.mark.parametrize("name", ["con", "nul", "aux", "prn", "com1", "com9", "lpt1", "lpt9"])
def test_windows_device_names_are_not_file_names(name: str):
    assert "device name on Windows" in check_flow(name)
    assert "device name on Windows" in naming.check_project(name)
    with pytest.raises(NamingError, match="device name on Windows") as err:
        naming.validate_project(name)
    assert check_part(name) is None  # a parameter suffix is no file: farm__harvest__con is fine
    assert err.value.hint == ""  # suggest(name) is the name itself: no hint
    with pytest.raises(NamingError) as err:
        naming.validate_flow(name)
    assert err.value.hint == f"{name}_job"


def test_com0_and_longer_names_are_fine():
    assert check_flow("com0") is None and check_flow("console") is None


class Recording:
    def __init__(self, names):
        self.names, self.asked = set(names), []

    def __contains__(self, name):
        self.asked.append(name)
        return name in self.names


def test_installed_packages_are_refused_as_flow_names():
    installed = Recording({"pandas", "requests"})
    assert "installed package 'pandas'" in check_flow("pandas", installed)
    with pytest.raises(NamingError, match="shadow the installed package 'requests'") as err:
        naming.validate_flow("requests", installed)
    assert err.value.hint == "requests_job"
    assert check_flow("pandas") is None  # the caller decides what is installed
    # asked only for a name that passed every other rule (the lookup may cost I/O)
    installed.asked.clear()
    check_flow("Bad-Name", installed)
    check_flow("json", installed)
    assert installed.asked == []


def test_conventions_spelled_once():
    assert naming.task_function("harvest") == "harvest_task"
    assert naming.DEFAULT_WORK_POOL == "default-pool" and naming.DEFAULT_TIMEZONE == "UTC"
