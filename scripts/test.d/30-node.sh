#!/usr/bin/env bash
# The Node package (kudu-state-node): npm install, native build, generated-files check, type test, node --test
# (the remote-mode tests against the kudu-emulator binary, built here).
# Run by scripts/test.sh from the repo root with $ROOT exported; runnable on its own from anywhere.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT/kudu-state-node"

# Not `npm ci`: the registry lacks some other-platform optional packages the lock would need (N1).
# `npm install` with the committed lock keeps package-lock.json as it is (checked below).
npm install --no-audit --no-fund --prefer-offline

npx napi build --platform --release

# index.js / index.d.ts are generated and committed; a rebuild must not change them (nor the lock file).
if ! git -C "$ROOT" diff --exit-code -- kudu-state-node/index.js kudu-state-node/index.d.ts kudu-state-node/package-lock.json; then
  echo "30-node.sh: generated files differ from the committed ones; commit what napi build wrote" >&2
  exit 1
fi

npx tsc --noEmit -p __test__/tsconfig.json

# The remote-mode tests serve homes over Kudu's REST API with the emulator binary (127.0.0.1 only).
cargo build -q -p kudu-emulator --bin kudu-emulator
export KUDU_EMULATOR="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kudu-emulator"

tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap"
# A run that found no test file passes silently; refuse it.
if ! grep -Eq '^# pass [1-9]' "$tap"; then
  echo "30-node.sh: node --test ran no test" >&2
  exit 1
fi
