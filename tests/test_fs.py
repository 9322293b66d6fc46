"""scaffold.fs: the lock, the exact read, the atomic write and the exclusive create."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from scaffold import fs
from scaffold.errors import UsageError
from scaffold.fs import WriteError, create_exclusive, locked, require_writable, write_atomic
from scaffold.yamledit import update_file


def test_write_atomic_keeps_mode_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomic(path, "new\r\nline")
    assert path.read_bytes() == b"new\r\nline"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_write_atomic_new_file_uses_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.yaml", b"x: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640


def test_write_atomic_failure_leaves_the_original(tmp_path, monkeypatch):
    path = tmp_path / "prefect.yaml"
    path.write_text("original\n")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fs.os, "replace", boom)
    with pytest.raises(WriteError) as info:
        write_atomic(path, "replacement\n")
    assert str(info.value) == (f"cannot write {path}: No space left on device; "
                               "the file was not changed")
    assert path.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_write_atomic_follows_a_symlink(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("a\n")
    link = tmp_path / "prefect.yaml"
    link.symlink_to(real)
    write_atomic(link, "b\n")
    assert link.is_symlink() and real.read_text() == "b\n"


def _hold_lock(folder: str, ready, release) -> None:
    with locked(folder):
        ready.set()
        release.wait(10)


def test_locked_excludes_other_processes_and_times_out(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(UsageError) as info, locked(tmp_path, timeout=0.2):
            pass
        assert "locked by another process" in str(info.value)
    finally:
        release.set()
        holder.join(10)
    with locked(tmp_path, timeout=1):  # released when the holder ends
        pass
    assert list(tmp_path.iterdir()) == []  # flock on the folder: no lock file left behind


def test_locking_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(UsageError) as info, locked(tmp_path / "missing"):
        pass
    assert str(info.value) == f"cannot lock {tmp_path / 'missing'}: No such file or directory"
    with pytest.raises(UsageError):
        update_file(tmp_path / "missing" / "prefect.yaml", lambda t: t + "x: 1\n")




# -- read-only files and failed writes (issue 8 section 8) -------------------------------------


def test_read_only_file_is_refused_before_any_change(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text("name: farm\n")
    path.chmod(0o444)
    with pytest.raises(UsageError) as info:
        write_atomic(path, "name: other\n")
    assert info.value.exit_code == 2
    assert str(info.value) == (f"{path}: the file is read-only (mode 444); nothing was changed: "
                               "make it writable (chmod u+w) to let this command edit it")
    assert path.read_text() == "name: farm\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_update_file_refuses_a_read_only_file_without_running_the_transform(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text("name: farm\n")
    path.chmod(0o444)
    calls = []
    with pytest.raises(UsageError, match="read-only"):
        update_file(path, lambda t: calls.append(t) or t + "x: 1\n")
    assert calls == []


def test_read_only_through_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("a\n")
    real.chmod(0o400)
    link = tmp_path / "prefect.yaml"
    link.symlink_to(real)
    with pytest.raises(UsageError, match="read-only"):
        require_writable(link)


def test_a_folder_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / "prefect.yaml").mkdir()
    with pytest.raises(UsageError, match="not a regular file"):
        write_atomic(tmp_path / "prefect.yaml", "x\n")


def test_failed_write_names_the_real_file_never_the_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "prefect.yaml"
    path.write_text("original\n")

    def immutable(src, dst):  # what chattr +i gives: the rename is refused
        raise PermissionError(1, "Operation not permitted", src)

    monkeypatch.setattr(fs.os, "replace", immutable)
    with pytest.raises(WriteError) as info:
        write_atomic(path, "new\n", done="2 deployments were deleted on the server")
    message = str(info.value)
    assert message == (f"cannot write {path}: Operation not permitted; the file was not changed; "
                       "2 deployments were deleted on the server")
    assert ".tmp" not in message and info.value.exit_code == 1
    assert path.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]


def test_a_folder_without_write_permission_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "prefect.yaml"
    path.write_text("original\n")

    def no_temp(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".prefect.yaml.abc.tmp"))

    monkeypatch.setattr(fs.tempfile, "mkstemp", no_temp)
    with pytest.raises(WriteError) as info:
        write_atomic(path, "new\n")
    assert str(info.value) == f"cannot write {path}: Permission denied; the file was not changed"


def test_create_exclusive_never_replaces_and_follows_the_umask(tmp_path):
    path = tmp_path / "flow.py"
    old = os.umask(0o027)
    try:
        create_exclusive(path, b"print(1)\n", "file already exists")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"print(1)\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(UsageError) as info:
        create_exclusive(path, b"other\n", "file already exists; choose another flow name")
    assert str(info.value) == f"{path}: file already exists; choose another flow name"
    assert path.read_bytes() == b"print(1)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.py"]


def test_create_exclusive_without_hard_links_still_never_replaces(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(fs.os, "link", no_links)
    path = tmp_path / "flow.py"
    create_exclusive(path, b"a\n", "exists")
    with pytest.raises(UsageError, match="exists"):
        create_exclusive(path, b"b\n", "exists")
    assert path.read_bytes() == b"a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.py"]


def test_read_text_is_exact_and_refuses_other_encodings(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_bytes(b"a: 1\r\nb: \xe9\n")
    with pytest.raises(UsageError) as info:
        fs.read_text(path)
    assert str(info.value) == f"{path}:2: not UTF-8 text; save the file as UTF-8"
    path.write_bytes(b"a: 1\r\n")
    assert fs.read_text(path) == "a: 1\r\n"


# -- through the commands ---------------------------------------------------------------------


def _cli(*args: str):
    from tests.helpers.cli import invoke

    return invoke(*args)


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("command", [
    ("new-flow", "farm", "harvest"),
    ("new-deployment", "farm", "plant", "--param", "season=winter"),
])
def test_commands_refuse_a_read_only_prefect_yaml_and_change_nothing(scratch_repo: Path, command):
    assert _cli("new-project", "farm").exit_code == 0
    assert _cli("new-flow", "farm", "plant", "--param", "season=summer").exit_code == 0
    config = scratch_repo / "projects" / "farm" / "prefect.yaml"
    config.chmod(0o444)
    before = _snapshot(scratch_repo)
    result = _cli(*command)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {config}: the file is read-only (mode 444); nothing was changed: make it "
        "writable (chmod u+w) to let this command edit it")
    assert _snapshot(scratch_repo) == before


@pytest.mark.parametrize("flag, words", [
    ("+i", ("the file is immutable (chattr +i; its mode 644 is not the cause); nothing was "
            "changed: check with lsattr {path}, clear it with chattr -i {path} (as root)")),
    ("+a", ("the file is append-only (chattr +a; its mode 644 is not the cause); nothing was "
            "changed: check with lsattr {path}, clear it with chattr -a {path} (as root)")),
])
def test_an_immutable_file_is_not_called_read_only(tmp_path, flag, words):
    """A `chattr +i` file of mode 644 was 'read-only (mode 644) ... chmod u+w': wrong advice,
    chmod changes nothing there."""
    import shutil
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("chattr +i/+a needs root (CAP_LINUX_IMMUTABLE)")
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    path = tmp_path / "prefect.yaml"
    path.write_text("name: farm\n")
    path.chmod(0o644)
    done = subprocess.run(["chattr", flag, str(path)], check=False, capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"the file system of {tmp_path} has no chattr attributes: {done.stderr.strip()}")
    try:
        with pytest.raises(UsageError) as info:
            write_atomic(path, "name: other\n")
        message = str(info.value)
        assert message.startswith(f"{path}: " + words.format(path=path)), message
        assert "chmod" not in message and "read-only" not in message
        assert path.read_text() == "name: farm\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["prefect.yaml"]
    finally:
        subprocess.run(["chattr", flag.replace("+", "-"), str(path)], check=True)


@contextlib.contextmanager
def as_nobody():
    """As root: a folder anyone may enter, and the effective uid of nobody while inside the
    block (the real uid stays root, so the euid comes back in the finally)."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    folder = Path(tempfile.mkdtemp(prefix="scaffold-fs-"))  # tmp_path's parents are 0700
    folder.chmod(0o755)
    try:
        yield folder, lambda: _seteuid(NOBODY)
    finally:
        os.seteuid(0)
        shutil.rmtree(folder)


NOBODY = 65534


@contextlib.contextmanager
def _seteuid(uid):
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_file_the_user_may_not_write_is_told_apart(tmp_path):
    """Mode 066 owned by the user: read-only for its owner (chmod u+w); mode 644 of another
    owner: not the user's file (chmod would not be theirs to run)."""
    with as_nobody() as (folder, nobody):
        own, other = folder / "own.yaml", folder / "other.yaml"
        own.write_text("a\n")
        other.write_text("a\n")
        os.chown(own, NOBODY, -1)
        own.chmod(0o066)
        other.chmod(0o644)
        with nobody():
            with pytest.raises(UsageError) as info:
                require_writable(own)
            assert str(info.value) == (f"{own}: the file is read-only for its owner (mode 66); "
                                       "nothing was changed: make it writable (chmod u+w) to let "
                                       "this command edit it")
            with pytest.raises(UsageError) as info:
                require_writable(other)
            assert str(info.value) == (
                f"{other}: you (uid {NOBODY}) may not write the file: it belongs to uid 0 (mode "
                "644); nothing was changed: run the command as its owner, or have the owner give "
                "you write access")
