#!/usr/bin/env bash
# What conditional access costs code flows: two organizations on one server, each with a
# member and an app; one has no policies, the other 20 that are on (19 that do not apply to
# its member, and one that asks a second factor, which the member's session has: an
# authenticator app set up through the step-up page, with codes computed here). Code flows
# run against each in turn, twice, in one run; the ratio is the cost (target: at least
# 0.90). Usage: scripts/bench-policies.sh [seconds per run, default 8] [portico binary,
# default the release build]
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
DURATION=${1:-8}
CLIENTS=32
ensure_build_tools
flow_bench_binaries "${2:-}"
bench_workspace
PASSWORD="correct horse battery staple"
REDIRECT="https://app.bench.example/callback"

declare -A TENANT CLIENT_ID CLIENT_SECRET SESSION
for org in plain policies; do
  TENANT[$org]=$(field id "$(portico tenant create --name "Bench $org" --domain "$org.bench.example" --json)")
  echo "$PASSWORD" | portico user create --tenant "$org.bench.example" --email "member@$org.bench.example" \
    --name "Bench Member" >/dev/null
  portico app create --tenant "$org.bench.example" --name "Wiki" --launch-url "https://app.bench.example/" >/dev/null
  portico app assign --tenant "$org.bench.example" --app "Wiki" --user "member@$org.bench.example" >/dev/null
  portico app sign-in --tenant "$org.bench.example" --app "Wiki" --redirect-uri "$REDIRECT" >/dev/null
  client=$(portico app secret --tenant "$org.bench.example" --app "Wiki" --json)
  CLIENT_ID[$org]=$(field client_id "$client")
  CLIENT_SECRET[$org]=$(field client_secret "$client")
  [ -n "${CLIENT_ID[$org]}" ] || die "could not register the $org client"
done
echo "$PASSWORD" | portico user create --tenant policies.bench.example --email admin@policies.bench.example \
  --name "Bench Admin" --role global-administrator >/dev/null

serve_portico

# A server function, as the browser's JavaScript calls it: fn <session> <endpoint> [field=value …]
fn() {
  local session=$1 endpoint=$2
  shift 2
  local args=()
  for pair in "$@"; do args+=(--data-urlencode "$pair"); done
  curl -sf -X POST "$URL/fn/$endpoint" -H "Origin: $URL" -H "Cookie: portico_session=$session" "${args[@]}" ||
    die "$endpoint failed"
}
sign_in() {
  curl -s -D - -o /dev/null -X POST "$URL/fn/sign_in" -H "Origin: $URL" \
    --data-urlencode "email=$1" --data-urlencode "password=$PASSWORD" |
    sed -n 's/^set-cookie: portico_session=\([^;]*\).*/\1/ip'
}
for org in plain policies; do
  SESSION[$org]=$(sign_in "member@$org.bench.example")
  [ -n "${SESSION[$org]}" ] || die "could not sign the $org member in"
done
ADMIN=$(sign_in admin@policies.bench.example)
[ -n "$ADMIN" ] || die "could not sign the administrator in"

say "Making 20 policies (19 for guests only, one asking members of the Wiki for a second factor)"
policy() {
  fn "$ADMIN" admin/policies/save id= "name=$1" state=enabled "users=$2" include_users= include_groups= \
    include_roles= exclude_users= exclude_groups= exclude_roles= "apps=$3" "include_apps=$4" exclude_apps= \
    "locations=$5" exclude_locations= "grant=$6" mfa=on terms= operator=all frequency_hours= >/dev/null
}
for i in $(seq 1 19); do
  case $((i % 3)) in
    0) policy "Guests $i: block" guests all "" "" block ;;
    1) policy "Guests $i: second factor" guests selected Wiki "" require ;;
    2) policy "Guests $i: second factor from outside" guests all "" "10.$i.0.0/16" require ;;
  esac
done
policy "Members need a second factor for the Wiki" everyone selected Wiki "" require

say "Setting up the member's authenticator app (codes computed here, RFC 6238)"
member=${SESSION[policies]}
fn "$member" account/verify/totp/start >/dev/null
secret=$(fn "$member" account/verify | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p' | tr -d ' ')
[ -n "$secret" ] || die "the step-up page showed no secret"
code=$(python3 - "$secret" <<'PY'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
at = mac[19] & 0x0F
print("%06d" % ((struct.unpack(">I", mac[at:at + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
)
fn "$member" account/verify/totp/confirm name=Phone "code=$code" >/dev/null

flows() {
  "$TARGET/release/oidc_flows" "$URL" "${TENANT[$1]}" "${CLIENT_ID[$1]}" "${CLIENT_SECRET[$1]}" "$REDIRECT" \
    "${SESSION[$1]}" "$DURATION" "$CLIENTS" || die "the $1 code flow load failed"
}
say "Code flows ($CLIENTS clients, ${DURATION}s each, in turn, loopback, $(nproc) cores)"
declare -A TOTAL=([plain]=0 [policies]=0)
for round in 1 2; do
  for org in plain policies; do
    out=$(flows "$org")
    rate=$(awk '{print $2}' <<<"$out")
    TOTAL[$org]=$(awk -v a="${TOTAL[$org]}" -v b="$rate" 'BEGIN { print a + b }')
    printf '%-10s round %s: %s\n' "$org" "$round" "$out"
  done
done
# Every flow of the member with the policies must have been allowed: a refused one would
# make a figure of refusals.
refused=$(fn "$ADMIN" admin/sign-ins policy= | { grep -o '"success":false' || true; } | wc -l)
[ "$refused" -eq 0 ] || die "$refused sign-ins were refused: the figure would mean nothing"
awk -v a="${TOTAL[plain]}" -v b="${TOTAL[policies]}" 'BEGIN {
  printf "code flows per second, no policies: %.0f; 20 policies: %.0f; ratio %.2f (target >= 0.90)\n", a / 2, b / 2, b / a }'
