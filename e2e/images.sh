#!/usr/bin/env bash
# Builds the images the local back end and the e2e suite use, from Debian
# with debootstrap (no image server): karana/balancer, karana/influxdb and
# karana/api, and karana-test/grafana, which carries the Grafana stand-in
# (e2e/cmd/grafana-standin) as grafana-server because Grafana's APT
# repository cannot be reached from the machines karana is tested on.
# Up-to-date images are skipped; extra arguments go to `karana image
# build` (for example --force). Needs root. See docs/images.md.
set -euo pipefail
cd "$(dirname "$0")/.."

karana=${KARANA_BIN:-bin/karana}
[ -x "$karana" ] || { echo "images.sh: $karana missing: run make build first" >&2; exit 1; }
[ -d e2e/cmd/grafana-standin ] || { echo "images.sh: e2e/cmd/grafana-standin is missing" >&2; exit 1; }

mkdir -p bin
CGO_ENABLED=0 go build -trimpath -o bin/grafana-standin ./e2e/cmd/grafana-standin
exec "$karana" image build --grafana-standin bin/grafana-standin "$@"
