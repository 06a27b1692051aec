#!/usr/bin/env bash
# Source this: puts a Node.js >= 22.17.1 (package.json's engines: taskcluster-client's) first in PATH, installing Node 24 from the npm registry's
# per-platform node package into $HOME/.node24 when the machine's Node is older.
# (The `node` meta-package needs an install script that project-scoped npm refuses to run;
# its platform package, node-linux-<arch>, carries the same binary without one.)
tc_promote_node_ok() {
  command -v node >/dev/null 2>&1 && [ "$(node -p 'const [a, b, c] = process.versions.node.split(".").map(Number); a > 22 || (a === 22 && (b > 17 || (b === 17 && c >= 1)))' 2>/dev/null)" = true ]
}
if [ -x "$HOME/.node24/bin/node" ]; then export PATH="$HOME/.node24/bin:$PATH"; fi
if ! tc_promote_node_ok; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "unsupported machine $(uname -m) for the npm node package" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  echo "installing Node.js 24 (node-linux-$arch) into $HOME/.node24" >&2
  npm install --global --prefix "$HOME/.node24" --no-audit --no-fund "node-linux-$arch@24" >&2
  export PATH="$HOME/.node24/bin:$PATH"
  tc_promote_node_ok || { echo "Node.js >= 22.17.1 is still not on PATH" >&2; return 1 2>/dev/null || exit 1; }
fi
