# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the test suite: `initdb` and `pg_ctl` from the
# distribution's `postgresql` package into a temporary folder, on a free loopback port,
# as a non-root user (PostgreSQL refuses to run as root). Removed when the script exits.
# Sourced by scripts/test.sh after tools.sh.

# The folder with initdb and pg_ctl: Debian keeps them out of PATH.
pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null; then
    dirname "$(command -v initdb)"
  fi
}

ensure_postgres() {
  local bindir
  bindir="$(pg_bindir)"
  if [ -n "$bindir" ]; then
    ok "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') is installed ($bindir)"
    return
  fi
  say "Installing PostgreSQL from the distribution's packages"
  apt_install postgresql ||
    die "PostgreSQL (initdb, pg_ctl) is needed for the PostgreSQL tests: install the postgresql package and run again"
  ok "PostgreSQL installed in $(pg_bindir)"
}

# Runs a PostgreSQL program as the cluster's owner.
as_pg_owner() {
  if is_root; then
    runuser -u "$GATEHOUSE_TEST_PG_USER" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the cluster and exports what the tests read:
#   GATEHOUSE_TEST_POSTGRES   admin URL (tests create one database each through it)
#   GATEHOUSE_TEST_PGDATA, GATEHOUSE_TEST_PG_BIN, GATEHOUSE_TEST_PG_USER
#                             for the fault test, which stops and starts the cluster
start_test_postgres() {
  local bindir dir port
  bindir="$(pg_bindir)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-pg.XXXXXX")"
  port="$(free_port)"
  export GATEHOUSE_TEST_PG_BIN="$bindir" GATEHOUSE_TEST_PGDATA="$dir/data"
  export GATEHOUSE_TEST_PG_USER="$(id -un)"
  if is_root; then
    GATEHOUSE_TEST_PG_USER="$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)"
    chown "$GATEHOUSE_TEST_PG_USER" "$dir"
  fi
  PG_TEST_DIR="$dir"
  trap stop_test_postgres EXIT
  as_pg_owner "$bindir/initdb" -D "$dir/data" -U gatehouse --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # Written into the cluster's configuration, so a plain `pg_ctl start` (the fault test)
  # brings it back on the same port. fsync is off: this data is thrown away.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  as_pg_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
    { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  export GATEHOUSE_TEST_POSTGRES="postgres://gatehouse@127.0.0.1:$port/postgres"
  ok "throwaway PostgreSQL cluster on 127.0.0.1:$port ($dir)"
}

stop_test_postgres() {
  [ -n "${PG_TEST_DIR:-}" ] || return 0
  as_pg_owner "$GATEHOUSE_TEST_PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=""
}
