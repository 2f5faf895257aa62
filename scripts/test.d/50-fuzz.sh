#!/usr/bin/env bash
# Fuzzing (cargo-fuzz on stable via RUSTC_BOOTSTRAP=1): every target in fuzz/fuzz_targets for
# $FUZZ_SECONDS seconds each, starting from the committed seeds in fuzz/seeds/<target>/.
#   FUZZ_SECONDS=15 ./scripts/test.sh          (what .ci/run does)
#   FUZZ_SANITIZER=address FUZZ_SECONDS=60 …   AddressSanitizer build (default: none; the core forbids
#                                              unsafe code, and without ASan a run does ~3-10x the execs)
#   FUZZ_TARGETS="status_xml log_log" …        a subset
# New inputs go to fuzz/corpus/<target> (gitignored). A crash, a panic or a hang (-timeout) fails the
# script; libFuzzer writes the input to fuzz/artifacts/<target>/ and prints how to reproduce it.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"

if [ "${FUZZ_SECONDS:-0}" = 0 ]; then
  echo "fuzz: skipped (set FUZZ_SECONDS to run each fuzz target for that many seconds)"
  exit 0
fi

if ! cargo fuzz --version 2>/dev/null | grep -q '0\.13\.2'; then
  echo "fuzz: installing cargo-fuzz 0.13.2"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi

export RUSTC_BOOTSTRAP=1
# The fuzz workspace has its own lock and target dir; never share the main CARGO_TARGET_DIR.
unset CARGO_TARGET_DIR
sanitizer="${FUZZ_SANITIZER:-none}"
targets="${FUZZ_TARGETS:-$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')}"

cargo fuzz build --fuzz-dir fuzz -s "$sanitizer" --release

summary=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  log="$(mktemp)"
  echo "fuzz: $t for ${FUZZ_SECONDS}s"
  status=0
  cargo fuzz run --fuzz-dir fuzz -s "$sanitizer" --release "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $t FAILED (exit $status); the input is in fuzz/artifacts/$t/" >&2
    rm -f "$log"
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  secs="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
  summary+=("$(printf '%-13s %10s runs in %3ss  %8s exec/s' "$t" "${runs:-?}" "${secs:-?}" "$(( ${runs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))")")
  rm -f "$log"
done
printf 'fuzz: %s\n' "${summary[@]}"
