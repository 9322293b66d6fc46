#!/usr/bin/env bash
# Installs what the Docker test tier (tests/stack/test_docker_stack.py, docs/ops.md) needs when
# it is missing: Debian's Docker engine (docker.io), Compose (v1, docker-compose: the only one
# Debian packages; a v2 plugin is used when present) and debootstrap (the stand-in base images).
# Needs root and apt-get (CI); otherwise says why and leaves it to the tier to skip. Never fails
# the build by itself. Starts nothing: the tier starts its own engine and stops it.
set -u

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    missing+=(docker-compose)
fi
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)

if [ "${#missing[@]}" = 0 ]; then
    echo "ci-docker: found dockerd, docker, compose and debootstrap"
    exit 0
fi
# One name once (docker.io may be listed twice).
read -r -a missing <<<"$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-docker: missing ${missing[*]} and cannot install (needs root and apt-get);" \
         "the Docker tier will be skipped"
    exit 0
fi

echo "ci-docker: installing ${missing[*]} (one-off)"
export DEBIAN_FRONTEND=noninteractive
log=/tmp/ci-docker-apt.log
apt_install() {
    apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1
}
# A clean machine has no package lists yet: update only when the first install cannot proceed.
if ! apt_install "${missing[@]}"; then
    apt-get update -q >>"$log" 2>&1 && apt_install "${missing[@]}"
fi
if command -v dockerd >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1; then
    echo "ci-docker: installed ${missing[*]}"
else
    echo "ci-docker: installation failed (log: $log); the Docker tier will be skipped"
    tail -n 5 "$log"
fi
exit 0
