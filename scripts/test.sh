#!/usr/bin/env bash
# Install everything the tests need and run every test:
#   Debian packages (the real registry, skopeo, umoci, mmdebstrap for the image build
#   (test/image), git, openssl, htpasswd; graphviz for
#   render --format dot; python3, its modules and gcc for the real taskgraph and fxci-config's
#   generators; postgresql and rabbitmq-server for the real Taskcluster services; chromium and
#   fonts-liberation for the UI click-through), Node 24 when the machine's Node is older, the npm
#   packages; then build and run vitest. apt-get waits for another package manager's lock
#   (scripts/debian-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/debian-packages.sh
extra=()
# The real taskgraph and fxci-config's generators (test/support/upstream.ts): Debian's Python
# modules, and gcc with Python's headers to compile msgspec's C core once.
command -v gcc >/dev/null 2>&1 || extra+=(gcc)
[ -x /usr/bin/python3-config ] || extra+=(python3-dev)
for module in yaml voluptuous requests appdirs attr; do
  /usr/bin/python3 -c "import $module" >/dev/null 2>&1 || extra+=("python3-$module")
done
# The real Taskcluster services (test/support/real-taskcluster.ts): PostgreSQL 15 and RabbitMQ,
# run by the tests themselves on loopback.
[ -x /usr/lib/postgresql/15/bin/postgres ] || extra+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || extra+=(rabbitmq-server)
# The Taskcluster UI click-through (test/e2e/ui-browser-real-taskcluster.registry.test.ts): Debian's
# Chromium, driven by the npm package playwright-core (which downloads no browser), and a font.
[ -d /usr/share/fonts/truetype/liberation ] || extra+=(fonts-liberation)
install_debian_packages docker-registry:docker-registry skopeo:skopeo umoci:umoci mmdebstrap:mmdebstrap git:git openssl:openssl htpasswd:apache2-utils setpriv:util-linux python3:python3 dot:graphviz psql:postgresql-client chromium:chromium "${extra[@]}"
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
