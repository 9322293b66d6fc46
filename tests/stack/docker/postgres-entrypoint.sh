#!/bin/sh
# Entry point of the PostgreSQL stand-in image (postgres.Dockerfile): what the official postgres
# image's docker-entrypoint.sh does on its main path, in POSIX sh.
#  - as root: own $PGDATA and the socket folder, then re-run itself as the postgres user;
#  - an empty $PGDATA: initdb with POSTGRES_USER (default postgres) as the superuser whose
#    password is POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), network
#    connections with POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), POSTGRES_DB (default:
#    the user's name) created, /docker-entrypoint-initdb.d/*.sh and *.sql run, on a temporary
#    server that listens on the socket only;
#  - a $PGDATA that holds a cluster: used as it is (these variables change nothing then).
# Not implemented: *_FILE secrets, *.sql.gz/xz/zst scripts, POSTGRES_INITDB_WALDIR.
set -eu

if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    chown postgres:postgres /var/run/postgresql
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        echo "error: database is uninitialized and superuser password is not specified." >&2
        echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
        exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as upstream
    initdb --username="$user" --pwfile="$pwfile" -D "$PGDATA" ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
    export PGUSER="$user" PGPASSWORD="${POSTGRES_PASSWORD:-}"
    if [ "$db" != postgres ]; then
        # An identifier in double quotes, any embedded quote doubled (as upstream does).
        quoted="\"$(printf '%s' "$db" | sed 's/"/""/g')\""
        printf 'CREATE DATABASE %s;\n' "$quoted" | psql -v ON_ERROR_STOP=1 --no-psqlrc -q -d postgres
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 --no-psqlrc -d "$db" -f "$f" ;;
            *) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
        esac
    done
    unset PGPASSWORD
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
