"""scaffold.changes on real git repositories: changed files since REF and affected deployments."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scaffold import changes
from scaffold.errors import UsageError
from scaffold.repo import Repo

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

PULL = """\
pull:
- prefect.deployments.steps.set_working_directory:
    directory: '{{ $SCAFFOLD_ROOT }}/projects/%s'
"""


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, text=True,
                          capture_output=True).stdout.strip()


def entry(project: str, flow: str, suffix: str = "", params: str = "") -> str:
    name = f"{project}__{flow}" + (f"__{suffix}" if suffix else "")
    text = f"- name: {name}\n  entrypoint: flows/{flow}.py:{flow}_flow\n"
    if params:
        text += f"  parameters:\n    {params}\n"
    return text


def write_project(root: Path, project: str, flows: dict[str, str],
                  entries: list[str] | None = None) -> None:
    folder = root / "projects" / project
    (folder / "flows").mkdir(parents=True, exist_ok=True)
    for flow, body in flows.items():
        (folder / "flows" / f"{flow}.py").write_text(body)
    if entries is None:
        entries = [entry(project, f) for f in flows if "/" not in f and not f.startswith("_")
                   and f not in ("helpers", "common", "util")]
    (folder / "prefect.yaml").write_text(f"name: {project}\n" + PULL % project
                                         + "deployments:\n" + "".join(entries))


FLOW = "from prefect import flow\n{imports}\n\n@flow\ndef {name}_flow():\n    pass\n"


def flow(name: str, imports: str = "") -> str:
    return FLOW.format(name=name, imports=imports)


@pytest.fixture
def base_repo(tmp_path: Path) -> Path:
    """Two projects, a shared helper chain in `farm`, committed; HEAD is the base."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_project(root, "farm", {
        "harvest": flow("harvest", "import helpers"),          # direct import
        "sow": flow("sow", "from common import plan"),          # common imports helpers
        "plough": flow("plough"),
        "common": "import helpers\n\ndef plan():\n    return helpers.x\n",
        "helpers": "x = 1\n",
    })
    write_project(root, "shop", {
        "sell": flow("sell", "import helpers"),  # its own helpers, not farm's
        "helpers": "y = 2\n",
    })
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def select(root: Path, ref: str = "HEAD") -> changes.Selection:
    return changes.affected(Repo(root), ref)


def names(sel: changes.Selection) -> set[str]:
    return set(sel.names())


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_nothing_changed(base_repo: Path) -> None:
    sel = select(base_repo)
    assert sel.deployments == [] and sel.orphans == [] and sel.changes.paths == frozenset()


def test_helper_module_direct_and_transitive(base_repo: Path) -> None:
    (base_repo / "projects/farm/flows/helpers.py").write_text("x = 2\n")
    commit(base_repo)
    sel = select(base_repo, "HEAD~1")
    assert names(sel) == {"farm__harvest", "farm__sow"}  # not plough, not shop's sell
    assert sel.reasons[("farm", "farm__harvest")] == "imports changed flows/helpers.py"
    assert sel.reasons[("farm", "farm__sow")] == "imports changed flows/helpers.py"


def test_project_root_package_and_relative_imports(base_repo: Path) -> None:
    lib = base_repo / "projects/farm/lib"
    lib.mkdir()
    (lib / "__init__.py").write_text("")
    (lib / "soil.py").write_text("from .depth import DEPTH\n")
    (lib / "depth.py").write_text("DEPTH = 1\n")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "from lib import soil"))
    commit(base_repo)
    (lib / "depth.py").write_text("DEPTH = 2\n")
    sel = select(base_repo)
    assert names(sel) == {"farm__plough"}
    assert sel.reasons[("farm", "farm__plough")] == "imports changed lib/depth.py"


def test_repository_root_module_reaches_every_project(base_repo: Path) -> None:
    (base_repo / "shared").mkdir()
    (base_repo / "shared/__init__.py").write_text("")
    (base_repo / "shared/io.py").write_text("def read():\n    pass\n")
    (base_repo / "projects/shop/flows/sell.py").write_text(
        flow("sell", "from shared.io import read"))
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "import shared.io"))
    commit(base_repo)
    (base_repo / "shared/io.py").write_text("def read():\n    return 1\n")
    assert names(select(base_repo)) == {"farm__plough", "shop__sell"}


