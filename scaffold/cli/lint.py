"""`cli lint`: check (and fix) the naming conventions of all projects."""

from __future__ import annotations

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


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(), metavar="[PATH]...")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what is left.")
@click.option("--diff", is_flag=True, help="Show the fixes as a diff; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="Output format (github: Actions annotations).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes or prefixes, comma-separated (PF,PD001); "
                   "replaces the configured selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules.")
@click.option("--show-source", is_flag=True, help="Show the source line of each finding.")
@click.option("--no-cache", is_flag=True, help="Parse every file again (ignore .cache/lint).")
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.pass_context
def lint(ctx: click.Context, paths: tuple[str, ...], fix: bool, diff: bool, fmt: str,
         select: tuple[str, ...], ignore: tuple[str, ...], show_source: bool, no_cache: bool,
         list_rules: bool) -> None:
    """Check the naming conventions of PATH... (default: all of projects/).

    Prints one finding a line, `path:line:col: CODE message`, and a summary on stderr.
    Exit status: 0 clean, 1 findings, 2 usage error. Suppress a finding with `# noqa: CODE`
    on its line; configure under [tool.scaffold.lint] in pyproject.toml.
    """
    if list_rules:
        _list_rules()
        return
    from scaffold.lint import config as config_mod
    from scaffold.lint.engine import Linter
    from scaffold.lint.output import Reporter, summary_line, unified_diff

    root, config = config_mod.discover((ctx.obj or {}).get("root"))
    linter = Linter(root, config, codes=_codes(config, select, ignore),
                    paths=config_mod.resolve_paths(root, config.projects, paths), use_cache=not no_cache)
    reporter = Reporter(root)
    if fix or diff:
        outcome = linter.fix(write=not diff)
        result = outcome.after
        if diff:
            for path, (before, after) in sorted(outcome.changes.items()):
                click.echo(unified_diff(path, before, after), nl=False)
            left = len(result.findings)
            click.echo(f"Would fix {outcome.fixed} of {len(outcome.before.findings)} findings "
                       f"in {len(outcome.changes)} files; {left} would remain.", err=True)
            ctx.exit(1 if outcome.changes or result.findings else 0)
        if outcome.changes:
            click.echo(f"Fixed {outcome.fixed} findings in {len(outcome.changes)} files.",
                       err=True)
    else:
        result = linter.run()
    out = reporter.render(result.findings, fmt, result.sources, show_source)
    if out:  # `cli lint | head`: a reader that left is handled once, in scaffold.cli
        sys.stdout.write(out)
        sys.stdout.flush()
    click.echo(summary_line(result.findings, result.files, result.projects), err=True)
    ctx.exit(1 if result.findings else 0)
