"""The repository model (scaffold.repo): root discovery, projects, prefect.yaml reading, -p/-d."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from scaffold.errors import ConfigError, UsageError
from scaffold.repo import (
    ENV_ROOT,
    Repo,
    did_you_mean,
    find_root,
    parse_config,
    read_text,
)

FARM = """\
# farm project
name: farm
prefect-version: 3.9.1

deployments:
- name: farm__plant
  entrypoint: flows/plant.py:plant_flow
  parameters: {}
- name: farm__harvest__winter
  description: |
    Harvest in winter.
  entrypoint: 'flows/harvest.py:harvest_flow'
  parameters:
    season: winter
  tags:
  - farm
- name: farm__harvest__summer
  entrypoint: flows/harvest.py:harvest_flow
  parameters: {season: summer}
"""
ZOO = """\
name: zoo
deployments:
- name: zoo__feed
  entrypoint: flows/feed.py:feed_flow
"""


def make_repo(root: Path, configs: dict[str, str | bytes | None]) -> Repo:
    """projects/<name>/prefect.yaml for each item (None: a project without the file)."""
    for project, text in configs.items():
        folder = root / "projects" / project
        (folder / "flows").mkdir(parents=True)
        if text is not None:
            data = text.encode() if isinstance(text, str) else text
            (folder / "prefect.yaml").write_bytes(data)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    return Repo(root)


@pytest.fixture
def sample_model(tmp_path: Path) -> Repo:
    """The model (scaffold.repo.Repo) of a sample repository: projects farm, zoo and empty."""
    return make_repo(tmp_path, {"farm": FARM, "zoo": ZOO, "empty": None})


# -- find_root ---------------------------------------------------------------------------------


def test_find_root_walks_up(tmp_path, monkeypatch):
    make_repo(tmp_path, {"farm": FARM})
    deep = tmp_path / "projects" / "farm" / "flows"
    monkeypatch.delenv(ENV_ROOT, raising=False)
    assert find_root(start=deep) == tmp_path.resolve()
    monkeypatch.chdir(deep)
    assert find_root() == tmp_path.resolve()
    assert Repo.discover().root == tmp_path.resolve()


def test_find_root_from_the_root_itself(scratch_repo):
    assert find_root() == scratch_repo.resolve()


def test_explicit_root_wins_over_env_and_cwd(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    make_repo(a, {})
    make_repo(b, {})
    monkeypatch.chdir(a)
    monkeypatch.setenv(ENV_ROOT, str(b))
    assert find_root() == b.resolve()
    assert find_root(a) == a.resolve()
    assert find_root(str(a)) == a.resolve()


def test_relative_and_home_roots(tmp_path, monkeypatch):
    make_repo(tmp_path / "r", {})
    monkeypatch.chdir(tmp_path)
    assert find_root("r") == (tmp_path / "r").resolve()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert find_root("~/r") == (tmp_path / "r").resolve()


@pytest.mark.parametrize("source", ["--root", ENV_ROOT])
def test_root_that_is_not_a_folder(tmp_path, monkeypatch, source):
    missing = tmp_path / "nope"
    if source == "--root":
        call = functools.partial(find_root, missing)
    else:
        monkeypatch.setenv(ENV_ROOT, str(missing))
        call = find_root
    with pytest.raises(UsageError) as info:
        call()
    msg = str(info.value)
    assert str(missing) in msg and source.lstrip("-") in msg and "not a folder" in msg
    assert "\n" not in msg


def test_no_root_found_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_ROOT, raising=False)
    start = tmp_path / "somewhere" / "deep"
    start.mkdir(parents=True)
    with pytest.raises(UsageError) as info:
        find_root(start=start)
    msg = str(info.value)
    assert "no 'projects/' folder" in msg and "--root" in msg and ENV_ROOT in msg
    assert "\n" not in msg and info.value.exit_code == 2


def test_empty_env_var_is_ignored(tmp_path, monkeypatch):
    make_repo(tmp_path, {})
    monkeypatch.setenv(ENV_ROOT, "")
    assert find_root(start=tmp_path) == tmp_path.resolve()


# -- layout ------------------------------------------------------------------------------------


def test_projects_skip_hidden_underscore_and_files(sample_model):
    base = sample_model.projects_dir
    for name in [".git", ".hidden", "_template", "__pycache__"]:
        (base / name).mkdir()
    (base / "notes.txt").write_text("x")
    (base / "link").symlink_to(base / "zoo")
    assert sample_model.projects() == ["empty", "farm", "link", "zoo"]


def test_projects_without_folder(tmp_path):
    with pytest.raises(UsageError) as info:
        Repo(tmp_path).projects()
    assert "no projects folder" in str(info.value) and "--root" in str(info.value)


def test_flows_of_a_project(sample_model):
    flows = sample_model.flows_dir("farm")
    for name in ["plant.py", "harvest.py", "_helpers.py", "__init__.py", "notes.md"]:
        (flows / name).write_text("")
    (flows / "sub.py").mkdir()  # a folder named like a file is not a flow
    assert sample_model.flows("farm") == ["harvest", "plant"]
    assert sample_model.flows("zoo") == []
    assert sample_model.flows("missing") == []
    assert sample_model.flow_file("farm", "plant") == flows / "plant.py"
    config = sample_model.root / "projects" / "farm" / "prefect.yaml"
    assert sample_model.config_path("farm") == config


def test_require_project(sample_model):
    assert sample_model.require_project("farm") == sample_model.root / "projects" / "farm"
    with pytest.raises(UsageError) as info:
        sample_model.require_project("frm")
    assert str(info.value) == ("unknown project 'frm' (did you mean 'farm'?); create it with: "
                               "cli new-project frm")
    with pytest.raises(UsageError) as info:
        sample_model.require_project("../farm")
    assert "not a path" in str(info.value)


# -- prefect.yaml ------------------------------------------------------------------------------


def test_config_parses_deployments_with_lines(sample_model):
    config = sample_model.config("farm")
    assert config.name == "farm" and config.project == "farm"
    assert config.path == sample_model.config_path("farm")
    assert [d.name for d in config.deployments] == [
        "farm__plant", "farm__harvest__winter", "farm__harvest__summer"]
    plant, winter, summer = config.deployments
    assert (plant.index, plant.line) == (0, 6)
    assert plant.line_of("entrypoint") == 7 and plant.col_of("entrypoint") == 15
    assert plant.parameters == {}
    assert winter.line == 9
    assert winter.line_of("description") == 10  # the '|' of the block scalar
    assert winter.line_of("entrypoint") == 12 and winter.col_of("entrypoint") == 15  # the quote
    assert winter.line_of("parameters") == 13 and winter.col_of("parameters") == 3  # the key
    assert winter.line_of("tags") == 15
    assert winter.parameters == {"season": "winter"} and winter.entrypoint.startswith("flows/")
    assert summer.line_of("parameters") == 19 and summer.col_of("parameters") == 15  # flow {}
    assert summer.line_of("missing") == summer.line == 17
    assert config.marks["deployments"] == (5, 1) and config.marks["name"] == (2, 7)
    assert sample_model.config("farm") is config  # cached


def _line_of_text(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("variant", ["lf", "crlf", "doc_start", "doc_start_crlf", "bom",
                                     "indented", "comments"])
def test_line_numbers_survive_layouts(tmp_path, variant):
    text = FARM
    if variant.startswith("doc_start"):
        text = "---\n# header\n" + text
    if variant == "indented":
        text = text.replace("\n- ", "\n  - ").replace("\n  ", "\n    ").replace(
            "\n    - name", "\n  - name")
    if variant == "comments":
        text = text.replace("- name: farm__harvest__winter",
                            "# --- winter ---\n\n- name: farm__harvest__winter  # w")
    if variant == "bom":
        text = "\ufeff" + text
    if variant.endswith("crlf"):
        text = text.replace("\n", "\r\n")
    repo = make_repo(tmp_path, {"farm": text})
    deps = repo.config("farm").deployments
    assert len(deps) == 3
    for dep in deps:
        start = text.index(f"name: {dep.name}")
        assert dep.line == text[:start].count("\n") + 1
        entry = text.index("entrypoint:", start)
        assert dep.line_of("entrypoint") == text[:entry].count("\n") + 1
        line_start = text.rfind("\n", 0, entry) + 1
        assert dep.col_of("entrypoint") == entry - line_start + len("entrypoint: ") + 1


def test_alias_and_merge_marks_point_into_the_entry(tmp_path):
    text = ("defaults: &defaults\n  work_pool: &pool\n    name: default\n  tags: [farm]\n"
            "deployments:\n- <<: *defaults\n  name: farm__plant\n  pool_again: *pool\n")
    repo = make_repo(tmp_path, {"farm": text})
    (dep,) = repo.config("farm").deployments
    assert dep.data["work_pool"] == {"name": "default"}
    assert dep.line == 6
    assert dep.line_of("name") == 7
    assert dep.line_of("pool_again") == 8  # the alias's own line, not the anchor's
    assert dep.line_of("tags") == 4  # merged: where the value is written


@pytest.mark.parametrize("text, line, words", [
    ("name: farm\ndeployments:\n  farm__plant:\n    entrypoint: x\n", 3, "is a mapping; it must be a list"),
    ("name: farm\ndeployments: farm__plant\n", 2, "is a string; it must be a list"),
    ("name: farm\ndeployments: 3\n", 2, "is a number; it must be a list"),
    ("name: farm\ndeployments: yes\n", 2, "is true/false; it must be a list"),
    ("name: farm\ndeployments:\n- farm__plant\n", 3, "deployment #1 is a string; it must be a mapping"),
    ("name: farm\ndeployments:\n- name: a\n- [b]\n", 4, "deployment #2 is a list; it must be a mapping"),
    ("- a\n- b\n", 1, "must be a mapping of keys"),
    ("just text\n", 1, "must be a mapping of keys"),
])
def test_wrong_shapes_are_config_errors_with_line(tmp_path, text, line, words):
    repo = make_repo(tmp_path, {"farm": text})
    with pytest.raises(ConfigError) as info:
        repo.config("farm")
    err = info.value
    assert err.line == line and err.path == repo.config_path("farm")
    assert words in str(err)
    assert str(err).startswith(f"{repo.config_path('farm')}:{line}: ")
    assert "\n" not in str(err)


@pytest.mark.parametrize("text, line", [
    ("name: farm\ndeployments:\n- name: a\n   entrypoint: x\n", 4),
    ("name: farm\n\tdeployments: []\n", 2),
    ("name: farm\nname2: \x01\n", 2),
    ("name: farm\ndeployments: *nope\n", 2),
    ("name: farm\ntag: !Ref x\n", 2),
    ("a: 1\n---\nb: 2\n", 2),
])
def test_malformed_yaml_names_file_and_line(tmp_path, text, line):
    repo = make_repo(tmp_path, {"farm": text})
    with pytest.raises(ConfigError) as info:
        repo.config("farm")
    msg = str(info.value)
    assert msg.startswith(f"{repo.config_path('farm')}:{line}: invalid YAML: ")
    assert msg.endswith("; fix the syntax") and "\n" not in msg


def test_duplicate_deployments_key_reads_the_last_one_like_the_loader(tmp_path):
    text = "deployments:\n- name: a__b\ndeployments:\n- name: c__d\n- name: e__f\n"
    repo = make_repo(tmp_path, {"farm": text})
    deps = repo.config("farm").deployments
    assert [(d.name, d.line) for d in deps] == [("c__d", 4), ("e__f", 5)]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "name: farm\n",
                                  "deployments:\n", "deployments: []\n", "deployments: null\n"])
def test_configs_without_deployments(tmp_path, text):
    repo = make_repo(tmp_path, {"farm": text})
    assert repo.config("farm").deployments == []


def test_missing_config_file_is_empty(sample_model):
    config = sample_model.config("empty")
    assert config.deployments == [] and config.data == {}


def test_non_utf8_file_is_a_usage_error(tmp_path):
    repo = make_repo(tmp_path, {"farm": "name: farm\ndeployments:\n- name: r\xe9colte\n"
                                         .encode("latin-1")})
    with pytest.raises(UsageError) as info:
        repo.config("farm")
    assert str(info.value) == (f"{repo.config_path('farm')}:3: not UTF-8 text; save the file "
                               "as UTF-8")


def test_read_text_is_exact(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\r\nb: \xc3\xa9\r\n")
    assert read_text(path) == "a: 1\r\nb: é\r\n"
    with pytest.raises(UsageError) as info:
        read_text(tmp_path / "missing.yaml")
    assert "cannot read" in str(info.value) and "\n" not in str(info.value)


def test_parse_config_directly():
    config = parse_config(FARM, "farm", Path("prefect.yaml"))
    assert len(config.deployments) == 3


# -- -p / -d selection -------------------------------------------------------------------------


def names(deps) -> list[str]:
    return [d.name for d in deps]


def test_resolve_projects_and_deployments(sample_model):
    assert names(sample_model.resolve(["farm"])) == [
        "farm__plant", "farm__harvest__winter", "farm__harvest__summer"]
    assert names(sample_model.resolve(["zoo", "farm"]))[0] == "zoo__feed"
    selected = sample_model.resolve((), ["zoo__feed", "farm__plant"])
    assert names(selected) == ["zoo__feed", "farm__plant"]
    assert names(sample_model.resolve(["zoo"], ["farm__plant"])) == ["zoo__feed", "farm__plant"]
    assert names(sample_model.resolve(["empty"])) == []
    assert sample_model.resolve() == []


def test_resolve_removes_duplicates(sample_model):
    deps = sample_model.resolve(["farm", "farm"], ["farm__plant", "zoo__feed", "zoo__feed"])
    assert names(deps) == ["farm__plant", "farm__harvest__winter", "farm__harvest__summer",
                           "zoo__feed"]
    assert all(d.project in {"farm", "zoo"} for d in deps)


def test_resolve_unknown_names_is_one_error_with_suggestions(sample_model):
    with pytest.raises(UsageError) as info:
        sample_model.resolve(["frm", "zoo", "nothing_like_it"], ["farm__plnt", "zoo__fed", "xyz"])
    msg = str(info.value)
    assert msg == (
        "unknown project 'frm' (did you mean 'farm'?); "
        "unknown project 'nothing_like_it'; "
        "unknown deployment 'farm__plnt' (did you mean 'farm__plant'?); "
        "unknown deployment 'zoo__fed' (did you mean 'zoo__feed'?); "
        "unknown deployment 'xyz'; projects are the folders of projects/; deployment names are "
        "the `name:` values in projects/<PROJECT>/prefect.yaml")
    assert "\n" not in msg


def test_a_broken_config_stops_only_what_names_its_project(tmp_path):
    """Issue 9 section 7: a syntax error in project A must not stop commands on project B."""
    seen: list[str] = []
    repo = make_repo(tmp_path, {"farm": FARM, "bad": "deployments: {a: 1}\n",
                                "worse": "name: [x\n"})
    repo.on_warning = seen.append
    picked = repo.resolve(["farm"], ["farm__plant"])
    assert [d.name for d in picked][:1] == ["farm__plant"]
    assert [d.name for d in repo.resolve([], ["farm__harvest__summer"])] == ["farm__harvest__summer"]
    assert len(repo.deployments()) == 3 and "farm__plant" in repo.deployment_index()
    # each broken project reported once, with its file and line
    bad, worse = repo.config_path("bad"), repo.config_path("worse")
    assert len(seen) == 2
    assert seen[0] == (f"{bad}:1: 'deployments' is a mapping; it must be a list of entries "
                       "('- name: ...'); the deployments of project 'bad' are skipped")
    assert seen[1].startswith(f"{worse}:1: invalid YAML: ")
    assert seen[1].endswith("; the deployments of project 'worse' are skipped")
    # naming the broken project itself is refused with the file and line
    with pytest.raises(ConfigError) as info:
        repo.resolve(["bad"])
    assert str(info.value).startswith(f"{bad}:1: 'deployments' is a mapping")
    # an unknown name says which files could not be read
    with pytest.raises(UsageError) as info:
        repo.resolve([], ["nope__x"])
    assert str(info.value).endswith("not read (broken): projects/bad/prefect.yaml:1, "
                                    "projects/worse/prefect.yaml:1")


def test_deployment_index_first_wins(tmp_path):
    dup = "deployments:\n- name: farm__plant\n  entrypoint: other.py:x\n"
    repo = make_repo(tmp_path, {"farm": FARM, "copy": dup})
    index = repo.deployment_index()
    assert index["farm__plant"].project == "copy"  # sorted project order: copy < farm
    assert len(repo.deployments()) == 4
    assert len(repo.deployments(["farm"])) == 3


def test_did_you_mean():
    assert did_you_mean("frm", ["farm", "zoo"]) == " (did you mean 'farm'?)"
    assert did_you_mean("x", ["farm"]) == ""
    assert did_you_mean("farm__a", ["farm__b", "farm__c", "farm__d", "farm__e"]).count("'") == 6


def test_symlinked_root_is_resolved(tmp_path):
    make_repo(tmp_path / "real", {"farm": FARM})
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert find_root(tmp_path / "link") == (tmp_path / "real").resolve()


@pytest.mark.parametrize("text, line, words", [
    ("name: farm\nstarted: 2024-13-45\n", 2, "'2024-13-45' is not a valid timestamp"),
    ("name: farm\ndeployments:\n- name: a\n  parameters:\n    n: !!int x\n", 5,
     "'x' is not a valid int"),
    ("n: " + "1" * 5000 + "\n", 1, "is not a valid int"),
    ("n: !!float nope\n", 1, "'nope' is not a valid float"),
])
def test_values_python_cannot_build_are_config_errors(tmp_path, text, line, words):
    """PyYAML raises a bare ValueError for these: it must not reach the user as a traceback."""
    repo = make_repo(tmp_path, {"farm": text})
    with pytest.raises(ConfigError) as info:
        repo.config("farm")
    msg = str(info.value)
    assert msg.startswith(f"{repo.config_path('farm')}:{line}: invalid value: ")
    assert words in msg and msg.endswith("quote it if it is text")
    assert "\n" not in msg and len(msg) < 400


def test_projects_skips_a_symlink_loop_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "projects/farm").mkdir(parents=True)
    (tmp_path / "projects/loop1").symlink_to("loop2")
    (tmp_path / "projects/loop2").symlink_to("loop1")
    repo = Repo(tmp_path)
    assert repo.projects() == ["farm"]
    assert [name for name, _ in repo.skipped] == ["loop1", "loop2"]


# -- the one selection: FLOW/NAME, server candidates, suggestions --------------------------------


def test_select_takes_the_server_form_flow_slash_name(sample_model):
    repo = sample_model
    picked = repo.select([], ["farm__plant_flow/farm__plant"]).deployments
    assert [d.name for d in picked] == ["farm__plant"]
    with pytest.raises(UsageError) as info:
        repo.select([], ["other_flow/farm__plant"])
    assert str(info.value).startswith("unknown deployment 'other_flow/farm__plant' (prefect.yaml's "
                                      "'farm__plant' is farm__plant_flow/farm__plant on the server)")


def test_select_finds_deployments_that_exist_only_on_the_server(sample_model):
    repo = sample_model
    server = [("farm__old_flow", "farm__old"), ("zoo__feed_flow", "zoo__feed"),
              ("a_flow", "twin"), ("b_flow", "twin")]
    sel = repo.select(["zoo"], ["farm__old", "farm__plant", "farm__old_flow/farm__old"],
                      server=server)
    assert [d.name for d in sel.deployments] == ["zoo__feed", "farm__plant"]
    assert [s.full_name for s in sel.server_only] == ["farm__old_flow/farm__old"]
    assert repo.select([], ["b_flow/twin"], server=server).server_only[0].flow == "b_flow"
    with pytest.raises(UsageError) as info:
        repo.select([], ["twin"], server=server)
    assert "'twin' is ambiguous on the server (a_flow/twin, b_flow/twin); name it as FLOW/NAME" \
        in str(info.value)


def test_a_suggestion_never_stands_in_for_a_deployment_that_exists(sample_model):
    repo = sample_model
    """Without the server's names, 'farm__plant2' (only on the server) would be 'did you mean
    farm__plant?' -- and a delete could be steered to a live, different deployment."""
    with pytest.raises(UsageError) as info:
        repo.select([], ["farm__plant2"])
    assert "did you mean 'farm__plant'?" in str(info.value)
    sel = repo.select([], ["farm__plant2"], server=[("farm__plant2_flow", "farm__plant2")])
    assert sel.deployments == [] and sel.server_only[0].name == "farm__plant2"
    with pytest.raises(UsageError) as info:
        repo.select([], ["farm__plant3"], server=[("farm__plant2_flow", "farm__plant2")])
    assert "did you mean 'farm__plant' or 'farm__plant2'?" in str(info.value)


