#!/usr/bin/env bash
# Packs the Node package in napi-rs's standard layout, from addons already built:
#   scripts/npm-pack.sh OUT_DIR ADDON...
# ADDON: a `kudu-state.<platform>.node` as `napi build --platform` names it (e.g. kudu-state.linux-x64-gnu.node).
# Writes into OUT_DIR:
#   kudu-state-<version>.tgz             the main package: index.js (napi's loader), index.d.ts, bin/, no addon;
#                                        optionalDependencies on kudu-state-<platform> for EVERY target in
#                                        package.json's napi.targets (what `napi pre-publish` writes)
#   kudu-state-<platform>-<version>.tgz  one per ADDON given (napi's npm/<platform>/package.json: os, cpu, libc)
# dist.sh runs it with this machine's addon; the release workflow with every platform's.
# Needs kudu-state-node/node_modules (npm install) for @napi-rs/cli.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PKG="$ROOT/kudu-state-node"

die() { echo "npm-pack.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: scripts/npm-pack.sh OUT_DIR ADDON..."
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
shift
NAPI="$PKG/node_modules/.bin/napi"
[ -x "$NAPI" ] || die "$NAPI is missing; run 'npm install' in kudu-state-node first"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
main="$stage/kudu-state"
mkdir -p "$main"
# The files package.json's "files" lists, plus README and LICENSE (npm always includes them).
cp "$PKG/package.json" "$PKG/index.js" "$PKG/index.d.ts" "$PKG/README.md" "$PKG/LICENSE" "$main/"
cp -R "$PKG/bin" "$main/"
# npm/<platform>/package.json and README.md for every configured target, named by napi itself.
(cd "$main" && "$NAPI" create-npm-dirs >/dev/null)

platforms=()
for addon in "$@"; do
  [ -f "$addon" ] || die "no addon at $addon"
  file="$(basename "$addon")"
  platform="${file#kudu-state.}"
  platform="${platform%.node}"
  [ "$file" = "kudu-state.$platform.node" ] && [ -d "$main/npm/$platform" ] ||
    die "$file is not kudu-state.<platform>.node for a target in package.json's napi.targets"
  cp "$addon" "$PKG/LICENSE" "$main/npm/$platform/"
  platforms+=("$platform")
done

# optionalDependencies: every platform package napi created, at this version (napi pre-publish's rule;
# pre-publish itself needs every platform's addon present, so it cannot run where one platform is built).
node - "$main" <<'EOF'
const fs = require('fs')
const path = require('path')
const dir = process.argv[2]
const file = path.join(dir, 'package.json')
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
const optional = {}
for (const platform of fs.readdirSync(path.join(dir, 'npm')).sort()) {
  const sub = JSON.parse(fs.readFileSync(path.join(dir, 'npm', platform, 'package.json'), 'utf8'))
  if (sub.version !== pkg.version) throw new Error(`${sub.name} has version ${sub.version}, not ${pkg.version}`)
  optional[sub.name] = pkg.version
}
if (Object.keys(optional).length !== pkg.napi.targets.length) throw new Error('not one npm/<platform> per napi target')
pkg.optionalDependencies = optional
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
EOF

pack() { (cd "$1" && npm pack --silent --pack-destination "$OUT" >/dev/null); }
pack "$main"
for platform in "${platforms[@]}"; do
  pack "$main/npm/$platform"
done
version="$(node -p "require('$PKG/package.json').version")"
echo "npm-pack.sh: kudu-state-$version.tgz and ${#platforms[@]} platform package(s) (${platforms[*]}) in $OUT"
