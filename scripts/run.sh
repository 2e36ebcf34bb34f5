#!/usr/bin/env bash
# `make run`: installs what is missing, builds the app and serves it on
# http://127.0.0.1:3000 with an SQLite database in ./data (created on first start).
# Extra arguments go to the server, e.g. `make run ARGS="--log-level debug"`.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

ensure_build_tools
say "Building (cargo leptos build)"
cargo leptos build
say "Starting Gatehouse; press Ctrl-C to stop"
exec ./target/debug/server "$@"
