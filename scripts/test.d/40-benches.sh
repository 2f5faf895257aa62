#!/usr/bin/env bash
# Benchmarks: compile check only (numbers on a shared CI box are noise; run ./scripts/bench.sh and
# `cargo bench -p kudu-state-benches` on a quiet machine).
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
cargo bench -p kudu-state-benches --no-run --locked
