"""Output of the operations: one line per item (a progress bar on a terminal) and tables.

On a terminal: a rich progress bar with each finished item printed above it, and rich
tables. Otherwise (CI logs, pipes, tests): plain lines and plain aligned tables, no escape
codes, nothing that depends on the terminal width.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Self, TextIO

from scaffold.errors import printable


def is_tty(stream: TextIO | None = None) -> bool:
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``with Progress(total, "deploying") as p: p.step(label) ...; p.done(line, ok)``."""

    def __init__(self, total: int, verb: str, stream: TextIO | None = None,
                 tty: bool | None = None):
        self.total, self.verb = total, verb
        self.stream = sys.stdout if stream is None else stream
        self.tty = is_tty(self.stream) if tty is None else tty
        self.count = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Self:
        if self.tty and self.total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(file=self.stream), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.verb, total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    def step(self, label: str) -> None:
        """An item starts (shown on the bar only)."""
        if self._bar is not None:
            from rich.markup import escape  # the bar's description is rich markup

            self._bar.update(self._task, description=escape(printable(f"{self.verb} {label}")))

    def done(self, line: str, ok: bool = True) -> None:
        """An item finished: its line, numbered."""
        self.count += 1
        width = len(str(self.total))
        # names and messages come from prefect.yaml files and the server: a newline in one
        # would forge a line of its own (a GitHub Actions annotation)
        text = f"[{self.count:>{width}}/{self.total}] {printable(line)}"
        if self._bar is not None:
            from rich.text import Text

            self._bar.console.print(Text(text, style=None if ok else "red"))
            self._bar.advance(self._task)
        else:
            print(text, file=self.stream, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None,
          stream: TextIO | None = None, tty: bool | None = None) -> None:
    """A table: rich on a terminal, plain aligned columns otherwise."""
    stream = sys.stdout if stream is None else stream
    cells = [["" if c is None else printable(str(c)) for c in row] for row in rows]
    title = None if title is None else printable(title)
    if is_tty(stream) if tty is None else tty:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text  # a cell is text, never rich markup ("[red]", "[link=]")

        t = Table(title=None if title is None else Text(title), title_justify="left")
        for i, h in enumerate(headers):
            # the first column (names) is never wrapped: the others make room
            longest = max([len(h)] + [len(r[i]) for r in cells])
            t.add_column(h, overflow="fold", no_wrap=i == 0, min_width=longest if i == 0 else None)
        for row in cells:
            t.add_row(*map(Text, row),
                      style="red" if any(c.startswith("FAILED") for c in row) else None)
        Console(file=stream).print(t)
        return
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if title:
        print(title, file=stream)
    lines = [headers, ["-" * w for w in widths], *cells]
    for row in lines:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=stream)
    stream.flush()
