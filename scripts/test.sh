#!/usr/bin/env bash
# Runs every Portico test: domain tests on a real SQLite file and on a real PostgreSQL
# database, browser tests in headless Chromium, and HTTP tests against the real binary on
# a free port (one behind a real nginx), on SQLite and on PostgreSQL. Installs what it
# needs; PostgreSQL must be running (PORTICO_TEST_POSTGRES_URL says where, by default
# postgres://postgres@127.0.0.1:5432): each test makes a database of its own and drops it.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
ensure_build_tools
ensure_sql_clients
ensure_postgres
ensure_node
ensure_chromium
ensure_aiosmtpd
ensure_nginx
ensure_graph_sdk
ensure_schemathesis
ensure_graph_js
say "Installing the browser-test packages"
(cd end2end && npm ci --silent --no-audit --no-fund) || die "npm could not install the end2end packages"

say "Building Portico and its WebAssembly (debug, for the HTTP tests)"
cargo leptos build || die "the build failed (see above)"
say "Building the example app that signs in through Portico"
cargo build -p portico-example-rp || die "the example app did not build (see above)"
say "Building the example sign-up portal"
cargo build -p portico-signup-portal || die "the sign-up portal did not build (see above)"
# The browser tests run the release build, the one people run: some faults (a failed
# hydration) show only there. It leaves its WebAssembly in target/site.
ensure_wasm_opt
say "Building Portico and its WebAssembly (release, for the browser tests)"
cargo leptos build --release || die "the release build failed (see above)"

say "Domain tests on SQLite"
PORTICO_TEST_DATABASE=sqlite cargo test -p types -p domain --lib
say "Domain tests on PostgreSQL ($POSTGRES_URL)"
PORTICO_TEST_DATABASE=postgres cargo test -p domain --lib

say "Sign-up portal tests (rules, form checks)"
cargo test -p portico-signup-portal

say "Browser tests (headless Chromium, release build)"
(cd end2end && PORTICO_BIN="$TARGET/release/portico" PORTICO_RP_BIN="$TARGET/debug/portico-example-rp" \
  PORTICO_PORTAL_BIN="$TARGET/debug/portico-signup-portal" \
  PORTICO_SITE_ROOT="$ROOT/target/site" npx playwright test)

say "HTTP tests against the real server, on SQLite"
PORTICO_TEST_DATABASE=sqlite PORTICO_BIN="$TARGET/debug/portico" cargo test -p integration --test http
say "HTTP tests against the real server, on PostgreSQL ($POSTGRES_URL)"
PORTICO_TEST_DATABASE=postgres PORTICO_BIN="$TARGET/debug/portico" cargo test -p integration --test http
