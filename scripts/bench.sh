#!/usr/bin/env bash
# Whole-process benchmarks of `kudu-state diagnose --json` on synthetic homes, printed as ONE markdown table.
#
#   ./scripts/bench.sh                     N = 1,000 and 10,000
#   BENCH_100K=1 ./scripts/bench.sh        also N = 100,000 (writes about 2 GiB; the generator takes ~15 s)
#   BENCH_RUNS=20 ./scripts/bench.sh       timed runs per cell (default 10; BENCH_RUNS_100K, default 3, at 100,000)
#   BENCH_DIR=/big/disk ./scripts/bench.sh where the homes are generated (default: a temp dir, removed after)
#   BENCH_APPLY=0 ./scripts/bench.sh       skip the apply table (plans of 250, 1,000 and 2,000 steps)
#   BENCH_REMOTE=0 ./scripts/bench.sh      skip the remote table (the emulator with 10 ms of latency)
#   BENCH_CALLGRIND=0 ./scripts/bench.sh   skip the instruction counts (they need valgrind; ~1 min)
#
# Columns: (1) the release `kudu-state diagnose --json` (whole process); (2) the floor: a single-threaded
# program that only lists site/deployments and reads every status.xml; (3) benches/python/scan_naive.py,
# what a user would write instead (os.scandir + ElementTree, incomplete records + lock files); (4) the same
# diagnosis through the Python package (`kudu_state.diagnose`), installed into $ROOT/.venv-bench.
# Times are medians of runs in this invocation, after one warm-up run each (page cache warm). The columns
# of the main table are timed in rounds (each command once per round, benches/python/median_times.py),
# so a load that drifts on a shared machine weighs on all of them alike and their ratios hold; the times
# themselves still move with the load: run this on a quiet machine. The instruction counts are not:
# `valgrind --tool=callgrind` counts the user-space instructions of (1) on homes of 1,000 and 4,000
# records of each platform, and (I(4,000) - I(1,000)) / 3,000 is the cost of one more settled record,
# the same on a busy machine (target <= 15,000 on Linux).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${ROOT:-$PWD}"
cd "$ROOT"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RUNS="${BENCH_RUNS:-10}"
SIZES=(1000 10000)
[ "${BENCH_100K:-0}" != 0 ] && SIZES+=(100000)
PY="${PYTHON:-python3}"

log() { printf '%s\n' "$*" >&2; }

log "==> building release binaries"
cargo build --release --locked -q -p kudu-state-cli -p kudu-state-benches --bins
REMOTE_BENCH="$TARGET/release/remote-bench"
KS="$TARGET/release/kudu-state"
FLOOR="$TARGET/release/floor"
GEN="$TARGET/release/gen-home"
GEN_ORPHANS="$TARGET/release/gen-orphans"

if [ -n "${BENCH_DIR:-}" ]; then
  WORK="$BENCH_DIR"
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/kudu-bench.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi

# (4) The Python package: n/a (with the reason) when it cannot be installed or has no diagnose().
PKG_NOTE=""
VENV="$ROOT/.venv-bench"
if [ ! -f kudu-state-py/pyproject.toml ]; then
  PKG_NOTE="kudu-state-py has no pyproject.toml yet (the package is not built)"
else
  log "==> installing ./kudu-state-py into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check ./kudu-state-py >&2; then
    PKG_NOTE="pip install ./kudu-state-py failed"
  elif ! "$VENV/bin/python" -c 'import kudu_state; kudu_state.diagnose' 2>/dev/null; then
    PKG_NOTE="the installed kudu_state has no diagnose()"
  fi
fi

if command -v hyperfine >/dev/null; then
  TIMER="hyperfine"
else
  TIMER="median_time.py (hyperfine not installed)"
fi

