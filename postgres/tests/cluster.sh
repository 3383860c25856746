#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for zorg-pdp-postgres's tests and example.
#
#   cluster.sh install        installs Debian's postgresql when initdb is missing (as root)
#   cluster.sh start [DIR]    creates DIR (default: a new temporary folder), runs a server there
#                             and prints its URL on stdout, e.g.
#                             postgresql://postgres@127.0.0.1:41234/postgres
#   cluster.sh stop DIR       stops the server and removes DIR
#
# The server listens on 127.0.0.1 only, on a free port, with its socket in DIR and `trust`
# authentication for loopback and the socket (nothing else may connect); run as root (as CI
# is), it runs as the unprivileged user `nobody`, DIR chowned to it. fsync is off: the data
# is thrown away with DIR. Tests read the URL from ZORG_PDP_POSTGRES_URL (.ci/run exports it).
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

# The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin), or the
# one on PATH
pg_bin() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
        echo "$d"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

# Runs a command as the server's user: `nobody` when we are root, ourselves otherwise
as_server() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    else
        "$@"
    fi
}

cmd_install() {
    if [ -n "$(pg_bin)" ]; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "initdb is missing; install PostgreSQL (apt-get install postgresql) as root"
    echo "cluster.sh: PostgreSQL is missing: installing it with apt-get" >&2
    # Debian's package would create and start a cluster of its own on port 5432; we need none
    mkdir -p /etc/postgresql-common
    if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    (apt-get update && DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y postgresql) >/dev/null
    [ -n "$(pg_bin)" ] || die "apt-get install postgresql did not install initdb"
}

cmd_start() {
    local bin dir port log tries
    bin="$(pg_bin)"
    [ -n "$bin" ] || die "no PostgreSQL server found (initdb, pg_ctl); run 'cluster.sh install' as root or apt-get install postgresql"
    if [ $# -ge 1 ]; then
        dir="$1"
        mkdir -p "$dir"
        [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    else
        dir="$(mktemp -d "${TMPDIR:-/tmp}/zorg-pdp-pg.XXXXXX")"
    fi
    dir="$(cd "$dir" && pwd)"
    chmod 755 "$dir"
    mkdir "$dir/data" "$dir/run"
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody:nogroup "$dir"
    fi
    log="$dir/server.log"
    # The server's user must be able to read its working directory
    cd "$dir"
    as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # Loopback and the socket only, trust: nothing outside this machine can reach it
    cat >"$dir/data/pg_hba.conf" <<'EOF'
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
    # A free port: try a random one, the next on failure (the port is taken between our
    # choice and the server's bind only by a race, which the retry covers)
    port=$((20000 + RANDOM % 30000))
    for tries in $(seq 1 20); do
        if as_server "$bin/pg_ctl" -D "$dir/data" -l "$log" -w -t 30 start -o \
            "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir/run \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300 -c shared_buffers=32MB" >/dev/null 2>&1; then
            echo "cluster.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on 127.0.0.1:$port (stop: cluster.sh stop $dir)" >&2
            echo "postgresql://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        port=$((20000 + RANDOM % 30000))
    done
    cat "$log" >&2 || true
    die "the server did not start in $dir (20 ports tried)"
}

cmd_stop() {
    local bin dir
    [ $# -ge 1 ] || die "usage: cluster.sh stop DIR"
    dir="$1"
    [ -d "$dir" ] || return 0
    bin="$(pg_bin)"
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        (cd "$dir" && as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    # Only a folder this script made: it holds data/PG_VERSION
    if [ -f "$dir/data/PG_VERSION" ] || [ -z "$(ls -A "$dir")" ]; then
        rm -rf "$dir"
    else
        die "$dir does not look like a cluster made by cluster.sh; not removed"
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    *) die "usage: cluster.sh install | start [DIR] | stop DIR" ;;
esac
