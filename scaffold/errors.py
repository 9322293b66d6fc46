"""Errors a user can act on.

Every error raised on bad input is a `UsageError`: the CLI prints ``str(err)`` as one line on
stderr and exits 2, with no traceback. Messages say what is wrong, where, and how to fix it.
"""

from __future__ import annotations


def printable(text: str, keep: str = "") -> str:
    """``text`` with every non-printable character escaped as Python escapes it (``\\n``,
    ``\\x1b``, ``\\u202e``), except those in ``keep``: file names and values are data, and a
    newline or an escape sequence in them would forge output lines (a GitHub Actions
    annotation) or drive the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else ascii(ch)[1:-1] for ch in text)


class UsageError(Exception):
    exit_code = 2

    def __init__(self, message: str, *, path: object = None, line: int | None = None):
        self.path, self.line, self.message = path, line, message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")


class ConfigError(UsageError):
    """A prefect.yaml that cannot be read or does not have the expected shape."""


class OperationError(Exception):
    """A failure talking to the outside world (server down, ...): exit 1, one line."""

    exit_code = 1
