#!/usr/bin/env bash
# Builds tc-promote's image on this machine, without a Docker engine, reproducibly: the same
# commit, Debian mirror state and Node package give the same image digest.
#
#   sudo bash scripts/build-image.sh [--output DIR] [--revision REV]
#
# Layers (oldest first):
#   1. a Debian bookworm root filesystem from mmdebstrap (minbase, plus git and ca-certificates),
#      from the apt mirror this machine is configured with (/etc/apt/sources.list.d/debian.sources
#      or /etc/apt/sources.list); Node.js from the npm registry's node package (its platform
#      package node-linux-<arch>, the same binary `node` installs, checked against a pinned
#      integrity) as /usr/local/bin/node; the worker user (uid 1000) and /builds/worker/artifacts.
#   2. the built tool at REV (git archive of that commit, `npm ci`, `npm run build`, production
#      dependencies only) in /app, /usr/local/bin/tc-promote, and /app/version.json
#      ({commit, source, build}): what `tc-promote consumers` and the promote step read.
#
# Assembled with umoci into an OCI layout DIR/oci (tag = package.json's version); DIR/image.json
# says {image, version, commit, digest, reference}. Every file's time, the layers' history and
# the config's created time are SOURCE_DATE_EPOCH (default: REV's commit time), so a rebuild
# gives the same digest. mmdebstrap's output is cached in ~/.cache/tc-promote (or
# $TC_PROMOTE_CACHE_DIR), keyed by its inputs (suite, packages, the mirror configuration,
# mmdebstrap's version, the base epoch). The mirror moves (security updates): a cache made
# before an update is reused until the key changes (delete the folder to take the update).
#
# Push it with skopeo, keeping the digest:
#   skopeo copy --preserve-digests oci:DIR/oci:<version> docker://<registry>/mozillareleases/tc-promote:<version>
#
# Needs root (mmdebstrap --mode=root, umoci unpack keeps owners), mmdebstrap, umoci, git, and
# Node >= 22.17.1 with npm (source scripts/ensure-node.sh). Network: the apt mirror and the npm
# registry only.
set -euo pipefail

node_version=24.22.3
node_integrity_x64='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
suite=bookworm
packages=git,ca-certificates
# The base layer's clock: fixed, so that it (and its cache) does not change with every commit.
base_epoch=1735689600 # 2025-01-01T00:00:00Z

usage() {
  sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'
}

out=
revision=HEAD
while [ $# -gt 0 ]; do
  case "$1" in
    --output) out=${2:?--output needs a folder}; shift 2 ;;
    --revision) revision=${2:?--revision needs a commit}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (mmdebstrap --mode=root and umoci keep file owners); e.g. sudo bash scripts/build-image.sh" >&2; exit 2; }
for tool in mmdebstrap umoci git npm node tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "build-image: '$tool' is not installed (apt-get install mmdebstrap umoci git; Node: source scripts/ensure-node.sh)" >&2; exit 2; }
done
case "$(uname -m)" in
  x86_64) arch=x64; oci_arch=amd64; node_integrity=$node_integrity_x64 ;;
  *) echo "build-image: only x86_64 has a pinned Node integrity; add one for $(uname -m)" >&2; exit 2 ;;
esac

commit=$(git -C "$here" rev-parse --verify "$revision^{commit}") || { echo "build-image: --revision '$revision' is not a commit of $here" >&2; exit 2; }
version=$(git -C "$here" show "$commit:package.json" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).version))')
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct "$commit")}
case "$epoch" in '' | *[!0-9]*) echo "build-image: SOURCE_DATE_EPOCH '$epoch' is not a number of seconds" >&2; exit 2 ;; esac
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
base_created=$(date -u -d "@$base_epoch" +%Y-%m-%dT%H:%M:%SZ)
out=${out:-$here/.image}
mkdir -p "$out"
out=$(cd "$out" && pwd)

