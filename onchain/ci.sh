#!/bin/sh
# CI for the onchain module (its own go.mod): the contracts' generation
# check, gofmt, go vet, staticcheck and the tests with the race detector.
# Installs nothing globally: solc comes from npm into
# onchain/contracts/node_modules (npm ci, pinned 0.8.37). Run it from
# anywhere: sh onchain/ci.sh. Set SKIP_CONTRACTS=1 where node is absent,
# SKIP_TESTS=1 where the tests run elsewhere (make test runs them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
GO=${GO:-go}
STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}

if [ "${SKIP_CONTRACTS:-0}" != 1 ]; then
	echo "== onchain: contracts fresh"
	make -C "$root" --no-print-directory onchain-check-generated GO="$GO"
fi
cd "$here"
echo "== onchain: gofmt"
out=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$out" ]; then echo "gofmt: $out" >&2; exit 1; fi
echo "== onchain: go vet"
$GO vet ./...
echo "== onchain: staticcheck"
$GO run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ./...
echo "== onchain: footprint (phala must compile in no Ethereum module)"
if (cd "$root" && $GO list -deps -f '{{with .Module}}{{.Path}}{{end}}' ./phala | sort -u | grep -q ethereum); then
	echo "the root package phala depends on an Ethereum module" >&2; exit 1
fi
if [ "${SKIP_TESTS:-0}" != 1 ]; then # .ci/run runs them in make test
	echo "== onchain: go test -race"
	$GO test -race -count=1 ./...
fi
