# Developer and CI entry points. `make test` is the test command CI runs.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all generate check-generated spec-lint lint test test-short fuzz bench

all: check-generated lint test

## generate: regenerate gen/ from openapi/phala-cloud.yaml
generate:
	$(GO) generate ./...

## check-generated: fail when gen/ is not what the spec generates
check-generated:
	@tmp=$$(mktemp -d); cp -r gen "$$tmp/gen.before"; \
	$(GO) generate ./... && \
	if ! diff -ru "$$tmp/gen.before" gen; then \
		echo "gen/ is stale: run 'make generate' and commit the result" >&2; rm -rf "$$tmp"; exit 1; fi; \
	rm -rf "$$tmp"; echo "gen/ is fresh"

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## test: the whole suite with the race detector
test:
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short ./...

FUZZTIME ?= 5s
## fuzz: run every Fuzz target of every package for FUZZTIME each. A run that ends
## with the engine's "context deadline exceeded" and no failing input is run again.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for fn in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			for try in 1 2 3; do \
				if $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg >fuzz.out 2>&1; then break; fi; \
				if grep -q 'Failing input' fuzz.out || ! grep -q 'context deadline exceeded' fuzz.out || [ $$try = 3 ]; then tail -40 fuzz.out; exit 1; fi; \
				echo "  the fuzz engine's own deadline tripped (a Go toolchain flake, no failing input): again"; \
			done; \
		done; done

BENCHCOUNT ?= 6
BENCHSTAT_VERSION ?= v0.0.0-20260908200009-22c9c6c9d4da
## bench: per-call overhead (facade vs gen vs net/http twin), interleaved ratios and crypto/hash costs, summarised by benchstat and bench/ratios
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCHCOUNT) ./bench/ ./phala/ | tee bench.out
	$(GO) run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bench.out
	$(GO) run ./bench/ratios bench.out

# OpenAPI publishing: spec, docs, spec-check, spec-lint, spec-generators.
include openapi/tools/Makefile.mk

BENCHCOMPARE_FLAGS ?=
.PHONY: bench-compare
## bench-compare: this SDK side by side with the official TypeScript SDK (@phala/cloud) on one cmd/phala-fake; needs node and npm
bench-compare:
	$(GO) run ./bench/compare $(BENCHCOMPARE_FLAGS)
