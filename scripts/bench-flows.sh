#!/usr/bin/env bash
# Code flows alone, on a small tenant (one member, two apps): flows per second with RS256 and
# with ES256 ID tokens, and the CPU time the server and the load generator spend per flow.
# Runs in a minute, so that two builds can be compared on the same machine in turn.
# Usage: scripts/bench-flows.sh [seconds, default 8] [portico binary, default the release build]
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
DURATION=${1:-8}
CLIENTS=32
ensure_build_tools
flow_bench_binaries "${2:-}"
bench_workspace
PASSWORD="correct horse battery staple"
REDIRECT="https://app.bench.example/callback"

TENANT_ID=$(field id "$(portico tenant create --name "Bench Corp" --domain bench.example --json)")
echo "$PASSWORD" | portico user create --tenant bench.example --email member@bench.example --name "Bench Member" >/dev/null
declare -A CLIENT_ID CLIENT_SECRET
for alg in RS256 ES256; do
  portico app create --tenant bench.example --name "App $alg" --launch-url "https://app.bench.example/" >/dev/null
  portico app assign --tenant bench.example --app "App $alg" --user member@bench.example >/dev/null
  portico app sign-in --tenant bench.example --app "App $alg" --redirect-uri "$REDIRECT" --id-token-alg "$alg" >/dev/null
  client=$(portico app secret --tenant bench.example --app "App $alg" --json)
  CLIENT_ID[$alg]=$(field client_id "$client")
  CLIENT_SECRET[$alg]=$(field client_secret "$client")
  [ -n "${CLIENT_ID[$alg]}" ] || die "could not register the $alg client"
done

serve_portico
SESSION=$(curl -s -D - -o /dev/null -X POST "$URL/fn/sign_in" -H "Origin: $URL" \
  --data-urlencode "email=member@bench.example" --data-urlencode "password=$PASSWORD" |
  sed -n 's/^set-cookie: portico_session=\([^;]*\).*/\1/ip')
[ -n "$SESSION" ] || die "could not sign the member in"

# CPU time (user + system) of a process, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
say "Code flows ($CLIENTS clients, ${DURATION}s each, loopback, $(nproc) cores)"
for alg in RS256 ES256; do
  before=$(ticks "$SERVER_PID")
  # Bash's own `time` gives the generator's CPU time (user and system seconds).
  TIMEFORMAT='%U %S'
  { time "$TARGET/release/oidc_flows" "$URL" "$TENANT_ID" "${CLIENT_ID[$alg]}" "${CLIENT_SECRET[$alg]}" \
    "$REDIRECT" "$SESSION" "$DURATION" "$CLIENTS" >"$WORK/flows.out"; } 2>"$WORK/time.out" ||
    die "the $alg code flow load failed: $(cat "$WORK/flows.out")"
  server_ticks=$(($(ticks "$SERVER_PID") - before))
  flows=$(sed -n 's/.* ok \([0-9]*\) .*/\1/p' "$WORK/flows.out")
  printf '%s: %s\n   CPU per flow: server %s ms, load generator %s ms\n' "$alg" "$(cat "$WORK/flows.out")" \
    "$(awk -v t="$server_ticks" -v n="$flows" -v hz="$HZ" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')" \
    "$(awk -v n="$flows" '{ printf "%.3f", ($1 + $2) * 1000 / n }' "$WORK/time.out")"
done