def test_select_finds_a_name_written_with_escapes(tmp_path):
    repo = make_repo(tmp_path, {"farm": 'name: farm\ndeployments:\n- name: "farm__pl\\x61nt"\n'})
    assert [d.name for d in repo.resolve([], ["farm__plant"])] == ["farm__plant"]


def test_select_parses_only_the_files_that_mention_the_names(tmp_path):
    configs = {f"p{i}": f"name: p{i}\ndeployments:\n- name: p{i}__f\n  entrypoint: x\n"
               for i in range(20)}
    repo = make_repo(tmp_path, configs)
    assert [d.name for d in repo.resolve([], ["p7__f"])] == ["p7__f"]
    assert sorted(repo._configs) == ["p7"]


@pytest.mark.parametrize("value, candidates, expected", [
    ("projects/billing", ["billing", "projects_billing"], " (did you mean 'billing'?)"),
    ("./projects/billing/", ["billing"], " (did you mean 'billing'?)"),
    ("Farm__Plant", ["farm__plant", "farm__pant"], " (did you mean 'farm__plant'?)"),
    # Cyrillic 'а' (U+0430): the Latin name, said why, never 'frm' with the letter dropped
    ("f\u0430rm", ["farm", "frm", "arm"],
     " (did you mean 'farm'?; the name has letters of another script: '\u0430' U+0430)"),
    ("h\u0430rvest", ["harvest", "hrvest"], (" (did you mean 'harvest'?; the name has letters of "
                                            "another script: '\u0430' U+0430)")),
    ("zzz", ["farm"], ""),
])
def test_did_you_mean_is_sensible(value, candidates, expected):
    assert did_you_mean(value, candidates) == expected


