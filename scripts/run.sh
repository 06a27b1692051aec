#!/usr/bin/env bash
# Install (Node 24 if needed, npm packages, build) and run tc-promote with the given arguments:
#   bash scripts/run.sh plan signingscript
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npx tsc -p tsconfig.json >&2
node scripts/write-schemas.js >&2
exec node bin/tc-promote.js "$@"
