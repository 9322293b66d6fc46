"""Summaries and file findings of unchanged files, keyed by content hash, in ``<root>/.cache/lint``.

One pickle file per linter version (a hash of the linter's own source, so a changed rule never
reads stale results). A missing, corrupt or unwritable cache only costs speed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Any

FOLDER = ".cache/lint"
_VERSION: str | None = None


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def version() -> str:
    """Hash of the linter's source files and the Python version."""
    global _VERSION
    if _VERSION is None:
        here = Path(__file__).parent
        h = hashlib.blake2b(sys.version.encode(), digest_size=8)
        for sub in ("", "rules"):
            folder = here / sub
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    h.update(name.encode())
                    h.update((folder / name).read_bytes())
        for shared in ("naming.py", "repo.py"):
            h.update((here.parent / shared).read_bytes())
        _VERSION = h.hexdigest()
    return _VERSION


class Cache:
    """path -> (content digest, summary, findings of the file rules)."""

    def __init__(self, root: Path, enabled: bool = True):
        self.folder = root / FOLDER
        self.enabled = enabled
        self.file = self.folder / f"{version()}.pickle" if enabled else None
        self.entries: dict[str, tuple[bytes, Any, list]] = {}
        self.dirty = False
        if enabled:
            try:
                with open(self.file, "rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, dict):
                    self.entries = loaded
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - any unpickling failure: rebuild the cache
                self.entries = {}

    def get(self, path: str, key: bytes) -> tuple[Any, list] | None:
        hit = self.entries.get(path)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        return None

    def put(self, path: str, key: bytes, summary: Any, findings: list) -> None:
        self.entries[path] = (key, summary, findings)
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the entries of ``keep`` (the files that still exist) when anything changed."""
        if not self.enabled:
            return
        stale = self.entries.keys() - keep
        if not self.dirty and not stale:
            return
        for path in stale:
            del self.entries[path]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():  # for repositories whose .gitignore misses .cache/
                ignore.write_text("# created by cli lint\n*\n")
            # temp file + rename: a concurrent run reads the old or the new cache, never half;
            # no fsync, a cache lost in a crash is rebuilt
            tmp = self.folder / f".{self.file.name}.{os.getpid()}.tmp"
            tmp.write_bytes(pickle.dumps(self.entries, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, self.file)
            for old in self.folder.glob("*.pickle"):
                if old != self.file:
                    old.unlink(missing_ok=True)
        except OSError:
            pass  # read-only checkout: lint still works, only slower