def test_naming_hints_for_paths_and_look_alikes(sample_model):
    repo = sample_model
    with pytest.raises(UsageError) as info:
        repo.require_project("projects/farm")
    assert "(try 'farm')" in str(info.value) and "projects_farm" not in str(info.value)
    with pytest.raises(UsageError) as info:
        repo.require_project("f\u0430rm")
    assert "(try 'farm')" in str(info.value)


# -- symlinks: loops are skipped once, links out of the repository are refused -------------------


def test_a_symlink_loop_under_projects_is_skipped_and_reported_once(tmp_path):
    seen: list[str] = []
    repo = make_repo(tmp_path, {"farm": FARM})
    repo.on_warning = seen.append
    os.symlink("loop2", repo.projects_dir / "loop1")
    os.symlink("loop1", repo.projects_dir / "loop2")
    assert repo.projects() == ["farm"]
    assert repo.projects() == ["farm"]
    assert next(d.name for d in repo.resolve(["farm"])) == "farm__plant"
    assert seen == [("projects/loop1: Too many levels of symbolic links; skipped (fix or remove "
                    "the link)"), ("projects/loop2: Too many levels of symbolic links; skipped "
                    "(fix or remove the link)")]
    assert repo.flows("loop1") == []


@pytest.mark.parametrize("link", ["folder", "prefect.yaml", "flows"])
def test_the_generator_refuses_a_project_that_links_out_of_the_repository(tmp_path, link):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "flows").mkdir(parents=True)
    (elsewhere / "prefect.yaml").write_text(FARM)
    repo = make_repo(tmp_path / "repo", {"farm": FARM})
    folder = repo.project_dir("farm")
    target = {"folder": elsewhere, "prefect.yaml": elsewhere / "prefect.yaml",
              "flows": elsewhere / "flows"}[link]
    victim = {"folder": folder, "prefect.yaml": folder / "prefect.yaml",
              "flows": folder / "flows"}[link]
    if victim.is_dir():
        import shutil

        shutil.rmtree(victim)
    else:
        victim.unlink()
    victim.symlink_to(target)
    with pytest.raises(UsageError) as info:
        repo.require_project("farm")
    assert str(info.value) == (
        f"{victim.relative_to(repo.root).as_posix()} is a symbolic link to {target}, outside the "
        f"repository {os.path.realpath(repo.root)}; replace the link with the folder or file itself")


