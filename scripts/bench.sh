#!/usr/bin/env bash
# `make bench`: installs wrk when missing, builds the release server and the Argon2 rate
# probe, and runs bench/run.py (ratios side by side, bench/results/latest.{json,svg}).
# With DATABASE_URL=postgres://... the database-bound ratios run on PostgreSQL too.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

if command -v wrk >/dev/null; then
  ok "wrk is installed"
else
  say "Installing wrk (the load generator) from the distribution's packages"
  apt_install wrk || die "wrk is needed: install it (e.g. apt-get install wrk) and run again"
fi
command -v taskset >/dev/null || apt_install util-linux || die "taskset (util-linux) is needed"
command -v python3 >/dev/null || apt_install python3 || die "python3 is needed"
if [ -n "${DATABASE_URL:-}" ] && ! command -v psql >/dev/null; then
  apt_install postgresql-client || die "psql is needed to seed PostgreSQL"
fi

say "Building the release server, the Argon2 rate probe and the micro-benchmarks"
# One cargo invocation, so all three share one release build of the dependencies.
cargo build --release -p server --bin server --example argon2_rate --bench auth
exec python3 bench/run.py
