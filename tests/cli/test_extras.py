"""The package without extras is the linter: the other commands say which extra they need.

Each case runs `cli` in a real process in which the optional packages cannot be imported
(``sys.modules[name] = None`` makes both ``import`` and ``importlib.util.find_spec`` see them
as absent), as in the environment pre-commit builds for our hooks.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scaffold.cli import COMMANDS, REQUIRES
from scaffold.lint.rules._common import config_file, flow_file

REPO = Path(__file__).resolve().parents[2]
OPTIONAL = ("prefect", "copier", "jinja2", "ruamel", "httpx", "pydantic", "rich")


def cli_without(root: Path, *args: str, hidden: tuple[str, ...] = OPTIONAL):
    code = ("import sys\n"
            f"for name in {hidden!r}: sys.modules[name] = None\n"
            "from scaffold.cli import main\n"
            "main()\n")
    return subprocess.run([sys.executable, "-c", code, "--root", str(root), *args], cwd=root,
                          capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture
def clean_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "projects/farm/flows").mkdir(parents=True)
    (root / "projects/farm/prefect.yaml").write_text(config_file("farm", ("harvest",)))
    (root / "projects/farm/flows/harvest.py").write_text(flow_file("farm", "harvest"))
    return root


@pytest.mark.parametrize("argv, extra", [
    (("prefect", "deploy", "-p", "farm"), "prefect"),
    (("prefect", "deployment", "pause", "-d", "farm__harvest__default"), "prefect"),
    (("prefect", "flows", "ls"), "prefect"),            # the pass-through to prefect's CLI
    (("prefect", "--help"), "prefect"),
    (("status",), "prefect"),
    (("status", "--json"), "prefect"),
    (("server", "start"), "prefect"),
    (("server", "status"), "prefect"),
    (("new-project", "orchard"), "generate"),
    (("new-flow", "farm", "sow"), "generate"),
    (("new-deployment", "farm", "harvest", "--param", "x=1"), "generate"),
])
def test_a_command_whose_extra_is_missing_says_how_to_install_it(clean_repo, argv, extra):
    before = sorted(p.relative_to(clean_repo) for p in clean_repo.rglob("*"))
    result = cli_without(clean_repo, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: `cli {argv[0]}` needs ")
    assert f"pip install 'scaffold[{extra}]'" in lines[0]
    assert sorted(p.relative_to(clean_repo) for p in clean_repo.rglob("*")) == before


def test_lint_and_help_need_no_extra(clean_repo):
    linted = cli_without(clean_repo, "lint")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "All checks passed" in linted.stderr
    broken = clean_repo / "projects/farm/flows/harvest.py"
    broken.write_text(broken.read_text().replace("farm__harvest_flow", "harvest"))
    found = cli_without(clean_repo, "lint")
    assert found.returncode == 1 and "PF005" in found.stdout, found.stdout + found.stderr
    fixed = cli_without(clean_repo, "lint", "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "farm__harvest_flow" in broken.read_text()
    helped = cli_without(clean_repo, "--help")
    assert helped.returncode == 0 and "new-flow" in helped.stdout


def test_every_command_needing_an_extra_is_known_and_the_extras_exist():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    assert REQUIRES.keys() <= COMMANDS.keys()
    assert "lint" not in REQUIRES
    for module, extra in REQUIRES.values():
        assert module not in base, f"{module} must not be a dependency of the bare package"
        assert any(req.startswith(module) for req in extras[extra]), (module, extra)
    # the repository's own scripts install everything
    assert extras["all"] == ["scaffold[generate,prefect]"]
    assert "scaffold[all]" in extras["dev"]