def test_links_inside_the_repository_are_fine(tmp_path):
    repo = make_repo(tmp_path, {"farm": FARM})
    shared = tmp_path / "shared.yaml"
    shared.write_text(FARM)
    (repo.project_dir("farm") / "prefect.yaml").unlink()
    (repo.project_dir("farm") / "prefect.yaml").symlink_to(shared)
    assert repo.require_project("farm") == repo.project_dir("farm")


BARN_WITH_FARM_NAME = """\
name: barn
deployments:
- name: farm__harvest
  entrypoint: flows/store.py:store_flow
"""
FARM_HARVEST = """\
name: farm
deployments:
- name: farm__harvest
  entrypoint: flows/harvest.py:harvest_flow
"""


def test_a_name_in_two_projects_is_picked_by_flow_or_project_never_silently(tmp_path):
    """Prefect keys a deployment by flow and name: farm__harvest may be in farm (under
    farm__harvest_flow) and in barn (under barn__store_flow). A bare -d picked barn's alone
    (first in project order), and farm's own FLOW/NAME was refused as unknown."""
    repo = make_repo(tmp_path, {"farm": FARM_HARVEST, "barn": BARN_WITH_FARM_NAME})
    picked = repo.select([], ["farm__harvest_flow/farm__harvest"]).deployments
    assert [(d.project, d.name) for d in picked] == [("farm", "farm__harvest")]
    picked = repo.select([], ["barn__store_flow/farm__harvest"]).deployments
    assert [d.project for d in picked] == ["barn"]
    # a -p project holding the name settles it
    assert [d.project for d in repo.select(["farm"], ["farm__harvest"]).deployments] == ["farm"]
    for strict in (True, False):  # never left to the server lookup either
        with pytest.raises(UsageError) as info:
            repo.select([], ["farm__harvest"], strict=strict)
        assert str(info.value) == (
            "deployment 'farm__harvest' is the name of 2 deployments: barn "
            "(barn__store_flow/farm__harvest), "
            "farm (farm__harvest_flow/farm__harvest); name it as FLOW/NAME (e.g. -d "
            "barn__store_flow/farm__harvest) or select its project with -p PROJECT")
    with pytest.raises(UsageError) as info:
        repo.select([], ["other_flow/farm__harvest"])
    assert str(info.value).startswith(
        "unknown deployment 'other_flow/farm__harvest' (prefect.yaml's 'farm__harvest' is "
        "barn__store_flow/farm__harvest, farm__harvest_flow/farm__harvest on the server)")
    # two flows of one project: as ambiguous; FLOW/NAME picks either
    both = FARM_HARVEST + "- name: farm__harvest\n  entrypoint: flows/sow.py:sow_flow\n"
    repo = make_repo(tmp_path / "one", {"farm": both})
    with pytest.raises(UsageError, match="'farm__harvest' is the name of 2 deployments: farm "):
        repo.select([], ["farm__harvest"])
    picked = repo.select([], ["farm__sow_flow/farm__harvest"]).deployments
    assert [d.entrypoint for d in picked] == ["flows/sow.py:sow_flow"]
    assert len(repo.select(["farm"], ["farm__harvest"]).deployments) == 2  # -p: all of farm
    repo = make_repo(tmp_path / "two", {"farm": FARM_HARVEST, "barn": BARN_WITH_FARM_NAME})
    # the generator's duplicate check still sees one (the first) entry per name
    assert repo.deployment_index()["farm__harvest"].project == "barn"
    assert [d.project for d in repo.deployment_entries()["farm__harvest"]] == ["barn", "farm"]


