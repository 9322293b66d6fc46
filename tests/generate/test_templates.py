"""templates/: the sample project is exactly what the templates make, and a new project's
prefect.yaml declares its defaults where people read them."""

from __future__ import annotations

from pathlib import Path

from scaffold.generate.defaults import project_defaults
from tests.helpers.cli import invoke

REPO = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_sample_project_is_what_the_generator_makes(scratch_repo: Path):
    assert invoke("new-project", "dw_tutorial").exit_code == 0
    result = invoke("new-flow", "dw_tutorial", "load_table", "--param", "table=orders",
                    "--description", "Load one table of the tutorial data warehouse.")
    assert result.exit_code == 0, result.stderr
    assert _files(scratch_repo / "projects/dw_tutorial") == _files(REPO / "projects/dw_tutorial")


def test_a_new_project_declares_its_defaults(scratch_repo: Path):
    result = invoke("new-project", "farm", "--work-pool", "farm-pool", "--timezone", "Asia/Tokyo")
    assert result.exit_code == 0, result.stderr
    text = (scratch_repo / "projects/farm/prefect.yaml").read_text()
    assert "are the project's defaults" in text
    defaults = project_defaults("farm", text)
    assert (defaults.work_pool, defaults.timezone, defaults.tags, defaults.declared) == (
        "farm-pool", "Asia/Tokyo", ("farm",), True)


def test_the_sample_projects_defaults():
    text = (REPO / "projects/dw_tutorial/prefect.yaml").read_text()
    defaults = project_defaults("dw_tutorial", text)
    assert (defaults.work_pool, defaults.timezone, defaults.tags, defaults.declared) == (
        "default-pool", "UTC", ("dw_tutorial",), True)


def test_no_declaration_means_built_in_defaults():
    defaults = project_defaults("farm", "name: farm\ndeployments: []\n")
    assert (defaults.work_pool, defaults.timezone, defaults.tags, defaults.declared) == (
        "default-pool", "UTC", ("farm",), False)


def test_a_placeholder_or_unknown_zone_in_the_block_is_not_a_default():
    text = ("deployments: []\n# Instructions for new deployments\n#\n"
            "# - name: farm__<FLOW_NAME>\n#   work_pool:\n#     name: <WORK_POOL>\n"
            "#   # schedules:\n#   # - cron: '0 6 * * *'\n#   #   timezone: Mars/Base\n")
    defaults = project_defaults("farm", text)
    assert (defaults.work_pool, defaults.timezone) == ("default-pool", "UTC")


def test_a_bad_declared_work_pool_is_refused_with_where_it_is():
    import pytest

    from scaffold.errors import UsageError

    text = ("deployments: []\n# Instructions for new deployments\n#\n"
            "# - name: farm__<FLOW_NAME>\n#   work_pool:\n#     name: gpu pool\n")
    with pytest.raises(UsageError, match="Instructions for new deployments' block's work_pool "
                                         "'gpu pool': use letters"):
        project_defaults("farm", text)
