#!/bin/sh
# go generate entry point: install the pinned solc (npm ci, local to this
# folder) when missing, then compile the test contracts into artifacts.json.
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/solc/package.json ] || ! grep -q '"version": "0.8.37"' node_modules/solc/package.json; then
	npm ci --no-audit --no-fund --silent
fi
node compile.mjs
