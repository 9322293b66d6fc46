#!/usr/bin/env bash
# `cli` from the host: the same arguments and the same exit code as `cli` inside the stack.
#
# When the docker compose stack is up, runs `cli "$@"` in the prefect-cli container
# (`docker compose exec`, in the folder matching your current one). Otherwise runs the
# repository's .venv (created and installed on first use), which talks to $PREFECT_API_URL or
# to the embedded server (docs/ops.md). SCAFFOLD_CLI=local or SCAFFOLD_CLI=docker forces a side.
set -eu

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SERVICE=prefect-cli
MOUNT=/app  # where docker-compose.yml mounts the repository in prefect-cli (its working_dir)
MODE="${SCAFFOLD_CLI:-auto}"

compose() {
    docker compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "$@"
}

stack_up() {
    command -v docker >/dev/null 2>&1 || return 1
    # Fails quickly without a daemon, without the compose plugin or without a .env.
    local id
    id="$(compose ps --status running --quiet "$SERVICE" 2>/dev/null)" || return 1
    [ -n "$id" ]
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
    if [ -t 0 ] && [ -t 1 ]; then
        exec docker compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" \
            exec -w "$workdir" "$SERVICE" cli "$@"
    fi
    # No terminal (pipes, CI, scripts): no TTY allocation, output stays byte-clean.
    exec docker compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" \
        exec -T -w "$workdir" "$SERVICE" cli "$@"
fi

# Local: make sure .venv holds the package (scripts/_venv.sh is quick when it is up to date),
# then run it from the caller's folder so relative paths and the repository lookup still work.
VENV="${VENV:-$ROOT/.venv}"
export VENV
(cd "$ROOT" && . scripts/_venv.sh) >&2
exec "$VENV/bin/cli" "$@"
