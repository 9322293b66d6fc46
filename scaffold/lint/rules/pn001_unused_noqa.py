from __future__ import annotations

from collections.abc import Iterator

from scaffold.lint import noqa as noqa_mod
from scaffold.lint.model import Example, Finding, RemoveNoqa, Rule
from scaffold.lint.rules._common import config_file, flow_file


class UnusedNoqaRule(Rule):
    """## What it does
    Checks that every `# noqa` comment suppresses a finding on its line: a `# noqa: CODE`
    whose code (one of this linter's) reports nothing there, or a bare `# noqa` in a
    prefect.yaml with no finding on its line.

    Codes of other tools (`# noqa: E501` for ruff or flake8) are left alone. A bare `# noqa`
    in a flow file is reported but never removed automatically: it may silence another
    linter that reads the same comment; name the codes it is for instead.

    ## Why is this bad?
    A suppression outlives its reason: once the name is fixed, the comment would silence
    the next, unrelated finding on that line without anyone noticing.

    ## Example
    `@flow(name="farm__harvest_flow")  # noqa: PF004` on a flow that has a name.

    ## Fix
    Remove the comment, or the codes in it that suppress nothing. The autofix does, keeping
    other codes and the rest of the comment.
    """

    code = "PN001"
    name = "unused-noqa"
    summary = "A # noqa comment suppresses nothing"
    fixable = "sometimes"

    def check_noqa(self, path: str, text: str, directives: noqa_mod.Noqa,
                   used: dict[int, set[str]], known: set[str]) -> Iterator[Finding]:
        """Called by the engine once every other finding of the file is known: ``used`` maps
        a line to the codes its directive suppressed."""
        yaml = not path.endswith(".py")
        for line, codes in sorted(directives.items()):
            hit = used.get(line, set())
            if codes is None:
                if hit:
                    continue
                col = noqa_mod.comment_column(text, line, yaml)
                if yaml:
                    yield self.finding(path, (line, (col or 0) + 1),
                                       "unused noqa: nothing to suppress on this line; remove it",
                                       fix=RemoveNoqa(line, None))
                else:
                    yield self.finding(path, (line, (col or 0) + 1),
                                       "bare noqa suppresses no finding of cli lint; remove it, "
                                       "or name the codes of the tool it is for "
                                       "(# noqa: E501)")
                continue
            unused = sorted(c for c in codes if c in known and c not in hit)
            if unused:
                col = noqa_mod.comment_column(text, line, yaml)
                yield self.finding(path, (line, (col or 0) + 1),
                                   f"unused noqa code{'s' if len(unused) > 1 else ''} "
                                   f"{', '.join(unused)}: no such finding on this line; "
                                   "remove it", fix=RemoveNoqa(line, frozenset(unused)))

    def fix_text(self, text: str, finding: Finding) -> str | None:
        fix = finding.fix
        return noqa_mod.remove(text, fix.line, fix.codes, yaml=not finding.path.endswith(".py"))

    VALID = (
        Example({"farm/flows/harvest.py": flow_file().replace(
            '@flow(name="farm__harvest_flow")', '@flow  # noqa: PF004, E501')},
            title="the noqa suppresses a finding"),
    )
    INVALID = (
        Example({"farm/flows/harvest.py": flow_file().replace(
            '@flow(name="farm__harvest_flow")',
            '@flow(name="farm__harvest_flow")  # noqa: PF004, E501')},
            title="the name was fixed, the noqa stayed",
            fixed={"farm/flows/harvest.py": flow_file().replace(
                '@flow(name="farm__harvest_flow")',
                '@flow(name="farm__harvest_flow")  # noqa: E501')}),
        Example({"farm/prefect.yaml": config_file().replace(
            "name: farm\n", "name: farm  # noqa\n"), "farm/flows/harvest.py": flow_file()},
            title="a bare noqa in prefect.yaml",
            fixed={"farm/prefect.yaml": config_file()}),
    )
