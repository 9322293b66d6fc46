"""Render the copier templates (``templates/project``, ``templates/flow``) from Python.

Data is passed in (validated by scaffold.naming first): no prompts, no tasks, StrictUndefined.
Rendering goes to a private temporary folder; the caller moves the files into place, so a
failure never leaves a half-written project and an existing file is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from scaffold.errors import UsageError

ENV_TEMPLATES = "SCAFFOLD_TEMPLATES"
_PACKAGE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def templates_dir(root: Path | None = None) -> Path:
    """``$SCAFFOLD_TEMPLATES``, else the repository's own ``templates/`` (the team may edit it),
    else the templates shipped beside this package."""
    env = os.environ.get(ENV_TEMPLATES)
    for candidate in (Path(env) if env else None, root / "templates" if root else None,
                      _PACKAGE_TEMPLATES):
        if candidate is not None and (candidate / "flow" / "copier.yml").is_file():
            return candidate
    raise UsageError(f"no copier templates found (looked in ${ENV_TEMPLATES}, "
                     f"{root}/templates and {_PACKAGE_TEMPLATES}); restore templates/")


def render(template: Path, data: dict[str, Any]) -> dict[str, bytes]:
    """Render a copier template; returns ``{relative path: content}`` of the files it made."""
    import copier  # imported here: ~0.3 s, only the generator needs it

    with tempfile.TemporaryDirectory(prefix="scaffold-render-") as tmp:
        try:
            copier.run_copy(str(template), tmp, data=data, defaults=True, overwrite=True,
                            quiet=True, unsafe=False, skip_tasks=True, vcs_ref=None)
        except Exception as err:  # noqa: BLE001 - copier raises many types; all mean "template problem"
            raise UsageError(f"rendering {template} failed: {type(err).__name__}: {err}") from None
        out: dict[str, bytes] = {}
        base = Path(tmp)
        for path in sorted(base.rglob("*")):
            if path.is_file():
                out[path.relative_to(base).as_posix()] = path.read_bytes()
        return out
