"""Bad input gets a finding with its line, or one error line and exit 2: never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scaffold.lint.rules._common import config_file, flow_file
from tests.helpers.cli import invoke
from tests.helpers.lint import clean_project, lint, write_files

FLOW = "projects/farm/flows/harvest.py"
CONFIG = "projects/farm/prefect.yaml"

# (id, files replacing the clean project's, expected output lines: "path:line:col: CODE" prefix)
CASES = [
    ("syntax error", {FLOW: "def harvest_flow(:\n    pass\n"}, [f"{FLOW}:1:18: PE001 syntax error"]),
    ("too deeply nested", {FLOW: "x = " + "(" * 300 + ")" * 300 + "\n"}, [f"{FLOW}:1:"]),
    ("null bytes", {FLOW: b"from prefect import flow\n\x00\x00"},
     [f"{FLOW}:2:1: PE002 binary file (contains NUL bytes)"]),
    ("Latin-1 python", {FLOW: flow_file().encode() + "# r\xe9colte\n".encode("latin-1")},
     [f"{FLOW}:17:1: PE002 not UTF-8 text; save the file as UTF-8"]),
    ("binary yaml", {CONFIG: b"\x89PNG\r\n\x1a\n\x00"}, [f"{CONFIG}:3:1: PE002 binary file"]),
    ("yaml syntax", {CONFIG: "name: farm\ndeployments:\n  - name: [x\n"}, [f"{CONFIG}:3:1: PE003 invalid YAML"]),
    ("yaml tab indentation", {CONFIG: "name: farm\ndeployments:\n\t- name: x\n"}, [f"{CONFIG}:3:1: PE003 invalid YAML"]),
    ("yaml undefined alias", {CONFIG: "name: *nope\n"}, [f"{CONFIG}:1:1: PE003 invalid YAML"]),
    ("yaml scalar", {CONFIG: "just a string\n"},
     [f"{CONFIG}:1:1: PE003 prefect.yaml is a string; it must be a mapping of keys (name, deployments, ...)"]),
    ("yaml list", {CONFIG: "- name: farm\n"}, [f"{CONFIG}:1:1: PE003 prefect.yaml is a list; it must be a mapping"]),
    ("deployments mapping", {CONFIG: "name: farm\ndeployments:\n  farm__harvest: {}\n"},
     [f"{CONFIG}:3:3: PE003 'deployments' is a mapping; it must be a list of entries ('- name: ...')"]),
    ("deployment not mapping", {CONFIG: "name: farm\ndeployments:\n  - farm__harvest\n"},
     [f"{CONFIG}:3:5: PE003 deployment #1 is a string; it must be a mapping with 'name' and 'entrypoint'"]),
    ("empty yaml", {CONFIG: ""}, [f"{CONFIG}:1:1: PD001 prefect.yaml has no 'name:'; add 'name: farm'"]),
    ("name is a list", {CONFIG: "name: [farm]\ndeployments: []\n"},
     [f"{CONFIG}:1:7: PD001 name a list must be the project folder name 'farm'"]),
    ("entrypoint is a list",
     {CONFIG: "name: farm\ndeployments:\n  - name: farm__harvest\n    entrypoint: [flows/harvest.py]\n"},
     [f"{CONFIG}:4:17: PD004 entrypoint must be a string like 'flows/<FLOW>.py:<FLOW>_flow', not a list"]),
    ("deployment without anything", {CONFIG: "name: farm\ndeployments:\n  - {}\n"},
     [f"{CONFIG}:3:5: PD002 deployment #1 has no name", f"{CONFIG}:3:5: PD004 deployment #1 has no entrypoint"]),
    ("name is a number", {CONFIG: "name: farm\ndeployments:\n  - name: 12\n    entrypoint: flows/harvest.py:harvest_flow\n"},
     [f"{CONFIG}:3:11: PD002 deployment name must be a string, not 12"]),
    ("empty flow file", {FLOW: ""},
     [f"{FLOW}:1:1: PF002 no main flow in harvest.py", f"{FLOW}:1:1: PF007 no @task in harvest.py",
      f"{CONFIG}:4:17: PD005 entrypoint function 'harvest_flow' is not defined in flows/harvest.py"]),
    ("a folder named like a flow file is not a flow", {"projects/farm/flows/old.py/x.txt": ""}, []),
    ("helpers and non-Python files in flows/ are skipped",
     {"projects/farm/flows/_common.py": "def (:\n", "projects/farm/flows/notes.txt": "\x00"}, []),
    ("an empty flows/ folder (a new project)",
     {"projects/seed/prefect.yaml": "name: seed\ndeployments: []\n", "projects/seed/flows/.gitkeep": ""}, []),
    ("a project without flows/", {"projects/seed/prefect.yaml": "name: seed\ndeployments: []\n"},
     ["projects/seed:1:1: PL003 project 'seed' has no flows/ folder"]),
    ("prefect.yaml is a folder", {"projects/farm/prefect.yaml/x": ""}, ["projects/farm:1:1: PL002"]),
    ("hidden and _ project folders are skipped", {"projects/.git/x.py": "(", "projects/_template/flows/x.py": "("}, []),
    ("BOM and CRLF", {FLOW: "\ufeff" + flow_file().replace("\n", "\r\n"),
                      CONFIG: "\ufeff" + config_file().replace("\n", "\r\n")}, []),
]


@pytest.mark.parametrize(("files", "expected"), [pytest.param(f, e, id=i) for i, f, e in CASES])
def test_bad_input_table(tmp_path: Path, files: dict, expected: list[str]) -> None:
    base = clean_project()
    for rel in files:
        if rel.startswith(("projects/farm/prefect.yaml/",)):
            base.pop(CONFIG)
    root = write_files(tmp_path / "repo", {**base, **files})
    run = lint(root)
    lines = run.stdout.splitlines()
    assert "Traceback" not in run.stderr
    assert run.exit_code == (1 if expected else 0), (run.stdout, run.stderr)
    assert len(lines) == len(expected), lines
    for line, prefix in zip(lines, expected):
        assert line.startswith(prefix), (line, prefix)


def test_crlf_positions_are_lines_and_characters(tmp_path: Path) -> None:
    text = flow_file().replace('name="farm__harvest_flow"', 'name="récolte"').replace("\n", "\r\n")
    root = write_files(tmp_path / "repo", {**clean_project(), FLOW: text})
    run = lint(root, "--fix")
    assert run.stdout == ""
    fixed = (root / FLOW).read_bytes()
    assert fixed == flow_file().replace("\n", "\r\n").encode()  # CRLF kept, only the name changed


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", clean_project())
    path = root / FLOW
    if os.geteuid() != 0:
        path.chmod(0)
    elif Path("/proc/self/mem").exists():  # root reads any file: this one fails with EIO
        path.unlink()
        path.symlink_to("/proc/self/mem")
    else:
        pytest.skip("no way to make an unreadable file here")
    try:
        run = lint(root)
    finally:
        if not path.is_symlink():
            path.chmod(0o644)
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    assert run.stdout.startswith(f"{FLOW}:1:1: PE002 cannot read the file: ")


def test_missing_projects_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = lint(tmp_path / "empty")
    assert run.exit_code == 2
    assert run.stderr.startswith("error: no projects folder at ") and run.stderr.count("\n") == 1


def test_no_repository_at_all_is_one_line_exit_2(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCAFFOLD_ROOT", raising=False)
    result = invoke("lint")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no 'projects/' folder in ")
    assert result.stderr.count("\n") == 1


def test_projects_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "projects").write_text("not a folder")
    run = lint(root)
    assert run.exit_code == 2 and run.stderr.startswith("error: ") and "Traceback" not in run.stderr


def test_syntax_error_column_does_not_depend_on_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython reads the error line from a file named like the parsed one when it exists:
    another file at the same relative path in the current folder gave wrong columns."""
    from scaffold.lint import docs

    broken = 'x = 1\n\n\n@flow(name="farm__harvest_flow")\ndef harvest_flow(season: str = "winter" -> None:\n'
    root = write_files(tmp_path / "repo", {**clean_project(), FLOW: broken})
    decoy = write_files(tmp_path / "decoy", clean_project())  # a valid harvest.py
    run = lint(root, cwd=decoy)
    assert f"{FLOW}:5:41: PE001 " in run.stdout, run.stdout  # the path is shown from the cwd
    # the documentation of PE001 renders the same from a folder holding such a file
    monkeypatch.chdir(decoy)
    assert "projects/farm/flows/harvest.py:5:41: PE001" in docs.render()


