"""`cli ARGS...` in this process: the suite's one CliRunner, for every click release that
pyproject.toml admits.

click 8.1 mixes stderr into stdout unless the runner is made with ``mix_stderr=False``; click 8.2
removed that argument, always keeps ``stderr`` apart and made ``Result.output`` stdout and stderr
interleaved. So ``Result.output`` means two things depending on the release: the result here has
no ``output``, only ``stdout`` and ``stderr``, which mean the same on both.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from scaffold.cli import cli

_SEPARATE_STDERR = (
    {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters
    else {})  # click >= 8.2: always separate


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    # What the command raised (SystemExit for a normal exit), kept only with catch_exceptions.
    exception: BaseException | None = None


def invoke(*args: str, root: Path | None = None, cwd: Path | None = None,
           input: str | None = None, env: Mapping[str, str] | None = None,
           catch_exceptions: bool = False) -> CliResult:
    """Run `cli [--root ROOT] ARGS...` in-process from ``cwd`` (default: the current folder).

    ``env`` entries are set (None removes one) for the call only; stdout is not a terminal, so
    the output is plain. Exceptions propagate unless ``catch_exceptions``.
    """
    prefix = ["--root", str(root)] if root is not None else []
    runner = CliRunner(**_SEPARATE_STDERR)
    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(cli, [*prefix, *args], input=input, env=env,
                               catch_exceptions=catch_exceptions)
    finally:
        os.chdir(here)
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)
