"""Fixtures of the operations tests: the session's real Prefect server, emptied per test."""

from __future__ import annotations

import pytest

from tests.helpers.ops import Server


@pytest.fixture(scope="session")
def ops_server(prefect_server):
    """The session server with the process work pool generated deployments point at."""
    from scaffold.ops.embedded import DEFAULT_WORK_POOL, ensure_process_pool

    ensure_process_pool(prefect_server.api_url, DEFAULT_WORK_POOL)
    return prefect_server


@pytest.fixture
def server(ops_server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """PREFECT_API_URL points at the session server, which holds no deployment or flow."""
    monkeypatch.setenv("PREFECT_API_URL", ops_server.api_url)
    monkeypatch.delenv("SCAFFOLD_SERVER_PORT", raising=False)
    srv = Server(ops_server.api_url)
    srv.clear()
    return srv
