"""Anything `cli prefect` does not implement runs the real `prefect` CLI, same arguments and
same exit code, against the same API URL as the other operations (see `scaffold.ops.api`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from scaffold.errors import OperationError
from scaffold.ops import api


def prefect_command() -> list[str]:
    """The `prefect` executable of this environment (next to the running Python first)."""
    local = Path(sys.executable).with_name("prefect")
    if local.is_file() and os.access(local, os.X_OK):
        return [str(local)]
    found = shutil.which("prefect")
    if found:
        return [found]
    return [sys.executable, "-m", "prefect"]


# prefect's commands (and aliases) that talk to the API; the others (server, config, profile,
# version, init, cloud, dashboard, dev, ...) and unknown ones go to prefect unchecked
API_COMMANDS = frozenset({
    "api", "artifact", "automation", "automations", "block", "blocks", "concurrency-limit",
    "concurrency-limits", "deploy", "deployment", "deployments", "events", "event", "flow",
    "flows", "flow-run", "flow-runs", "global-concurrency-limit", "gcl", "shell", "task",
    "task-run", "task-runs", "variable", "work-pool", "work-pools", "work-queue",
    "work-queues", "worker",
})
HELP_FLAGS = frozenset({"--help", "-h"})


def needs_api(args: list[str]) -> bool:
    """Whether ``prefect ARGS`` talks to the API (a help page or a bare group does not)."""
    return (len(args) > 1 and args[0] in API_COMMANDS
            and not HELP_FLAGS.intersection(args))


def run_prefect(args: list[str], root: Path | None = None) -> int:
    """Run ``prefect ARGS`` in the foreground and return its exit code (128+N for signal N).

    A command that needs the API first checks it answers (bounded by $SCAFFOLD_API_TIMEOUT):
    one line and exit 1 instead of prefect's traceback when it does not.
    ``SCAFFOLD_ROOT`` is set to the repository root (when known and not set already): the
    pull steps of prefect.yaml resolve ``{{ $SCAFFOLD_ROOT }}/projects/<P>`` on the worker.
    """
    target = api.resolve_api()
    if needs_api(args):
        api.check_reachable(target)
    env = api.prefect_env(target)
    if root is not None:
        env.setdefault("SCAFFOLD_ROOT", str(root))
    try:
        proc = subprocess.Popen([*prefect_command(), *args], env=env)
    except OSError as err:
        raise OperationError(f"cannot run the prefect CLI: {err.strerror or err}") from None
    # Ctrl-C reaches prefect too (same process group): let it decide, then report its code.
    # SIGTERM/SIGHUP (docker stop, a supervisor, a test) are sent to us only: forward them, so
    # `cli prefect worker start` stops its worker instead of orphaning it.
    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, forward)
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
