"""A project's defaults for new deployments: declared once, in its prefect.yaml.

`cli new-project` writes them into the commented template under "Instructions for new
deployments" (the block people copy by hand, per the team's guide): its ``work_pool``, the
``timezone`` of its commented ``schedules`` and its ``tags``. That block is the only source:
what one deployment was given (``--work-pool gpu-pool`` on one flow) never becomes the next
flow's default. Edit the block to change a project's defaults. A prefect.yaml without the block
gets the built-in defaults (`naming.DEFAULT_WORK_POOL`, `naming.DEFAULT_TIMEZONE`, the project's
name as its tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scaffold import naming, schedules
from scaffold.errors import UsageError
from scaffold.generate.options import check_work_pool
from scaffold.repo import compose

INSTRUCTIONS = "Instructions for new deployments"


@dataclass(frozen=True)
class Defaults:
    work_pool: str
    timezone: str
    tags: tuple[str, ...]
    declared: bool  # read from the Instructions block (False: built-in values)


def instructions_block(text: str) -> str:
    """The commented deployment template under "Instructions for new deployments", uncommented
    ("" when the file has none)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if INSTRUCTIONS in line and line.lstrip().startswith("#")), None)
    if start is None:
        return ""
    block: list[str] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        body = stripped[1:].removeprefix(" ")
        if body.startswith("- name:") or (block and body.startswith(("  ", "#"))):
            block.append(body)
        elif block:
            break
    return "\n".join(block)


def _template_entry(block: str) -> dict:
    if not block:
        return {}
    try:
        _, data = compose(block)
    except UsageError:
        return {}
    return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}


_TIMEZONE = re.compile(r"^[#\s-]*timezone:\s*['\"]?([A-Za-z0-9_/+-]+)", re.MULTILINE)


def project_defaults(project: str, text: str) -> Defaults:
    """The defaults ``text`` (a prefect.yaml) declares, else the built-in ones."""
    block = instructions_block(text)
    entry = _template_entry(block)
    pool = None
    wp = entry.get("work_pool")
    if isinstance(wp, dict) and isinstance(wp.get("name"), str) and "<" not in wp["name"] \
            and "{{" not in wp["name"]:
        pool = check_work_pool(wp["name"], f"the '{INSTRUCTIONS}' block's work_pool")
    tz = None
    match = _TIMEZONE.search(block)  # under the commented-out `# schedules:` of the template
    if match and schedules.check_timezone(match.group(1)) is None:
        tz = match.group(1)
    tags = entry.get("tags")
    tag_list = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else None
    return Defaults(
        work_pool=pool or naming.DEFAULT_WORK_POOL,
        timezone=tz or naming.DEFAULT_TIMEZONE,
        tags=tag_list if tag_list is not None else (project,),
        declared=bool(entry),
    )
