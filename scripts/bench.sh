#!/usr/bin/env bash
# Benchmark: seeds a tenant with 100,000 users and 1,000 apps in a fresh database, starts the
# release build on loopback and measures it with wrk. Prints the figures; changes nothing
# outside a temporary folder (and, with --database-url, a database it makes on that server
# and drops). Usage: scripts/bench.sh [--database-url postgres://user@host:port]
# [seconds per load run, default 15]. With --database-url the same figures are taken on
# SQLite and then on PostgreSQL in the same run, and printed side by side with their ratio.
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
POSTGRES_SERVER=""
if [ "${1:-}" = "--database-url" ]; then
  POSTGRES_SERVER=${2:?--database-url needs the URL of a PostgreSQL server}
  shift 2
fi
DURATION=${1:-15}
USERS=100000
APPS=1000
PANEL_APPS=50
ensure_build_tools
ensure_wasm_opt
command -v wrk >/dev/null || apt_install wrk
command -v gzip >/dev/null || apt_install gzip

say "Building Portico (release)"
cargo leptos build --release >/dev/null 2>&1 || cargo leptos build --release || die "the release build failed"
cargo build --release -p integration --bin oidc_flows >/dev/null 2>&1 ||
  cargo build --release -p integration --bin oidc_flows || die "the flow load generator did not build"
(cd bench && npm ci --silent --no-audit --no-fund) || die "npm could not install oidc-provider"
BIN="$TARGET/release/portico"
WORK=$(mktemp -d)
SERVER_PID=""
OP_PID=""
BENCH_DB="portico_bench_$$"
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; fi
  if [ -n "$OP_PID" ]; then kill "$OP_PID" 2>/dev/null; fi
  if [ -n "$POSTGRES_SERVER" ]; then
    psql "$POSTGRES_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ -n "$POSTGRES_SERVER" ]; then
  ensure_sql_clients
  psql "$POSTGRES_SERVER/postgres" -qc "CREATE DATABASE $BENCH_DB" >/dev/null ||
    die "cannot make a database on $POSTGRES_SERVER"
fi
DB_ARGS=()
portico() { "$BIN" --data-dir "$WORK/data" "${DB_ARGS[@]}" --log-level warn "$@"; }
PASSWORD="correct horse battery staple"
# The figures of a backend: "name|requests per second|the line to print".
record() { printf '%s|%s|%s\n' "$1" "$2" "$3" >>"$WORK/figures-$BACKEND"; }
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }

