# Sourced by run.sh and test.sh: installs what building and testing Portico need, once,
# at the versions the project pins, and says clearly what failed otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
TOOLS=${PORTICO_TOOLS_DIR:-$HOME/.cache/portico-tools}
CARGO_LEPTOS_VERSION=0.3.6
BINARYEN_VERSION=132.0.0
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }
# For the benchmarks: a string field of a JSON answer, and a line of figures from wrk.
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" <<<"$2"; }
wrk_report() { # name, wrk output
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$2")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$2")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$2")
  printf '%-40s %10s req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
  grep -q "Non-2xx" <<<"$2" && printf '   (%s)\n' "$(grep Non-2xx <<<"$2")"
  return 0
}

# For the flow benchmarks: BIN is the Portico binary given ($1), or the release build made
# now; the flow load generator is built too.
flow_bench_binaries() {
  BIN=${1:-}
  if [ -z "$BIN" ]; then
    ensure_wasm_opt
    say "Building Portico (release)"
    cargo leptos build --release >/dev/null 2>&1 || cargo leptos build --release || die "the release build failed"
    BIN="$TARGET/release/portico"
  fi
  cargo build --release -p integration --bin oidc_flows >/dev/null 2>&1 ||
    cargo build --release -p integration --bin oidc_flows || die "the flow load generator did not build"
  [ -x "$BIN" ] || die "no Portico binary at $BIN"
}

# For the benchmarks: a data folder of their own (WORK, removed at exit with the server
# SERVER_PID), the command `portico` on it, and `serve_portico` that starts the server on
# a free loopback port (with the extra flags of `serve` given) and sets URL.
bench_workspace() {
  WORK=$(mktemp -d)
  SERVER_PID=""
  trap 'if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; fi; rm -rf "$WORK"' EXIT
  portico() { "$BIN" --data-dir "$WORK/data" --log-level warn "$@"; }
}
serve_portico() { # extra flags of `serve`
  mkdir -p "$WORK/site"
  "$BIN" --data-dir "$WORK/data" --log-level warn serve --listen 127.0.0.1:0 --site-root "$WORK/site" \
    "$@" >"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do grep -q "running at" "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^Portico is running at \([^ ]*\).*/\1/p' "$WORK/server.log")
  [ -n "$URL" ] || die "the server did not start: $(cat "$WORK/server.log")"
}

# cargo install builds in a temporary folder of its own, never in the project's target.
install_crate() { env -u CARGO_TARGET_DIR cargo install "$@" || die "could not install $1 with cargo"; }

