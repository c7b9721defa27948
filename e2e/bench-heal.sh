#!/usr/bin/env bash
# Recovery figures of issue 11, from the e2e test TestHealAndRestore (its
# own LXD project, karana-heal; KARANA_TEST_NS moves it): the backup of one
# tenant, the recovery point, one container healed by `heal --watch`
# (goal <= 30 s), two containers by one `heal`, a whole tenant restored
# (goal <= 60 s) and a whole project brought back. Needs the images
# (make e2e-images) and root; takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KARANA_BIN:-$PWD/bin/karana}
[ -x "$bin" ] || { echo "build karana first (make build) or set KARANA_BIN" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! KARANA_E2E=1 KARANA_BIN="$bin" go test -count=1 -p 1 -timeout 20m -v -run '^TestHealAndRestore$' ./e2e/ >"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
grep -o 'BENCH .*' "$log" | sed 's/^BENCH /heal: /'
