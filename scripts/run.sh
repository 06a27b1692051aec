#!/usr/bin/env bash
# Install (Node 24 if needed, npm packages, build) and run tc-promote with the given arguments:
#   bash scripts/run.sh plan signingscript
set -euo pipefail
cd "$(dirname "$0")/.."
# The drill starts Debian's docker-registry: installed here when missing, as scripts/test.sh
# installs what the tests need (unless TC_PROMOTE_DOCKER_REGISTRY names another binary).
if [ "${1:-}" = drill ] && [ -z "${TC_PROMOTE_DOCKER_REGISTRY:-}" ]; then
  source scripts/debian-packages.sh
  install_debian_packages docker-registry:docker-registry
fi
source scripts/ensure-node.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npx tsc -p tsconfig.json >&2
node scripts/write-schemas.js >&2
# Once built, bin/tc-promote is the command (README: export PATH="$PWD/bin:$PATH").
command -v tc-promote >/dev/null 2>&1 || [ -n "${CI:-}" ] || echo "(to type tc-promote instead: export PATH=\"$PWD/bin:\$PATH\")" >&2
exec node bin/tc-promote.js "$@"
