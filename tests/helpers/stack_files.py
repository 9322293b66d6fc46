"""Reading the stack's files as Docker Compose would, without a Docker engine.

``interpolate`` implements the Compose Specification's variable syntax (``$VAR``, ``${VAR}``,
``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+alt}``,
``${VAR+alt}`` and ``$$`` for a literal ``$``), so the tests see the values the containers get.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
# CI lays shared/ beside the clone: <parent>/shared/schemas/compose-spec.json
COMPOSE_SCHEMA = REPO.parent / "shared" / "schemas" / "compose-spec.json"

SERVICES = ("prefect-postgres", "prefect-server", "prefect-worker", "prefect-cli")

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})"
)


class InterpolationError(ValueError):
    pass


def strings(node: Any) -> list[str]:
    """Every string value in a loaded document (what compose interpolates; not comments)."""
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def variables(text: str) -> dict[str, str | None]:
    """Each variable the text references -> its operator (``:-``, ``:?``...) or None."""
    found: dict[str, str | None] = {}
    for m in _VAR.finditer(text):
        if m["escaped"]:
            continue
        name = m["bare"] or m["name"]
        found.setdefault(name, m["op"])
    return found


def interpolate_str(text: str, env: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        if m["escaped"]:
            return "$"
        name = m["bare"] or m["name"]
        op, arg = m["op"], m["arg"] or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset_or_empty else value
        if op in (":?", "?"):
            if unset_or_empty:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return value
        if op in (":+", "+"):
            return "" if unset_or_empty else arg
        return value or ""

    if "${" in text and "}" not in text:
        raise InterpolationError(f"unterminated ${{ in {text!r}")
    return _VAR.sub(repl, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Interpolate every string value (not keys) of a loaded compose document."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return interpolate_str(node, env)
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as docker compose reads it (KEY=VALUE lines, ``#`` comment lines)."""
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ValueError(f"{path}:{number}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def load_compose_raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def load_compose(env: dict[str, str] | None = None) -> dict:
    """The compose document as the engine sees it, with ``.env.example`` as the ``.env``."""
    return interpolate(load_compose_raw(), read_env_file(ENV_EXAMPLE) if env is None else env)


def environment(service: dict) -> dict[str, str]:
    """A service's environment as a mapping (compose accepts a mapping or KEY=VALUE items)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command_args(service: dict) -> list[str]:
    cmd = service.get("command")
    return cmd if isinstance(cmd, list) else str(cmd or "").split()


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        instr, _, args = full.partition(" ")
        out.append((instr.upper(), args.strip()))
    return out


def dockerfile_args() -> dict[str, str]:
    return dict(
        args.split("=", 1) for instr, args in dockerfile_instructions()
        if instr == "ARG" and "=" in args
    )


def dockerfile_env() -> dict[str, str]:
    """The image's environment: every ENV instruction, later ones winning."""
    import shlex

    env: dict[str, str] = {}
    for instr, args in dockerfile_instructions():
        if instr == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def pyproject_prefect_pin() -> str:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["prefect"]
    pins = [d.replace(" ", "") for d in deps if re.match(r"prefect\s*[=<>~!]", d)]
    assert len(pins) == 1, f"expected one prefect requirement in pyproject.toml, got {pins}"
    assert pins[0].startswith("prefect=="), f"prefect is not pinned exactly: {pins[0]}"
    return pins[0].removeprefix("prefect==")


def compose_validator():
    """A validator of the Compose Specification (skips the test when the schema is absent)."""
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"Compose Specification schema not found at {COMPOSE_SCHEMA} "
                    "(CI lays shared/ beside the clone)")
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The file declares draft-07 by a URL jsonschema does not recognise (no trailing '#').
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator, doc) -> list[str]:
    """Each schema error of ``doc`` as one line: its path, its message."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(doc)]
