#!/usr/bin/env bash
# A throw-away PostgreSQL server for trying the team tracking server (`mlwb server`).
#
#   PGPASSWORD=... scripts/postgres.sh start DIR PORT
#   scripts/postgres.sh stop DIR
#
# See usage() below, or run with --help.
set -euo pipefail
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

SUPERUSER=mlwb
DATABASE=mlflow
PWFILE=

usage() {
    cat <<'EOF'
Usage: PGPASSWORD=SECRET scripts/postgres.sh start DIR PORT
       scripts/postgres.sh stop DIR

A PostgreSQL server of its own for trying `mlwb server`; for real use, take your
organisation's PostgreSQL instead.

start DIR PORT
    Installs the PostgreSQL server (apt-get install -y postgresql) when no initdb/pg_ctl
    is found on PATH or under /usr/lib/postgresql/*/bin. Creates a cluster in DIR/data
    when DIR holds none yet, with the superuser 'mlwb' whose password is $PGPASSWORD
    (required; scram-sha-256 password authentication, for TCP and the socket alike).
    Starts it listening on 127.0.0.1:PORT only, with its unix socket in DIR and its log in
    DIR/postgres.log, waits until it accepts connections and creates the database
    'mlflow' when missing.

stop DIR
    Stops the server of DIR (pg_ctl stop -m fast). The cluster stays in DIR/data.

PostgreSQL refuses to run as root. Run as root, the server runs as the system user
'postgres' (created when missing) and DIR is given to that user, so every folder above
DIR must be traversable by it: make DIR with `mktemp -d` directly under /tmp, e.g.

    DIR=$(mktemp -d /tmp/mlwb-pg.XXXXXX)
    PGPASSWORD=change-me scripts/postgres.sh start "$DIR" 5432
    MLWB_DB_PORT=5432 PGPASSWORD=change-me mlwb server
    scripts/postgres.sh stop "$DIR"
EOF
}

die() {
    echo "postgres.sh: error: $*" >&2
    exit 2
}

say() {
    echo "postgres.sh: $*"
}

# The folder of the PostgreSQL server programs: PATH first, then the newest under
# /usr/lib/postgresql. Prints nothing when there are none.
find_bindir() {
    local found
    if found=$(command -v pg_ctl) && command -v initdb >/dev/null; then
        dirname "$(readlink -f "$found")"
        return
    fi
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$found" && -x "$found/initdb" && -x "$found/pg_ctl" ]]; then
        echo "$found"
    fi
}

# Run a server program as the user the server runs as: `postgres` when we are root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_system_user() {
    [[ $(id -u) -eq 0 ]] || return 0
    if ! getent passwd postgres >/dev/null; then
        say "creating the system user 'postgres' (PostgreSQL refuses to run as root)"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
}

# DIR, made absolute; refused when it holds whitespace (pg_ctl -o splits on it).
absolute_dir() {
    local dir=$1
    [[ "$dir" =~ [[:space:]] ]] && die "DIR may not contain spaces: '$dir'."
    mkdir -p "$dir"
    (cd "$dir" && pwd -P)
}

init_cluster() {
    local bindir=$1 dir=$2
    if [[ -f "$dir/data/PG_VERSION" ]]; then
        say "using the existing cluster in $dir/data"
        return
    fi
    PWFILE=$(mktemp "$dir/.pwfile.XXXXXX")  # mode 600, deleted whatever happens
    trap 'rm -f "$PWFILE"' EXIT
    printf '%s\n' "$PGPASSWORD" >"$PWFILE"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$PWFILE"; fi
    say "creating a cluster in $dir/data (superuser '$SUPERUSER', scram-sha-256)"
    as_owner "$bindir/initdb" --pgdata="$dir/data" --username="$SUPERUSER" \
        --pwfile="$PWFILE" --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed (output above, also in $dir/initdb.log)."
    }
    rm -f "$PWFILE"
    trap - EXIT
}

create_database() {
    local bindir=$1 dir=$2 port=$3 found
    found=$("$bindir/psql" -h "$dir" -p "$port" -U "$SUPERUSER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") || die "cannot connect to the new server as '$SUPERUSER' (see $dir/postgres.log)."
    if [[ "$found" != "1" ]]; then
        "$bindir/psql" -h "$dir" -p "$port" -U "$SUPERUSER" -d postgres -qc "CREATE DATABASE $DATABASE" \
            || die "creating the database '$DATABASE' failed."
        say "created the database '$DATABASE'"
    fi
}

start() {
    [[ $# -eq 2 ]] || { usage >&2; exit 2; }
    local dir port=$2 bindir
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'."
    [[ -n "${PGPASSWORD:-}" ]] || die "set PGPASSWORD to the password the superuser '$SUPERUSER' gets (and clients use)."
    dir=$(absolute_dir "$1")
    bindir=$(find_bindir)
    if [[ -z "$bindir" ]]; then
        apt_install "PostgreSQL (initdb, pg_ctl)" postgresql
        bindir=$(find_bindir)
        [[ -n "$bindir" ]] || die "PostgreSQL was installed but initdb/pg_ctl are still not found."
    fi
    if [[ $(id -u) -eq 0 ]]; then
        ensure_system_user
        chown postgres "$dir"
        chmod 700 "$dir"
        runuser -u postgres -- test -w "$dir" \
            || die "the user 'postgres' cannot reach $dir: use a folder made by \`mktemp -d\` directly under /tmp."
    fi
    init_cluster "$bindir" "$dir"
    if as_owner "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; then
        die "the server of $dir is already running; stop it first: scripts/postgres.sh stop $dir"
    fi
    say "starting PostgreSQL on 127.0.0.1:$port (log: $dir/postgres.log)"
    as_owner "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" \
        >/dev/null || {
        tail -n 20 "$dir/postgres.log" >&2 || true
        die "PostgreSQL did not start (log above, in $dir/postgres.log)."
    }
    for _ in $(seq 60); do
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 1
    done
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" || die "PostgreSQL does not accept connections on 127.0.0.1:$port (see $dir/postgres.log)."
    create_database "$bindir" "$dir" "$port"
    say "ready: postgresql://$SUPERUSER@127.0.0.1:$port/$DATABASE (password: \$PGPASSWORD)"
}

stop() {
    [[ $# -eq 1 ]] || { usage >&2; exit 2; }
    local dir=$1 bindir
    [[ -f "$dir/data/PG_VERSION" ]] || die "no PostgreSQL cluster in $dir/data."
    bindir=$(find_bindir)
    [[ -n "$bindir" ]] || die "PostgreSQL's pg_ctl is not found."
    if ! as_owner "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; then
        say "the server of $dir is not running"
        return
    fi
    as_owner "$bindir/pg_ctl" stop -D "$dir/data" -m fast >/dev/null || die "pg_ctl stop failed (see $dir/postgres.log)."
    say "stopped the server of $dir"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
