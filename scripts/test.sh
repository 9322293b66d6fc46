#!/usr/bin/env bash
# Run the test suite: creates .venv when missing, installs the package with its dev extras
# (again only when pyproject.toml changed), then runs pytest with any arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
exec "$VENV/bin/python" -m pytest "$@"