def test_flow_file_change_and_deleted_flow_file(base_repo: Path) -> None:
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "# edited"))
    (base_repo / "projects/shop/flows/sell.py").unlink()
    sel = select(base_repo)
    assert names(sel) == {"farm__plough", "shop__sell"}
    assert sel.reasons[("farm", "farm__plough")] == "flow file changed"
    assert sel.reasons[("shop", "shop__sell")] == "flow file deleted"


def test_entry_change_new_entry_and_removed_entry_orphan(base_repo: Path) -> None:
    path = base_repo / "projects/farm/prefect.yaml"
    text = path.read_text()
    text = text.replace(entry("farm", "plough"), entry("farm", "plough", params="depth: 3"))
    text = text.replace(entry("farm", "sow"), "")
    text += entry("farm", "harvest", "winter", "season: winter")
    path.write_text(text)
    sel = select(base_repo)
    assert names(sel) == {"farm__plough", "farm__harvest__winter"}
    assert sel.reasons[("farm", "farm__plough")] == "entry changed in prefect.yaml"
    assert sel.reasons[("farm", "farm__harvest__winter")] == "new entry in prefect.yaml"
    assert sel.orphans == [changes.Orphan("farm", "farm__sow", "farm__sow_flow")]


def test_comment_only_change_selects_nothing(base_repo: Path) -> None:
    path = base_repo / "projects/farm/prefect.yaml"
    path.write_text("# a comment\n" + path.read_text())
    assert names(select(base_repo)) == set()


def test_project_level_change_selects_the_whole_project(base_repo: Path) -> None:
    path = base_repo / "projects/shop/prefect.yaml"
    path.write_text(path.read_text().replace("/projects/shop'", "/projects/shop/'"))
    (base_repo / "projects/farm/prefect.yaml").write_text(
        (base_repo / "projects/farm/prefect.yaml").read_text().replace(
            "name: farm\n", "name: farm\ndefinitions:\n  tags: &t [x]\n"))
    sel = select(base_repo)
    assert names(sel) == {"shop__sell", "farm__harvest", "farm__sow", "farm__plough"}
    assert sel.reasons[("shop", "shop__sell")] == "project-level change in prefect.yaml (pull)"
    assert "definitions" in sel.reasons[("farm", "farm__sow")]


def test_deleted_project_makes_orphans(base_repo: Path) -> None:
    git(base_repo, "rm", "-rq", "projects/shop")
    commit(base_repo)
    sel = select(base_repo, "HEAD~1")
    assert sel.deployments == []
    assert [o.name for o in sel.orphans] == ["shop__sell"]


def test_uncommitted_staged_and_untracked(base_repo: Path) -> None:
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "# staged"))
    git(base_repo, "add", "projects/farm/flows/plough.py")
    (base_repo / "projects/farm/flows/helpers.py").write_text("x = 3\n")  # unstaged
    write_project(base_repo, "new", {"fresh": flow("fresh")})  # untracked project
    sel = select(base_repo)
    assert names(sel) == {"farm__plough", "farm__harvest", "farm__sow", "new__fresh"}
    assert sel.reasons[("new", "new__fresh")] == "new entry in prefect.yaml"
    assert "projects/new/flows/fresh.py" in sel.changes.untracked
    assert changes.changed_paths("HEAD", base_repo) == {
        base_repo / "projects/farm/flows/plough.py", base_repo / "projects/farm/flows/helpers.py",
        base_repo / "projects/new/flows/fresh.py", base_repo / "projects/new/prefect.yaml"}


def test_ignored_files_are_not_changes(base_repo: Path) -> None:
    (base_repo / ".gitignore").write_text("*.log\n")
    commit(base_repo)
    (base_repo / "projects/farm/flows/run.log").write_text("x")
    assert changes.changed_paths("HEAD", base_repo) == set()


def test_merge_base_semantics(base_repo: Path) -> None:
    """Commits that landed on REF's branch after the fork are not our changes."""
    git(base_repo, "checkout", "-qb", "feature")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "# feature"))
    commit(base_repo, "feature")
    git(base_repo, "checkout", "-q", "main")
    (base_repo / "projects/shop/flows/sell.py").write_text(flow("sell", "import helpers  # main"))
    commit(base_repo, "main moved")
    git(base_repo, "checkout", "-q", "feature")
    assert names(select(base_repo, "main")) == {"farm__plough"}


def test_detached_head_and_tag(base_repo: Path) -> None:
    git(base_repo, "tag", "deployed")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "# x"))
    commit(base_repo)
    git(base_repo, "checkout", "-q", "--detach", "HEAD")
    assert names(select(base_repo, "deployed")) == {"farm__plough"}


