#!/usr/bin/env bash
# The main job end to end, on the embedded default. Safe to run again.
#
# Creates .venv and installs what the demo runs (first run only: the package with its generate
# and prefect extras, not the test tools, which ./scripts/test.sh adds), starts the embedded
# Prefect server of this repository (SQLite in .prefect/, kept running afterwards), then works in
# a scratch copy of the repository (.cache/demo/repo), so the real projects/ is never touched:
#   1. cli new-project farm
#   2. cli new-flow farm harvest --param season=winter --param season=summer
#   3. shows the new files and the prefect.yaml diff
#   4. cli lint, cli prefect plan -p farm, cli prefect deploy -p farm, pause one deployment,
#      cli status -p farm
#   5. runs farm__harvest__winter through a process worker until it is Completed
set -euo pipefail
cd "$(dirname "$0")/.."
SCAFFOLD_EXTRAS="${SCAFFOLD_EXTRAS:-all}" source scripts/_venv.sh
REPO_ROOT="$PWD"
DEMO="${DEMO_DIR:-$REPO_ROOT/.cache/demo/repo}"
PORT="${SCAFFOLD_SERVER_PORT:-29020}"
# The embedded server, whatever PREFECT_API_URL says outside the demo.
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
git_() { git -c user.name=demo -c user.email=demo@localhost -c init.defaultBranch=main "$@"; }

step "cli server start (embedded Prefect server: SQLite in $REPO_ROOT/.prefect/)"
# A Prefect server this repository did not start may answer on the port (another checkout's,
# the compose stack): the demo would deploy into it, so it refuses unless asked.
if ! cli --root "$REPO_ROOT" server start ${SCAFFOLD_DEMO_USE_RUNNING:+--use-running}; then
    echo "demo: stopped before deploying anything. To run it against the server on port $PORT" \
         "as it is: SCAFFOLD_DEMO_USE_RUNNING=1 ./scripts/demo.sh; or pick a free port:" \
         "SCAFFOLD_SERVER_PORT=PORT ./scripts/demo.sh" >&2
    exit 1
fi

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

step "cli lint"
cli lint

step "cli prefect plan -p farm (what deploy will change; writes nothing)"
cli prefect plan -p farm

step "cli prefect deploy -p farm"
cli prefect deploy -p farm

step "cli prefect deployment pause -d farm__harvest__summer"
cli prefect deployment pause -d farm__harvest__summer

step "cli status -p farm"
cli status -p farm

step "run farm__harvest__winter through a process worker"
cli prefect deployment run farm__harvest_flow/farm__harvest__winter
# One polling round, then the worker waits for its run and exits. `cli prefect` sets
# SCAFFOLD_ROOT for the pull step ({{ $SCAFFOLD_ROOT }}/projects/farm): the scratch copy.
cli prefect worker start --pool default-pool --type process --run-once --limit 1

step "cli status -p farm (last run)"
cli status -p farm
state="$(cli status -p farm --json | python -c 'import json, sys
rows = {r["name"]: r for b in json.load(sys.stdin)["projects"] for r in b["deployments"]}
print((rows["farm__harvest__winter"]["last_run"] or {}).get("state"))')"
if [ "$state" != Completed ]; then
    echo "error: the last run of farm__harvest__winter is $state, not Completed" >&2
    exit 1
fi

step "done"
cat <<MSG
farm__harvest__winter ran to Completed; farm__harvest__summer is paused.
Dashboard:  http://localhost:$PORT   (Deployments, Flow Runs)
The server keeps running. Stop it with:  .venv/bin/cli server stop
(from $REPO_ROOT; ./scripts/cli.sh would run it in the prefect-cli container when that is up)
MSG
