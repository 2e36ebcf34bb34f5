#!/usr/bin/env bash
# `make bench-scale`: Gatehouse on PostgreSQL at real data sizes (bench/scale.py): a
# throwaway cluster as `make test` starts one, seeded by SQL with 1M accounts, 5M device
# sessions, 10M refresh tokens and 1M revocations. About 25 minutes on 2 cores; needs
# about 10 GB of disk in TMPDIR. ARGS=--scale 0.01 for a quick run.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
cd "$REPO_ROOT"

ensure_bench_tools
ensure_postgres
command -v psql >/dev/null || apt_install postgresql-client || die "psql is needed to seed PostgreSQL"

say "Building the release server"
cargo build --profile dist -p server --bin server

say "Starting a throwaway PostgreSQL cluster"
start_test_postgres
# Room for the seeded tables' hot pages, no checkpoint storms while seeding, and every
# lock wait over 100 ms written to the cluster's log, which bench/scale.py reads.
cat >>"$GATEHOUSE_TEST_PGDATA/postgresql.conf" <<CONF
shared_buffers = 1GB
maintenance_work_mem = 512MB
max_wal_size = 8GB
log_lock_waits = on
deadlock_timeout = 100ms
CONF
as_pg_owner "$GATEHOUSE_TEST_PG_BIN/pg_ctl" -D "$GATEHOUSE_TEST_PGDATA" -l "$PG_TEST_DIR/server.log" -w restart >/dev/null ||
  { cat "$PG_TEST_DIR/server.log" >&2; die "PostgreSQL did not restart"; }

DATABASE_URL="$GATEHOUSE_TEST_POSTGRES" BENCH_PG_LOG="$PG_TEST_DIR/server.log" \
  python3 bench/scale.py "$@"
