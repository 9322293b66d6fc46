"""Output of the operations (scaffold.ops.report): names from files and the server are data."""

from __future__ import annotations

import io

import pytest

from scaffold.ops.report import Progress, table

FORGED = "farm__x\n::error file=a::forged"


@pytest.mark.parametrize("tty", [False, True])
def test_table_escapes_names_and_never_reads_them_as_markup(tty: bool):
    """A deployment name 'farm__x\\n::error ...' (quoted YAML, or from the server) printed a
    forged GitHub annotation line; on a terminal '[red]' in a name was rich markup."""
    out = io.StringIO()
    table(("deployment", "state"), [(FORGED, "[red]boo[/red]")], title="farm\n::warning::t",
          stream=out, tty=tty)
    text = out.getvalue()
    assert not any(line.lstrip().startswith("::") for line in text.splitlines()), text
    assert "farm__x\\n::error file=a::forged" in text
    assert "[red]boo[/red]" in text and "farm\\n::warning::t" in text


@pytest.mark.parametrize("tty", [False, True])
def test_progress_lines_are_escaped(tty: bool):
    out = io.StringIO()
    with Progress(1, "deploying", stream=out, tty=tty) as progress:
        progress.step(FORGED + "[bold]")
        progress.done(f"{FORGED}: ok [bold]x[/bold]")
    text = out.getvalue()
    assert not any(line.lstrip().startswith("::") for line in text.splitlines()), text
    assert "[1/1] farm__x\\n::error file=a::forged: ok [bold]x[/bold]" in text
