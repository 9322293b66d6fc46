"""The naming conventions of the monorepo: the single source of truth.

Pure functions, no I/O. The generator, the linter and the operations all call these;
nothing else in the code base spells a convention out again.

For project ``farm`` and flow ``harvest``::

    flow file            harvest.py
    flow function        harvest_flow
    @flow(name=...)      farm__harvest_flow          unique across all projects
    deployment           farm__harvest               unique across all projects
    parameterized        farm__harvest__winter
    entrypoint           flows/harvest.py:harvest_flow
    task function        harvest_task                what the flow template writes

Each name part (project, flow, parameter suffix) is at most ``MAX_PART_LENGTH`` characters, so
the longest names stay well inside file-system and Prefect limits (see ``MAX_PART_LENGTH``).
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from collections.abc import Container
from dataclasses import dataclass

from scaffold.errors import UsageError

SEP = "__"  # separates the parts of flow and deployment names
FLOW_SUFFIX = "_flow"
TASK_SUFFIX = "_task"
FLOWS_DIR = "flows"
CONFIG_FILE = "prefect.yaml"
DEFAULT_WORK_POOL = "default-pool"  # what a new project uses unless told otherwise
DEFAULT_TIMEZONE = "UTC"  # likewise for the time zone of schedules

# At most 63 characters per part (the length of a DNS label, which Kubernetes names also keep
# to). The longest names then stay far inside every limit: the flow file `<flow>.py` is at most
# 66 bytes of the 255 a path component may have (temporary `.<flow>.py.XXXXXXXX.tmp` and
# `__pycache__/<flow>.cpython-3XY.pyc` names included), the `@flow` name at most 133 characters
# and the longest deployment name `<project>__<flow>__<suffix>` at most 193; Prefect stores
# both as unbounded text. A 300-character flow name used to end in an OSError.
MAX_PART_LENGTH = 63

# Names Windows reserves for devices, with or without an extension: a flows/con.py or a
# projects/aux folder cannot be checked out there.
WINDOWS_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                                  *(f"lpt{i}" for i in range(1, 10))})

_PART = re.compile(r"[a-z][a-z0-9_]*\Z")


class NamingError(UsageError):
    """A name breaks the conventions. ``str(err)`` is one line: what is wrong and how to fix it."""

    def __init__(self, kind: str, value: str, problem: str, hint: str | None = None):
        self.kind, self.value, self.problem = kind, value, problem
        self.hint = suggest(value) if hint is None else hint
        shown = value if not isinstance(value, str) or len(value) <= 80 else value[:60] + "..."
        msg = f"invalid {kind} {shown!r}: {problem}"
        if self.hint and self.hint != value:
            msg += f" (try {self.hint!r})"
        super().__init__(msg)
        self.message = msg


# Letters of other scripts that look like Latin ones (Unicode's confusables, the common ones):
# a name typed with one of them is the Latin name, not a different one with a letter missing.
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "‐": "-", "‑": "-", "–": "-", "—": "-", "−": "-", "＿": "_",
})


def skeleton(value: str) -> str:
    """``value`` with look-alike letters made Latin, compatibility forms folded, case folded:
    two names with the same skeleton read the same to a person."""
    return unicodedata.normalize("NFKC", value).translate(_LOOKALIKES).casefold()


def suggest(value: str) -> str:
    """A best-effort valid name close to ``value`` (may be empty).

    A path suggests its last part (``projects/billing`` -> ``billing``), a look-alike
    letter of another script its Latin twin (Cyrillic ``fаrm`` -> ``farm``, not ``frm``).
    """
    if not isinstance(value, str):
        return ""
    parts = [p for p in re.split(r"[/\\]", value) if p not in ("", ".", "..")]
    value = parts[-1] if parts else value
    text = unicodedata.normalize("NFKD", value.translate(_LOOKALIKES)).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    text = re.sub(r"[^a-z0-9]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if text and text[0].isdigit():
        text = "n" + text
    if keyword.iskeyword(text):
        text += "_x"
    if len(text) > MAX_PART_LENGTH:
        text = text[:MAX_PART_LENGTH].rstrip("_")
    return text


def check_part(value: str, kind: str = "name") -> str | None:
    """Why ``value`` is not a valid name part, or None when it is."""
    if not isinstance(value, str) or value == "":
        return "it is empty"
    if len(value) > MAX_PART_LENGTH:
        return f"it is {len(value)} characters long; the maximum is {MAX_PART_LENGTH}"
    if "/" in value or "\\" in value or value in {".", ".."}:
        return "it must be a plain name, not a path"
    if value != value.lower() or not value.isascii():
        return "use lowercase ASCII letters, digits and '_'"
    if value[0] == "_":
        return "it must not start with '_'"
    if value[0].isdigit():
        return "it must start with a letter"
    if not _PART.match(value):
        return "use only lowercase letters, digits and '_' (snake_case)"
    if value.endswith("_"):
        return "it must not end with '_'"
    if SEP in value:
        return f"'{SEP}' separates the parts of flow and deployment names, use a single '_'"
    if keyword.iskeyword(value):
        return "it is a Python keyword"
    return None


def is_valid_part(value: str) -> bool:
    return check_part(value) is None


def _device_name(value: str) -> str | None:
    if isinstance(value, str) and value in WINDOWS_DEVICE_NAMES:
        return f"'{value}' is a device name on Windows, the file could not be checked out there"
    return None


def check_project(value: str) -> str | None:
    """Why ``value`` is not a valid project name (a folder under projects/), or None."""
    return check_part(value) or _device_name(value)


def validate_project(name: str) -> str:
    problem = check_project(name)
    if problem:
        device = isinstance(name, str) and name in WINDOWS_DEVICE_NAMES
        raise NamingError("project name", name, problem, hint="" if device else None)
    return name


# Top-level modules a flow file must not be named after: Prefect puts the flows/ folder first
# on sys.path when it loads a flow (and `python flows/x.py` does the same), so flows/email.py
# would be imported instead of the standard library's `email`, breaking every flow there.
# Prefect itself and the packages it imports at run time are shadowed the same way.
SHADOWED_MODULES = frozenset(sys.stdlib_module_names) | {
    "aiosqlite", "alembic", "amplitude", "anyio", "apprise", "asgi_lifespan", "asyncpg",
    "cachetools", "certifi", "click", "cloudpickle", "coolname", "cryptography", "cyclopts",
    "dateparser", "dateutil", "docker", "docket", "exceptiongroup", "fastapi", "fsspec",
    "graphviz", "griffe", "h11", "httpcore", "httpx", "humanize", "idna", "jinja2", "jsonpatch",
    "jsonschema", "opentelemetry", "orjson", "packaging", "pathspec", "pendulum", "pluggy",
    "prefect", "prometheus_client", "pydantic", "pydantic_core", "pydantic_extra_types",
    "pydantic_settings", "pytz", "readchar", "rfc3339_validator", "rich", "ruamel", "semver",
    "slugify", "sniffio", "sqlalchemy", "starlette", "toml", "typing_extensions", "uvicorn",
    "websockets", "whenever", "yaml",
}


def check_flow(value: str, installed: Container[str] = frozenset()) -> str | None:
    """Why ``value`` is not a valid flow name, or None when it is.

    ``installed``: top-level module names installed where flows run (third-party packages such
    as ``pandas``); the caller computes it (this module does no I/O), lazily if it likes: only
    ``value in installed`` is asked, and only for a name that passed every other rule.
    """
    problem = check_part(value) or _device_name(value)
    if problem:
        return problem
    if value.endswith(FLOW_SUFFIX):
        return f"drop the '{FLOW_SUFFIX}' suffix, it is added to the function"
    if value in SHADOWED_MODULES:
        return (f"flows/{value}.py would shadow the Python module '{value}' when Prefect loads "
                "flows; use a more specific name")
    if value in installed:
        return (f"flows/{value}.py would shadow the installed package '{value}' when Prefect "
                "loads flows; use a more specific name")
    return None


def _flow_hint(value: str, installed: Container[str] = frozenset()) -> str:
    """A valid flow name close to ``value`` ("" when none comes to mind)."""
    hint = suggest(value)
    while hint.endswith(FLOW_SUFFIX):
        hint = hint[: -len(FLOW_SUFFIX)]
    if hint in SHADOWED_MODULES or hint in WINDOWS_DEVICE_NAMES or (hint and hint in installed):
        hint = hint[: MAX_PART_LENGTH - 4] + "_job"
    return hint if check_flow(hint, installed) is None else ""


def validate_flow(name: str, installed: Container[str] = frozenset()) -> str:
    problem = check_flow(name, installed)
    if problem:
        raise NamingError("flow name", name, problem, hint=_flow_hint(name, installed))
    return name


def validate_suffix(name: str) -> str:
    problem = check_part(name)
    if problem:
        raise NamingError("deployment suffix", name, problem)
    return name


# -- builders ---------------------------------------------------------------------------------


def flow_file(flow: str) -> str:
    """``harvest`` -> ``harvest.py``"""
    return f"{flow}.py"


def flow_path(flow: str) -> str:
    """Path of the flow file relative to the project folder: ``flows/harvest.py``."""
    return f"{FLOWS_DIR}/{flow_file(flow)}"


def flow_function(flow: str) -> str:
    """``harvest`` -> ``harvest_flow``"""
    return f"{flow}{FLOW_SUFFIX}"


def task_function(flow: str) -> str:
    """``harvest`` -> ``harvest_task``: the task the flow template writes."""
    return f"{flow}{TASK_SUFFIX}"


def flow_name(project: str, flow: str) -> str:
    """The ``@flow(name=...)``: ``farm__harvest_flow``."""
    return f"{project}{SEP}{flow}{FLOW_SUFFIX}"


def deployment_name(project: str, flow: str, suffix: str | None = None) -> str:
    """``farm__harvest`` or, parameterized, ``farm__harvest__winter``."""
    base = f"{project}{SEP}{flow}"
    return f"{base}{SEP}{suffix}" if suffix else base


def entrypoint(flow: str) -> str:
    """``flows/harvest.py:harvest_flow``"""
    return f"{flow_path(flow)}:{flow_function(flow)}"


# -- parsers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentName:
    project: str
    flow: str
    suffix: str | None = None

    def __str__(self) -> str:
        return deployment_name(self.project, self.flow, self.suffix)


@dataclass(frozen=True)
class FlowName:
    project: str
    flow: str

    def __str__(self) -> str:
        return flow_name(self.project, self.flow)


def parse_deployment_name(name: str) -> DeploymentName | None:
    """Split ``farm__harvest[__winter]`` into its parts; None if it does not follow the rules.

    Exact: ``str(parse_deployment_name(n)) == n`` whenever the result is not None.
    """
    if not isinstance(name, str):
        return None
    parts = name.split(SEP)
    if len(parts) not in (2, 3) or not all(is_valid_part(p) for p in parts):
        return None
    if parts[1].endswith(FLOW_SUFFIX):
        return None
    return DeploymentName(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def parse_flow_name(name: str) -> FlowName | None:
    """Split ``farm__harvest_flow`` into ``(farm, harvest)``; None if it does not follow the rules."""
    if not isinstance(name, str) or not name.endswith(FLOW_SUFFIX):
        return None
    parts = name[: -len(FLOW_SUFFIX)].split(SEP)
    if len(parts) != 2 or not all(is_valid_part(p) for p in parts):
        return None
    if parts[1].endswith(FLOW_SUFFIX):
        return None
    return FlowName(parts[0], parts[1])


def parse_entrypoint(value: str) -> tuple[str, str] | None:
    """``flows/harvest.py:harvest_flow`` -> ``("flows/harvest.py", "harvest_flow")``."""
    if not isinstance(value, str) or ":" not in value:
        return None
    path, _, func = value.rpartition(":")
    if not path or not func:
        return None
    return path, func


def flow_of_entrypoint(value: str) -> str | None:
    """The flow name an entrypoint points at by its file (``flows/harvest.py:...`` -> ``harvest``)."""
    parsed = parse_entrypoint(value)
    if not parsed:
        return None
    path = parsed[0].replace("\\", "/").removeprefix("./")
    folder, _, file = path.rpartition("/")
    if folder != FLOWS_DIR or not file.endswith(".py"):
        return None
    return file[:-3]


def flow_of_function(func: str) -> str | None:
    """``harvest_flow`` -> ``harvest``; None without the suffix."""
    if func.endswith(FLOW_SUFFIX) and len(func) > len(FLOW_SUFFIX):
        return func[: -len(FLOW_SUFFIX)]
    return None


def suffix_from_value(key: str, value: object) -> str:
    """Make a parameter value into a deployment-name suffix.

    ``season="winter"`` -> ``winter``; ``days=3`` -> ``days_3``; ``days=-3`` -> ``days_minus_3``;
    ``region="EU West"`` -> ``eu_west``; ``full=true`` -> ``full_true``.
    Raises NamingError when nothing usable is left (the user must pass ``--suffix``).
    """
    if isinstance(value, str):
        raw = value
    elif isinstance(value, bool):
        raw = "true" if value else "false"
    elif isinstance(value, int | float):
        # the sign matters: days=-3 and days=3 must not give the same deployment name
        raw = str(value) if not str(value).startswith("-") else "minus_" + str(value)[1:]
    else:
        raw = ""  # lists and objects: no natural suffix
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if text and (text[0].isdigit() or keyword.iskeyword(text) or not isinstance(value, str)):
        text = f"{suggest(key)}_{text}".strip("_")
    if not text or check_part(text):
        shown = value if isinstance(value, str) else _json(value)
        raise NamingError(
            "parameter value", f"{key}={shown}",
            "it gives no usable deployment-name suffix; pass --suffix NAME", hint="",
        )
    return text


def _json(value: object) -> str:
    """A value as the user wrote it on the command line (JSON), for messages."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
