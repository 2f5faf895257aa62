#!/usr/bin/env bash
# The one test entry point: CI (.ci/run) and the README call this.
#   ./scripts/test.sh                      Rust tests, clippy, fmt, then every part in scripts/test.d/
#   FUZZ_SECONDS=20 ./scripts/test.sh      also run every fuzz target for that many seconds
# Everything it needs it installs itself (a fresh machine has Rust, Python 3.11, Node 20).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROOT="$PWD"

suites=0
step() { printf '\n==> %s\n' "$*"; suites=$((suites + 1)); }
export -f step

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (core, cli, emulator)"
cargo test --locked

# Each part (workflow lint, Python package, Node package, benches, fuzzing, release artifacts, the Action's
# script) owns one script here, run in name order.
for part in scripts/test.d/*.sh; do
  [ -e "$part" ] || continue
  step "$part"
  bash "$part"
done

# Reached only when every suite passed (set -e): the plain closing line CI reads.
echo
echo "suites: ${suites} passed, 0 failed"
