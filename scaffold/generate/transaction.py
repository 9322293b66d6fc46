"""The generator's file transactions: every check first, then the writes, all or nothing.

A project appears whole or not at all (built in a staging folder, then one rename); a flow file
is created exclusively (never replaces a file) and removed again when its prefect.yaml entries
cannot be written; prefect.yaml is replaced atomically under the project's lock. The primitives
are `scaffold.fs`'s (lock, exact read, atomic write, exclusive create, read-only refusal).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from scaffold import fs, naming
from scaffold.errors import UsageError
from scaffold.repo import Repo

locked = fs.locked  # the project folder's lock, for the whole read-check-write


def check_flows_dir(folder: Path, what: str) -> None:
    """The flows folder is a folder, or absent (it is made). Symlinks out of the repository
    are refused by `Repo.require_project` already."""
    if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
        raise UsageError(f"{what} is not a folder; move the file away so that flows can be "
                         "created in it", path=folder)


def read_config(path: Path) -> str:
    return fs.read_text(path) if path.exists() else ""


@contextlib.contextmanager
def _termination_as_exit() -> Iterator[None]:
    """SIGTERM/SIGHUP raise SystemExit while the files are being written, so that the rollback
    runs (by default they end the process at once, leaving a flow file without its entries)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    saved = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def add_flow(flow_path: Path, source: bytes, config_path: Path, old: str, new: str) -> None:
    """Write the flow file, then the prefect.yaml; on any failure (Ctrl-C, SIGTERM included)
    the flow file is removed again so that no flow exists without its entries."""
    if new != old:
        fs.require_writable(config_path)  # refused before anything changes
    flow_path.parent.mkdir(exist_ok=True)
    with _termination_as_exit():
        fs.create_exclusive(flow_path, source, "file already exists; choose another flow name")
        if new == old:
            return
        try:
            fs.write_atomic(config_path, new, done=f"{flow_path.name} was not kept")
        except BaseException:
            flow_path.unlink(missing_ok=True)
            raise


def write_config(config_path: Path, new: str) -> None:
    fs.write_atomic(config_path, new)  # read-only refused first; errors name this file


def create_project(repo: Repo, project: str, files: dict[str, bytes]) -> Path:
    """Build the project next to its destination, then one rename: whole or not at all."""
    dest = repo.project_dir(project)
    with _termination_as_exit():
        return _stage_and_rename(repo, project, files, dest)


def _stage_and_rename(repo: Repo, project: str, files: dict[str, bytes], dest: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".{project}.", dir=repo.projects_dir))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / naming.FLOWS_DIR).mkdir(exist_ok=True)
        os.chmod(staging, fs.new_dir_mode())  # mkdtemp's 0700 would hide the project from workers
        try:
            os.rename(staging, dest)  # fails if dest appeared meanwhile (non-empty dir)
        except OSError:
            raise UsageError(f"project {project!r} already exists at {dest}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def diff(old: str, new: str, path: Path, root: Path) -> str:
    import difflib  # only --dry-run shows a diff

    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{rel}", f"b/{rel}"))
