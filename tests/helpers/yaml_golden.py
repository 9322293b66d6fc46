"""The golden cases of scaffold.yamledit (tests/fixtures/yaml/<case>/: before.yaml, after.yaml,
op.json unless the case is "insert ENTRY"), shared by the tests that replay them."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "yaml"

# What `cli new-flow farm harvest --param season=winter` appends (the default insert case).
ENTRY = {
    "name": "farm__harvest__winter",
    "description": "Harvest the crops",
    "entrypoint": "flows/harvest.py:harvest_flow",
    "parameters": {"season": "winter"},
    "work_pool": {"name": "default", "job_variables": {}},
    "schedules": [{"cron": "0 6 * * *", "timezone": "Europe/Paris"}],
    "tags": ["farm"],
}

CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "before.yaml").is_file())


def read(path: Path) -> str:
    # bytes -> str without newline translation: CRLF must reach the editor as it is on disk
    return path.read_bytes().decode("utf-8")


def load_op(case: str) -> dict:
    op_file = FIXTURES / case / "op.json"
    return json.loads(op_file.read_text()) if op_file.exists() else {"op": "insert"}
