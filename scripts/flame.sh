#!/usr/bin/env bash
# `make flame LABEL=after`: flame graphs of the authenticated call and of /devices
# (bench/flame.py) from a release build with frame pointers and line tables (the
# `profiling` profile), so perf can walk and name every frame. Installs perf and
# inferno when missing.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"
label="${1:-current}"

command -v wrk >/dev/null || apt_install wrk || die "wrk is needed"
command -v perf >/dev/null || apt_install linux-perf || die "perf (linux-perf) is needed"
if ! command -v inferno-flamegraph >/dev/null; then
  say "Installing inferno (flame graphs from perf's output)"
  cargo install --locked inferno >/dev/null || die "cargo install inferno failed"
fi

say "Building the server with frame pointers (cargo --profile profiling)"
RUSTFLAGS="-C force-frame-pointers=yes" cargo build --profile profiling -p server --bin server
exec python3 bench/flame.py target/profiling/server "$label"