def test_renamed_helper_counts_both_paths(base_repo: Path) -> None:
    git(base_repo, "mv", "projects/farm/flows/helpers.py", "projects/farm/flows/tools.py")
    sel = select(base_repo)
    assert {"projects/farm/flows/helpers.py", "projects/farm/flows/tools.py"} <= sel.changes.paths
    assert names(sel) == {"farm__harvest", "farm__sow"}  # still import the (deleted) helpers


def test_import_cycle_terminates(base_repo: Path) -> None:
    flows = base_repo / "projects/farm/flows"
    (flows / "a.py").write_text("import b\n")
    (flows / "b.py").write_text("import a\nimport helpers\n")
    (flows / "plough.py").write_text(flow("plough", "import a"))
    commit(base_repo)
    (flows / "helpers.py").write_text("x = 5\n")
    assert names(select(base_repo)) == {"farm__harvest", "farm__sow", "farm__plough"}


def test_symlinked_module_is_followed(base_repo: Path) -> None:
    (base_repo / "shared").mkdir()
    (base_repo / "shared/geo.py").write_text("R = 6371\n")
    os.symlink("../../../shared/geo.py", base_repo / "projects/farm/flows/geo.py")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "import geo"))
    commit(base_repo)
    (base_repo / "shared/geo.py").write_text("R = 6372\n")
    sel = select(base_repo)
    assert names(sel) == {"farm__plough"}


def test_symlink_loop_does_not_hang(base_repo: Path) -> None:
    os.symlink("loop.py", base_repo / "projects/farm/flows/loop.py")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "import loop"))
    assert "farm__plough" in names(select(base_repo))


def test_unparsable_importer_is_assumed_to_import(base_repo: Path) -> None:
    (base_repo / "projects/farm/flows/plough.py").write_text("import helpers\ndef (:\n")
    commit(base_repo)
    (base_repo / "projects/farm/flows/helpers.py").write_text("x = 9\n")
    assert "farm__plough" in names(select(base_repo))


