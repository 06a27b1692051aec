#!/usr/bin/env bash
# Install everything the tests need and run every test:
#   Debian packages (the real registry, skopeo, umoci, git, openssl, htpasswd; graphviz to render
#   render --format dot; python3 to import
#   the consumer's taskgraph module; postgresql and rabbitmq-server for the real Taskcluster
#   services; chromium and fonts-liberation for the UI click-through), Node 24 when
#   the machine's Node is older, the npm packages; then build and run vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pair in docker-registry:docker-registry skopeo:skopeo umoci:umoci git:git openssl:openssl htpasswd:apache2-utils setpriv:util-linux python3:python3 dot:graphviz psql:postgresql-client; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
# The real Taskcluster services (test/support/real-taskcluster.ts): PostgreSQL 15 and RabbitMQ,
# run by the tests themselves on loopback (their packages' own services are not used).
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
# The Taskcluster UI click-through (test/e2e/ui-browser-real-taskcluster.registry.test.ts): Debian's
# Chromium, driven by the npm package playwright-core (which downloads no browser), and a font.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq </dev/null
  # The packages' own services (a PostgreSQL on 5432, a RabbitMQ on 0.0.0.0:5672) must not start:
  # the tests run their own, and RabbitMQ's would take the AMQP port of every loopback address.
  policy_made=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >&2
  [ -z "$policy_made" ] || "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
fi
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
