"""The Docker tier's own files, checked in the normal run (the tier itself needs an engine):
the compose override is valid Compose and changes only what docs/ops.md says it changes; the
scripts parse."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.helpers.stack_files import (
    REPO,
    SERVICES,
    compose_validator,
    load_compose_raw,
    schema_errors,
)

TIER = REPO / "tests" / "stack" / "docker"
OVERRIDE = TIER / "compose.host-network.yml"


@pytest.fixture(scope="module")
def override() -> dict:
    return yaml.safe_load(OVERRIDE.read_text())


def test_override_is_valid_compose_for_the_four_services(override):
    assert schema_errors(compose_validator(), override) == []
    assert sorted(override["services"]) == sorted(SERVICES)


def test_override_changes_only_networking(override):
    # What docs/ops.md lists: host networking, addresses and ports, and PostgreSQL asking for
    # the password on loopback. Images, volumes, users, start order stay the file's own.
    allowed = {"network_mode", "environment", "command", "healthcheck", "build"}
    env_allowed = {"PGPORT", "POSTGRES_INITDB_ARGS", "PREFECT_API_DATABASE_CONNECTION_URL",
                   "PREFECT_API_URL", "PREFECT_WORKER_WEBSERVER_PORT"}
    base = load_compose_raw()["services"]
    for name, service in override["services"].items():
        assert service["network_mode"] == "host", name
        assert set(service) <= allowed, (name, set(service) - allowed)
        assert set(service.get("environment", {})) <= env_allowed, name
        if "build" in service:
            assert service["build"] == {"context": base[name]["build"]["context"],
                                        "network": "host"}
        if "healthcheck" in service:
            assert set(service["healthcheck"]) == {"test"}, name  # timings stay the file's
        if "command" in service and name != "prefect-postgres":
            # Same program and arguments, other address and port only.
            old, new = base[name]["command"], service["command"]
            assert [a for a in new if not a[:1].isdigit() and "$" not in a] == \
                [a for a in old if not a[:1].isdigit()], name


def test_tier_scripts_parse():
    subprocess.run(["sh", "-n", str(TIER / "postgres-entrypoint.sh")], check=True)
    subprocess.run(["bash", "-n", str(REPO / "scripts" / "ci-docker.sh")], check=True)
    for script in (TIER / "postgres-entrypoint.sh", REPO / "scripts" / "ci-docker.sh"):
        assert script.stat().st_mode & 0o111, script