FORGED = "l1\n::error file=x::forged"


def test_warnings_escape_folder_names(tmp_path, capsys):
    """A symlink-loop folder named 'l1\\n::error ...' forged a GitHub annotation line."""
    (tmp_path / "projects/farm").mkdir(parents=True)
    (tmp_path / "projects" / FORGED).symlink_to("l2")
    (tmp_path / "projects/l2").symlink_to(FORGED)
    assert Repo(tmp_path).projects() == ["farm"]
    err = capsys.readouterr().err
    assert "warning: projects/l1\\n::error file=x::forged: " in err
    assert not any(line.startswith("::") for line in err.splitlines())
    assert err.count("\n") == 2  # two warnings, one line each
    outside = tmp_path.parent / f"{tmp_path.name}-outside" / FORGED
    outside.mkdir(parents=True)
    (tmp_path / "projects/out").symlink_to(outside)
    with pytest.raises(UsageError) as info:
        Repo(tmp_path).require_inside(tmp_path / "projects/out")
    assert "outside/l1\\n::error" in str(info.value) and "\n" not in str(info.value)


def test_cli_warnings_escape_folder_names(tmp_path, monkeypatch):
    import socket

    from tests.helpers.cli import invoke

    (tmp_path / "projects").mkdir()
    assert invoke("new-project", "farm", root=tmp_path).exit_code == 0
    (tmp_path / "projects" / FORGED).symlink_to("l2")
    (tmp_path / "projects/l2").symlink_to(FORGED)
    with socket.socket() as s:  # a closed port: status warns, then finds no server (exit 1)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    for args in (("new-flow", "farm", "sow"), ("status",)):
        result = invoke(*args, root=tmp_path)
        assert "projects/l1\\n::error file=x::forged: " in result.stderr, (args, result.stderr)
        assert not any(line.startswith("::") for line in result.stderr.splitlines()), args
