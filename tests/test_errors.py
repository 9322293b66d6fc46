"""Error lines are one line whatever the file names hold: `errors.printable`, used by the CLI's
error printer and by every text output of the linter."""

from __future__ import annotations

from pathlib import Path

from scaffold.errors import printable
from scaffold.lint import output
from tests.helpers.cli import invoke


def test_printable_escapes_control_characters_only() -> None:
    assert printable("farm/flows/harvest.py") == "farm/flows/harvest.py"
    assert printable("fаrm ünïcode") == "fаrm ünïcode"  # printable letters of any script stay
    assert printable("a\n::error::x\x1b[31m\u202e") == "a\\n::error::x\\x1b[31m\\u202e"
    assert printable("a\r\nb", keep="\r\n") == "a\r\nb"
    assert output.safe is printable  # one escaping, not a copy per output


def test_an_error_naming_a_link_target_is_one_escaped_line(scratch_repo: Path,
                                                           tmp_path: Path) -> None:
    # a project folder linked outside the repository, the target's name forging an annotation
    target = tmp_path / "out\n::error file=evil.py,line=1::INJECTED"
    (target / "flows").mkdir(parents=True)
    (scratch_repo / "projects/evil").symlink_to(target)
    result = invoke("new-flow", "evil", "harvest")
    assert result.exit_code == 2, result.stderr
    lines = (result.stdout + result.stderr).splitlines()  # one line in all
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: projects/evil is a symbolic link to ")
    assert "out\\n::error file=evil.py" in lines[0]
    assert not (target / "flows/harvest.py").exists()
