# shellcheck shell=bash
# Installs the tools Gatehouse builds and tests with, each only when missing or at the
# wrong version, so a second run only prints one "ok" line per tool.
# Sourced by scripts/run.sh and scripts/test.sh.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10" # 0.3.11 does not build with Rust 1.95
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
warn() { printf 'warning: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

# apt-get update runs at most once per script run.
APT_UPDATED=0
apt_install() {
  is_root && command -v apt-get >/dev/null || return 1
  if [ "$APT_UPDATED" = 0 ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    ok "Rust target wasm32-unknown-unknown is installed"
  else
    say "Adding the Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  local have
  have="$(cargo leptos --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" = "$CARGO_LEPTOS_VERSION" ]; then
    ok "cargo-leptos $have is installed"
  else
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (one time, about 20-25 minutes on 2 cores)"
    cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
}

# The CLI must be exactly the wasm-bindgen version in Cargo.lock, or the generated JS
# does not match the compiled wasm.
ensure_wasm_bindgen() {
  local want have
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$REPO_ROOT/Cargo.lock")"
  [ -n "$want" ] || die "cannot find the wasm-bindgen version in Cargo.lock"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" = "$want" ]; then
    ok "wasm-bindgen $have is installed (matches Cargo.lock)"
  else
    say "Installing wasm-bindgen-cli $want to match Cargo.lock (one time, about 7 minutes)"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    ok "Node.js $(node --version) and npm $(npm --version 2>/dev/null) are installed"
  else
    say "Installing Node.js and npm from the distribution"
    apt_install nodejs npm || die "Node.js 18+ and npm are needed for the browser tests: install them and run again"
  fi
}

# The SMTP server the mail tests start (Rust and Playwright): Debian's aiosmtpd, run by
# the distribution's Python (a pyenv `python3` on PATH would not have it). Exported for
# both test harnesses. The TLS tests make their certificates with `openssl`.
ensure_smtp_server() {
  export GATEHOUSE_TEST_PYTHON="${GATEHOUSE_TEST_PYTHON:-/usr/bin/python3}"
  if ! command -v openssl >/dev/null; then
    say "Installing openssl, which makes the mail tests' TLS certificates"
    apt_install openssl || die "the mail tests need the openssl command: install it and run again"
  fi
  if "$GATEHOUSE_TEST_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
    ok "aiosmtpd is installed (SMTP server for the mail tests)"
    return
  fi
  say "Installing aiosmtpd, the SMTP server the mail tests start"
  apt_install python3-aiosmtpd ||
    die "the mail tests need python3-aiosmtpd (Debian package) for $GATEHOUSE_TEST_PYTHON: install it and run again"
}

# npm ci only when package-lock.json changed since the last install.
ensure_node_packages() {
  local dir="$REPO_ROOT/end2end" stamp want
  stamp="$dir/node_modules/.gatehouse-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    ok "Node packages in end2end/ match package-lock.json"
  else
    say "Installing the end-to-end test packages (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# Playwright's own Chromium if present, else CHROMIUM_PATH or the system Chromium, else
# the distribution's package (as root). end2end/playwright.config.ts picks the same one.
ensure_chromium() {
  local own
  own="$(cd "$REPO_ROOT/end2end" && node -e 'try{const p=require("playwright-core").chromium.executablePath();if(require("fs").existsSync(p))console.log(p)}catch{}' 2>/dev/null || true)"
  if [ -n "$own" ]; then
    ok "Playwright's Chromium is installed ($own)"
    return
  fi
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      ok "using Chromium at $candidate"
      return
    fi
  done
  say "Installing Chromium from the distribution's packages"
  apt_install chromium ||
    die "no Chromium found: run 'cd end2end && npx playwright install chromium', or set CHROMIUM_PATH"
  ok "Chromium installed at /usr/bin/chromium"
}

# What `make bench` and `make bench-scale` drive the server with: wrk (the load),
# taskset (the pinning) and python3 (bench/run.py, bench/scale.py).
ensure_bench_tools() {
  if command -v wrk >/dev/null; then
    ok "wrk is installed"
  else
    say "Installing wrk (the load generator) from the distribution's packages"
    apt_install wrk || die "wrk is needed: install it (e.g. apt-get install wrk) and run again"
  fi
  command -v taskset >/dev/null || apt_install util-linux || die "taskset (util-linux) is needed"
  command -v python3 >/dev/null || apt_install python3 || die "python3 is needed"
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
}