# median_s RUNS CMD... : median wall seconds of CMD after one warm-up run.
median_s() {
  local runs="$1"
  shift
  if command -v hyperfine >/dev/null; then
    local json="$WORK/hf.json"
    hyperfine -N -i -w 1 -r "$runs" --style none --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
    "$PY" -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
  else
    "$PY" benches/python/median_time.py "$runs" -- "$@"
  fi
}
ms() { "$PY" -c 'import sys; print("%.1f ms" % (float(sys.argv[1]) * 1000))' "$1"; }
num() { "$PY" -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$1"; }
ratio() { "$PY" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }


ROWS=()
for n in "${SIZES[@]}"; do
  home="$WORK/home-$n"
  if [ ! -d "$home/site" ]; then
    log "==> generating $n records in $home"
    "$GEN" "$home" "$n" linux >/dev/null
  fi
  # The generator's newest record is received at 2024-09-04T10:33:19Z; diagnose one hour later.
  now="2024-09-04T11:33:19Z"
  runs="$RUNS"
  [ "$n" -ge 100000 ] && runs="${BENCH_RUNS_100K:-3}"
  log "==> timing N=$n ($runs rounds)"
  # One round runs each column's command once (and, for (4), what every Python caller pays before
  # kudu_state does anything: the interpreter's start and the import).
  cmds=(-- "$KS" diagnose "$home" --json --now "$now" -- "$FLOOR" "$home" -- "$PY" benches/python/scan_naive.py "$home")
  if [ -z "$PKG_NOTE" ]; then
    cmds+=(-- "$VENV/bin/python" -c 'import sys, kudu_state; kudu_state.diagnose(sys.argv[1])' "$home")
    cmds+=(-- "$VENV/bin/python" -c 'import kudu_state')
  fi
  mapfile -t medians < <("$PY" benches/python/median_times.py "$runs" "${cmds[@]}")
  t1="${medians[0]}"
  t2="${medians[1]}"
  t3="${medians[2]}"
  if [ -z "$PKG_NOTE" ]; then
    t4="${medians[3]}"
    PY_START="${medians[4]}"
    c4="$(ms "$t4")"
    r41="$(ratio "$t4" "$t1")"
    # The same, net of the interpreter's start and the import, which no binding can avoid.
    r41net="$("$PY" -c 'import sys; print("%.2f" % ((float(sys.argv[1]) - float(sys.argv[2])) / float(sys.argv[3])))' "$t4" "$PY_START" "$t1")"
  else
    c4="n/a"
    r41="n/a"
    r41net="n/a"
  fi
  rss="$("$PY" benches/python/max_rss.py "$KS" diagnose "$home" --json --now "$now")"
  ROWS+=("| $(num "$n") | $(ms "$t1") | $(ms "$t2") | $(ms "$t3") | $c4 | $(ratio "$t1" "$t2") | $(ratio "$t3" "$t1") | $r41 ($r41net net) | $((rss / 1024)) MiB |")
done

# A 2 GiB log.log (sparse) on the newest record, and on an in-progress one, of a copy of the first home:
# the newest is complete, so its log is not opened; the in-progress one's is read from its last 64 KiB
# only. Either must add no measurable time. Base and big are timed back to back, alternating, to cancel drift.
base="$WORK/home-${SIZES[0]}"
big="$WORK/home-${SIZES[0]}-biglog"
rm -rf "$big"
cp -a "$base" "$big"
truncate -s 2G "$big/site/deployments/$(cat "$big/site/deployments/active")/log.log"
in_progress="$(grep -l '<complete>False</complete>' "$big"/site/deployments/*/status.xml | head -1 || true)"
[ -n "$in_progress" ] && truncate -s 2G "$(dirname "$in_progress")/log.log"
log "==> timing N=${SIZES[0]} with and without 2 GiB sparse log.log files"
tb=()
tg=()
for _ in 1 2 3; do
  tb+=("$(median_s "$RUNS" "$KS" diagnose "$base" --json --now "$now")")
  tg+=("$(median_s "$RUNS" "$KS" diagnose "$big" --json --now "$now")")
done
tbase="$("$PY" -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "${tb[@]}")"
tbig="$("$PY" -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "${tg[@]}")"
delta="$("$PY" -c 'import sys; print("%+.1f ms" % ((float(sys.argv[1]) - float(sys.argv[2])) * 1000))' "$tbig" "$tbase")"
rm -rf "$big"

# Instructions per settled record: (I(4,000) - I(1,000)) / 3,000 under callgrind, on the same kind of
# home as the timings (Linux) and on a Windows one.
# instructions CMD... : user-space instructions of one run of CMD (callgrind's "Collected").
instructions() {
  local out
  out="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true)"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out"
}
CG_NOTE=""
CG=()
if [ "${BENCH_CALLGRIND:-1}" = 0 ]; then
  CG_NOTE="skipped (BENCH_CALLGRIND=0)"
elif ! command -v valgrind >/dev/null; then
  CG_NOTE="n/a: valgrind is not installed"
else
  for platform in linux windows; do
    counts=()
    for n in 1000 4000; do
      h="$WORK/cg-$platform-$n"
      [ -d "$h/site" ] || "$GEN" "$h" "$n" "$platform" >/dev/null
      log "==> callgrind: diagnose of $n $platform records"
      counts+=("$(instructions "$KS" diagnose "$h" --json --now "2024-09-04T11:33:19Z")")
    done
    if [ -n "${counts[0]}" ] && [ -n "${counts[1]}" ]; then
      CG+=("$(num "$(((counts[1] - counts[0]) / 3000))")")
    else
      CG+=("n/a (valgrind failed)")
    fi
  done
fi

# apply: N fail-orphaned-record steps (log entry, status.xml, active touched, each journaled first) on a
# fresh copy of the same home per run, since an apply changes it. Wall time of the whole process.
APPLY_ROWS=()
if [ "${BENCH_APPLY:-1}" != 0 ]; then
  for n in 250 1000 2000; do
    src="$WORK/orphans-$n"
    rm -rf "$src"
    at="$("$GEN_ORPHANS" "$src" "$n" linux)"
    times=()
    for run in 1 2 3; do
      rm -rf "$WORK/apply-home"
      cp -a "$src" "$WORK/apply-home"
      # The plan names its home and that folder's identity: plan the copy, then time only the apply.
      "$KS" plan "$WORK/apply-home" --json --now "$at" >"$WORK/plan.json" || [ $? = 10 ]
      log "==> apply of $n steps, run $run"
      start="$("$PY" -c 'import time; print(time.perf_counter())')"
      "$KS" apply --plan "$WORK/plan.json" --yes >/dev/null
      times+=("$("$PY" -c 'import sys,time; print(time.perf_counter() - float(sys.argv[1]))' "$start")")
    done
    t="$("$PY" -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "${times[@]}")"
    per="$("$PY" -c 'import sys; print("%.2f ms" % (float(sys.argv[1]) * 1000 / int(sys.argv[2])))' "$t" "$n")"
    APPLY_ROWS+=("| $(num "$n") | $("$PY" -c 'import sys; print("%.2f s" % float(sys.argv[1]))' "$t") | $per |")
  done
  rm -rf "$WORK/apply-home"
fi

echo
echo "| N records | (1) kudu-state diagnose --json | (2) floor | (3) Python naive | (4) Python package | 1/2 (target ≤ 1.2) | 3/1 (≥ 5) | 4/1 (≤ 1.15; net of interpreter start) | peak RSS of (1) (≤ 64 MiB at 100k) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo "| $(num "${SIZES[0]}") + a 2 GiB sparse log.log on the newest record and on an in-progress one | $(ms "$tbig") vs $(ms "$tbase") without: $delta | | | | | | | |"
echo
echo "Medians of $RUNS rounds (${BENCH_RUNS_100K:-3} at 100,000), each running every column once, after one warm-up round; the 2 GiB row with $TIMER; $(nproc) CPUs;"
echo "homes from \`gen-home\` (Linux bytes: ~5 KiB log.log per record, 7.7 % failed, 0.4 % temp, 0.1 % corrupt)."
echo
if [ -n "$CG_NOTE" ]; then
  echo "Instructions per settled record (callgrind): $CG_NOTE."
else
  echo "| callgrind: user-space instructions per settled record of (1), (I(4,000) - I(1,000)) / 3,000 | Linux (target ≤ 15,000) | Windows |"
  echo "|---|---:|---:|"
  echo "| \`kudu-state diagnose --json\` | ${CG[0]} | ${CG[1]} |"
fi
echo
if [ -n "$PKG_NOTE" ]; then
  echo "(4) n/a: $PKG_NOTE."
else
  echo "(4) net: minus \`python -c 'import kudu_state'\`, timed in the same rounds ($(ms "$PY_START") in the last row), the interpreter start and import every Python caller pays."
fi
if [ "${BENCH_REMOTE:-1}" != 0 ]; then
  # Remote: a 1,000-record site behind 10 ms of latency, against a sequential client and the zip API;
  # a typical 20-record site in round trips of latency. Goals: >= 6x the sequential client, never more
  # than 16 requests in flight, at most 6 round trips.
  log "==> remote: the Kudu emulator with 10 ms of latency"
  echo
  "$REMOTE_BENCH" 1000 20 10
fi

if [ "${#APPLY_ROWS[@]}" -gt 0 ]; then
  echo
  echo "| apply: N fail-orphaned-record steps | wall time (target ≤ 10 s at 2,000) | per step (flat from 250 to 2,000) |"
  echo "|---:|---:|---:|"
  printf '%s\n' "${APPLY_ROWS[@]}"
  echo
  echo "Medians of 3 runs, each on a fresh copy of the home (Linux; 1 appended log line, 1 status.xml rewrite, active touched, one synced journal line per step)."
fi
exit 0