sources=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -s "$f" ] && grep -qv '^\s*\(#\|$\)' "$f"; then sources=$f; break; fi
done
[ -n "$sources" ] || { echo "build-image: no apt mirror configured (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tc-promote-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '%s build-image: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# 1. The Debian root filesystem, cached by its inputs.
cache_base=${TC_PROMOTE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tc-promote}
key=$( { echo "$suite $packages $base_epoch minbase"; mmdebstrap --version; cat "$sources"; } | sha256sum | cut -c1-16)
rootfs_tar=$cache_base/image-rootfs-$key/rootfs.tar
if [ -s "$rootfs_tar" ]; then
  step "Debian root filesystem from the cache ($rootfs_tar)"
else
  step "mmdebstrap $suite ($packages) from $sources"
  mkdir -p "$(dirname "$rootfs_tar")"
  SOURCE_DATE_EPOCH=$base_epoch mmdebstrap --quiet --mode=root --variant=minbase --include="$packages" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$work/rootfs.tar" "$sources"
  mv "$work/rootfs.tar" "$rootfs_tar.part" && mv "$rootfs_tar.part" "$rootfs_tar"
fi

# 2. Node from the npm registry, checked against the pinned integrity.
step "node-linux-$arch@$node_version from the npm registry"
mkdir -p "$work/node"
(cd "$work/node" && npm pack --silent "node-linux-$arch@$node_version" >/dev/null)
tgz=$work/node/node-linux-$arch-$node_version.tgz
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" 2>/dev/null | base64 -w0 || node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
[ "$actual" = "$node_integrity" ] || { echo "build-image: node-linux-$arch@$node_version's integrity is $actual, not the pinned $node_integrity: refusing it" >&2; exit 4; }
tar -xzf "$tgz" -C "$work/node" package/bin/node

# 3. The tool at the commit: only what the commit holds (never the working tree's changes).
step "tc-promote $version at $commit: npm ci, build, production dependencies"
mkdir -p "$work/src"
git -C "$here" archive "$commit" | tar -x -C "$work/src"
(
  cd "$work/src"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  mkdir -p schemas
  npm run --silent build >/dev/null
  npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  # dist/cli/help.json records each module's size and time (--help is served from it while they
  # are unchanged): stamp the times the image will have first, then write it again.
  find dist -exec touch -h -d "@$epoch" {} +
  node scripts/write-help.js
)

# 4. Assemble with umoci: the base layer, then the tool's.
clamp() { find "$1" -xdev -exec touch -h -d "@$2" {} +; }
layout=$work/oci
umoci init --layout "$layout"
umoci new --image "$layout:$version"
umoci unpack --image "$layout:$version" "$work/bundle" >/dev/null
root=$work/bundle/rootfs
step "layer 1: Debian, Node, the worker user"
tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$rootfs_tar" -C "$root"
install -m 0755 -o 0 -g 0 "$work/node/package/bin/node" "$root/usr/local/bin/node"
# The user the tasks run as, written whole (useradd would stamp today's date into /etc/shadow).
echo 'worker:x:1000:1000::/builds/worker:/bin/bash' >>"$root/etc/passwd"
echo 'worker:x:1000:' >>"$root/etc/group"
echo 'worker:!:0::::::' >>"$root/etc/shadow"
install -d -o 1000 -g 1000 "$root/builds" "$root/builds/worker" "$root/builds/worker/artifacts"
chown 0:0 "$root/builds"
# Caches that differ from build to build and nothing reads.
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/apt/* "$root"/tmp/* 2>/dev/null || true
clamp "$root" "$base_epoch"
umoci repack --refresh-bundle --image "$layout:$version" \
  --history.created "$base_created" --history.created_by "mmdebstrap $suite minbase +$packages; node-linux-$arch@$node_version" "$work/bundle"

step "layer 2: /app"
app=$root/app
mkdir -p "$app/taskcluster"
cp -a "$work/src/package.json" "$work/src/node_modules" "$work/src/dist" "$work/src/schemas" "$work/src/bin" "$work/src/config" "$app/"
cp -a "$work/src/.taskcluster.yml" "$work/src/consumers" "$app/"
cp -a "$work/src"/taskcluster/*.yml "$work/src/taskcluster/README.md" "$app/taskcluster/"
node -e 'process.stdout.write(JSON.stringify({ commit: process.argv[1], source: "https://github.com/mozilla-releng/tc-promote", build: process.argv[2], version: process.argv[3] }, null, 2) + "\n")' "$commit" "$created" "$version" >"$app/version.json"
chmod 0755 "$app/bin/tc-promote.js"
chown -R 0:0 "$app"
ln -s /app/bin/tc-promote.js "$root/usr/local/bin/tc-promote"
clamp "$app" "$epoch"
touch -h -d "@$epoch" "$root/usr/local/bin/tc-promote"
touch -h -d "@$base_epoch" "$root/usr/local/bin" "$root"
umoci repack --image "$layout:$version" --history.created "$created" --history.created_by "tc-promote $version at $commit" "$work/bundle"

umoci config --image "$layout:$version" --no-history --created "$created" --author "tc-promote build-image.sh" \
  --architecture "$oci_arch" --os linux \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env NODE_ENV=production \
  --config.user worker --config.workingdir /builds/worker --config.cmd tc-promote --config.cmd --help \
  --config.label "org.opencontainers.image.revision=$commit" --config.label "org.opencontainers.image.version=$version"
umoci gc --layout "$layout"

digest=$(node -e '
  const fs = require("fs");
  const index = JSON.parse(fs.readFileSync(process.argv[1] + "/index.json", "utf8"));
  const m = index.manifests.filter((d) => d.annotations?.["org.opencontainers.image.ref.name"] === process.argv[2]);
  if (m.length !== 1) throw new Error("no single manifest tagged " + process.argv[2]);
  console.log(m[0].digest);' "$layout" "$version")
rm -rf "$out/oci"
mv "$layout" "$out/oci"
node -e 'const [image, version, commit, digest] = process.argv.slice(1); process.stdout.write(JSON.stringify({ image, version, commit, digest, reference: image + ":" + version + "@" + digest }, null, 2) + "\n")' \
  mozillareleases/tc-promote "$version" "$commit" "$digest" >"$out/image.json"
step "done: $out/oci:$version $digest"
echo "$digest"