# Seeds the data, starts the server on the backend DB_ARGS names and measures it.
measure() {
BACKEND=$1
rm -rf "$WORK/data"

say "Seeding $USERS users and $APPS apps"
start=$SECONDS
TENANT_ID=$(portico tenant create --name "Bench Corp" --domain bench.example --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
echo "$PASSWORD" | portico user create --tenant bench.example --email admin@bench.example --name "Bench Admin" --role global-administrator >/dev/null
echo "$PASSWORD" | portico user create --tenant bench.example --email member@bench.example --name "Bench Member" >/dev/null
awk -v n="$USERS" 'BEGIN { for (i = 1; i <= n; i++) printf "user%06d@bench.example,Bench User %06d\n", i, i }' >"$WORK/users.csv"
portico user import --tenant bench.example --file "$WORK/users.csv" >/dev/null
for i in $(seq 1 "$APPS"); do
  portico app create --tenant bench.example --name "App $i" --launch-url "https://app$i.bench.example/" --description "Benchmark app $i" >/dev/null
done
for i in $(seq 1 "$PANEL_APPS"); do
  portico app assign --tenant bench.example --app "App $i" --user member@bench.example >/dev/null
done
REDIRECT="https://app1.bench.example/callback"
portico app sign-in --tenant bench.example --app "App 1" --redirect-uri "$REDIRECT" >/dev/null
CLIENT=$(portico app secret --tenant bench.example --app "App 1" --json)
CLIENT_ID=$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' <<<"$CLIENT")
CLIENT_SECRET=$(sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p' <<<"$CLIENT")
# The same app signing its ID tokens with ES256 instead of RS256.
portico app sign-in --tenant bench.example --app "App 2" --redirect-uri "$REDIRECT" --id-token-alg ES256 >/dev/null
CLIENT_ES=$(portico app secret --tenant bench.example --app "App 2" --json)
CLIENT_ES_ID=$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' <<<"$CLIENT_ES")
CLIENT_ES_SECRET=$(sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p' <<<"$CLIENT_ES")
[ -n "$TENANT_ID" ] && [ -n "$CLIENT_ID" ] && [ -n "$CLIENT_SECRET" ] && [ -n "$CLIENT_ES_ID" ] ||
  die "could not register the benchmark clients"
echo "seeded in $((SECONDS - start)) s"

say "Starting the server"
"$BIN" --data-dir "$WORK/data" "${DB_ARGS[@]}" --log-level warn serve --listen 127.0.0.1:0 --site-root "$ROOT/target/site" >"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q "running at" "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^Portico is running at \([^ ]*\).*/\1/p' "$WORK/server.log")
[ -n "$URL" ] || die "the server did not start: $(cat "$WORK/server.log")"
sleep 1
IDLE_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")

session() {
  curl -s -D - -o /dev/null -X POST "$URL/fn/sign_in" -H "Origin: $URL" \
    --data-urlencode "email=$1" --data-urlencode "password=$PASSWORD" |
    sed -n 's/^set-cookie: \(portico_session=[^;]*\).*/\1/ip'
}
MEMBER=$(session member@bench.example)
ADMIN=$(session admin@bench.example)
[ -n "$MEMBER" ] && [ -n "$ADMIN" ] || die "could not sign in the benchmark users"
tiles=$(curl -s -H "Cookie: $MEMBER" "$URL/" | grep -o 'class="tile"' | wc -l)
[ "$tiles" = "$PANEL_APPS" ] || die "the member's access panel shows $tiles apps, not $PANEL_APPS"

cat >"$WORK/search.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$ADMIN"
request = function()
  local prefix = string.format("user%04d", math.random(0, 9999))
  return wrk.format(nil, "/fn/admin/users", nil, "search=" .. prefix .. "&user_type=&page=0")
end
LUA

# Each request invites a new address: guest user + invitation + outbox mail + audit event,
# committed together.
cat >"$WORK/invite.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$ADMIN"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  counter = 0
end
request = function()
  counter = counter + 1
  local body = string.format("email=g%d-%d%%40partner.example&display_name=&message=&redirect_url=&send_email=on", id, counter)
  return wrk.format(nil, "/fn/admin/invite", nil, body)
end
LUA

# The client credentials grant: an app's token for Portico's own API (Graph's `.default`
# scope), and for oidc-provider the same request with the scope its client has.
BASIC=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)
for target in portico:https%3A%2F%2Fgraph.microsoft.com%2F.default oidc-provider:api; do
cat >"$WORK/grant-${target%%:*}.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
wrk.body = "grant_type=client_credentials&scope=${target#*:}"
LUA
done

say "Load (wrk, 2 threads, 64 connections, ${DURATION}s each, loopback)"
panel=$(wrk -t2 -c64 -d"${DURATION}s" --latency -H "Cookie: $MEMBER" "$URL/")
search=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/search.lua" "$URL")
search1=$(wrk -t1 -c1 -d"${DURATION}s" --latency -s "$WORK/search.lua" "$URL")
invites=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/invite.lua" "$URL")
grants=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/grant-portico.lua" "$URL/$TENANT_ID/oauth2/v2.0/token")
# A figure of refusals would measure nothing: every answer must be a success.
for run in "$panel" "$search" "$search1" "$invites" "$grants"; do
  ! grep -q "Non-2xx" <<<"$run" || die "a load run got refusals, so its figure means nothing: $run"
done
MEMBER_SESSION=${MEMBER#*=}
flows=$("$TARGET/release/oidc_flows" "$URL" "$TENANT_ID" "$CLIENT_ID" "$CLIENT_SECRET" "$REDIRECT" \
  "$MEMBER_SESSION" "$DURATION" 32) || die "the code flow load failed"
flows_es=$("$TARGET/release/oidc_flows" "$URL" "$TENANT_ID" "$CLIENT_ES_ID" "$CLIENT_ES_SECRET" "$REDIRECT" \
  "$MEMBER_SESSION" "$DURATION" 32) || die "the code flow load (ES256) failed"
LOADED_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
record panel "$(rps "$panel")" "$(wrk_report "access panel GET / (64 conns)" "$panel")"
record search "$(rps "$search")" "$(wrk_report "admin user search (64 conns)" "$search")"
record search1 "$(rps "$search1")" "$(wrk_report "admin user search (1 conn)" "$search1")"
record invites "$(rps "$invites")" "$(wrk_report "invitations (64 conns)" "$invites")"
record grants "$(rps "$grants")" "$(wrk_report "client_credentials, Portico (64 conns)" "$grants")"
record flows "$(awk '{print $2}' <<<"$flows")" "$(printf '%-40s %s' "code flows, RS256 (32 clients, verified)" "$flows")"
record flows_es "$(awk '{print $2}' <<<"$flows_es")" "$(printf '%-40s %s' "code flows, ES256 (32 clients, verified)" "$flows_es")"
record idle "" "$(printf '%-40s %6d KB' "server RSS idle" $((IDLE_RSS)))"
record peak "" "$(printf '%-40s %6d KB' "server RSS peak under load" $((LOADED_RSS)))"
}

measure sqlite
if [ -n "$POSTGRES_SERVER" ]; then
  DB_ARGS=(--database-url "$POSTGRES_SERVER/$BENCH_DB")
  measure postgres
fi

say "Starting oidc-provider (npm) with an equivalent client"
OP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node bench/oidc-provider.mjs "$OP_PORT" "$CLIENT_ID" "$CLIENT_SECRET" >"$WORK/op.log" 2>&1 &
OP_PID=$!
for _ in $(seq 1 100); do grep -q "listening" "$WORK/op.log" 2>/dev/null && break; sleep 0.1; done
op_grants=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/grant-oidc-provider.lua" "http://127.0.0.1:$OP_PORT/token")
! grep -q "Non-2xx" <<<"$op_grants" || die "oidc-provider refused the grants: $op_grants"
kill "$OP_PID"; wait "$OP_PID" 2>/dev/null || true; OP_PID=""

wasm=$(gzip -9c "$ROOT/target/site/pkg/portico.wasm" | wc -c)
js=$(( $(gzip -9c "$ROOT/target/site/pkg/portico.js" | wc -c) + $(gzip -9c "$ROOT/target/site/passkey.js" | wc -c) ))
css=$(gzip -9c "$ROOT/target/site/pkg/portico.css" | wc -c)

for backend in sqlite postgres; do
  [ -f "$WORK/figures-$backend" ] || continue
  say "Figures on $backend ($(nproc) cores, $USERS users, $APPS apps, member with $PANEL_APPS apps)"
  cut -d'|' -f3- "$WORK/figures-$backend"
  if [ "$backend" = sqlite ]; then
    wrk_report "client_credentials, oidc-provider" "$op_grants"
    grants=$(awk -F'|' '$1 == "grants" {print $2}' "$WORK/figures-sqlite")
    ratio=$(echo "scale=2; $grants / $(rps "$op_grants")" | bc)
    printf '%-40s %10s\n' "client_credentials Portico/oidc-provider" "${ratio}x"
  fi
done
if [ -f "$WORK/figures-postgres" ]; then
  say "PostgreSQL against SQLite, requests per second in this run (targets: code flows >= 0.5, invitations >= 1.0, access panel >= 0.8)"
  # Sorted on the name alone, as join compares it ("flows" before "flows_es").
  LC_ALL=C join -t'|' <(LC_ALL=C sort -t'|' -k1,1 "$WORK/figures-sqlite") \
    <(LC_ALL=C sort -t'|' -k1,1 "$WORK/figures-postgres") |
    awk -F'|' '$2 != "" && $4 != "" { printf "%-12s %10s %10s   %.2fx\n", $1, $2, $4, $4 / $2 }'
fi
printf '%-38s %6d KB (wasm %d + js %d bytes); css %d bytes\n' "WASM + JS gzipped" $(((wasm + js) / 1024)) "$wasm" "$js" "$css"
