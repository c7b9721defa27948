#!/usr/bin/env bash
# Builds the release archives as a release does (`goreleaser release
# --snapshot --clean`, .goreleaser.yaml) and checks them (e2e/release):
# both architectures, static, `karana version`, completions, one man page
# per command. goreleaser is installed once from the Go module proxy, at
# the pinned version, into ~/.cache/karana (KARANA_TOOLS moves it), so a
# later run does not build it again. Prints the snapshot build's wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

version=v2.15.1
dir=${KARANA_TOOLS:-$HOME/.cache/karana}/goreleaser-$version
goreleaser=$dir/goreleaser
if ! "$goreleaser" --version 2>/dev/null | grep -q "GitVersion: *$version\$"; then
	echo "==> installing goreleaser $version into $dir (once; a few minutes)"
	start=$(date +%s)
	GOBIN=$dir go install "github.com/goreleaser/goreleaser/v2@$version"
	echo "ok goreleaser $version installed ($(( $(date +%s) - start ))s)"
fi

echo "==> goreleaser release --snapshot --clean"
start=$(date +%s)
"$goreleaser" release --snapshot --clean
echo "ok snapshot build ($(( $(date +%s) - start ))s): $(cd dist && ls -s --block-size=K ./*.tar.gz | tr '\n' ' ')"

KARANA_RELEASE_DIST=$PWD/dist go test -count=1 -v -run '^TestReleaseArchives$' ./e2e/release/
