"""`cli lint`: check (and fix) the naming conventions of all projects."""

from __future__ import annotations

import os
import shlex
import sys

import click


def _codes(config, select: tuple[str, ...], ignore: tuple[str, ...]) -> set[str]:
    from scaffold.lint.config import active_codes
    from scaffold.lint.rules import all_rules

    return active_codes([r.code for r in all_rules()], config, list(select), list(ignore))


def _list_rules() -> None:
    from scaffold.lint.rules import all_rules

    for rule in all_rules():
        fix = {"never": "   ", "sometimes": "(*)", "always": "[*]"}[rule.fixable]
        click.echo(f"{rule.code} {fix} {rule.name:<28} {rule.summary}")
    click.echo("\n[*] fixed by --fix   (*) fixed by --fix in most cases   docs: docs/rules.md")


def _explain(code: str) -> None:
    import inspect

    from scaffold.errors import UsageError
    from scaffold.lint.docs import FIX_LABEL
    from scaffold.lint.rules import by_code
    from scaffold.repo import did_you_mean

    rules = by_code()
    rule = rules.get(code.strip().upper())
    if rule is None:
        raise UsageError(f"unknown rule code {code!r}{did_you_mean(code.strip().upper(), list(rules))}; "
                         "`cli lint --list-rules` lists the rules")
    click.echo(f"{rule.code} {rule.name}: {rule.summary}. Fixable: {FIX_LABEL[rule.fixable]}.\n")
    click.echo(inspect.cleandoc(rule.__doc__ or ""))
    click.echo(f"\nExamples: docs/rules.md#{rule.code}")


def _in_thread(func, *args):
    """Start ``func(*args)`` in a thread; the returned function waits for its result (or
    raises its exception)."""
    import threading

    box: dict = {}

    def work() -> None:
        try:
            box["value"] = func(*args)
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box["error"] = err

    thread = threading.Thread(target=work, daemon=True)
    thread.start()

    def result():
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["value"]

    return result


