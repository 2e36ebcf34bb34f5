#!/usr/bin/env bash
# `make bench`: installs wrk when missing, builds the release server and the Argon2 rate
# probe, and runs bench/run.py (ratios side by side, bench/results/latest.{json,svg}).
# With DATABASE_URL=postgres://... the database-bound ratios run on PostgreSQL too.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

ensure_bench_tools
if [ -n "${DATABASE_URL:-}" ] && ! command -v psql >/dev/null; then
  apt_install postgresql-client || die "psql is needed to seed PostgreSQL"
fi

say "Building the release server, the Argon2 rate probe and the micro-benchmarks"
# One cargo invocation, so all three share one release build of the dependencies.
cargo build --profile dist -p server --bin server --example argon2_rate --bench auth

say "Building the peers: a bare axum handler and axum-login (bench/peers)"
cargo build --release --manifest-path bench/peers/Cargo.toml

# Better Auth runs on Node with better-sqlite3, a native module: with no prebuilt
# binary to download it is compiled against the installed Node's headers.
if command -v node >/dev/null; then
  say "Installing the Better Auth peer's npm packages (bench/peers/better-auth)"
  (cd bench/peers/better-auth && npm install --no-audit --no-fund >/dev/null \
    && { [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] \
      || npm rebuild better-sqlite3 --nodedir="$(dirname "$(dirname "$(command -v node)")")" >/dev/null; }) \
    || warn "the Better Auth peer could not be installed; the benchmark skips it"
else
  warn "Node.js is not installed: the benchmark skips the Better Auth peer (make test installs Node)"
fi
exec python3 bench/run.py "$@"
