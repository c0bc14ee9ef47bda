# OpenAPI publishing targets. The root Makefile includes this fragment
# (`include openapi/tools/Makefile.mk`); every path is relative to the repository root.
#
#   make spec              bundle openapi/phala-cloud.yaml into openapi/dist/phala-cloud.{json,yaml}
#   make docs              render openapi/dist/index.html (self-contained Redoc page)
#   make spec-check        fail when openapi/dist/ is not what `make spec docs` would write
#   make spec-lint         redocly lint (recommended rules); fails on any error or warning
#   make spec-generators   openapi-typescript + tsc --strict on openapi/tools/ts-check/client.ts
#
# Node tooling is pinned in openapi/tools/package.json + package-lock.json and installed
# with `npm ci` into openapi/tools/node_modules (gitignored) on first use.

OPENAPI_TOOLS := openapi/tools
OPENAPI_DIST := openapi/dist
OPENAPI_NODE_BIN := $(OPENAPI_TOOLS)/node_modules/.bin
OPENAPI_STAMP := $(OPENAPI_TOOLS)/node_modules/.installed-stamp
OPENAPI_REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(OPENAPI_NODE_BIN)/redocly
OPENAPI_BUILD_DOCS = $(OPENAPI_REDOCLY) build-docs --config openapi/redocly.yaml --inlineBundle

.PHONY: spec docs spec-check spec-lint spec-generators openapi-tools

$(OPENAPI_STAMP): $(OPENAPI_TOOLS)/package.json $(OPENAPI_TOOLS)/package-lock.json
	cd $(OPENAPI_TOOLS) && npm ci --no-audit --no-fund
	touch $@

## openapi-tools: install the pinned Node tooling (npm ci)
openapi-tools: $(OPENAPI_STAMP)

## spec: bundle the OpenAPI document into openapi/dist/ (info.version = phala.Version)
spec: $(OPENAPI_STAMP)
	$(OPENAPI_TOOLS)/bundle.sh $(OPENAPI_DIST)

## docs: render openapi/dist/index.html from the bundled document
docs: spec
	$(OPENAPI_BUILD_DOCS) $(OPENAPI_DIST)/phala-cloud.json -o $(OPENAPI_DIST)/index.html
	node $(OPENAPI_TOOLS)/offline-docs.mjs $(OPENAPI_DIST)/index.html

## spec-check: fail when the committed openapi/dist/ is stale
spec-check: $(OPENAPI_STAMP)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(OPENAPI_TOOLS)/bundle.sh "$$tmp" >/dev/null && \
	$(OPENAPI_BUILD_DOCS) "$$tmp/phala-cloud.json" -o "$$tmp/index.html" >/dev/null 2>&1 && \
	node $(OPENAPI_TOOLS)/offline-docs.mjs "$$tmp/index.html" >/dev/null && \
	for f in phala-cloud.json phala-cloud.yaml index.html; do \
		if ! cmp -s "$$tmp/$$f" $(OPENAPI_DIST)/$$f; then \
			echo "$(OPENAPI_DIST)/$$f is stale: run 'make spec docs' and commit the result" >&2; \
			diff -u $(OPENAPI_DIST)/$$f "$$tmp/$$f" | head -n 40 >&2; exit 1; fi; \
	done; echo "$(OPENAPI_DIST)/ is fresh"

## spec-lint: redocly lint with openapi/redocly.yaml; any error or warning fails
spec-lint: $(OPENAPI_STAMP)
	@
	$(OPENAPI_REDOCLY) lint --config openapi/redocly.yaml --format=json openapi/phala-cloud.yaml 2>/dev/null \
		| node $(OPENAPI_TOOLS)/lint-gate.mjs

## spec-generators: check that openapi-typescript's types compile with the committed TS client
spec-generators: $(OPENAPI_STAMP)
	$(OPENAPI_TOOLS)/ts-check.sh
