# shellcheck shell=bash
# Sourced by scripts/test: a throwaway PostgreSQL cluster on 127.0.0.1 for one test run.
#
# dteam_pg_start installs the server if missing (Debian's package), runs initdb and pg_ctl as the
# `postgres` OS user when we are root (initdb refuses root), listens on a free loopback port only,
# and exports DTEAM_TEST_POSTGRES_URL. dteam_pg_stop removes the cluster; callers trap it on EXIT.

DTEAM_PG_DIR=""
DTEAM_PG_BIN=""

# Print the newest /usr/lib/postgresql/*/bin that has initdb and pg_ctl.
dteam_pg_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

dteam_pg_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin;" \
            "install the 'postgresql' package or set DTEAM_TEST_POSTGRES_URL" >&2
        return 1
    fi
    echo "scripts: installing PostgreSQL (apt-get install postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The package's own cluster is not used; keep apt from starting services in containers.
    apt-get update -q </dev/null >/dev/null &&
        apt-get install -y -q --no-install-recommends postgresql </dev/null >/dev/null
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
dteam_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

dteam_pg_free_port() {
    "${DTEAM_PG_PYTHON:-python3}" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

dteam_pg_start() {
    local port attempt
    DTEAM_PG_BIN="$(dteam_pg_bindir)" || {
        dteam_pg_install || return 1
        DTEAM_PG_BIN="$(dteam_pg_bindir)" || {
            echo "error: PostgreSQL installed but no initdb found" >&2
            return 1
        }
    }
    if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin postgres
    fi

    # Under /tmp explicitly: $TMPDIR may live somewhere the postgres user cannot enter.
    DTEAM_PG_DIR="$(mktemp -d /tmp/dteam-pg.XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DTEAM_PG_DIR"
    dteam_pg_as_owner "$DTEAM_PG_BIN/initdb" -D "$DTEAM_PG_DIR/data" -U postgres \
        --auth=trust --encoding=UTF8 --no-locale --no-sync >"$DTEAM_PG_DIR/initdb.log" 2>&1 || {
        cat "$DTEAM_PG_DIR/initdb.log" >&2
        echo "error: initdb failed" >&2
        return 1
    }

    # A port picked free can be taken before the server binds it: retry a few times.
    for attempt in 1 2 3; do
        port="$(dteam_pg_free_port)"
        # fsync off: the cluster is thrown away after the run, durability buys nothing here.
        if dteam_pg_as_owner "$DTEAM_PG_BIN/pg_ctl" -D "$DTEAM_PG_DIR/data" \
            -l "$DTEAM_PG_DIR/server.log" -w -t 60 start -o "-h 127.0.0.1 -p $port \
            -k $DTEAM_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=300" >/dev/null; then
            break
        fi
        port=""
    done
    if [ -z "$port" ]; then
        tail -n 20 "$DTEAM_PG_DIR/server.log" >&2
        echo "error: the PostgreSQL test server did not start" >&2
        return 1
    fi

    "$DTEAM_PG_BIN/psql" -q -X -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE dteam_test" </dev/null >/dev/null || return 1
    export DTEAM_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/dteam_test"
    echo "scripts: PostgreSQL $("$DTEAM_PG_BIN/pg_ctl" --version | awk '{print $3}')" \
        "on 127.0.0.1:$port (throwaway, $DTEAM_PG_DIR)" >&2
}

dteam_pg_stop() {
    [ -n "$DTEAM_PG_DIR" ] || return 0
    if [ -f "$DTEAM_PG_DIR/data/postmaster.pid" ]; then
        dteam_pg_as_owner "$DTEAM_PG_BIN/pg_ctl" -D "$DTEAM_PG_DIR/data" -m immediate -w \
            stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DTEAM_PG_DIR"
    DTEAM_PG_DIR=""
}
