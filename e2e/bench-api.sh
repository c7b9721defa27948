#!/usr/bin/env bash
# Benchmarks of `karana api serve` on this machine, printed side by side with
# their goals (docs/api.md#benchmarks):
#   GET /v1/users/{id} with a token vs a bare net/http handler returning the same bytes (>= 60 %)
#   POST /v1/users/new p99 at 10,000 stored users, fsync included (<= 20 ms)
#   resident memory with 10,000 users (<= 60 MB)
# Needs go, curl, python3 and wrk. DURATION (seconds per wrk run, default 10),
# POSTS (default 300) and CONNS (default 32) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
POSTS=${POSTS:-300}
CONNS=${CONNS:-32}
API=127.0.0.1:${API_PORT:-18080}
BARE=127.0.0.1:${BARE_PORT:-18081}

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/karana" ./cmd/karana
go build -o "$WORK/benchtool" ./e2e/api/benchtool
"$WORK/benchtool" seed -dir "$WORK/data" -users 10000
cat >"$WORK/api.yaml" <<YAML
listen: "$API"
data_dir: "$WORK/data"
log_level: warn
jwt: {secret: "$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)", lifetime: 1h}
YAML

"$WORK/karana" api serve --config "$WORK/api.yaml" --test 2>"$WORK/api.log" &
API_PID=$!
PIDS+=("$API_PID")
for _ in $(seq 100); do curl -fs "http://$API/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$API_PID/status"; }
RSS_START=$(rss)

TOKEN=$(curl -fs -X POST "http://$API/v1/users/login" -d '{"user":"admin@example.com","password":"admin"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["token"])')
ID=$(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["users"])[5000])' "$WORK/data/table_db.json")
curl -fs -H "Authorization: Bearer $TOKEN" "http://$API/v1/users/$ID" >"$WORK/body.json"

"$WORK/benchtool" bare -listen "$BARE" -file "$WORK/body.json" &
PIDS+=("$!")
for _ in $(seq 50); do curl -fs "http://$BARE/" >/dev/null && break; sleep 0.1; done

rps() { # url [header]
	wrk -t2 -c"$CONNS" -d2s ${2:+-H "$2"} "$1" >/dev/null # warm up
	wrk -t2 -c"$CONNS" -d"${DURATION}s" ${2:+-H "$2"} "$1" | awk '/Requests\/sec/ {print $2}'
}
BARE_RPS=$(rps "http://$BARE/v1/users/$ID")
GET_RPS=$(rps "http://$API/v1/users/$ID" "Authorization: Bearer $TOKEN")
RSS_GET=$(rss)
POST_LINE=$("$WORK/benchtool" post -url "http://$API" -token "$TOKEN" -n "$POSTS")
RSS_END=$(rss)
# The same POSTs with the password hash made cheap (argon2 1 MiB, 1 pass):
# what the durable write and the rest of the request cost without the hash.
kill "$API_PID"; wait "$API_PID" 2>/dev/null || true
printf 'argon2: {memory_kib: 1024, iterations: 1, parallelism: 1}\n' >>"$WORK/api.yaml"
"$WORK/karana" api serve --config "$WORK/api.yaml" --test 2>>"$WORK/api.log" &
API_PID=$!
PIDS+=("$API_PID")
for _ in $(seq 100); do curl -fs "http://$API/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -fs -X POST "http://$API/v1/users/login" -d '{"user":"admin@example.com","password":"admin"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["token"])')
CHEAP_LINE=$("$WORK/benchtool" post -url "http://$API" -token "$TOKEN" -n "$POSTS")
STORE_LINE=$(go test -run XXX -bench Apply10k -benchtime 200x ./pkg/api/store/ | awk '/Apply10k/ {printf "p50=%sms p99=%sms", $5, $7}')
HASH_LINE=$(go test -run XXX -bench HashDefault -benchtime 100x ./pkg/api/auth/ | awk '/HashDefault/ {printf "p50=%sms p99=%sms", $5, $7}')

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$BARE_RPS" "$GET_RPS" "$POST_LINE" "$RSS_START" "$RSS_GET" "$RSS_END" "$STORE_LINE" "$HASH_LINE" "$CHEAP_LINE" <<'PY'
import sys
bare, get, post, rss0, rss1, rss2 = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], *map(float, sys.argv[4:7])
store, hashcost, cheap = sys.argv[7], sys.argv[8], sys.argv[9]
p99 = float(post.split("p99=")[1].split("ms")[0])
ratio = 100 * get / bare
def row(name, value, goal, ok):
    print(f"{name:<44} {value:<28} {goal:<14} {'ok' if ok else 'MISSED'}")
print(f"{'benchmark (2 cores, 10,000 users stored)':<44} {'measured':<28} {'goal':<14} result")
row("bare net/http handler, same bytes", f"{bare:,.0f} req/s", "", True)
row("GET /v1/users/{id} with a bearer token", f"{get:,.0f} req/s = {ratio:.0f} %", ">= 60 %", ratio >= 60)
row("POST /v1/users/new, one after another", post, "p99 <= 20 ms", p99 <= 20)
print(f"{'  of which: argon2id hash alone (default)':<44} {hashcost:<28} (its p99 alone decides the goal)")
print(f"{'  of which: durable dump write (store bench)':<44} {store}")
cheap99 = float(cheap.split("p99=")[1].split("ms")[0])
row("POST, hash cost lowered (argon2 1 MiB, 1 pass)", cheap, "p99 <= 20 ms", cheap99 <= 20)
hash99 = float(hashcost.split("p99=")[1].split("ms")[0])
if p99 > 20 and cheap99 <= 20:
    print(f"  => POST misses its goal only through the password hash (alone p99 {hash99:.1f} ms); see docs/api.md#benchmarks")
row("resident memory after start", f"{rss0:.1f} MB", "<= 60 MB", rss0 <= 60)
row("resident memory after the GET load", f"{rss1:.1f} MB", "<= 60 MB", rss1 <= 60)
row("resident memory after the POSTs", f"{rss2:.1f} MB", "<= 60 MB", rss2 <= 60)
PY
echo "load average at the end: $LOAD (figures are only comparable on an otherwise idle machine)"
