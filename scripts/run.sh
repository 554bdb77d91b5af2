#!/usr/bin/env bash
# Builds Portico (release) and runs it on its embedded default: SQLite under ./data.
# Extra arguments go to `portico serve`, e.g. --listen 0.0.0.0:3000 --public-url https://…
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
ensure_build_tools
ensure_wasm_opt
say "Building Portico (release)"
cargo leptos build --release || die "the build failed (see above)"
say "Starting Portico"
exec "$TARGET/release/portico" --data-dir "$ROOT/data" serve --site-root "$ROOT/target/site" "$@"
