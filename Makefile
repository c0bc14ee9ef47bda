# Developer and CI entry points. `make test` is the test command CI runs.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all generate check-generated spec-lint lint test test-short fuzz bench

all: check-generated lint test

## generate: regenerate gen/ from openapi/phala-cloud.yaml
generate:
	$(GO) generate ./...

## check-generated: fail when gen/ is not what the spec generates. It runs generate.go's
## go:generate line with a copy of gen/oapi-codegen.yaml whose output: is a temporary
## file and compares that with gen/, so the tree is never changed.
check-generated:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed "s|^output: .*|output: $$tmp/client.gen.go|" gen/oapi-codegen.yaml > "$$tmp/oapi-codegen.yaml"; \
	grep -q "^output: $$tmp/" "$$tmp/oapi-codegen.yaml" || { echo "gen/oapi-codegen.yaml has no output: line" >&2; exit 1; }; \
	cmd=$$(sed -n 's|^//go:generate ||p' generate.go); \
	case "$$cmd" in *" -config gen/oapi-codegen.yaml "*) ;; *) echo "generate.go's go:generate line does not use -config gen/oapi-codegen.yaml" >&2; exit 1;; esac; \
	cmd=$$(printf '%s' "$$cmd" | sed "s| -config gen/oapi-codegen.yaml | -config $$tmp/oapi-codegen.yaml |"); \
	$$cmd; \
	gen_files=$$(cd gen && ls *.go | tr '\n' ' '); \
	if [ "$$gen_files" != "client.gen.go doc.go " ]; then echo "gen/ holds other Go files than client.gen.go and the hand-written doc.go: $$gen_files" >&2; exit 1; fi; \
	if ! diff -u gen/client.gen.go "$$tmp/client.gen.go"; then \
		echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; fi; \
	echo "gen/ is fresh"

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# TESTSUMMARY runs `go test -json` commands (separated by " + ") and prints what
# plain go test would, then a summary: failures, every skipped test with its reason
# (which says how to enable it), the slowest packages and the total time.
TESTSUMMARY = $(GO) run ./internal/testsummary --

## test: the whole suite, both modules (this one and onchain/), with the race
## detector; ends with what was skipped and how to enable it
test:
	$(TESTSUMMARY) $(GO) test -race -count=1 -json ./... + $(GO) -C onchain test -race -count=1 -json ./...

## test-short: a faster local run of both modules: no race detector (the onchain
## module's race build of go-ethereum is most of make test's time) and -short (no
## chaos test); every other test runs. make test stays what CI runs.
test-short:
	$(TESTSUMMARY) $(GO) test -short -count=1 -json ./... + $(GO) -C onchain test -short -count=1 -json ./...

FUZZTIME ?= 5s
## fuzz: run every Fuzz target of every package for FUZZTIME each (their seed corpora
## also run in make test). The targets are found in the _test.go files, and each
## package's instrumented test binary is built once and run per target, in the package
## folder with go test's own fuzz cache, which spares a build and link per target. A
## run that ends with the engine's "context deadline exceeded" and no failing input is
## run again.
fuzz:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cache=$$($(GO) env GOCACHE)/fuzz; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		pkg=$$($(GO) list $$dir); bin="$$tmp/$$(basename $$pkg).fuzz.test"; \
		$(GO) test -c -fuzz=. -o "$$bin" $$dir; \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$dir/*_test.go); do \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			for try in 1 2 3; do \
				if (cd $$dir && "$$bin" -test.run='^$$' -test.fuzz="^$$fn$$" -test.fuzztime=$(FUZZTIME) \
					-test.fuzzcachedir="$$cache/$$pkg") >"$$tmp/fuzz.out" 2>&1; then break; fi; \
				if grep -q 'Failing input' "$$tmp/fuzz.out" || ! grep -q 'context deadline exceeded' "$$tmp/fuzz.out" || [ $$try = 3 ]; then \
					tail -40 "$$tmp/fuzz.out"; exit 1; fi; \
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

# The onchain module (onchain/, its own go.mod with go-ethereum) is not part
# of `./...` here; these targets reach it. onchain/ci.sh runs all of them.
.PHONY: onchain-check-generated onchain-test
## onchain-check-generated: fail when onchain/contracts/artifacts.json is not what solc 0.8.37 compiles
onchain-check-generated:
	@tmp=$$(mktemp -d); \
	(cd onchain && ARTIFACTS_OUT="$$tmp/artifacts.json" $(GO) generate ./contracts) && \
	if ! diff -u onchain/contracts/artifacts.json "$$tmp/artifacts.json"; then \
		echo "onchain/contracts/artifacts.json is stale: run 'go generate ./contracts' in onchain/ and commit it" >&2; rm -rf "$$tmp"; exit 1; fi; \
	rm -rf "$$tmp"; echo "onchain/contracts/artifacts.json is fresh"

## onchain-test: the onchain module's tests with the race detector
onchain-test:
	cd onchain && $(GO) test -race -count=1 ./...
