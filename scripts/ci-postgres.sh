#!/usr/bin/env bash
# Makes PostgreSQL's server programs (initdb, pg_ctl) available for tests/stack, which run a
# Prefect server on a real PostgreSQL in a temporary cluster on loopback. Installs Debian's
# package when they are missing and this runs as root with apt-get (CI); otherwise says why and
# leaves it to the test to skip. Never fails the build by itself.
#
# The package is installed without its default "main" cluster: the tests make their own in a
# temporary folder and never touch a system cluster.
set -u

find_initdb() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$found" ] || found="$(command -v initdb 2>/dev/null)"
    [ -n "$found" ] && echo "$found"
}

if initdb="$(find_initdb)"; then
    echo "ci-postgres: found $initdb"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-postgres: PostgreSQL is not installed and cannot be installed here" \
         "(needs root and apt-get); the PostgreSQL-backed test will be skipped"
    exit 0
fi

echo "ci-postgres: installing Debian's postgresql package (one-off)"
export DEBIAN_FRONTEND=noninteractive
log=/tmp/ci-postgres-apt.log
apt_install() {
    apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1
}
# A clean image has no package lists yet: update only when the first install cannot proceed.
if ! apt_install postgresql-common; then
    apt-get update -q >>"$log" 2>&1 && apt_install postgresql-common
fi
# As the official postgres image does: no default cluster (the tests make their own).
if [ -f /etc/postgresql-common/createcluster.conf ]; then
    sed -ri 's/^#?[[:space:]]*(create_main_cluster)[[:space:]]*=.*$/\1 = false/' \
        /etc/postgresql-common/createcluster.conf
fi
apt_install postgresql
if initdb="$(find_initdb)"; then
    echo "ci-postgres: installed, $initdb"
else
    echo "ci-postgres: installation failed (log: $log); the PostgreSQL-backed test will be skipped"
    tail -n 5 "$log"
fi
exit 0