apt_install() {
  command -v apt-get >/dev/null || die "$1 is missing and this is not a Debian-like system: install $1 yourself"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  say "Installing $* with apt-get"
  # Another install may hold dpkg's lock for a while (a browser test's Chromium, say): wait.
  local wait=(-o DPkg::Lock::Timeout=600)
  $sudo apt-get "${wait[@]}" update -qq \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get "${wait[@]}" install -y -qq "$@" >/dev/null \
    || die "apt-get could not install $*"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not installed: install Rust with rustup first (https://rustup.rs)"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown || die "rustup could not add the wasm32 target"
  fi
}

ensure_cargo_leptos() {
  local have
  have=$(cargo leptos --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$CARGO_LEPTOS_VERSION" ]; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    install_crate cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
}

ensure_wasm_bindgen() {
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")
  [ -n "$want" ] || die "Cargo.lock names no wasm-bindgen version"
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    say "Installing wasm-bindgen-cli $want (the version in Cargo.lock)"
    install_crate wasm-bindgen-cli --version "$want"
  fi
}

ensure_node() {
  command -v npm >/dev/null || apt_install nodejs npm
}

# wasm-opt for release builds; Debian's binaryen is too old for current Rust WebAssembly.
ensure_wasm_opt() {
  ensure_node
  local have
  have=$(wasm-opt --version 2>/dev/null | awk '{print $3}' || true)
  if [ "$have" != "${BINARYEN_VERSION%%.*}" ]; then
    say "Installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
    mkdir -p "$TOOLS"
    npm install --silent --prefix "$TOOLS" "binaryen@$BINARYEN_VERSION" >/dev/null || die "npm could not install binaryen"
  fi
}

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}

# A real TLS reverse proxy (and openssl for its certificate) for the test that runs
# Portico behind one. Debian keeps nginx in /usr/sbin, outside some users' PATH.
ensure_nginx() {
  local missing=""
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing="nginx"
  command -v openssl >/dev/null || missing="$missing openssl"
  [ -z "$missing" ] || apt_install $missing
}

# A real SMTP server for the mail tests.
ensure_aiosmtpd() {
  command -v python3 >/dev/null || apt_install python3 python3-pip
  if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    say "Installing aiosmtpd (a test SMTP server) from PyPI"
    python3 -m pip install --quiet aiosmtpd 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages aiosmtpd \
      || die "pip could not install aiosmtpd"
  fi
}

# Microsoft's own client libraries (MSAL through azure-identity, and the Graph SDK for
# Python), at pinned versions in a virtual environment of their own, for the tests that
# drive Portico's Graph-compatible API with them.
GRAPH_SDK_PACKAGES="msgraph-sdk==1.65.0 azure-identity==1.27.0 msal==1.39.0"
ensure_graph_sdk() {
  local venv="$TOOLS/graph-sdk" want have
  want=$(echo "$GRAPH_SDK_PACKAGES" | tr ' ' '\n' | sort | tr '\n' ' ')
  have=$(cat "$venv/.installed" 2>/dev/null || true)
  if [ "$have" != "$want" ] || ! "$venv/bin/python" -c "import msgraph, azure.identity, msal" 2>/dev/null; then
    say "Installing Microsoft's Graph SDK and MSAL for Python (for the API tests)"
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; } \
      || die "python3 could not make a virtual environment"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet $GRAPH_SDK_PACKAGES || die "pip could not install $GRAPH_SDK_PACKAGES"
    echo "$want" > "$venv/.installed"
  fi
  export PORTICO_GRAPH_PYTHON="$venv/bin/python"
}

# schemathesis, which fuzzes the Graph-compatible API from its OpenAPI document, at a pinned
# version in a virtual environment of its own.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$TOOLS/schemathesis"
  if [ "$(cat "$venv/.installed" 2>/dev/null || true)" != "$SCHEMATHESIS_VERSION" ] \
    || ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
    say "Installing schemathesis $SCHEMATHESIS_VERSION (for the API contract test)"
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; } \
      || die "python3 could not make a virtual environment"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
      || die "pip could not install schemathesis $SCHEMATHESIS_VERSION"
    echo "$SCHEMATHESIS_VERSION" > "$venv/.installed"
  fi
  export PORTICO_SCHEMATHESIS="$venv/bin/schemathesis"
}

# Microsoft's own JavaScript libraries (MSAL for Node and the Graph JavaScript client), at
# the versions integration/clients/package-lock.json pins, for the test that drives
# Portico's Graph-compatible API with them (integration/clients/graph_js.mjs).
ensure_graph_js() {
  ensure_node
  say "Installing Microsoft's MSAL for Node and Graph JavaScript client (for the API tests)"
  (cd "$ROOT/integration/clients" && npm ci --silent --no-audit --no-fund) \
    || die "npm could not install the packages of integration/clients"
}

# The SQL clients the tests use to reach a test's database as an operator would.
ensure_sql_clients() {
  local missing=""
  command -v sqlite3 >/dev/null || missing="sqlite3"
  command -v psql >/dev/null || missing="$missing postgresql-client"
  [ -z "$missing" ] || apt_install $missing
}

# The PostgreSQL server the tests make their databases on: PORTICO_TEST_POSTGRES_URL, by
# default the one on this machine. The tests do not run without it.
POSTGRES_URL=${PORTICO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
export PORTICO_TEST_POSTGRES_URL=$POSTGRES_URL
ensure_postgres() {
  psql "$POSTGRES_URL/postgres" -qAtc "SELECT 1" >/dev/null 2>&1 || die "cannot reach PostgreSQL at $POSTGRES_URL.
  The tests run on SQLite and on PostgreSQL. Start PostgreSQL (14 or later), or set
  PORTICO_TEST_POSTGRES_URL=postgres://user:password@host:port of a server where that
  user may create and drop databases."
}

ensure_build_tools() {
  ensure_rust
  ensure_cargo_leptos
  ensure_wasm_bindgen
}
