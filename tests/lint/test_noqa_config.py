"""`# noqa` comments and [tool.scaffold.lint] in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.lint import noqa
from tests.helpers.cli import invoke
from tests.helpers.lint import clean_project, lint, write_files

FLOW = "projects/farm/flows/harvest.py"
CONFIG = "projects/farm/prefect.yaml"


@pytest.mark.parametrize(("line", "expected"), [
    ("x = 1", None),
    ("x = 1  # noqa", "all"),
    ("x = 1  # NOQA", "all"),
    ("x = 1  #noqa:PF005", {"PF005"}),
    ("x = 1  # noqa: PF005, PD001", {"PF005", "PD001"}),
    ("x = 1  # noqa: PF005 PD001", {"PF005", "PD001"}),
    ("x = 1  # noqa: pf005", {"PF005"}),
    ("x = 1  # type: ignore  # noqa: E501", {"E501"}),
])
def test_noqa_parsing(line: str, expected: object) -> None:
    parsed = noqa.parse_python(f"first\n{line}\nlast\n")
    if expected is None:
        assert parsed == {}
    elif expected == "all":
        assert parsed == {2: None}
    else:
        assert parsed == {2: frozenset(expected)}


# like ruff and flake8: only a comment is a noqa comment, never a string that reads like one
@pytest.mark.parametrize(("source", "expected"), [
    ('x = "# noqa"\n', {}),
    ('@flow(name="p__b_flow" if "# noqa" else "")\ndef f(): pass\n', {}),
    ('x = f"{y} # noqa"  # noqa: PF005\n', {1: frozenset({"PF005"})}),
    ('x = """\n# noqa\n"""\ny = 1  # noqa\n', {4: None}),
    ("\ufeffx = 1  # noqa\r\ny = 2\rz = '#noqa'  # NOQA:PF004\r\n", {1: None, 3: frozenset({"PF004"})}),
    ('def f(:  # noqa: PE001\n', {1: frozenset({"PE001"})}),  # a syntax error still has its comments
    ('x = (1,  # noqa\n', {1: None}),  # so has a file that ends inside brackets
])
def test_noqa_python_comments_only(source: str, expected: dict) -> None:
    assert noqa.parse_python(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('- name: "p__bad-x # noqa"\n', {}),
    ("- name: 'p__bad-x # noqa'\n", {}),
    ("- name: p__bad-x#noqa\n", {}),  # '#' without a space before it is part of the value
    ("- name: p__bad-x # noqa\n", {1: None}),
    ("# noqa: PD002\n- name: x\n", {1: frozenset({"PD002"})}),
    ("- name: it's # noqa: PD002\n", {1: frozenset({"PD002"})}),  # an apostrophe is no quote
    ('- name: "a # noqa\n    b"  # noqa: PD002\n', {2: frozenset({"PD002"})}),
    ("- run: |\n    echo # noqa\n  name: x  # noqa\n", {3: None}),  # block scalar content
    ('\ufeffname: x # noqa\r\nk: "# noqa"\r\n', {1: None}),
    ('name: x # noqa\nk: [unclosed # noqa: PD001\n', {1: None, 2: frozenset({"PD001"})}),
])
def test_noqa_yaml_comments_only(source: str, expected: dict) -> None:
    assert noqa.parse_yaml(source) == expected


def test_noqa_inside_a_string_does_not_suppress(tmp_path: Path) -> None:
    config = clean_project()[CONFIG].replace("- name: farm__harvest", '- name: "p__bad-x # noqa"')
    flow = _flow_with('@flow(name="p__b_flow" if "# noqa" else "")')
    root = write_files(tmp_path / "repo", {**clean_project(), CONFIG: config, FLOW: flow})
    run = lint(root, "--select", "PD002,PF005")
    assert "PD002" in run.stdout and "PF005" in run.stdout, run.stdout


def _flow_with(decorator: str) -> str:
    return clean_project()[FLOW].replace('@flow(name="farm__harvest_flow")', decorator)


@pytest.mark.parametrize(("decorator", "found"), [
    ('@flow(name="farm_harvest")', True),
    ('@flow(name="farm_harvest")  # noqa: PF005', False),
    ('@flow(name="farm_harvest")  # noqa', False),
    ('@flow(name="farm_harvest")  # noqa: PF004', True),
    ('@flow(name="farm_harvest")  # noqa: PF005,PF004', False),
])
def test_noqa_in_python(tmp_path: Path, decorator: str, found: bool) -> None:
    root = write_files(tmp_path / "repo", {**clean_project(), FLOW: _flow_with(decorator)})
    run = lint(root, "--ignore", "PN001")  # an unused code in the noqa: tested on its own
    assert ("PF005" in run.stdout) is found
    assert run.exit_code == (1 if found else 0)


