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
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass

from scaffold.errors import UsageError

SEP = "__"  # separates the parts of flow and deployment names
FLOW_SUFFIX = "_flow"
FLOWS_DIR = "flows"
CONFIG_FILE = "prefect.yaml"

_PART = re.compile(r"[a-z][a-z0-9_]*\Z")


class NamingError(UsageError):
    """A name breaks the conventions. ``str(err)`` is one line: what is wrong and how to fix it."""

    def __init__(self, kind: str, value: str, problem: str, hint: str | None = None):
        self.kind, self.value, self.problem = kind, value, problem
        self.hint = suggest(value) if hint is None else hint
        msg = f"invalid {kind} {value!r}: {problem}"
        if self.hint and self.hint != value:
            msg += f" (try {self.hint!r})"
        super().__init__(msg)
        self.message = msg


def suggest(value: str) -> str:
    """A best-effort valid name close to ``value`` (may be empty)."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    text = re.sub(r"[^a-z0-9]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if text and text[0].isdigit():
        text = "n" + text
    if keyword.iskeyword(text):
        text += "_x"
    return text


def check_part(value: str, kind: str = "name") -> str | None:
    """Why ``value`` is not a valid name part, or None when it is."""
    if not isinstance(value, str) or value == "":
        return "it is empty"
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


def validate_project(name: str) -> str:
    problem = check_part(name)
    if problem:
        raise NamingError("project name", name, problem)
    return name


def validate_flow(name: str) -> str:
    problem = check_part(name)
    if problem:
        raise NamingError("flow name", name, problem)
    if name.endswith(FLOW_SUFFIX):
        stem = name[: -len(FLOW_SUFFIX)]
        raise NamingError(
            "flow name", name, f"drop the '{FLOW_SUFFIX}' suffix, it is added to the function",
            hint=stem,
        )
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
    path = parsed[0].replace("\\", "/")
    if path.startswith("./"):
        path = path[2:]
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

    ``season="winter"`` -> ``winter``; ``days=3`` -> ``days_3``; ``region="EU West"`` -> ``eu_west``.
    Raises NamingError when nothing usable is left (the user must pass ``--suffix``).
    """
    if isinstance(value, str):
        raw = value
    elif isinstance(value, bool):
        raw = "true" if value else "false"
    elif isinstance(value, int | float):
        raw = str(value)
    else:
        raw = ""  # lists and objects: no natural suffix
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if text and (text[0].isdigit() or keyword.iskeyword(text) or not isinstance(value, str)):
        text = f"{suggest(key)}_{text}".strip("_")
    if not text or check_part(text):
        raise NamingError(
            "parameter value", f"{key}={value if isinstance(value, str) else repr(value)}",
            "it gives no usable deployment-name suffix; pass --suffix NAME", hint="",
        )
    return text