def test_broken_prefect_yaml_is_reported_not_raised(base_repo: Path) -> None:
    (base_repo / "projects/shop/prefect.yaml").write_text("deployments: [\n")
    (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", "# x"))
    sel = select(base_repo)
    assert names(sel) == {"farm__plough"}
    assert list(sel.errors) == ["shop"] and "shop/prefect.yaml" in str(sel.errors["shop"])
    assert changes.restrict(sel, projects=["farm"]).errors == {}
    assert list(changes.restrict(sel, projects=["shop"]).errors) == ["shop"]


def test_scaffold_root_below_git_root(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    root = top / "data" / "prefect"
    root.mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    write_project(root, "farm", {"harvest": flow("harvest", "import helpers"), "helpers": ""})
    commit(top)
    (root / "projects/farm/flows/helpers.py").write_text("x = 1\n")
    assert names(changes.affected(Repo(root), "HEAD")) == {"farm__harvest"}


def test_restrict_and_summary(base_repo: Path) -> None:
    (base_repo / "projects/farm/flows/helpers.py").write_text("x = 2\n")
    (base_repo / "projects/shop/flows/sell.py").write_text(flow("sell", "# x"))
    sel = select(base_repo)
    assert names(changes.restrict(sel, projects=["shop"])) == {"shop__sell"}
    assert names(changes.restrict(sel, names=["farm__sow"])) == {"farm__sow"}
    lines = changes.summary(sel)
    assert lines[0].startswith("changed since HEAD") and "3 deployment(s)" in lines[0]
    assert "  shop__sell: flow file changed" in lines


# -- errors: one line, UsageError ---------------------------------------------------------------


def test_not_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    with pytest.raises(UsageError, match="needs a git repository, and .* is not in one"):
        changes.changed_files("HEAD", tmp_path)


@pytest.mark.parametrize("ref", ["nope", "projects/farm/prefect.yaml", "1" * 40, "HEAD~99"])
def test_unknown_ref(base_repo: Path, ref: str) -> None:
    with pytest.raises(UsageError, match="unknown git revision") as info:
        changes.changed_files(ref, base_repo)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("ref", ["--output=OUT", "-p", "", "HEAD..main", "a\nb", ";rm -rf"])
def test_hostile_refs_never_reach_git_as_options(base_repo: Path, tmp_path: Path, ref: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(UsageError) as info:
        changes.changed_files(ref.replace("OUT", str(out)), base_repo)
    assert "\n" not in str(info.value)
    assert not out.exists()
    if ref == ";rm -rf":  # the fetch hint a user may paste quotes the name
        assert "git fetch origin ';rm -rf';" in str(info.value)


def test_null_commit_of_a_new_branch_push(base_repo: Path) -> None:
    with pytest.raises(UsageError, match="the null commit .* select with -p/-d instead"):
        changes.changed_files("0" * 40, base_repo)


def test_no_commit_yet(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(UsageError, match="HEAD has no commit yet"):
        changes.changed_files("HEAD", tmp_path)


def test_shallow_clone_without_the_base(base_repo: Path, tmp_path: Path) -> None:
    for i in range(3):
        (base_repo / "projects/farm/flows/plough.py").write_text(flow("plough", f"# {i}"))
        commit(base_repo, f"c{i}")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{base_repo}", str(clone))
    with pytest.raises(UsageError, match="unknown git revision 'HEAD~2'.*unshallow"):
        changes.changed_files("HEAD~2", clone)
    assert names(changes.affected(Repo(clone), "HEAD")) == set()


def test_unrelated_history(base_repo: Path) -> None:
    git(base_repo, "checkout", "-q", "--orphan", "other")
    commit(base_repo, "other root")
    with pytest.raises(UsageError, match="no common ancestor"):
        changes.changed_files("main", base_repo)


def test_unignored_virtualenv_is_not_read_as_modules(base_repo: Path) -> None:
    """An un-ignored .venv/ full of untracked .py files: never a changed module, never read."""
    site = base_repo / ".venv/lib/python3.11/site-packages/helpers"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    (base_repo / ".venv/lib/python3.11/site-packages/common.py").write_text("")
    sel = select(base_repo)
    assert ".venv/lib/python3.11/site-packages/common.py" in sel.changes.paths
    assert sel.deployments == []


def test_hidden_and_underscore_folders_are_no_projects(base_repo: Path) -> None:
    for folder in ("_template", ".trash"):
        write_project(base_repo, folder, {"x": flow("x")})
    commit(base_repo)
    git(base_repo, "rm", "-rq", "projects/_template", "projects/.trash")
    sel = select(base_repo)
    assert sel.orphans == [] and sel.deployments == []


def test_module_file_resolves_like_the_loader(tmp_path: Path) -> None:
    files = {"projects/farm/flows/harvest.py", "projects/farm/flows/report.py",
             "projects/farm/lib/__init__.py", "projects/farm/lib/soil.py",
             "projects/shop/flows/report.py", "shared/io.py", "pkg/__init__.py", "pkg/a.py"}
    mods = changes.Modules(tmp_path, files)
    flow = "projects/farm/flows/harvest.py"
    assert mods.module_file(flow, "report") == "projects/farm/flows/report.py"  # own folder
    assert mods.module_file(flow, "flows.report") == "projects/farm/flows/report.py"  # project
    assert mods.module_file(flow, "lib") == "projects/farm/lib/__init__.py"
    assert mods.module_file(flow, "lib.soil") == "projects/farm/lib/soil.py"
    assert mods.module_file(flow, "shared.io") == "shared/io.py"  # root, namespace folder
    assert mods.module_file(flow, "projects.shop.flows.report") == "projects/shop/flows/report.py"
    assert mods.module_file(flow, "lib.nope") is None
    assert mods.module_file(flow, "json") is None  # not the repository's
    assert mods.module_file("pkg/a.py", "", 1) == "pkg/__init__.py"
    assert mods.module_file("projects/farm/lib/soil.py", "", 1) == "projects/farm/lib/__init__.py"
    assert mods.module_file("pkg/a.py", "a", 1) == "pkg/a.py"


def test_imports_anywhere_in_a_file_count(base_repo: Path) -> None:
    """Inside functions, classes, if/else, try/except/finally, with, match."""
    flows = base_repo / "projects/farm/flows"
    for i in range(6):
        (flows / f"m{i}.py").write_text("")
    nested = (
        "def f():\n    import m0\n"
        "class C:\n    if True:\n        pass\n    else:\n        import m1\n"
        "try:\n    pass\nexcept ImportError:\n    import m2\nfinally:\n    pass\n"
        "with open('x') as fh:\n    import m3\n"
        "match 1:\n    case 1:\n        import m4\n"
        "for _ in ():\n    pass\nelse:\n    from m5 import x\n"
    )
    (flows / "plough.py").write_text(flow("plough", nested))
    commit(base_repo)
    for i in range(6):
        (flows / f"m{i}.py").write_text(f"# {i}\n")
        assert names(select(base_repo)) == {"farm__plough"}, i
        git(base_repo, "checkout", "--", ".")
