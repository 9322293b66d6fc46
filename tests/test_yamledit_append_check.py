"""yamledit's cheap check of an append (the last item, the new block and the rest of the file
parsed alone, instead of the whole file): whenever it accepts, a full parse agrees; anything
unusual falls back to the full verification."""

from __future__ import annotations

import pytest
import yaml

from scaffold import yamledit
from tests.helpers.yaml_golden import CASES, ENTRY, FIXTURES, load_op, read


@pytest.fixture
def full_checks(monkeypatch) -> list[str]:
    """Record each time the whole-file verification runs."""
    calls: list[str] = []
    full = yamledit._verify

    def spy(new_text, old, expected, path, action):
        calls.append(action)
        return full(new_text, old, expected, path, action)

    monkeypatch.setattr(yamledit, "_verify", spy)
    return calls


INSERTS = [c for c in CASES if load_op(c)["op"] == "insert"]


@pytest.mark.parametrize("case", INSERTS)
def test_whatever_the_cheap_check_accepts_a_full_parse_accepts(case: str, full_checks):
    before = read(FIXTURES / case / "before.yaml")
    entries = load_op(case).get("entries", [ENTRY])
    after = yamledit.insert_deployments(before, entries)
    old, new = yaml.safe_load(before) or {}, yaml.safe_load(after)
    assert new["deployments"] == (old.get("deployments") or []) + entries
    assert {k: v for k, v in new.items() if k != "deployments"} == \
        {k: v for k, v in old.items() if k != "deployments"}


def test_the_generators_layout_takes_the_cheap_check(full_checks):
    before = read(FIXTURES / "insert_prefect_template" / "before.yaml")
    text = yamledit.insert_deployments(before, [ENTRY])
    text = yamledit.insert_deployments(text, [{**ENTRY, "name": "farm__sow"}])
    assert full_checks == []
    assert [d["name"] for d in yaml.safe_load(text)["deployments"]][-2:] == [
        "farm__harvest__winter", "farm__sow"]


@pytest.mark.parametrize("text", [
    # the last item uses an anchor defined above the window: the window alone cannot parse it
    "definitions:\n  pool: &pool {name: x}\ndeployments:\n- name: a__b\n  work_pool: *pool\n",
    # a key after the list refers to an anchor above it
    "base: &b 1\ndeployments:\n- name: a__b\nafter: *b\n",
    # a directive, an indented root
    "%YAML 1.1\n---\ndeployments:\n- name: a__b\n",
    "  name: farm\n  deployments:\n  - name: a__b\n",
])
def test_unusual_files_fall_back_to_the_full_check(text: str, full_checks):
    after = yamledit.insert_deployments(text, [ENTRY])
    assert full_checks == ["adding the deployment"]
    assert yaml.safe_load(after)["deployments"][-1] == ENTRY


def test_a_wrong_splice_is_still_caught(monkeypatch, full_checks):
    monkeypatch.setattr(yamledit, "render_entries", lambda entries, col, st: "- name: other\n")
    with pytest.raises(yamledit.YamlEditError):
        yamledit.insert_deployments("name: farm\ndeployments:\n- name: a__b\n", [ENTRY])
    assert full_checks  # the cheap check refused it, the full one explained it
