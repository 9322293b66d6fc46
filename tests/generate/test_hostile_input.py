"""The generator against hostile and odd input (issue 8 §2 and §8): each case one line on stderr,
exit 2 (1 for a system error) and, when refused, the tree exactly as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import invoke
from tests.helpers.generate import CLI, load, tree_hash


@pytest.fixture
def farm(scratch_repo: Path) -> Path:
    assert invoke("new-project", "farm").exit_code == 0
    return scratch_repo


def refused(root: Path, *args: str, message: str, code: int = 2) -> str:
    before = tree_hash(root)
    result = invoke(*args)
    assert result.exit_code == code, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]
    assert tree_hash(root) == before
    return lines[0]


LONG = "a" * 300

REFUSED = [
    (["new-flow", "farm", LONG], "it is 300 characters long; the maximum is 63"),
    (["new-project", LONG], "it is 300 characters long; the maximum is 63"),
    (["new-flow", LONG, "harvest"], "it is 300 characters long; the maximum is 63"),
    (["new-deployment", "farm", LONG, "--param", "a=1"], "300 characters long"),
    (["new-flow", "farm", "harvest", "--suffix", LONG], "invalid deployment suffix"),
    (["new-flow", "farm", "harvest", "--param", f"s={'x' * 100}"], "pass --suffix"),
    (["new-flow", "farm", "con"], "device name on Windows"),
    (["new-flow", "farm", "lpt1"], "device name on Windows"),
    (["new-project", "aux"], "device name on Windows"),
    (["new-flow", "farm", "libcst"], "would shadow the installed package 'libcst'"),
    (["new-flow", "farm", "harvest", "--param", "wait_for=x"],
     "'wait_for' is an argument name Prefect reserves"),
    (["new-flow", "farm", "harvest", "--param", "return_state=true"], "Prefect reserves"),
    (["new-flow", "farm", "harvest", "--param", "s=a\u202eb"], "U+202E"),
    (["new-flow", "farm", "harvest", "--param", 'j={"k": "a\\u202eb"}', "--suffix", "x"],
     "bidirectional control character U+202E"),
    (["new-flow", "farm", "harvest", "--description", "ok\u2066evil"], "--description"),
    (["new-flow", "farm", "harvest", "--tag", "t\u200f"], "--tag"),
    (["new-flow", "farm", "harvest", "--param", "x:json=" + "[" * 40 + "]" * 40, "--suffix", "s"],
     "JSON nested deeper than 32 levels"),
    (["new-flow", "farm", "harvest", "--param", "x:json=" + "[" * 5000 + "]" * 5000],
     "JSON nested deeper than 32 levels"),
    (["new-flow", "farm", "harvest", "--param", "x:json={{ prefect.variables.x }}"],
     "not valid JSON"),  # forced JSON stays JSON
    (["new-flow", "farm", "harvest", "--param", "x={{ broken"], "not valid JSON"),
]


@pytest.mark.parametrize(("args", "message"), REFUSED,
                         ids=[" ".join(a)[:60] for a, _ in REFUSED])
def test_refused(farm: Path, args: list[str], message: str):
    line = refused(farm, *args, message=message)
    assert len(line) < 400  # a huge value is shortened in the message


def test_long_value_is_shortened_in_the_message(farm: Path):
    line = refused(farm, "new-flow", "farm", "harvest", "--param", "x:json=[" + "1," * 50000,
                   message="not valid JSON")
    assert len(line) < 300


# -- templates and secrets ---------------------------------------------------------------------


def test_env_template_warns_once_that_the_value_is_stored_in_clear(farm: Path):
    result = invoke("new-flow", "farm", "db", "--param", "password={{ $DB_PASSWORD }}",
                    "--suffix", "main")  # a template names no deployment
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert "{{ $DB_PASSWORD }}" in warnings[0] and "on the server in clear text" in warnings[0]
    (dep,) = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert dep["parameters"] == {"password": "{{ $DB_PASSWORD }}"}


def test_secret_block_warns_variables_do_not(farm: Path):
    result = invoke("new-flow", "farm", "db", "--param", "pw={{ prefect.blocks.secret.db_pw }}",
                    "--param", "region={{ prefect.variables.region }}", "--suffix", "main")
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "prefect.blocks.secret.db_pw" in warnings[0]
    (dep,) = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert dep["parameters"] == {"pw": "{{ prefect.blocks.secret.db_pw }}",
                                 "region": "{{ prefect.variables.region }}"}


@pytest.mark.parametrize("params", [
    ["secret={{ prefect.blocks.secret.db_password }}"],
    ["home={{ $HOME }}"],
    ["region=eu-{{ prefect.variables.zone }}"],  # partly a template: still filled in later
])
def test_a_template_never_names_the_deployment(farm: Path, params: list[str]):
    """`secret={{ prefect.blocks.secret.db_password }}` made the deployment
    farm__t__prefect_blocks_secret_db_password, and `{{ $HOME }}` farm__t__home."""
    args = [a for p in params for a in ("--param", p)]
    line = refused(farm, "new-flow", "farm", "t", *args,
                   message="a Prefect template is filled in only when deploying, so it cannot "
                           "name the deployment; pass --suffix NAME")
    assert line.startswith(f"error: --param {params[0]!r}: ")  # nothing written: refused()
    result = invoke("new-flow", "farm", "t", *args, "--suffix", "main")
    assert result.exit_code == 0, result.stderr
    assert [d["name"] for d in load(farm / "projects/farm/prefect.yaml")["deployments"]] == [
        "farm__t__main"]


def test_a_template_beside_a_plain_value_leaves_the_naming_to_the_plain_one(farm: Path):
    result = invoke("new-flow", "farm", "t", "--param", "pw={{ prefect.blocks.secret.pw }}",
                    "--param", "season=winter")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert dep["name"] == "farm__t__winter"
    assert dep["parameters"] == {"pw": "{{ prefect.blocks.secret.pw }}", "season": "winter"}
    # new-deployment: the same rule, and one value per deployment of a repeated key
    refused(farm, "new-deployment", "farm", "t", "--param", "pw={{ $PW }}",
            message="it cannot name the deployment; pass --suffix NAME")
    refused(farm, "new-deployment", "farm", "t", "--param", "season=summer",
            "--param", "season={{ $SEASON }}",
            message="it cannot name one of the deployments that the values of 'season' make")


# -- --param against an existing flow's signature ----------------------------------------------


@pytest.fixture
def typed_flow(farm: Path) -> Path:
    path = farm / "projects/farm/flows/report.py"
    path.write_text(
        "from prefect import flow\n\n\n"
        "@flow(name='farm__report_flow')\n"
        "def report_flow(region: str = 'eu', days: int = 1, ratio: float = 0.5,\n"
        "                tags: list[str] | None = None, when: 'datetime.date | None' = None,\n"
        "                opts: Optional[dict] = None, anything=None) -> None:\n"
        "    pass\n")
    return farm


@pytest.mark.parametrize(("param", "message"), [
    ("region:int=3", "report_flow() takes region: str, and this value is 3 (an integer)"),
    ("region:json=null", "takes region: str, and this value is null"),
    ("days=three", "takes days: int, and this value is 'three' (text)"),
    ("days:float=2.5", "takes days: int, and this value is 2.5 (a number)"),
    ("tags=3", "takes tags: list[str] | None, and this value is 3 (an integer)"),
    ("opts=[1]", "takes opts: Optional[dict], and this value is a list"),
])
def test_new_deployment_refuses_values_of_another_type(typed_flow: Path, param: str,
                                                       message: str):
    refused(typed_flow, "new-deployment", "farm", "report", "--param", param, "--suffix", "x",
            message=message)


@pytest.mark.parametrize(("param", "value"), [
    ("region=3", "3"),  # inferred int, declared str: the text as typed
    ("region=true", "true"),
    ("days=3", 3),
    ("days:str=3", "3"),  # Prefect's pydantic (lax) reads "3" as an int: accepted as written
    ("ratio=3", 3),  # an int is a float for pydantic and JSON schema
    ("ratio=true", True),  # lax pydantic takes a bool for a float
    ("tags=[\"a\"]", ["a"]),
    ("tags:json=null", None),
    ("opts={\"a\": 1}", {"a": 1}),
    ("when=2024-01-01", "2024-01-01"),  # a date: we cannot tell, Prefect validates it
    ("anything=[1]", [1]),  # unannotated: anything
    ("region={{ prefect.variables.region }}", "{{ prefect.variables.region }}"),
    ("days={{ prefect.variables.days }}", "{{ prefect.variables.days }}"),  # filled at deploy
])
def test_new_deployment_reads_a_value_as_the_declared_type(typed_flow: Path, param: str, value):
    result = invoke("new-deployment", "farm", "report", "--param", param, "--suffix", "x")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(typed_flow / "projects/farm/prefect.yaml")["deployments"]
    assert dep["parameters"] == {param.split("=")[0].split(":")[0]: value}


def test_new_deployment_of_a_flow_with_a_syntax_error(farm: Path):
    invoke("new-flow", "farm", "harvest", "--no-deployment")
    path = farm / "projects/farm/flows/harvest.py"
    path.write_text("def harvest_flow(:\n")
    refused(farm, "new-deployment", "farm", "harvest", "--param", "a=1",
            message="fix the flow file first")


# -- the file system: symlinks, read-only, failed writes, Ctrl-C --------------------------------


def test_project_folder_symlinked_outside_the_repository(farm: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    (outside / "flows").mkdir(parents=True)
    (outside / "prefect.yaml").write_text("name: ext\ndeployments: []\n")
    (farm / "projects/ext").symlink_to(outside)
    before = tree_hash(outside)
    refused(farm, "new-flow", "ext", "harvest", message="outside the repository")
    refused(farm, "new-deployment", "ext", "harvest", "--param", "a=1",
            message="outside the repository")
    assert tree_hash(outside) == before


def test_flows_folder_symlinked_outside_the_repository(farm: Path, tmp_path: Path):
    outside = tmp_path / "outside_flows"
    outside.mkdir()
    flows = farm / "projects/farm/flows"
    for child in flows.iterdir():
        child.unlink()
    flows.rmdir()
    flows.symlink_to(outside)
    refused(farm, "new-flow", "farm", "harvest", message="outside the repository")
    assert list(outside.iterdir()) == []


def test_flows_is_a_file(farm: Path):
    flows = farm / "projects/farm/flows"
    for child in flows.iterdir():
        child.unlink()
    flows.rmdir()
    flows.write_text("")
    refused(farm, "new-flow", "farm", "harvest", message="flows is not a folder")


def test_prefect_yaml_symlinked_outside_the_repository(farm: Path, tmp_path: Path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("name: farm\ndeployments: []\n")
    config = farm / "projects/farm/prefect.yaml"
    config.unlink()
    config.symlink_to(outside)
    refused(farm, "new-flow", "farm", "harvest", message="outside the repository")
    assert outside.read_text() == "name: farm\ndeployments: []\n"


def test_symlink_inside_the_repository_is_fine(farm: Path):
    shared = farm / "shared.yaml"
    config = farm / "projects/farm/prefect.yaml"
    shared.write_bytes(config.read_bytes())
    config.unlink()
    config.symlink_to(shared)
    assert invoke("new-flow", "farm", "harvest").exit_code == 0
    assert config.is_symlink() and "farm__harvest" in shared.read_text()


def test_read_only_prefect_yaml_is_refused(farm: Path):
    config = farm / "projects/farm/prefect.yaml"
    config.chmod(0o444)
    try:
        line = refused(farm, "new-flow", "farm", "harvest", message="read-only (mode 444)")
        assert str(config) in line
        refused(farm, "new-deployment", "farm", "harvest", "--param", "a=1",
                message="no flow 'harvest'")
        config.chmod(0o644)
        assert invoke("new-flow", "farm", "harvest", "--param", "a=1").exit_code == 0
        config.chmod(0o444)
        refused(farm, "new-deployment", "farm", "harvest", "--param", "a=2",
                message="read-only")
    finally:
        config.chmod(0o644)


def test_a_failed_write_names_the_real_file_and_what_was_undone(farm: Path, monkeypatch):
    def full(src, dst):
        raise OSError(28, "No space left on device", src)  # os.replace names the temp file

    from scaffold import fs

    monkeypatch.setattr(fs.os, "replace", full)
    before = tree_hash(farm)
    result = invoke("new-flow", "farm", "harvest")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    config = farm / "projects/farm/prefect.yaml"
    assert line == (f"error: cannot write {config}: No space left on device; the file was not "
                    "changed; harvest.py was not kept")
    assert ".tmp" not in line
    assert tree_hash(farm) == before


def test_ctrl_c_during_the_write_leaves_no_flow_without_entries(farm: Path, monkeypatch):
    from scaffold import fs
    from scaffold.generate.core import new_flow
    from scaffold.repo import Repo

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(fs.os, "replace", interrupted)
    before = tree_hash(farm)
    with pytest.raises(KeyboardInterrupt):
        new_flow(Repo(farm), "farm", "harvest")
    assert tree_hash(farm) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_during_the_write_leaves_no_flow_without_entries(farm: Path, monkeypatch,
                                                                      sig: int):
    from scaffold import fs
    from scaffold.generate.core import new_flow
    from scaffold.repo import Repo

    replace = os.replace

    def killed_midway(src, dst):
        os.kill(os.getpid(), sig)  # the flow file exists now; prefect.yaml is not replaced yet
        time.sleep(1)  # the handler runs before this returns
        replace(src, dst)

    monkeypatch.setattr(fs.os, "replace", killed_midway)
    before = tree_hash(farm)
    handler = signal.getsignal(sig)
    with pytest.raises(SystemExit) as exc:
        new_flow(Repo(farm), "farm", "harvest")
    assert exc.value.code == 128 + sig
    assert tree_hash(farm) == before
    assert signal.getsignal(sig) == handler  # the process's own handling is back


def test_termination_during_new_project_leaves_no_staging_folder(scratch_repo: Path, monkeypatch):
    from scaffold.generate import transaction

    rename = os.rename

    def killed(src, dst):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
        rename(src, dst)

    monkeypatch.setattr(transaction.os, "rename", killed)
    with pytest.raises(SystemExit):
        from scaffold.generate.core import new_project
        from scaffold.repo import Repo

        new_project(Repo(scratch_repo), "farm")
    assert list((scratch_repo / "projects").iterdir()) == []


def test_sigint_to_a_process_waiting_for_the_lock(farm: Path):
    # Another command holds the project lock; Ctrl-C on the waiting one ends it with nothing
    # written, and the holder's work is unaffected.
    import fcntl

    folder = farm / "projects/farm"
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        before = tree_hash(farm)
        env = {**os.environ, "SCAFFOLD_ROOT": str(farm)}
        proc = subprocess.Popen([*CLI, "new-flow", "farm", "harvest"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(3)  # past start-up and rendering: waiting for the lock
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert tree_hash(farm) == before
        assert not list(folder.rglob("*.tmp"))
    finally:
        os.close(fd)


def test_concurrent_new_deployments_of_one_flow(farm: Path):
    assert invoke("new-flow", "farm", "harvest", "--param", "n=0").exit_code == 0
    env = {**os.environ, "SCAFFOLD_ROOT": str(farm)}
    procs = [subprocess.Popen([*CLI, "new-deployment", "farm", "harvest", "--param", f"n={i}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(1, 9)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    names = [d["name"] for d in load(farm / "projects/farm/prefect.yaml")["deployments"]]
    assert sorted(names) == sorted(f"farm__harvest__n_{i}" for i in range(9))


def test_odd_bytes_in_values_round_trip(farm: Path):
    value = "tab\there \x01 nul-free \u2028 quote\" back\\slash #hash: colon"
    result = invoke("new-flow", "farm", "harvest", "--param", f"s:str={value}", "--suffix", "odd")
    assert result.exit_code == 0, result.stderr
    (dep,) = load(farm / "projects/farm/prefect.yaml")["deployments"]
    assert dep["parameters"] == {"s": value}
    yaml.safe_load((farm / "projects/farm/prefect.yaml").read_text())
    compile((farm / "projects/farm/flows/harvest.py").read_text(), "harvest.py", "exec")


def test_generated_code_has_no_mutable_default(farm: Path):
    import ast

    invoke("new-flow", "farm", "harvest", "--param", "ids=[1, 2]", "--param", 'opt={"a": [1]}',
           "--suffix", "s")
    tree = ast.parse((farm / "projects/farm/flows/harvest.py").read_text())
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for default in func.args.defaults + func.args.kw_defaults:
            assert not isinstance(default, ast.List | ast.Dict | ast.Set), ast.unparse(func)
    namespace: dict = {}
    source = (farm / "projects/farm/flows/harvest.py").read_text()
    # run the body without prefect: the filled-in values are fresh objects on every call
    source = source.replace("from prefect import flow, get_run_logger, task",
                            "flow = lambda **k: (lambda f: f)\ntask = lambda f: f\n"
                            "import logging\nget_run_logger = lambda: logging.getLogger('x')")
    exec(compile(source, "harvest.py", "exec"), namespace)  # noqa: S102 - our generated code
    first = namespace["harvest_flow"]()
    first["ids"].append(3)
    assert namespace["harvest_flow"]() == {"ids": [1, 2], "opt": {"a": [1]}}
    assert json.dumps(first)


def test_alias_bomb_is_refused_quickly(farm: Path):
    config = farm / "projects/farm/prefect.yaml"
    lines = ["name: farm", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines += ["deployments: []", ""]
    config.write_text("\n".join(lines))
    invoke("new-flow", "farm", "harvest", "--no-deployment")
    for args in (["new-flow", "farm", "sow"], ["new-deployment", "farm", "harvest", "--suffix", "x"]):
        start = time.monotonic()
        refused(farm, *args, message="prefect.yaml")
        assert time.monotonic() - start < 5  # in well under a second when the machine is idle


def test_a_symlink_loop_elsewhere_does_not_stop_new_flow(farm: Path):
    projects = farm / "projects"
    (projects / "loop1").symlink_to(projects / "loop2")
    (projects / "loop2").symlink_to(projects / "loop1")
    result = invoke("new-flow", "farm", "harvest")
    assert result.exit_code == 0, result.stderr
    assert (projects / "farm/flows/harvest.py").is_file()
