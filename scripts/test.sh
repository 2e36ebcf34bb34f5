#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every check Gatehouse has: formatting,
# clippy (native and wasm), every Rust test, and the Playwright suite against a freshly
# built server on a temporary database. The domain and integration tests run twice: on
# SQLite, and on a throwaway PostgreSQL cluster. Exits non-zero at the first failure.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
cd "$REPO_ROOT"

TIMINGS=()
CURRENT_STEP=""
# Each step runs as a plain command with `set -e` in force, functions included (`-E`
# carries this trap into them): run from an `if`, bash would switch `set -e` off inside
# the step, and an installer's failing line would pass unnoticed.
set -E
trap '[ "$BASH_SUBSHELL" -eq 0 ] && [ -n "$CURRENT_STEP" ] && printf "\nFAILED: %s\n" "$CURRENT_STEP" >&2' ERR
step() {
  local name="$1" started
  shift
  say "$name"
  started=$(date +%s)
  CURRENT_STEP="$name"
  "$@"
  CURRENT_STEP=""
  TIMINGS+=("$(printf '%5ss  %s' "$(($(date +%s) - started))" "$name")")
}

step "Install build tools" ensure_build_tools
step "Install Node.js" ensure_node
step "Install end-to-end packages" ensure_node_packages
step "Find or install Chromium" ensure_chromium
step "Find or install PostgreSQL" ensure_postgres
step "Find or install the test SMTP server" ensure_smtp_server
step "Start a throwaway PostgreSQL cluster" start_test_postgres

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy (server and app, all targets)" cargo clippy --all-targets -- -D warnings
step "cargo clippy (browser bundle, wasm32)" \
  cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings
# Each pass names its engine: a GATEHOUSE_TEST_BACKEND inherited from the caller's
# environment cannot turn the SQLite pass into a second PostgreSQL one.
# Each test pass has a generous bound of its own (a cold build included): a test that
# hangs then fails its step with a name, instead of holding CI until its 90 minutes end
# with nothing to say (it happened once; every test's HTTP client also gives up after 60 s).
PASS_LIMIT=30m
step "cargo test (unit and integration tests, SQLite)" \
  timeout --kill-after=30s "$PASS_LIMIT" env GATEHOUSE_TEST_BACKEND=sqlite cargo test --workspace --exclude frontend
# The same package selection as the first pass, so nothing is compiled again. The unit
# tests run again too: the domain's service tests and the store's open their scratch
# database on the cluster in this pass (`store::testing::scratch_database`).
step "cargo test (domain and integration tests, PostgreSQL)" \
  timeout --kill-after=30s "$PASS_LIMIT" env GATEHOUSE_TEST_BACKEND=postgres cargo test --workspace --exclude frontend --lib --test '*'
step "cargo leptos build" cargo leptos build
step "Playwright end-to-end tests" timeout --kill-after=30s "$PASS_LIMIT" bash -c 'cd end2end && npx playwright test'

say "All checks passed"
printf '%s\n' "${TIMINGS[@]}"
