#!/bin/sh
# Bundles openapi/phala-cloud.yaml into OUTDIR/phala-cloud.json and OUTDIR/phala-cloud.yaml,
# self-contained (every $ref internal), with info.version set to the SDK's Version constant
# from phala/client.go. Run from the repository root: openapi/tools/bundle.sh OUTDIR
set -eu
out=${1:?usage: openapi/tools/bundle.sh OUTDIR}
redocly=openapi/tools/node_modules/.bin/redocly
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

version=$(sed -n 's/^const Version = "\([^"]*\)"$/\1/p' phala/client.go)
if [ -z "$version" ]; then
	echo "bundle.sh: no 'const Version = \"...\"' line in phala/client.go" >&2
	exit 1
fi
src_version=$(sed -n 's/^  version: *\(.*\)$/\1/p' openapi/phala-cloud.yaml | head -n 1 | tr -d "\"'")
if [ "$src_version" != "$version" ]; then
	echo "bundle.sh: note: openapi/phala-cloud.yaml has info.version $src_version, the SDK is $version;" >&2
	echo "bundle.sh: the bundle carries $version; bump the source too (go test ./openapi/ checks it)" >&2
fi

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An OpenAPI Overlay 1.0 document that sets info.version.
cat >"$tmp/version-overlay.yaml" <<OVERLAY
overlay: 1.0.0
info:
  title: Set info.version from the SDK version
  version: 1.0.0
actions:
  - target: $.info
    update:
      version: "$version"
OVERLAY
for ext in json yaml; do
	"$redocly" bundle openapi/phala-cloud.yaml --config openapi/redocly.yaml \
		--overlay "$tmp/version-overlay.yaml" --ext "$ext" \
		-o "$out/phala-cloud.$ext" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
done
# Redocly writes JSON without a final newline; add one so the files diff cleanly.
for f in "$out/phala-cloud.json" "$out/phala-cloud.yaml"; do
	[ -z "$(tail -c 1 "$f")" ] || printf '\n' >>"$f"
done
echo "bundled openapi/phala-cloud.yaml (info.version $version) into $out/phala-cloud.json and $out/phala-cloud.yaml"
