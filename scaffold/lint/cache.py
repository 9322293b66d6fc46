"""Summaries and findings of unchanged files, keyed by content hash, in ``<root>/.cache/lint``.

Layout: ``<version>/<project hash>.pickle`` holds ``path -> (content digest, summary, file
findings)`` for one project, so an edit rewrites one small shard; ``<version>/run.pickle``
holds the findings of the last whole run with the digest of every input, so a run where
nothing changed loads no summary at all. ``<version>`` hashes the linter's own source: a
changed rule never reads stale results. A missing, corrupt or unwritable cache costs speed only.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import Any

FOLDER = ".cache/lint"
RUN_FILE = "run.pickle"
_VERSION: str | None = None


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def version() -> str:
    """Hash of the linter's source files, the shared modules it reads and the Python version."""
    global _VERSION
    if _VERSION is None:
        here = Path(__file__).parent
        h = hashlib.blake2b(sys.version.encode(), digest_size=8)
        for folder in (here, here / "rules"):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    h.update(name.encode())
                    h.update((folder / name).read_bytes())
        for shared in ("naming.py", "repo.py", "flowfile.py", "prefect_yaml.py"):
            try:
                h.update((here.parent / shared).read_bytes())
            except FileNotFoundError:  # prefect_yaml.py: not in every checkout of this branch
                h.update(b"-")
        _VERSION = h.hexdigest()
    return _VERSION


def _load(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - any unpickling failure: rebuild that part
        return None


class Cache:
    def __init__(self, root: Path, enabled: bool = True):
        self.base = root / FOLDER
        self.folder = self.base / version()
        self.enabled = enabled
        self._shards: dict[str, dict[str, tuple[bytes, Any, list]]] = {}
        self._dirty: set[str] = set()

    def _shard_name(self, project: str) -> str:
        return hashlib.blake2b(project.encode(), digest_size=8).hexdigest() + ".pickle"

    def _shard(self, project: str) -> dict[str, tuple[bytes, Any, list]]:
        shard = self._shards.get(project)
        if shard is None:
            loaded = _load(self.folder / self._shard_name(project)) if self.enabled else None
            shard = self._shards[project] = loaded if isinstance(loaded, dict) else {}
        return shard

    def get(self, project: str, path: str, key: bytes) -> tuple[Any, list] | None:
        hit = self._shard(project).get(path)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        return None

    def put(self, project: str, path: str, key: bytes, summary: Any, findings: list) -> None:
        self._shard(project)[path] = (key, summary, findings)
        self._dirty.add(project)

    def load_run(self, key: bytes) -> Any | None:
        if not self.enabled:
            return None
        loaded = _load(self.folder / RUN_FILE)
        if isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == key:
            return loaded[1]
        return None

    def save(self, present: dict[str, set[str]], run_key: bytes, run: Any) -> None:
        """Write the changed shards (without entries of files that are gone), drop shards of
        projects that are gone and other versions, and record the whole run."""
        if not self.enabled:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.base / ".gitignore"
            if not ignore.exists():  # for repositories whose .gitignore misses .cache/
                ignore.write_text("# created by cli lint\n*\n")
            for project, shard in self._shards.items():
                stale = shard.keys() - present.get(project, set())
                for path in stale:
                    del shard[path]
                if (project in self._dirty or stale) and project in present:
                    self._write(self.folder / self._shard_name(project), shard)
            keep = {self._shard_name(p) for p in present} | {RUN_FILE}
            for entry in os.scandir(self.folder):
                if entry.name.endswith(".pickle") and entry.name not in keep:
                    os.unlink(entry.path)
            for entry in os.scandir(self.base):
                if entry.is_dir() and entry.name != self.folder.name:
                    shutil.rmtree(entry.path, ignore_errors=True)
            self._write(self.folder / RUN_FILE, (run_key, run))
        except OSError:
            pass  # read-only checkout: lint still works, only slower

    @staticmethod
    def _write(path: Path, value: Any) -> None:
        # temp file + rename: a concurrent run reads the old or the new file, never half of
        # one; no fsync, a cache lost in a crash is rebuilt
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
