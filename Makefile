# Thin targets; the logic lives in Go and in e2e/*.sh.
GO        ?= go
BIN       := bin/karana
INVENTORY ?= inventories/local.yaml
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: build up test setup unit fuzz e2e e2e-cluster e2e-images release-check lint golden bench clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/karana

# The main job: the back end of $(INVENTORY) on this host (installs LXD itself).
up: build e2e-images
	./$(BIN) up --inventory $(INVENTORY)

# Everything CI runs: prerequisites, vet, unit tests, a short fuzz, the release
# archives, the e2e suite.
test: setup lint unit fuzz release-check e2e

setup:
	bash e2e/setup.sh

# KARANA_LOAD_TESTS=1: the loopback load proofs (about 40 s) that a plain
# `go test ./...` skips.
unit:
	KARANA_LOAD_TESTS=1 $(GO) test -count=1 ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 15s -fuzzminimizetime 2s ./pkg/inventory
	$(GO) test -run '^$$' -fuzz '^FuzzTenantEdit$$' -fuzztime 10s -fuzzminimizetime 2s ./pkg/inventory

e2e: build e2e-images
	KARANA_E2E=1 KARANA_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -p 1 -timeout 45m -v ./e2e/...

# goreleaser's snapshot build (dist/) and the checks of its archives.
release-check:
	bash e2e/release.sh

# The two-member LXD cluster proof (docs/scaling.md), a few minutes more.
e2e-cluster: build e2e-images
	KARANA_E2E=1 KARANA_E2E_CLUSTER=1 KARANA_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -p 1 -timeout 30m -v -run '^TestRemoteCluster$$' ./e2e/

e2e-images: build
	bash e2e/images.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

golden:
	$(GO) test -count=1 ./pkg/render/... -update

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...
	$(GO) test -run '^$$' -bench Reconcile -benchtime 3x ./e2e/api/
	bash e2e/bench-api.sh
	bash e2e/bench-tenant.sh
	bash e2e/bench-heal.sh

clean:
	rm -rf bin dist
