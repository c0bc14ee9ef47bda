#!/bin/sh
# Bundles openapi/phala-cloud.yaml into OUTDIR/phala-cloud.json and OUTDIR/phala-cloud.yaml,
# self-contained (every $ref internal). Run from the repository root: openapi/tools/bundle.sh OUTDIR
set -eu
out=${1:?usage: openapi/tools/bundle.sh OUTDIR}
redocly=openapi/tools/node_modules/.bin/redocly
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# The bundle carries the source's info.version; go test ./openapi/
# (TestSpecVersionIsSDKVersion) keeps it equal to phala.Version.
version=$(sed -n 's/^  version: *\(.*\)$/\1/p' openapi/phala-cloud.yaml | head -n 1 | tr -d "\"'")
[ -n "$version" ] || { echo "bundle.sh: openapi/phala-cloud.yaml has no info.version" >&2; exit 1; }

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ext in json yaml; do
	"$redocly" bundle openapi/phala-cloud.yaml --config openapi/redocly.yaml \
		--ext "$ext" \
		-o "$out/phala-cloud.$ext" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
done
# Redocly writes JSON without a final newline; add one so the files diff cleanly.
for f in "$out/phala-cloud.json" "$out/phala-cloud.yaml"; do
	[ -z "$(tail -c 1 "$f")" ] || printf '\n' >>"$f"
done
echo "bundled openapi/phala-cloud.yaml (info.version $version) into $out/phala-cloud.json and $out/phala-cloud.yaml"