def _changed(root, ref: str, selected: list[str] | None) -> list[str]:
    """Root-relative paths of the files changed since REF (within the PATH arguments)."""
    from scaffold.changes import changed_paths

    base = os.path.realpath(root)
    out = []
    for path in changed_paths(ref, root):
        # the folder resolved (the root may be reached through a link), not the file: a
        # changed flow file that is a symlink is that path, wherever it points
        rel = os.path.relpath(os.path.join(os.path.realpath(path.parent), path.name), base)
        if rel.startswith(".."):
            continue
        rel = rel.replace(os.sep, "/")
        if selected is None or any(p == "" or rel == p or rel.startswith(p + "/")
                                   for p in selected):
            out.append(rel)
    return sorted(out)


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(), metavar="[PATH]...")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left.")
@click.option("--diff", is_flag=True, help="Show the fixes as a diff; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]),
              default="text", show_default=True,
              help="Output format (github: Actions annotations; sarif: SARIF 2.1.0).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes or prefixes, comma-separated (PF,PD001); "
                   "replaces the configured selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option("--show-source", is_flag=True, help="Show the source line of each finding.")
@click.option("--statistics", is_flag=True,
              help="Print the number of findings per code, most frequent first.")
@click.option("--changed-since", "changed_since", metavar="REF",
              help="Report findings only in files changed since the git revision REF "
                   "(committed or not); uniqueness checks still see every project.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Report only findings not recorded in FILE (see --write-baseline).")
@click.option("--write-baseline", "write_baseline", type=click.Path(dir_okay=False),
              metavar="FILE", help="Record the findings in FILE and exit 0; with --baseline, "
                                   "keep only its entries that still match (it only shrinks).")
@click.option("--explain", metavar="CODE", help="Print the documentation of a rule and exit.")
@click.option("--no-cache", is_flag=True, help="Parse every file again (ignore .cache/lint).")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.pass_context
def lint(ctx: click.Context, paths: tuple[str, ...], fix: bool, diff: bool, fmt: str,
         select: tuple[str, ...], ignore: tuple[str, ...], show_source: bool, statistics: bool,
         changed_since: str | None, baseline_file: str | None, write_baseline: str | None,
         explain: str | None, no_cache: bool, list_rules: bool) -> None:
    """Check the naming conventions of PATH... (default: all of projects/).

    Prints one finding a line, `path:line:col: CODE message`, and a summary on stderr.
    Exit status: 0 clean, 1 findings, 2 usage error. Suppress a finding with `# noqa: CODE`
    on its line; configure under [tool.scaffold.lint] in pyproject.toml.
    """
    if list_rules:
        _list_rules()
        return
    if explain is not None:
        _explain(explain)
        return
    from dataclasses import replace
    from pathlib import Path

    from scaffold.errors import UsageError
    from scaffold.lint import baseline as baseline_mod
    from scaffold.lint import config as config_mod
    from scaffold.lint.engine import Linter
    from scaffold.lint.output import Reporter, counted, safe, summary_line, unified_diff

    root, config = config_mod.discover((ctx.obj or {}).get("root"))
    if write_baseline and (fix or diff):
        raise UsageError("--write-baseline records findings; it does not go with --fix/--diff")
    selected = config_mod.resolve_paths(root, config.projects, paths)
    codes = _codes(config, select, ignore)
    linter = Linter(root, config, codes=codes, paths=selected, use_cache=not no_cache)
    changed: list[str] | None = None
    if changed_since and (fix or diff):  # a fix needs the selection first
        changed = _changed(root, changed_since, selected)
        linter.restrict_to(changed)
    elif changed_since:  # git runs while the files are checked: a wait, not CPU
        changed_later = _in_thread(_changed, root, changed_since, selected)
    baseline_path = Path(baseline_file) if baseline_file else (
        root / config.baseline if config.baseline and not write_baseline else None)
    known = baseline_mod.load(baseline_path) if baseline_path else None
    reporter = Reporter(root)
    outcome = None
    if fix or diff:
        outcome = linter.fix(write=not diff)
        result = outcome.after
    else:
        result = linter.run()
        if changed_since:
            changed = changed_later()
            linter.restrict_to(changed)
            result = replace(result, findings=[f for f in result.findings
                                               if linter.selected(f.path)])
    findings = result.findings
    if write_baseline:
        entries = baseline_mod.entries_of(findings)
        if known is not None:  # prune: keep what still matches, add nothing
            entries = entries & known
        baseline_mod.write(Path(write_baseline), entries)
        shown = safe(shlex.quote(str(write_baseline)))  # a command to paste: quoted
        click.echo(f"Recorded {counted(sum(entries.values()), 'finding')} in {shown}; "
                   f"`cli lint --baseline {shown}` reports only new ones.", err=True)
        return
    stale: list = []
    if known is not None:
        comparison = baseline_mod.compare(
            findings, known, lambda code, path: code in codes and linter.selected(path))
        findings, stale = comparison.new, comparison.stale
    if outcome is not None:
        for finding, why in outcome.manual:
            click.echo(f"{safe(reporter.display(finding.path))}:{finding.line}:{finding.col}: "
                       f"{finding.code} not fixed, needs a manual fix: {safe(why)}", err=True)
    if diff:
        for path, (before, after) in sorted(outcome.changes.items()):
            click.echo(unified_diff(path, before, after), nl=False)
        click.echo(f"Would fix {outcome.fixed} of {counted(len(outcome.before.findings), 'finding')} "
                   f"in {counted(len(outcome.changes), 'file')}; {len(findings)} would remain.",
                   err=True)
        ctx.exit(1 if outcome.changes or findings else 0)
    if outcome is not None and outcome.changes:
        click.echo(f"Fixed {counted(outcome.fixed, 'finding')} in "
                   f"{counted(len(outcome.changes), 'file')}.", err=True)
    if statistics:
        from scaffold.lint.output import statistics as stats

        out = stats(findings)
    elif fmt == "sarif":
        from scaffold.lint.output import sarif

        out = sarif(findings, codes, root, linter.fix_edits(findings, result.sources)) + "\n"
    else:
        out = reporter.render(findings, fmt, result.sources, show_source)
    if out:  # `cli lint | head`: a reader that left is handled once, in scaffold.cli
        sys.stdout.write(out)
        sys.stdout.flush()
    for (code, path, message), count in stale:
        times = f" ({count} entries)" if count > 1 else ""
        click.echo(f"{safe(str(baseline_path))}: stale entry{times}, fixed since recorded: "
                   f"{code} {safe(path)}: {safe(message)}", err=True)
    if stale:
        shown = safe(shlex.quote(str(baseline_path)))  # a command to paste: quoted
        click.echo(f"Drop the stale entries: cli lint --baseline {shown} --write-baseline {shown}",
                   err=True)
    for path, why in result.skipped:
        click.echo(f"{safe(path)}: skipped, cannot read it: {safe(why)}", err=True)
    line = summary_line(findings, result.files, result.projects)
    if known is not None:
        line = line.rstrip(".") + f", {len(result.findings) - len(findings)} in the baseline."
    if changed_since:
        line = line.rstrip(".") + f"; {counted(len(changed), 'file')} changed since {changed_since}."
    click.echo(line, err=True)
    ctx.exit(1 if findings else 0)

