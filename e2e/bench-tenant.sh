#!/usr/bin/env bash
# Wall time of `karana tenant add` with cached images and of an unchanged
# `karana up` rerun, in the e2e project (karana-e2e, bridge karanae2e0).
# Goals: tenant add <= 10 s, unchanged rerun <= 2 s.
# Needs the images (make e2e-images) and runs `up` first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KARANA_BIN:-$PWD/bin/karana}
[ -x "$bin" ] || { echo "build karana first (make build) or set KARANA_BIN" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
inv=$dir/inventory.yaml
cat >"$inv" <<YAML
lxd:
  project: karana-e2e
  profile: karana-e2e
  storage: {pool: karana, driver: dir}
  network: {name: karanae2e0, ipv4: 10.0.13.1/24}
images: {balancer: karana/balancer, influxdb: karana/influxdb, grafana: karana-test/grafana, api: karana/api}
tenants: []
YAML
# A clean project (as the e2e suite leaves it or an interrupted bench):
# the fresh inventory's slots must not collide with old containers.
for c in $(lxc --project karana-e2e list --format csv -c n 2>/dev/null); do lxc --project karana-e2e delete -f "$c" >/dev/null; done

"$bin" up -i "$inv" >/dev/null 2>"$dir/up.log" || { cat "$dir/up.log" >&2; exit 1; }

t0=$(date +%s.%N)
"$bin" tenant add bench --domain bench.karana.test -i "$inv" >/dev/null 2>"$dir/add.log" || { cat "$dir/add.log" >&2; exit 1; }
t1=$(date +%s.%N)
"$bin" up -i "$inv" >"$dir/rerun.out" 2>/dev/null
t2=$(date +%s.%N)
grep -q "Nothing changed" "$dir/rerun.out" || { echo "rerun changed something:" >&2; cat "$dir/rerun.out" >&2; }
[ -n "${KARANA_BENCH_VERBOSE:-}" ] && cat "$dir/add.log" >&2
"$bin" tenant remove bench --purge -i "$inv" >/dev/null 2>&1

add=$(awk "BEGIN{print $t1 - $t0}")
rerun=$(awk "BEGIN{print $t2 - $t1}")
printf 'tenant add (cached images):  %6.2f s  (goal <= 10 s)\n' "$add"
printf 'unchanged up rerun (1 tenant): %4.2f s  (goal <= 2 s)\n' "$rerun"
