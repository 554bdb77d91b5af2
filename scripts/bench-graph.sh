#!/usr/bin/env bash
# The Graph-compatible API under load: invitations through POST /v1.0/invitations beside the
# console's invitations in the same run (64 connections each, the API's request limit off),
# then GET /v1.0/users?$filter=userType eq 'Guest'&$top=999 followed by @odata.nextLink
# through every guest of a tenant seeded with 100,000 of them. Prints the figures; changes
# nothing outside a temporary folder.
# Usage: scripts/bench-graph.sh [seconds per load run, default 10] [portico binary, default
# the release build]
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$ROOT"
DURATION=${1:-10}
BIN=${2:-}
GUESTS=${PORTICO_BENCH_GUESTS:-100000}
PASSES=3
if [ -z "$BIN" ]; then
  ensure_build_tools
  say "Building Portico (release)"
  cargo build --release -p portico >/dev/null 2>&1 || cargo build --release -p portico || die "the release build failed"
  BIN="$TARGET/release/portico"
fi
[ -x "$BIN" ] || die "no Portico binary at $BIN"
command -v wrk >/dev/null || apt_install wrk
command -v jq >/dev/null || apt_install jq
bench_workspace
PASSWORD="correct horse battery staple"

say "Seeding $GUESTS guests"
start=$SECONDS
TENANT_ID=$(field id "$(portico tenant create --name "Bench Corp" --domain bench.example --json)")
echo "$PASSWORD" | portico user create --tenant bench.example --email admin@bench.example --name "Bench Admin" --role global-administrator >/dev/null
portico app create --tenant bench.example --name "HR sync" --launch-url "https://hr.bench.example/" >/dev/null
CLIENT=$(portico app secret --tenant bench.example --app "HR sync" --json)
CLIENT_ID=$(field client_id "$CLIENT")
CLIENT_SECRET=$(field client_secret "$CLIENT")
[ -n "$TENANT_ID" ] && [ -n "$CLIENT_ID" ] || die "could not register the benchmark app"
# Invited in bulk from the command line, as an operator would (no mail).
awk -v n="$GUESTS" 'BEGIN { for (i = 1; i <= n; i++) printf "guest%06d@partner.example,Bench Guest %06d\n", i, i }' >"$WORK/guests.csv"
portico invite --tenant bench.example --file "$WORK/guests.csv" --no-mail --public-url "https://portico.bench.example" >/dev/null ||
  die "the guests could not be invited"
echo "seeded in $((SECONDS - start)) s"

serve_portico --graph-requests-per-minute 0
ADMIN=$(curl -s -D - -o /dev/null -X POST "$URL/fn/sign_in" -H "Origin: $URL" \
  --data-urlencode "email=admin@bench.example" --data-urlencode "password=$PASSWORD" |
  sed -n 's/^set-cookie: \(portico_session=[^;]*\).*/\1/ip')
[ -n "$ADMIN" ] || die "could not sign the administrator in"
for permission in User.Invite.All User.Read.All; do
  curl -sf -o /dev/null -X POST "$URL/fn/admin/app/api-permission" -H "Origin: $URL" -H "Cookie: $ADMIN" \
    --data-urlencode "id=$CLIENT_ID" --data-urlencode "permission=$permission" \
    --data-urlencode "present=true" --data-urlencode "understood=yes" || die "could not grant $permission"
done
# The server's public address is what it was started with: the token's audience.
TOKEN=$(curl -sf "$URL/$TENANT_ID/oauth2/v2.0/token" -u "$CLIENT_ID:$CLIENT_SECRET" \
  --data-urlencode "grant_type=client_credentials" --data-urlencode "scope=https://graph.microsoft.com/.default" |
  jq -r .access_token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || die "no API token"

# Each request invites a new address; the console's form and the API's JSON, the same work.
invite_script() { # prefix, path, content type, body format, auth header
  cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "$3"
wrk.headers["$5"] = "$6"
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
  return wrk.format(nil, "$2", nil, string.format('$4', id, counter))
end
LUA
}
invite_script c /fn/admin/invite application/x-www-form-urlencoded \
  "email=c%d-%d%%40load.example&display_name=&message=&redirect_url=&send_email=on" Cookie "$ADMIN" >"$WORK/console.lua"
invite_script a /v1.0/invitations application/json \
  '{"invitedUserEmailAddress":"a%d-%d@load.example","inviteRedirectUrl":"https://wiki.bench.example/","sendInvitationMessage":true}' \
  Authorization "Bearer $TOKEN" >"$WORK/api.lua"

say "Invitations (wrk, 2 threads, 64 connections, ${DURATION}s each, loopback, in turn)"
console=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/console.lua" "$URL")
api=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/api.lua" "$URL")
console2=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/console.lua" "$URL")
api2=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/api.lua" "$URL")

say "Paging through the guests ($PASSES passes, \$top=999, one client)"
TOTAL=$(sqlite3 "$WORK/data/portico.db" "SELECT count(*) FROM users WHERE user_type = 'Guest'" 2>/dev/null || echo "?")
: >"$WORK/pages"
for pass in $(seq 1 "$PASSES"); do
  next="$URL/v1.0/users?%24filter=userType%20eq%20%27Guest%27&%24top=999"
  seen=0
  pass_start=$(date +%s.%N)
  while [ -n "$next" ]; do
    curl -sf -o "$WORK/page.json" -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$next" >>"$WORK/pages" ||
      die "a page failed: $next"
    seen=$((seen + $(jq '.value | length' "$WORK/page.json")))
    # The links name the public address; the server here is reached on loopback.
    next=$(jq -r '."@odata.nextLink" // empty' "$WORK/page.json")
    next=${next/#https:\/\/*\/v1.0/$URL/v1.0}
    next=${next/#http:\/\/*\/v1.0/$URL/v1.0}
  done
  printf 'pass %d: %d guests in %s s\n' "$pass" "$seen" "$(echo "$(date +%s.%N) - $pass_start" | bc)"
done
pages=$(wc -l <"$WORK/pages")
percentile() { sort -n "$WORK/pages" | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.1f ms", a[i] * 1000 }'; }

say "Figures ($(nproc) cores, $GUESTS guests seeded, request limit off)"
wrk_report "console invitations (64 conns)" "$console"
wrk_report "API invitations (64 conns)" "$api"
wrk_report "console invitations, again" "$console2"
wrk_report "API invitations, again" "$api2"
printf '%-40s %d pages of up to 999 (guests now: %s): p50 %s, p99 %s, max %s\n' "GET /v1.0/users paging" \
  "$pages" "$TOTAL" "$(percentile 50)" "$(percentile 99)" "$(percentile 100)"
