#!/usr/bin/env bash
# `cli` from the host: the same arguments and the same exit code as `cli` inside the stack.
#
# When the docker compose stack is up, runs `cli "$@"` in the prefect-cli container
# (`docker compose exec`, in the folder matching your current one). Otherwise runs the
# repository's .venv (created and installed on first use), which talks to $PREFECT_API_URL or
# to the embedded server (docs/ops.md). SCAFFOLD_CLI=local or SCAFFOLD_CLI=docker forces a side.
#
# Compose runs in the repository's root, as `docker compose` typed there would: it reads the
# same docker-compose.yml, docker-compose.override.yml and .env (COMPOSE_FILE,
# COMPOSE_PROJECT_NAME). Compose v2 (`docker compose`) or v1 (`docker-compose`), whichever is
# installed.
set -eu

# Through symlinks (e.g. ~/bin/cli -> scripts/cli.sh): the repository is where the file is.
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
SERVICE=prefect-cli
MOUNT=/app  # where docker-compose.yml mounts the repository in prefect-cli (its working_dir)
MODE="${SCAFFOLD_CLI:-auto}"
COMPOSE=()

find_compose() {
    command -v docker >/dev/null 2>&1 || return 1
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=(docker-compose)
    else
        return 1
    fi
}

stack_up() {
    # Fails quickly without compose, a daemon or a .env. `ps -q` lists stopped containers too
    # with compose v1: the engine says whether it runs.
    local id
    find_compose || return 1
    id="$(cd "$ROOT" && "${COMPOSE[@]}" ps -q "$SERVICE" 2>/dev/null | head -n 1)" || return 1
    [ -n "$id" ] || return 1
    [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ]
}

case "$MODE" in
    auto | docker | local) ;;
    *) echo "error: SCAFFOLD_CLI must be auto, docker or local, not '$MODE'" >&2; exit 2 ;;
esac

if [ "$MODE" = docker ] || { [ "$MODE" = auto ] && stack_up; }; then
    here="$(pwd -P)"
    workdir="$MOUNT"
    case "$here/" in
        "$ROOT"/*) workdir="$MOUNT${here#"$ROOT"}" ;;  # same relative folder in the container
    esac
    if [ "${#COMPOSE[@]}" = 0 ] && ! find_compose; then
        echo "error: SCAFFOLD_CLI=docker but neither 'docker compose' nor 'docker-compose' works here" >&2
        exit 2
    fi
    cd "$ROOT"
    if [ -t 0 ] && [ -t 1 ]; then
        exec "${COMPOSE[@]}" exec -w "$workdir" "$SERVICE" cli "$@"
    fi
    # No terminal (pipes, CI, scripts): no TTY allocation, output stays byte-clean.
    exec "${COMPOSE[@]}" exec -T -w "$workdir" "$SERVICE" cli "$@"
fi

# Local: make sure .venv holds the package (scripts/_venv.sh is quick when it is up to date),
# then run it from the caller's folder so relative paths and the repository lookup still work.
VENV="${VENV:-$ROOT/.venv}"
export VENV
# The package with the extras `cli` runs (all), not the test tools: a quicker first run.
(cd "$ROOT" && SCAFFOLD_EXTRAS="${SCAFFOLD_EXTRAS:-all}" && . scripts/_venv.sh) >&2
exec "$VENV/bin/cli" "$@"