def test_noqa_in_yaml_and_a_suppressed_finding_is_not_fixed(tmp_path: Path) -> None:
    config = clean_project()[CONFIG]
    bad = config.replace("entrypoint: flows/harvest.py:harvest_flow",
                         "entrypoint: ./flows/harvest.py:harvest_flow  # noqa: PD004")
    root = write_files(tmp_path / "repo", {**clean_project(), CONFIG: bad})
    assert lint(root).exit_code == 0
    assert lint(root, "--fix").exit_code == 0
    assert (root / CONFIG).read_text() == bad
    other = bad.replace("name: farm\n", "name: other  # noqa\n", 1)
    (root / CONFIG).write_text(other)
    assert lint(root).exit_code == 0


def test_noqa_in_a_string_of_another_line_does_not_leak(tmp_path: Path) -> None:
    text = _flow_with('@flow(name="farm_harvest")').replace(
        '"""harvest: an example flow."""', '"""harvest: a docstring that says # noqa."""')
    root = write_files(tmp_path / "repo", {**clean_project(), FLOW: text})
    assert "PF005" in lint(root).stdout


# -- configuration ----------------------------------------------------------------------------


def _broken_repo(tmp_path: Path, pyproject: str | None) -> Path:
    files = {**clean_project(), FLOW: _flow_with("@flow")}
    files["projects/legacy_one/flows/old.py"] = "def old(:\n"
    files["projects/legacy_one/prefect.yaml"] = "name: legacy_one\n"
    if pyproject is not None:
        files["pyproject.toml"] = pyproject
    return write_files(tmp_path / "repo", files)


def _codes(run) -> list[str]:
    return sorted(line.split()[1] for line in run.stdout.splitlines())


def test_no_configuration_means_all_rules(tmp_path: Path) -> None:
    assert _codes(lint(_broken_repo(tmp_path, None))) == ["PE001", "PF004"]
    assert _codes(lint(_broken_repo(tmp_path / "b", "[project]\nname = 'x'\n"))) == ["PE001", "PF004"]


def test_select_ignore_and_extend_exclude(tmp_path: Path) -> None:
    root = _broken_repo(tmp_path, '[tool.scaffold.lint]\nignore = ["PF004"]\n')
    assert _codes(lint(root)) == ["PE001"]
    (root / "pyproject.toml").write_text('[tool.scaffold.lint]\nselect = ["PF"]\n')
    assert _codes(lint(root)) == ["PF004"]
    (root / "pyproject.toml").write_text(
        '[tool.scaffold.lint]\nextend-exclude = ["projects/legacy_*"]\n')
    assert _codes(lint(root)) == ["PF004"]
    (root / "pyproject.toml").write_text('[tool.scaffold.lint]\nextend-exclude = ["old.py"]\n')
    assert _codes(lint(root)) == ["PF004"]


def test_command_line_select_replaces_the_configured_selection(tmp_path: Path) -> None:
    root = _broken_repo(tmp_path, '[tool.scaffold.lint]\nignore = ["PF004"]\n')
    assert _codes(lint(root, "--select", "PF004")) == ["PF004"]
    assert _codes(lint(root, "--ignore", "PE001")) == []


def test_projects_folder_from_configuration(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "repo"
    files = {k.replace("projects/", "flows_repo/"): v for k, v in clean_project().items()}
    files["flows_repo/farm/flows/harvest.py"] = _flow_with("@flow")
    files["pyproject.toml"] = '[tool.scaffold.lint]\nprojects = "flows_repo"\n'
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    monkeypatch.chdir(root / "flows_repo" / "farm")  # found by walking up, no --root
    monkeypatch.delenv("SCAFFOLD_ROOT", raising=False)
    result = invoke("lint")
    assert result.exit_code == 1, result.stderr
    assert result.stdout.startswith("flows/harvest.py:10:2: PF004 ")


@pytest.mark.parametrize(("table", "message"), [
    ('[tool.scaffold.lint]\nselct = ["PF"]\n', "unknown key 'selct' in [tool.scaffold.lint] (did you mean 'select'?)"),
    ('[tool.scaffold.lint]\nselect = "PF"\n', "'select' in [tool.scaffold.lint] must be a list of strings"),
    ('[tool.scaffold.lint]\nignore = ["XX9"]\n', "unknown rule code 'XX9' in 'ignore' in [tool.scaffold.lint]"),
    ('[tool.scaffold.lint]\nprojects = "/abs"\n', "'projects' in [tool.scaffold.lint] must be a folder"),
    ('[tool.scaffold.lint\nselect = []\n', "invalid TOML"),
    ('[tool.scaffold]\nlint = 3\n', "[tool.scaffold.lint] must be a table"),
])
def test_bad_configuration_is_one_line_exit_2(tmp_path: Path, table: str, message: str) -> None:
    root = _broken_repo(tmp_path, table)
    run = lint(root)
    assert run.exit_code == 2
    assert message in run.stderr and run.stderr.startswith("error: ")
    assert run.stderr.count("\n") == 1 and run.stdout == ""
