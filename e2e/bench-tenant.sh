#!/usr/bin/env bash
# The tenant and balancer goals of `make bench`, each printed next to its
# figure (e2e/cmd/bench-tenant): tenant add <= 3 s (median of 5) and
# <= 5 s under keep-alive + new-connection load through lb0; with 1,000
# tenants routed at most 1.2x the one-tenant time; tenant remove --purge
# <= 3 s; no failed request while tenants change live or during rolling
# reloads; a rolling reload cycle <= 5 s; balancer render of 10,000
# unchanged tenants <= 3 s; an unchanged `karana up` rerun <= 2 s.
#
# Runs in its own LXD project, bridge (10.<150+N>.0.0/20) and btrfs pool,
# named with KARANA_TEST_NS=N (pkg/testenv). Needs the images
# (make e2e-images). Exits 1 when a goal is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KARANA_BIN:-$PWD/bin/karana}
[ -x "$bin" ] || { echo "build karana first (make build) or set KARANA_BIN" >&2; exit 2; }
KARANA_BIN=$bin exec go run ./e2e/cmd/bench-tenant
