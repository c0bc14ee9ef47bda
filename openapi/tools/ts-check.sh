#!/bin/sh
# Checks that another language's generator accepts the published document: runs
# openapi-typescript on openapi/dist/phala-cloud.json into a temporary directory and
# `tsc --noEmit --strict` on openapi/tools/ts-check/client.ts against the result.
# Run from the repository root (make spec-generators); needs `npm ci` in openapi/tools.
set -eu
bin=openapi/tools/node_modules/.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp openapi/tools/ts-check/client.ts "$tmp/client.ts"
"$bin/openapi-typescript" openapi/dist/phala-cloud.json -o "$tmp/phala-cloud.ts" >"$tmp/gen.log" 2>&1 ||
	{ cat "$tmp/gen.log" >&2; exit 1; }
"$bin/tsc" --noEmit --strict --noUnusedLocals --noImplicitReturns --exactOptionalPropertyTypes \
	--target es2022 --module esnext --moduleResolution bundler --lib es2022,dom \
	"$tmp/client.ts" "$tmp/phala-cloud.ts"
echo "openapi-typescript $("$bin/openapi-typescript" --version 2>/dev/null | tr -d '\n') + tsc $("$bin/tsc" --version | sed 's/Version //'): client.ts compiles against openapi/dist/phala-cloud.json"
