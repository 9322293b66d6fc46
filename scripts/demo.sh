#!/usr/bin/env bash
# The main job end to end, on the embedded default. Safe to run again.
#
# Creates .venv and installs (first run only), then works in a scratch copy of the repository
# (.cache/demo/repo), so the real projects/ is never touched:
#   1. cli new-project farm
#   2. cli new-flow farm harvest --param season=winter --param season=summer
#   3. shows the new files and the prefect.yaml diff
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
REPO_ROOT="$PWD"
DEMO="${DEMO_DIR:-$REPO_ROOT/.cache/demo/repo}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
git_() { git -c user.name=demo -c user.email=demo@localhost -c init.defaultBranch=main "$@"; }

step "scratch copy of the repository in $DEMO"
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp -R projects templates "$DEMO"/
cd "$DEMO"
git_ init -q . && git_ add -A && git_ commit -qm "before the demo"

step "cli new-project farm"
cli new-project farm
git_ add -A && git_ commit -qm "new project farm"

step "cli new-flow farm harvest --param season=winter --param season=summer"
cli new-flow farm harvest --param season=winter --param season=summer

step "new files"
git_ status --short
echo
cat projects/farm/flows/harvest.py

step "prefect.yaml diff (every other byte unchanged)"
git_ --no-pager diff --stat
git_ --no-pager diff projects/farm/prefect.yaml
