"""The generator end to end: cli new-project / new-flow / new-deployment on scratch repos."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import invoke
from tests.helpers.generate import CLI, load, tree_hash
from tests.helpers.splice import splice


@pytest.fixture
def farm(scratch_repo: Path) -> Path:
    assert invoke("new-project", "farm").exit_code == 0
    return scratch_repo


# -- new-project ------------------------------------------------------------------------------


def test_new_project_renders_template(scratch_repo: Path):
    result = invoke("new-project", "farm", "--work-pool", "farm-pool")
    assert result.exit_code == 0, result.stdout
    project = scratch_repo / "projects" / "farm"
    assert (project / "flows").is_dir()
    assert (project / "README.md").read_text().startswith("# farm")
    text = (project / "prefect.yaml").read_text()
    data = yaml.safe_load(text)
    assert data["name"] == "farm"
    assert data["build"] is None and data["push"] is None
    assert data["deployments"] == []
    assert data["pull"] == [{"prefect.deployments.steps.set_working_directory": {
        "directory": "{{ $SCAFFOLD_ROOT }}/projects/farm"}}]
    assert str(data["prefect-version"]).startswith("3.")
    assert "# Instructions for new deployments" in text and "cli new-flow farm" in text
    assert "name: farm-pool" in text  # the commented template carries the work pool


def test_new_project_folders_follow_the_umask(scratch_repo: Path):
    old = os.umask(0o022)
    try:
        assert invoke("new-project", "farm").exit_code == 0
    finally:
        os.umask(old)
    project = scratch_repo / "projects" / "farm"
    assert (project.stat().st_mode & 0o777) == 0o755  # not mkdtemp's 0700: workers read it
    assert ((project / "flows").stat().st_mode & 0o777) == 0o755


def test_new_project_refuses_existing(farm: Path):
    before = tree_hash(farm)
    result = invoke("new-project", "farm")
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "Traceback" not in result.stderr
    assert tree_hash(farm) == before


# -- new-flow ---------------------------------------------------------------------------------


def test_new_flow_without_params(farm: Path):
    result = invoke("new-flow", "farm", "harvest")
    assert result.exit_code == 0, result.stderr
    flow_file = farm / "projects/farm/flows/harvest.py"
    source = flow_file.read_text()
    assert '@flow(name="farm__harvest_flow")' in source
    assert "def harvest_flow() -> dict:" in source
    assert "@task" in source and 'if __name__ == "__main__":' in source
    deps = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert deps == [{
        "name": "farm__harvest", "entrypoint": "flows/harvest.py:harvest_flow", "parameters": {},
        "work_pool": {"name": "default-pool"}, "tags": ["farm"],
    }]


def test_new_flow_seed_example_one_deployment_per_value(farm: Path):
    result = invoke("new-flow", "farm", "harvest", "--param", "season=winter", "--param", "season=summer")
    assert result.exit_code == 0, result.stderr
    deps = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert [(d["name"], d["parameters"]) for d in deps] == [
        ("farm__harvest__winter", {"season": "winter"}),
        ("farm__harvest__summer", {"season": "summer"}),
    ]
    assert all(d["entrypoint"] == "flows/harvest.py:harvest_flow" for d in deps)
    source = (farm / "projects/farm/flows/harvest.py").read_text()
    assert 'def harvest_flow(season: str = "winter") -> dict:' in source


@pytest.mark.parametrize(("param", "annotation", "value"), [
    ("season=winter", "str", "winter"),
    ("days=3", "int", 3),
    ("ratio=0.5", "float", 0.5),
    ("full=true", "bool", True),
    ('ids=[1, 2, 3]', "list | None", [1, 2, 3]),
    ('opts={"a": {"b": null}}', "dict | None", {"a": {"b": None}}),
    ("code:str=007", "str", "007"),
    ("db={{ prefect.blocks.secret.db_password }}", "str | None",
     "{{ prefect.blocks.secret.db_password }}"),
    ("region={{ prefect.variables.region }}", "str | None", "{{ prefect.variables.region }}"),
    ('q={"sql": "{{ x }}"}', "dict | None", {"sql": "{{ x }}"}),  # valid JSON stays JSON
])
def test_param_types(farm: Path, param: str, annotation: str, value):
    extra = ["--suffix", "custom"] if "None" in annotation else []  # no natural suffix
    result = invoke("new-flow", "farm", "harvest", "--param", param, *extra)
    assert result.exit_code == 0, result.stderr
    key = param.split("=")[0].split(":")[0]
    deps = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert deps[0]["parameters"] == {key: value}
    tree = ast.parse((farm / "projects/farm/flows/harvest.py").read_text())
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "harvest_flow")
    assert ast.unparse(func.args.args[0].annotation) == annotation
    default = ast.literal_eval(func.args.defaults[0])
    if isinstance(value, list | dict):
        # never a mutable default: None, filled in by the body with the deployment's value
        assert default is None
        fill = next(n for n in func.body if isinstance(n, ast.If))
        assert ast.unparse(fill.test) == f"{key} is None"
        assert ast.literal_eval(fill.body[0].value) == value
    elif isinstance(value, str) and "{{" in value:
        assert default is None  # the template is the deployment's, not a Python default
    else:
        assert default == value


def test_new_flow_options_and_suffix(farm: Path):
    result = invoke("new-flow", "farm", "harvest", "--param", "ids=[1,2]", "--suffix", "two",
                    "--schedule", "0 6 * * *", "--timezone", "Europe/Paris", "--work-pool", "farm-pool",
                    "--tag", "crops", "--tag", "daily", "--description", "Harvest the crops.", "--paused")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert dep == {
        "name": "farm__harvest__two", "description": "Harvest the crops.",
        "entrypoint": "flows/harvest.py:harvest_flow", "parameters": {"ids": [1, 2]},
        "work_pool": {"name": "farm-pool"},
        "schedules": [{"cron": "0 6 * * *", "timezone": "Europe/Paris"}],
        "tags": ["crops", "daily"], "paused": True,
    }
    assert '"""Harvest the crops."""' in (farm / "projects/farm/flows/harvest.py").read_text()


def test_one_flows_options_never_become_the_next_flows_defaults(farm: Path):
    # issue 8 §8: defaults were "the last deployment's values"
    invoke("new-flow", "farm", "first", "--schedule", "0 1 * * *")
    invoke("new-flow", "farm", "second", "--schedule", "0 1 * * *", "--timezone", "Asia/Tokyo",
           "--work-pool", "gpu-pool", "--tag", "gpu")
    result = invoke("new-flow", "farm", "third", "--schedule", "0 1 * * *")
    assert result.exit_code == 0, result.stderr
    deps = {d["name"]: d for d in load(farm / "projects/farm/prefect.yaml")["deployments"]}
    assert deps["farm__second"]["schedules"][0]["timezone"] == "Asia/Tokyo"
    assert deps["farm__second"]["work_pool"] == {"name": "gpu-pool"}
    third = deps["farm__third"]
    assert third["schedules"] == [{"cron": "0 1 * * *", "timezone": "UTC"}]
    assert third["work_pool"] == {"name": "default-pool"}
    assert third["tags"] == ["farm"]


def test_defaults_are_declared_once_and_edited_there(farm: Path):
    config = farm / "projects/farm/prefect.yaml"
    text = config.read_text()
    assert "are the project's defaults" in text  # visible where they are declared
    config.write_text(text.replace("#     name: default-pool", "#     name: farm-pool")
                          .replace("#   #   timezone: UTC", "#   #   timezone: Europe/Paris")
                          .replace("#   tags:\n#   - farm", "#   tags:\n#   - farm\n#   - crops"))
    result = invoke("new-flow", "farm", "harvest", "--schedule", "0 6 * * *")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(config)["deployments"]
    assert dep["work_pool"] == {"name": "farm-pool"}
    assert dep["schedules"][0]["timezone"] == "Europe/Paris"
    assert dep["tags"] == ["farm", "crops"]


def test_without_a_declaration_the_built_in_defaults_apply(farm: Path):
    config = farm / "projects/farm/prefect.yaml"
    config.write_text("name: farm\ndeployments:\n- name: farm__old\n  entrypoint: flows/old.py:old_flow\n"
                      "  work_pool:\n    name: other-pool\n  tags: [legacy]\n")
    result = invoke("new-flow", "farm", "harvest", "--schedule", "0 6 * * *")
    assert result.exit_code == 0, result.stderr
    new = load(config)["deployments"][1]
    assert new["work_pool"] == {"name": "default-pool"}  # not copied from farm__old
    assert new["tags"] == ["farm"] and new["schedules"][0]["timezone"] == "UTC"
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert "declares no defaults for new deployments" in warning and "'default-pool'" in warning
    result = invoke("new-flow", "farm", "sow", "--work-pool", "other-pool")
    assert result.exit_code == 0 and "warning" not in result.stderr  # the pool was chosen


def test_defaults_come_from_instructions_template(scratch_repo: Path):
    invoke("new-project", "farm", "--work-pool", "farm-pool", "--timezone", "Asia/Tokyo")
    result = invoke("new-flow", "farm", "harvest", "--schedule", "0 6 * * *")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(scratch_repo / "projects/farm/prefect.yaml")["deployments"]
    assert dep["work_pool"] == {"name": "farm-pool"}
    assert dep["schedules"][0]["timezone"] == "Asia/Tokyo"


def test_existing_bytes_are_kept(farm: Path):
    config = farm / "projects/farm/prefect.yaml"
    invoke("new-flow", "farm", "harvest")
    before = config.read_bytes()
    invoke("new-flow", "farm", "sow")
    after = config.read_bytes()
    # the new entry is one inserted block: what was there is a prefix + suffix of the result
    start, end = splice(before, after)
    assert after[:start] + after[end:] == before
    inserted = after[start:end].decode()
    assert inserted.startswith("- name: farm__sow\n")
    assert after.index(b"farm__sow") < after.index(b"# Instructions for new deployments")


def test_no_deployment_and_dry_run(farm: Path):
    before = tree_hash(farm)
    result = invoke("new-flow", "farm", "harvest", "--param", "season=winter", "--dry-run")
    assert result.exit_code == 0
    assert "would create projects/farm/flows/harvest.py" in result.stdout
    assert "+- name: farm__harvest__winter" in result.stdout
    assert "--- a/projects/farm/prefect.yaml" in result.stdout  # root-relative diff header
    assert tree_hash(farm) == before
    result = invoke("new-flow", "farm", "harvest", "--no-deployment")
    assert result.exit_code == 0
    assert (farm / "projects/farm/flows/harvest.py").exists()
    assert load(farm / "projects/farm/prefect.yaml")["deployments"] == []


# -- new-deployment ---------------------------------------------------------------------------


def test_new_deployment_checks_signature(farm: Path):
    invoke("new-flow", "farm", "harvest", "--param", "season=winter")
    result = invoke("new-deployment", "farm", "harvest", "--param", "season=autumn")
    assert result.exit_code == 0, result.stderr
    names = [d["name"] for d in load(farm / "projects/farm/prefect.yaml")["deployments"]]
    assert names == ["farm__harvest__winter", "farm__harvest__autumn"]
    before = tree_hash(farm)
    result = invoke("new-deployment", "farm", "harvest", "--param", "colour=red")
    assert result.exit_code == 2
    assert "has no parameter 'colour' (it takes: season)" in result.stderr
    result = invoke("new-deployment", "farm", "harvest", "--param", "season=winter")
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = invoke("new-deployment", "farm", "reap", "--param", "season=winter")
    assert result.exit_code == 2 and "cli new-flow farm reap" in result.stderr
    assert tree_hash(farm) == before


def test_new_deployment_accepts_any_key_with_kwargs(farm: Path):
    flows = farm / "projects/farm/flows"
    invoke("new-flow", "farm", "harvest", "--no-deployment")
    path = flows / "harvest.py"
    path.write_text(path.read_text().replace("def harvest_flow() -> dict:",
                                             "def harvest_flow(**kwargs) -> dict:"))
    result = invoke("new-deployment", "farm", "harvest", "--param", "anything=1")
    assert result.exit_code == 0, result.stderr


# -- bad input: one line, exit 2, tree unchanged ----------------------------------------------


def _other_project_with(root: Path, name: str) -> None:
    folder = root / "projects" / "other"
    (folder / "flows").mkdir(parents=True)
    (folder / "prefect.yaml").write_text(f"name: other\ndeployments:\n- name: {name}\n"
                                         "  entrypoint: flows/x.py:x_flow\n")


BAD = [
    (["new-flow", "farm", "Harvest"], "invalid flow name 'Harvest'"),
    (["new-flow", "farm", "harvest-2"], "invalid flow name"),
    (["new-flow", "farm", "2harvest"], "must start with a letter"),
    (["new-flow", "farm", "class"], "Python keyword"),
    (["new-flow", "farm", "a__b"], "'__' separates"),
    (["new-flow", "farm", "_x"], "must not start with '_'"),
    (["new-flow", "farm", "x_"], "must not end with '_'"),
    (["new-flow", "farm", ""], "it is empty"),
    (["new-flow", "farm", "../evil"], "not a path"),
    (["new-flow", "farm", "a/b"], "not a path"),
    (["new-flow", "farm", "harvest_flow"], "drop the '_flow' suffix"),
    (["new-flow", "Farm", "harvest"], "invalid project name"),
    (["new-flow", "ranch", "harvest"], "unknown project 'ranch'"),
    (["new-project", "a__b"], "invalid project name"),
    (["new-project", ".."], "not a path"),
    (["new-flow", "farm", "sow"], "flow 'sow' already exists"),
    (["new-flow", "farm", "harvest", "--param", "season"], "expected KEY=VALUE"),
    (["new-flow", "farm", "harvest", "--param", "2x=1"], "not a valid Python parameter name"),
    (["new-flow", "farm", "harvest", "--param", "class=1"], "not a valid Python parameter name"),
    (["new-flow", "farm", "harvest", "--param", "city=東京"], "pass --suffix"),
    (["new-flow", "farm", "harvest", "--param", "ids=[1,"], "not valid JSON"),
    (["new-flow", "farm", "harvest", "--param", "a=1", "--param", "a=x"], "mix types"),
    (["new-flow", "farm", "harvest", "--param", "s=EU West", "--param", "s=eu-west"], "suffix 'eu_west'"),
    (["new-flow", "farm", "harvest", "--suffix", "Bad"], "invalid deployment suffix"),
    (["new-flow", "farm", "harvest", "--schedule", "every day"], "it has 2 fields; write exactly 5"),
    (["new-flow", "farm", "harvest", "--schedule", "0 0 6 * * *"], "a 6th field would be read as seconds"),
    (["new-flow", "farm", "harvest", "--schedule", "61 * * * *"], "61 is out of range in the minute"),
    (["new-flow", "farm", "harvest", "--schedule", "*/0 * * * *"], "step '0' in the minute field"),
    (["new-flow", "farm", "harvest", "--schedule", "0 6 30 2 *"], "it never fires"),
    (["new-deployment", "farm", "sow", "--suffix", "x", "--schedule", "0 6 30 2 *"], "never fires"),
    (["new-flow", "farm", "harvest", "--schedule", "0 6 * * *", "--timezone", "Mars/Base"],
     "not a known IANA time zone"),
    (["new-project", "ranch", "--timezone", "Mars/Base"], "--timezone 'Mars/Base': it is not a known"),
    (["new-flow", "farm", "harvest", "--work-pool", "a b"], "--work-pool"),
    (["new-flow", "farm", "dupe"], "already exists in project 'other'"),
    (["new-flow", "farm", "harvest", "--param", "logger=x"], "'logger' is a name the generated"),
    (["new-flow", "farm", "harvest", "--param", "get_run_logger=x"], "generated flow code uses"),
    (["new-flow", "farm", "harvest", "--param", "harvest_task=1"], "generated flow code uses"),
    (["new-flow", "farm", "harvest", "--tag", ""], "a tag cannot be empty"),
    (["new-flow", "farm", "harvest", "--work-pool", ""], "--work-pool ''"),
    (["new-flow", "farm", "harvest", "--timezone", "UTC"], "add --schedule CRON"),
    (["new-flow", "bare", "harvest"], "has no prefect.yaml"),
    (["new-deployment", "bare", "harvest", "--param", "a=1"], "has no prefect.yaml"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input(farm: Path, args: list[str], message: str):
    invoke("new-flow", "farm", "sow")
    _other_project_with(farm, "farm__dupe")
    (farm / "projects" / "bare" / "flows").mkdir(parents=True)  # a project folder, no prefect.yaml
    (farm / "projects" / "bare" / "flows" / "harvest.py").write_text("")
    before = tree_hash(farm)
    result = invoke(*args)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert tree_hash(farm) == before


@pytest.mark.parametrize(("content", "message"), [
    ("name: farm\ndeployments:\n  - name: [unclosed\n", "prefect.yaml:3: invalid YAML"),
    ("name: farm\ndeployments:\n  farm__x:\n    entrypoint: x\n", "prefect.yaml:3: 'deployments' is a mapping"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_malformed_prefect_yaml(farm: Path, content: str, message: str):
    (farm / "projects/farm/prefect.yaml").write_text(content)
    before = tree_hash(farm)
    result = invoke("new-flow", "farm", "harvest")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert tree_hash(farm) == before  # the flow file was not written either


def test_root_option_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert invoke("new-project", "farm", root=root).exit_code == 0
    monkeypatch.setenv("SCAFFOLD_ROOT", str(root))
    assert invoke("new-flow", "farm", "harvest").exit_code == 0
    assert (root / "projects/farm/flows/harvest.py").exists()
    monkeypatch.delenv("SCAFFOLD_ROOT")
    result = invoke("new-flow", "farm", "sow")
    assert result.exit_code == 2 and "no 'projects/' folder" in result.stderr


# -- concurrency: 16 processes, every entry lands once ----------------------------------------


def test_sixteen_concurrent_new_flows(farm: Path):
    env = {**os.environ, "SCAFFOLD_ROOT": str(farm)}
    procs = [subprocess.Popen([*CLI, "new-flow", "farm", f"flow{i}", "--param", f"n={i}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(16)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    deps = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert sorted(d["name"] for d in deps) == sorted(f"farm__flow{i}__n_{i}" for i in range(16))
    assert len({d["name"] for d in deps}) == 16
    assert len(list((farm / "projects/farm/flows").glob("flow*.py"))) == 16
    assert not list((farm / "projects/farm").glob(".*.tmp"))


def test_new_flow_never_imports_prefect(farm: Path):
    env = {**os.environ, "SCAFFOLD_ROOT": str(farm)}
    for args in (["--help"], ["new-flow", "--help"], ["new-flow", "farm", "harvest"]):
        out = subprocess.run([sys.executable, "-X", "importtime", "-m", "scaffold", *args],
                             env=env, capture_output=True, text=True, check=True)
        imported = [line for line in out.stderr.splitlines() if "| prefect" in line
                    or line.rstrip().endswith(" prefect")]
        assert imported == [], args


def test_failed_yaml_write_removes_the_new_flow_file(farm: Path, monkeypatch: pytest.MonkeyPatch):
    # Fault injection at the last step of the transaction: the disk refuses the prefect.yaml write.
    from scaffold import fs

    def refuse(src, dst):
        raise OSError(28, "No space left on device", src)

    monkeypatch.setattr(fs.os, "replace", refuse)
    before = tree_hash(farm)
    with pytest.raises(fs.WriteError) as info:
        from scaffold.generate.core import new_flow
        from scaffold.repo import Repo

        new_flow(Repo(farm), "farm", "harvest")
    config = farm / "projects" / "farm" / "prefect.yaml"
    assert str(info.value) == (f"cannot write {config}: No space left on device; the file was "
                               "not changed; harvest.py was not kept")
    assert tree_hash(farm) == before