def test_fix_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    flow = "\ufeff" + flow_file().replace('@flow(name="farm__harvest_flow")', "@flow")
    config = "\ufeff" + config_file().replace("flows/harvest.py:harvest_flow",
                                              "./flows/harvest.py:harvest_flow")
    root = write_files(tmp_path / "repo", {**clean_project(), FLOW: flow, CONFIG: config})
    run = lint(root, "--fix")
    assert (run.exit_code, run.stdout) == (0, ""), run.stdout
    assert (root / FLOW).read_bytes() == ("\ufeff" + flow_file()).encode()
    assert (root / CONFIG).read_bytes() == ("\ufeff" + config_file()).encode()


def test_a_dangling_symlink_is_an_unreadable_file(tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", clean_project())
    (root / "projects/farm/flows/x.py").symlink_to("gone.py")
    (root / "projects/farm/flows/y.py").symlink_to(".")  # a folder: not a flow file
    run = lint(root)
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    assert run.stdout == ("projects/farm/flows/x.py:1:1: PE002 cannot read the file: "
                          "No such file or directory\n"), run.stdout
    seed = write_files(tmp_path / "seed", {"projects/seed/flows/.gitkeep": ""})
    (seed / "projects/seed/prefect.yaml").symlink_to("/nonexistent/prefect.yaml")
    run = lint(seed)
    assert run.stdout == ("projects/seed/prefect.yaml:1:1: PE002 cannot read the file: "
                          "No such file or directory\n"), run.stdout


def test_symlink_loops_are_skipped_and_reported_the_rest_is_linted(tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", clean_project())
    (root / "projects/loop1").symlink_to("loop2")
    (root / "projects/loop2").symlink_to("loop1")
    flows = root / "projects/farm/flows"
    (flows / "a.py").symlink_to("b.py")
    (flows / "b.py").symlink_to("a.py")
    for args in ((), ("--fix",), ("--format", "json")):
        run = lint(root, *args)
        assert run.exit_code == 1, run.stderr  # the loops of flow files are findings
        assert "projects/loop1: skipped, cannot read it: Too many levels of symbolic links" \
            in run.stderr
        assert "Traceback" not in run.stderr
    out = lint(root).stdout.splitlines()
    assert [line.split()[1] for line in out] == ["PE002", "PE002"]
    assert "harvest.py" not in "".join(out)  # the rest was linted, and is clean
