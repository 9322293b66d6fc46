"""Byte-exact golden tests of scaffold.yamledit, plus its file helpers and the lock.

Each folder under tests/fixtures/yaml/ holds ``before.yaml``, ``after.yaml`` and, unless the case
is "insert ENTRY", an ``op.json`` (``insert`` with entries, ``remove`` with names, ``replace``
with deployment/key/value). The fixtures are marked ``-text`` in .gitattributes so CRLF line
endings and missing final newlines reach the tests unchanged.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import yaml

from scaffold import yamledit
from scaffold.errors import ConfigError, UsageError
from scaffold.yamledit import (
    YamlEditError,
    insert_deployments,
    remove_deployments,
    replace_value,
    update_file,
)
from tests.helpers.splice import splice
from tests.helpers.yaml_golden import CASES, ENTRY, FIXTURES, load_op, read


def apply(op: dict, text: str) -> str:
    if op["op"] == "insert":
        return insert_deployments(text, op.get("entries", [ENTRY]))
    if op["op"] == "remove":
        return remove_deployments(text, op["names"])
    if op["op"] == "replace":
        return replace_value(text, op["deployment"], op["key"], op["value"])
    raise AssertionError(f"unknown op {op}")


def data(text: str) -> dict:
    return yaml.safe_load(text) or {}


def test_every_case_has_a_golden_file():
    assert len(CASES) >= 50
    missing = [c for c in CASES if not (FIXTURES / c / "after.yaml").is_file()]
    assert missing == []


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str):
    before = read(FIXTURES / case / "before.yaml")
    expected = read(FIXTURES / case / "after.yaml")
    got = apply(load_op(case), before)
    assert got == expected
    # the edit is idempotent in meaning: the result loads, with the same top-level keys
    assert set(data(got)) >= set(data(before)) - {"deployments"}


INSERT_CASES = [c for c in CASES if load_op(c)["op"] == "insert"]
# Cases where the "deployments: []" / null line itself is rewritten (the only allowed change).
KEY_LINE_CHANGES = {"insert_empty_list", "insert_empty_list_comment", "insert_null_explicit",
                    "insert_null_tilde", "insert_crlf_empty_list", "insert_indent_4_empty"}


@pytest.mark.parametrize("case", INSERT_CASES)
def test_insert_only_adds_a_block(case: str):
    """``after`` minus the inserted block is ``before``, byte for byte."""
    before = read(FIXTURES / case / "before.yaml")
    after = apply(load_op(case), before)
    if case in KEY_LINE_CHANGES:
        # the value on the key line goes; everything before that line and after it is kept
        line_no = next(i for i, line in enumerate(before.splitlines(True))
                       if line.lstrip().startswith("deployments:"))
        b_lines, a_lines = before.splitlines(True), after.splitlines(True)
        assert a_lines[:line_no] == b_lines[:line_no]
        tail = b_lines[line_no + 1:]
        assert a_lines[len(a_lines) - len(tail):] == tail
        assert a_lines[line_no].rstrip("\r\n").rstrip().startswith(
            b_lines[line_no].split(":")[0] + ":")
        return
    start, end = splice(before, after)
    assert after[:start] + after[end:] == before
    block = after[start:end]
    # the inserted text is whole lines, in the file's own line endings
    newline = "\r\n" if "\r\n" in before else "\n"
    assert block.count("\n") >= len(load_op(case).get("entries", [ENTRY])) or "[" in before
    if newline == "\r\n":
        assert block.count("\n") == block.count("\r\n")
    else:
        assert "\r" not in block
    # and the new entries are exactly what was asked, after the old ones
    old = data(before).get("deployments") or []
    assert data(after)["deployments"] == old + load_op(case).get("entries", [ENTRY])


@pytest.mark.parametrize("case", INSERT_CASES)
def test_insert_keeps_line_endings_and_bom(case: str):
    before = read(FIXTURES / case / "before.yaml")
    after = apply(load_op(case), before)
    if "\r\n" in before:
        assert "\n" not in after.replace("\r\n", "")
    assert after.startswith("\ufeff") == before.startswith("\ufeff")


@pytest.mark.parametrize("case", [c for c in CASES if load_op(c)["op"] == "remove"])
def test_remove_only_deletes(case: str):
    """Removal deletes whole lines (or flow items); everything else stays in order."""
    before = read(FIXTURES / case / "before.yaml")
    op = load_op(case)
    after = apply(op, before)
    kept = [d for d in data(before)["deployments"] if d["name"] not in op["names"]]
    assert (data(after)["deployments"] or []) == kept
    if kept and "[" not in before.split("deployments:")[1].split("\n")[0]:
        # block style: the result is `before` with some whole lines taken out
        it = iter(before.splitlines(True))
        assert all(any(line == b for b in it) for line in after.splitlines(True))


@pytest.mark.parametrize("case", [c for c in CASES if load_op(c)["op"] == "replace"])
def test_replace_changes_one_value(case: str):
    before = read(FIXTURES / case / "before.yaml")
    op = load_op(case)
    after = apply(op, before)
    b_lines, a_lines = before.splitlines(True), after.splitlines(True)
    assert len(a_lines) == len(b_lines)
    assert sum(a != b for a, b in zip(a_lines, b_lines)) == 1
    deps = data(after)["deployments"]
    target = (op["deployment"] if isinstance(op["deployment"], int)
              else next(i for i, d in enumerate(data(before)["deployments"])
                        if d["name"] == op["deployment"]))
    assert deps[target][op["key"]] == op["value"]


# -- pure-function details ---------------------------------------------------------------------


def test_insert_into_real_instructions_template_goes_before_the_comment_block():
    before = read(FIXTURES / "insert_prefect_template" / "before.yaml")
    after = insert_deployments(before, [ENTRY])
    new_at = after.index("- name: farm__harvest__winter")
    assert after.index("- name: farm__plant") < new_at < after.index("# Instructions for new")


def test_insert_twice_equals_insert_both():
    before = read(FIXTURES / "insert_seq_indented" / "before.yaml")
    second = dict(ENTRY, name="farm__harvest__summer", parameters={"season": "summer"})
    one_by_one = insert_deployments(insert_deployments(before, [ENTRY]), [second])
    assert one_by_one == insert_deployments(before, [ENTRY, second])


def test_remove_then_insert_round_trips():
    before = read(FIXTURES / "insert_seq_not_indented" / "before.yaml")
    added = insert_deployments(before, [ENTRY])
    assert remove_deployments(added, [ENTRY["name"]]) == before


def test_remove_unknown_name_returns_text_unchanged():
    before = read(FIXTURES / "remove_middle" / "before.yaml")
    assert remove_deployments(before, ["farm__nope"]) is before
    assert remove_deployments("name: farm\n", ["farm__plant"]) == "name: farm\n"


def test_replace_value_keeps_quote_style():
    text = "deployments:\n- name: farm__sow\n  entrypoint: 'flows/sow.py:sow'\n"
    out = replace_value(text, "farm__sow", "entrypoint", "flows/sow.py:sow_flow")
    assert out == "deployments:\n- name: farm__sow\n  entrypoint: 'flows/sow.py:sow_flow'\n"


def test_replace_value_escapes_what_the_style_cannot_hold():
    text = "deployments:\n- name: farm__sow\n  description: plain\n"
    out = replace_value(text, "farm__sow", "description", "a: b # c\nd")
    assert data(out)["deployments"][0]["description"] == "a: b # c\nd"
    assert out.count("\n") == text.count("\n")


# A block scalar becomes an inline scalar on the key's line; its content lines go, the rest of
# the file (a comment after the indicator, blank lines after the content) stays byte for byte.
@pytest.mark.parametrize("before, after", [
    ("deployments:\n- name: a__b\n  entrypoint: >-\n    flows/b.py:bb_flow\n  tags: [x]\n",
     "deployments:\n- name: a__b\n  entrypoint: flows/x.py:x_flow\n  tags: [x]\n"),
    ("deployments:\n- name: a__b\n  entrypoint: |+  # folded\n    x\n\n    y\n\n\n- name: c__d\n",
     "deployments:\n- name: a__b\n  entrypoint: flows/x.py:x_flow  # folded\n\n\n- name: c__d\n"),
    ("deployments:\n  - entrypoint: &e !!str >2-\n        x\n    name: a__b\n",
     "deployments:\n  - entrypoint: &e !!str flows/x.py:x_flow\n    name: a__b\n"),
    ("deployments:\r\n- name: a__b\r\n  entrypoint: >\r\n    x\r\n    y\r\n  tags: []\r\n",
     "deployments:\r\n- name: a__b\r\n  entrypoint: flows/x.py:x_flow\r\n  tags: []\r\n"),
    ("deployments:\n- name: a__b\n  entrypoint: |-\n    x",
     "deployments:\n- name: a__b\n  entrypoint: flows/x.py:x_flow\n"),
    ("deployments:\n- name: a__b\n  entrypoint: |\n", "deployments:\n- name: a__b\n  entrypoint: flows/x.py:x_flow\n"),
])
def test_replace_value_turns_a_block_scalar_into_an_inline_one(before, after):
    assert replace_value(before, "a__b", "entrypoint", "flows/x.py:x_flow") == after
    quoted = replace_value(before, "a__b", "entrypoint", "a: b")  # not plain-safe: quoted
    assert data(quoted)["deployments"][0]["entrypoint"] == "a: b"


@pytest.mark.parametrize("text, deployment, key, message", [
    ("deployments:\n- name: a__b\n", "a__c", "entrypoint", "no deployment 'a__c'"),
    ("deployments:\n- name: a__b\n", 3, "entrypoint", "no deployment 3"),
    ("deployments:\n- name: a__b\n", "a__b", "entrypoint", "has no 'entrypoint'"),
    ("x: &x {entrypoint: e}\ndeployments:\n- <<: *x\n  name: a__b\n", "a__b", "entrypoint",
     "has no 'entrypoint' of its own"),
    ("deployments:\n- name: a__b\n  entrypoint: {a: 1}\n", "a__b", "entrypoint", "not a plain value"),
    ("e: &e x\ndeployments:\n- name: a__b\n  entrypoint: *e\n", "a__b", "entrypoint",
     "not a plain value"),
])
def test_replace_value_refuses(text, deployment, key, message):
    with pytest.raises(YamlEditError) as info:
        replace_value(text, deployment, key, "flows/x.py:x_flow")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["insert", "remove", "replace"])
def test_deployments_mapping_is_a_config_error_with_line(op):
    text = "name: farm\n\ndeployments:\n  farm__plant:\n    entrypoint: x\n"
    with pytest.raises(ConfigError) as info:
        apply({"op": op, "names": ["x"], "deployment": 0, "key": "k", "value": "v"}, text)
    assert info.value.line == 4
    assert "mapping" in str(info.value) and "list" in str(info.value)
    assert str(info.value).startswith("prefect.yaml:4: ")


@pytest.mark.parametrize("text, line", [
    ("name: farm\ndeployments: 3\n", 2),
    ("name: farm\ndeployments:\n- just a string\n", 3),
    ("- a\n- b\n", 1),
])
def test_wrong_shapes_are_config_errors(text, line):
    with pytest.raises(ConfigError) as info:
        insert_deployments(text, [ENTRY])
    assert info.value.line == line
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, line", [
    ("name: farm\ndeployments:\n- name: a\n  bad: [1, 2\n", 4),  # where "[" began
    ("name: farm\ndeployments:\n- name: a\n   entrypoint: x\n", 4),
    ("name: farm\n\tdeployments: []\n", 2),
    ("name: farm\nname: [\n", 3),
])
def test_malformed_yaml_names_file_and_line(tmp_path, text, line):
    path = tmp_path / "prefect.yaml"
    with pytest.raises(ConfigError) as info:
        insert_deployments(text, [ENTRY], path=path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:{line}: invalid YAML")
    assert "\n" not in msg


def test_malformed_file_is_left_unchanged(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_bytes(b"name: farm\ndeployments: [\n")
    with pytest.raises(ConfigError):
        update_file(path, lambda t: insert_deployments(t, [ENTRY], path=path))
    assert path.read_bytes() == b"name: farm\ndeployments: [\n"


@pytest.mark.parametrize("text", [
    # an anchor defined inside the removed entry is used by another one
    "deployments:\n- name: a__b\n  work_pool: &p {name: x}\n- name: c__d\n  work_pool: *p\n",
])
def test_remove_that_would_break_the_file_is_refused(tmp_path, text):
    path = tmp_path / "prefect.yaml"
    path.write_text(text)
    with pytest.raises(YamlEditError) as info:
        update_file(path, lambda t: remove_deployments(t, ["a__b"], path=path))
    assert "would break the file" in str(info.value) and "\n" not in str(info.value)
    assert path.read_text() == text


def test_insert_that_would_change_other_content_is_refused(monkeypatch):
    # Simulate a layout the splice gets wrong: the verification must catch it.
    monkeypatch.setattr(yamledit, "render_entries",
                        lambda entries, col, st: "other: 2\n")
    with pytest.raises(YamlEditError) as info:
        insert_deployments("name: farm\nother: 1\ndeployments:\n- name: a__b\n", [ENTRY])
    assert "the file was not changed" in str(info.value)


def test_verification_catches_a_wrong_entry(monkeypatch):
    monkeypatch.setattr(yamledit, "render_entries",
                        lambda entries, col, st: "- name: something_else\n")
    with pytest.raises(YamlEditError):
        insert_deployments("deployments:\n- name: a__b\n", [ENTRY])


def test_flow_style_top_level_mapping_is_refused():
    with pytest.raises(YamlEditError) as info:
        insert_deployments("{name: farm, deployments: []}\n", [ENTRY])
    assert info.value.line == 1


@pytest.mark.parametrize("entries", [[{}], ["name: x"], [None]])
def test_bad_entries_are_a_programming_error(entries):
    with pytest.raises(TypeError):
        insert_deployments("deployments: []\n", entries)


def test_lone_surrogate_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        insert_deployments("deployments: []\n", [dict(ENTRY, description="bad \udc80 text")])
    assert "surrogate" in str(info.value)


# -- files -------------------------------------------------------------------------------------


def test_update_file_no_write_when_unchanged(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text("name: farm\n")
    before = path.stat().st_mtime_ns, path.stat().st_ino
    old, new = update_file(path, lambda t: t)
    assert old == new == "name: farm\n"
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_update_file_transform_error_leaves_file(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text("name: farm\n")

    def fail(text):
        raise UsageError("nope")

    with pytest.raises(UsageError):
        update_file(path, fail)
    assert path.read_text() == "name: farm\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_update_file_keeps_crlf_bytes(tmp_path):
    path = tmp_path / "prefect.yaml"
    before = (FIXTURES / "insert_crlf" / "before.yaml").read_bytes()
    path.write_bytes(before)
    update_file(path, lambda t: insert_deployments(t, [ENTRY]))
    assert path.read_bytes() == (FIXTURES / "insert_crlf" / "after.yaml").read_bytes()


def _append(path: str, i: int) -> None:
    entry = {"name": f"farm__f{i}", "entrypoint": f"flows/f{i}.py:f{i}_flow", "parameters": {}}
    update_file(path, lambda t: insert_deployments(t, [entry], path=path))


def test_sixteen_concurrent_appends_all_land_once(tmp_path):
    path = tmp_path / "prefect.yaml"
    before = read(FIXTURES / "insert_prefect_template" / "before.yaml")
    path.write_text(before)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append, args=(str(path), i)) for i in range(16)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 16
    after = read(path)
    names = [d["name"] for d in data(after)["deployments"]]
    assert names[0] == "farm__plant"
    assert sorted(names[1:]) == sorted(f"farm__f{i}" for i in range(16))
    assert len(names) == len(set(names)) == 17
    # the rest of the file is untouched: the trailing instructions are still last
    assert after.endswith(before[before.index("\n# Instructions"):])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_tuples_in_entries_are_written_as_lists():
    entry = {"name": "farm__x", "tags": ("a", "b"), "parameters": {"pair": (1, (2, 3))}}
    out = insert_deployments("deployments: []\n", [entry])
    assert data(out)["deployments"] == [{"name": "farm__x", "tags": ["a", "b"],
                                         "parameters": {"pair": [1, [2, 3]]}}]
    assert "  tags:\n  - a\n  - b\n" in out


# -- Prefect's own layout through the commands (issue 8 section 2) ------------------------------


def test_new_flow_and_new_deployment_on_a_prefect_docs_layout(scratch_repo: Path):
    """`prefect init` recipes write '- # base metadata' with blank lines and comments inside the
    item; the generator appends to such a file without changing a byte of what is there."""
    from tests.helpers.cli import invoke

    project = scratch_repo / "projects" / "farm"
    (project / "flows").mkdir(parents=True)
    before = read(FIXTURES / "insert_prefect_docs_layout" / "before.yaml")
    before = before.replace("harvest", "reap")  # keep the generator's names free
    (project / "prefect.yaml").write_bytes(before.encode())
    result = invoke("new-flow", "farm", "harvest", "--param", "season=winter")
    assert result.exit_code == 0, result.stderr
    after = read(project / "prefect.yaml")
    assert after.startswith(before)
    added = after[len(before):]
    assert added.startswith("\n  - name: farm__harvest__winter\n    entrypoint: flows/harvest.py")
    result = invoke("new-deployment", "farm", "harvest", "--param", "season=summer")
    assert result.exit_code == 0, result.stderr
    again = read(project / "prefect.yaml")
    assert again.startswith(after) and "\n  - name: farm__harvest__summer\n" in again[len(after):]
    assert [d["name"] for d in data(again)["deployments"]] == [
        "farm__reap", "farm__plant", "farm__harvest__winter", "farm__harvest__summer"]


def test_an_append_to_a_block_list_does_not_parse_the_whole_file_again(monkeypatch):
    """new-flow into a project of 1,000 deployments: the file is parsed once (the loaded doc);
    the check of the result reads the last entry, the new ones and what follows the list."""
    from scaffold import prefect_yaml

    text = read(FIXTURES / "insert_prefect_docs_layout" / "before.yaml") + "# the end\nlast: 1\n"
    doc = yamledit.load(text)
    seen: list[int] = []
    real = prefect_yaml.parse
    monkeypatch.setattr(prefect_yaml, "parse", lambda t, p="<string>": seen.append(len(t)) or real(t, p))
    after = insert_deployments(text, [ENTRY], doc=doc)
    assert data(after)["deployments"][-1] == ENTRY and data(after)["last"] == 1
    assert len(seen) == 1 and seen[0] < len(text) / 2
    # what the slice cannot vouch for (an alias) is checked on the whole file
    seen.clear()
    aliased = text.replace("last: 1", "last: *p").replace("directory: /opt", "directory: &p /opt")
    insert_deployments(aliased, [ENTRY])
    assert len(seen) == 2 and seen[1] > len(aliased)


def test_the_local_check_refuses_an_append_that_changes_what_follows(monkeypatch):
    monkeypatch.setattr(yamledit, "render_entries", lambda entries, col, st: "last: 2\n")
    with pytest.raises(YamlEditError, match="the file was not changed"):
        insert_deployments("name: farm\ndeployments:\n- name: a__b\nlast: 1\n", [ENTRY])
