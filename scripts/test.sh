#!/usr/bin/env bash
# Install everything the tests need and run every test:
#   Debian packages (the real registry, skopeo, umoci, git, openssl, htpasswd; graphviz to render
#   render --format dot; python3 to import
#   the consumer's taskgraph module), Node 24 when
#   the machine's Node is older, the npm packages; then build and run vitest. apt-get waits
#   for another package manager's lock (scripts/debian-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/debian-packages.sh
install_debian_packages docker-registry:docker-registry skopeo:skopeo umoci:umoci git:git openssl:openssl htpasswd:apache2-utils setpriv:util-linux python3:python3 dot:graphviz
source scripts/ensure-node.sh
echo "node $(node --version), npm $(npm --version)" >&2
npm ci --no-audit --no-fund </dev/null >&2
rm -f .vitest/results.json
status=0
npm test </dev/null || status=$?
# One plain closing line, whatever the reporter printed above it.
if [ -f .vitest/results.json ]; then
  node -e 'const r = require("./.vitest/results.json"); console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)'
fi
exit "$status"
