"""File-system helpers, written once: lock, exact read, atomic write, exclusive create.

Every command that writes goes through here, so the rules hold everywhere:
- one writer at a time per project (``locked``: flock on the folder itself, no lock file);
- a write is a temporary file in the same folder, fsync'ed, then renamed over the target:
  a reader sees the old file or the new one, never half of one;
- an existing file keeps its mode; a new one gets ``0o666 & ~umask`` (as ``open`` would);
- a read-only file (``chmod 444``) is refused before anything changes (the rename alone
  would silently replace it: renaming needs the folder's permission, not the file's);
- a failed write names the real file, never the temporary one, and says it was not changed.

Imports only the standard library and ``scaffold.errors``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shlex
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from scaffold.errors import OperationError, UsageError


class WriteError(OperationError):
    """A write that the system refused midway (disk full, immutable file...): exit 1.

    ``path`` is the file the user knows (never the temporary file); the message says that
    this file was not changed, plus ``done``: what the command had already done.
    """

    def __init__(self, path: str | os.PathLike, err: OSError, done: str = "",
                 outcome: str = "the file was not changed"):
        self.path = Path(path)
        self.strerror = err.strerror or str(err)
        message = f"cannot write {self.path}: {self.strerror}; {outcome}"
        super().__init__(message + (f"; {done}" if done else ""))


def umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    return 0o666 & ~umask()


def new_dir_mode() -> int:
    return 0o777 & ~umask()


@contextlib.contextmanager
def locked(folder: str | os.PathLike, timeout: float = 60.0) -> Iterator[None]:
    """An exclusive advisory lock on a folder (flock on the directory itself: no lock file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as err:
        raise UsageError(f"cannot lock {folder}: {err.strerror}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise UsageError(f"{folder} is locked by another process; try again") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read_text(path: str | os.PathLike) -> str:
    """Read a text file exactly (no newline translation); UsageError when not UTF-8."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read: {err.strerror}", path=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UsageError("not UTF-8 text; save the file as UTF-8", path=path, line=line) from None


def require_writable(path: str | os.PathLike) -> None:
    """Refuse, before anything changes, to replace a file that is read-only or not a file.

    Checked on the mode bits first: root may write anything, but a ``chmod 444`` is a
    statement by the owner that the file is not to be rewritten. A file whose mode allows
    writing may still be refused by the system (immutable or append-only attribute, read-only
    file system, another owner): the message says which, so the advice fits the cause
    (``chmod u+w`` does nothing for a ``chattr +i`` file).
    """
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return
    except OSError as err:
        raise UsageError(f"cannot write: {err.strerror}", path=path) from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError("not a regular file; nothing was changed", path=path)
    mode = stat.S_IMODE(st.st_mode)
    if not st.st_mode & 0o222:
        raise UsageError(f"the file is read-only (mode {mode:o}); nothing was changed: make it "
                         f"writable (chmod u+w) to let this command edit it", path=path)
    # the attributes first: access() does not see append-only, which refuses the rename
    flags = _attributes(real)
    if flags is not None and flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL):
        raise UsageError(_unwritable(path, real, st, flags), path=path)
    # access(), not a trial open for writing: that would wake file watchers (IN_CLOSE_WRITE)
    effective = os.access in os.supports_effective_ids
    if not os.access(real, os.W_OK, effective_ids=effective):
        raise UsageError(_unwritable(path, real, st, flags), path=path)


# FS_IOC_GETFLAGS (Linux, _IOR('f', 1, long)) and its immutable / append-only bits
_FS_IOC_GETFLAGS, _FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x80086601, 0x10, 0x20


def _attributes(real: str) -> int | None:
    """The file's inode flags (``lsattr``), or None where they cannot be read."""
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        buf = bytearray(8)
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        return int.from_bytes(buf[:4], sys.byteorder)  # the kernel writes an int
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _unwritable(path: str | os.PathLike, real: str, st: os.stat_result, flags: int | None) -> str:
    """Why a file whose mode allows writing cannot be written, and what to do about it."""
    mode = stat.S_IMODE(st.st_mode)
    shown = shlex.quote(str(path))
    if flags is not None and flags & _FS_IMMUTABLE_FL:
        return (f"the file is immutable (chattr +i; its mode {mode:o} is not the cause); "
                f"nothing was changed: check with lsattr {shown}, clear it with "
                f"chattr -i {shown} (as root) to let this command edit it")
    if flags is not None and flags & _FS_APPEND_FL:
        return (f"the file is append-only (chattr +a; its mode {mode:o} is not the cause); "
                f"nothing was changed: check with lsattr {shown}, clear it with "
                f"chattr -a {shown} (as root) to let this command edit it")
    try:
        read_only_fs = bool(os.statvfs(real).f_flag & os.ST_RDONLY)
    except OSError:
        read_only_fs = False
    if read_only_fs:
        return ("the file is on a read-only file system; nothing was changed: remount it "
                "read-write, or run the command on a writable copy of the repository")
    if st.st_uid == os.geteuid():  # mode 066: writable by others, not by its owner
        return (f"the file is read-only for its owner (mode {mode:o}); nothing was changed: "
                "make it writable (chmod u+w) to let this command edit it")
    return (f"you (uid {os.geteuid()}) may not write the file: it belongs to uid {st.st_uid} "
            f"(mode {mode:o}); nothing was changed: run the command as its owner, or have the "
            "owner give you write access")


def write_atomic(path: str | os.PathLike, data: str | bytes, done: str = "") -> None:
    """Replace ``path`` with ``data`` atomically; the file mode is kept, a symlink is followed
    (its target is replaced, the link stays). ``done`` goes into the WriteError message."""
    shown = Path(path)
    require_writable(shown)
    real = Path(os.path.realpath(path))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(real.stat().st_mode)
    except FileNotFoundError:
        mode = new_file_mode()
    tmp = None
    try:
        tmp = _temp_copy(real, raw, mode)
        os.replace(tmp, real)
    except OSError as err:
        raise WriteError(shown, err, done) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _temp_copy(path: Path, data: bytes, mode: int) -> str:
    """A temporary file beside ``path`` holding ``data`` on disk (fsync) with ``mode``: the
    first half of both ways of putting a file in place (rename over, or link beside)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def create_exclusive(path: str | os.PathLike, data: bytes, exists: str) -> None:
    """Create ``path`` whole with ``data``, never replacing an existing file.

    Written to a temporary file and hard-linked into place: the file appears complete or not
    at all, and the link fails if the name exists. ``exists`` is the UsageError message then.
    """
    path = Path(path)
    tmp = None
    try:
        tmp = _temp_copy(path, data, new_file_mode())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise UsageError(exists, path=path) from None
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            # a file system without hard links: O_EXCL still never replaces a file
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, new_file_mode())
            except FileExistsError:
                raise UsageError(exists, path=path) from None
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as err:
        raise WriteError(path, err, outcome="the file was not created") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
