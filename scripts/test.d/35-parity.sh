#!/usr/bin/env bash
# Parity of the front ends: for the same input, the command's --json, Python's to_json() and Node's .json
# are the same bytes, because all of them print the core's serde JSON of the same core value.
#
# Cases: `diagnose` and `plan` (at a fixed --now) on every examples/homes/* (plus a home given as its
# site folder, and non-default --platform / --stall-minutes), `explain` of a few 409 bodies (plain
# Kudu text, the ASP.NET error envelope, an ARM error, a KuduLite culture date, CRLF, non-ASCII, a 429),
# and `diagnose --remote` and `plan --remote` (at the same --now) of every example home served over
# Kudu's REST API by the kudu-emulator binary on 127.0.0.1 (the commands take the credentials from
# KUDU_STATE_USERNAME/PASSWORD, Python and Node from a Credentials object).
# Front ends compared, each case byte for byte against the first:
#   cli-py    the `kudu-state` command the Python package installs ($VENV/bin/kudu-state)
#   cli-node  the `kudu-state` bin of the Node package (node kudu-state-node/bin/kudu-state.js)
#   cli-bin   $KUDU_STATE_BIN, when set (e.g. target/release/kudu-state from `cargo build --release`)
#   python    kudu_state.diagnose/plan/explain(...).to_json() + "\n"
#   node      diagnoseSync/planSync/explainSync(...).json + "\n"
# Newlines: the command prints the JSON followed by one "\n"; to_json() and .json are the same bytes
# without that final newline, so one "\n" is appended to them before comparing.
#
# Reuses what 20-python.sh and 30-node.sh built (the venv with the wheel, the Node addon, the emulator):
# run after them.
#   VENV=...            the venv of 20-python.sh (default $ROOT/.venv-py)
#   KUDU_STATE_BIN=...  also compare this kudu-state binary
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv-py}"
PY="$VENV/bin/python"
NODE_PKG="$ROOT/kudu-state-node"
NOW="2024-09-04T10:00:00Z"

if [ ! -x "$VENV/bin/kudu-state" ] || ! compgen -G "$NODE_PKG/*.node" >/dev/null; then
  echo "35-parity.sh: run scripts/test.d/20-python.sh and 30-node.sh first (no wheel in $VENV or no Node addon)" >&2
  exit 1
fi

work="$(mktemp -d)"
EMULATORS=()
cleanup() {
  # Closing an emulator's stdin stops it.
  local fd
  for fd in "${EMULATORS[@]}"; do
    exec {fd}>&-
  done
  wait
  rm -rf "$work"
}
trap cleanup EXIT

cargo build -q -p kudu-emulator --bin kudu-emulator
EMULATOR="${KUDU_EMULATOR:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kudu-emulator}"
REMOTE_USER='$parity-app'
REMOTE_PASSWORD='parity-pw-3c9e'

# serve HOME PLATFORM: starts the emulator on HOME (its stdin held open on a new fd of this shell, so
# not in a $(subshell)) and sets SERVED_URL.
serve() {
  local home="$1" platform="$2" out="$work/emulator-$RANDOM" fd
  exec {fd}> >(exec "$EMULATOR" --home "$home" --platform "$platform" \
    --user "$REMOTE_USER" --password "$REMOTE_PASSWORD" >"$out")
  EMULATORS+=("$fd")
  for _ in $(seq 100); do
    if [ -s "$out" ] && [ "$(wc -l <"$out")" -ge 1 ]; then
      SERVED_URL="$(head -n1 "$out")"
      return
    fi
    sleep 0.05
  done
  echo "35-parity.sh: kudu-emulator did not start on $home" >&2
  exit 1
}

# Front ends that are commands: name and argv prefix.
declare -A CLI=([cli-py]="$VENV/bin/kudu-state" [cli-node]="node $NODE_PKG/bin/kudu-state.js")
if [ -n "${KUDU_STATE_BIN:-}" ]; then
  CLI[cli-bin]="$KUDU_STATE_BIN"
fi
FRONTS=(cli-py cli-node ${KUDU_STATE_BIN:+cli-bin} python node)

# 409 bodies as deploy clients print them (and one 429 from Resource Manager).
BODIES=(
  "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later."
  '{"Message":"An error has occurred.","ExceptionMessage":"There is a deployment currently in progress. Please try again when it completes.","ExceptionType":"System.InvalidOperationException","StackTrace":"   at Kudu.Services.Deployment.DeploymentController.Deploy()"}'
  '{"error":{"code":"ScopeLocked","message":"The scope '"'"'/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/app'"'"' cannot perform write operation because following scope(s) are locked: '"'"'/subscriptions/0000/resourceGroups/rg'"'"'. Please remove the lock and try again."}}'
  "The 'Performing zip deployment' operation conflicts with the pending 'Performing continuous deployment' operation started at 9/4/2024 10:33:18 AM.  Please retry operation later."
  $'Deployment failed.\r\nStatus: 409 Conflict\r\nDeployment with id \'8c1f4e2a9b3d\' exists\r\n'
  'Conflict — “naïve” quotes, ünïcödé, tab	and \ backslash, no known text'
  "Cannot acquire exclusive lock to create, update or delete this site. Retry the request later."
)
STATUSES=(409 409 409 409 409 409 429)

# One case a line, fields separated by US (\037, not a tab: bash's `read` merges empty tab-separated
# fields): id, command, subject (home path or body file), platform, stall minutes, status.
US=$'\037'
cases="$work/cases"
add_case() { (IFS="$US" && printf '%s\n' "$*") >>"$cases"; }
: >"$cases"
for dir in examples/homes/*/; do
  name="$(basename "$dir")"
  add_case "diagnose-$name" diagnose "$ROOT/examples/homes/$name" "" "" ""
  add_case "plan-$name" plan "$ROOT/examples/homes/$name" "" "" ""
done
add_case diagnose-site-folder diagnose "$ROOT/examples/homes/linux-healthy/site" "" "" ""
add_case diagnose-as-windows diagnose "$ROOT/examples/homes/linux-stuck" windows 3 ""
add_case plan-stall-1440 plan "$ROOT/examples/homes/linux-stuck" linux 1440 ""
mkdir -p "$work/served"
for dir in examples/homes/*/; do
  name="$(basename "$dir")"
  cp -R "$dir" "$work/served/$name"
  case "$name" in windows-*) platform=windows ;; *) platform=linux ;; esac
  serve "$work/served/$name" "$platform"
  add_case "remote-diagnose-$name" remote-diagnose "$SERVED_URL" "" "" ""
  add_case "remote-plan-$name" remote-plan "$SERVED_URL" "" "" ""
done
mkdir -p "$work/bodies"
for i in "${!BODIES[@]}"; do
  printf '%s' "${BODIES[$i]}" >"$work/bodies/$i"
  add_case "explain-$i" explain "$work/bodies/$i" "" "" "${STATUSES[$i]}"
done

for front in "${FRONTS[@]}"; do
  mkdir -p "$work/$front"
done

# The commands, one process per case. Exit status: the verdict (diagnose 0/10/11/12, plan 0/10,
# explain 0); 1 (an error) or 2 (usage) fails the test.
while IFS="$US" read -r id command subject platform stall status; do
  args=("$command" --json)
  case "$command" in
    diagnose | plan)
      args+=(--now "$NOW" ${platform:+--platform "$platform"} ${stall:+--stall-minutes "$stall"} -- "$subject")
      ;;
    remote-diagnose | remote-plan)
      args=("${command#remote-}" --json --now "$NOW" --remote "$subject")
      ;;
    explain)
      body="$(cat "$subject"; printf x)" # the x keeps a trailing newline of the body
      args+=(--status "$status" -- "${body%x}")
      ;;
  esac
  for front in "${!CLI[@]}"; do
    rc=0
    # shellcheck disable=SC2086 # the prefix is a command and its arguments
    KUDU_STATE_USERNAME="$REMOTE_USER" KUDU_STATE_PASSWORD="$REMOTE_PASSWORD" \
      ${CLI[$front]} "${args[@]}" >"$work/$front/$id" 2>"$work/$front/$id.err" || rc=$?
    case "$rc" in
      0 | 10 | 11 | 12) ;;
      *)
        echo "35-parity.sh: $front ${args[*]} exited $rc:" >&2
        cat "$work/$front/$id.err" >&2
        exit 1
        ;;
    esac
  done
done <"$cases"

# Python: one process for every case.
"$PY" - "$cases" "$work/python" "$NOW" "$REMOTE_USER" "$REMOTE_PASSWORD" <<'PY'
import datetime as dt
import sys

import kudu_state as ks

cases, out, now = sys.argv[1], sys.argv[2], dt.datetime.fromisoformat(sys.argv[3].replace("Z", "+00:00"))
credentials = ks.Credentials.basic(sys.argv[4], sys.argv[5])
with open(cases, encoding="utf-8") as lines:
    for line in lines:
        id_, command, subject, platform, stall, status = line.rstrip("\n").split("\x1f")
        kw: dict = {}
        if platform:
            kw["platform"] = getattr(ks.Platform, platform.upper())
        if stall:
            kw["stall_minutes"] = int(stall)
        if command == "diagnose":
            text = ks.diagnose(subject, now=now, **kw).to_json()
        elif command == "remote-diagnose":
            text = ks.diagnose(remote=subject, credentials=credentials, now=now).to_json()
        elif command == "remote-plan":
            text = ks.plan(remote=subject, credentials=credentials, now=now).to_json()
        elif command == "plan":
            text = ks.plan(subject, now=now, **kw).to_json()
        else:
            with open(subject, encoding="utf-8", newline="") as f:
                text = ks.explain(f.read(), int(status)).to_json()
        with open(f"{out}/{id_}", "w", encoding="utf-8", newline="") as f:
            f.write(text + "\n")
PY

# Node: one process for every case.
node - "$cases" "$work/node" "$NOW" "$NODE_PKG" "$REMOTE_USER" "$REMOTE_PASSWORD" <<'JS'
const fs = require('node:fs')
const [cases, out, now, pkg, user, password] = process.argv.slice(2)
const ks = require(pkg)
const credentials = ks.Credentials.basic(user, password)
for (const line of fs.readFileSync(cases, 'utf8').split('\n').filter(Boolean)) {
  const [id, command, subject, platform, stall, status] = line.split('\x1f')
  const options = { now: new Date(now) }
  if (platform) options.platform = platform
  if (stall) options.stallMinutes = Number(stall)
  let text
  if (command === 'diagnose') text = ks.diagnoseSync(subject, options).json
  else if (command === 'remote-diagnose') text = ks.diagnoseSync({ remote: subject, credentials, ...options }).json
  else if (command === 'remote-plan') text = ks.planSync({ remote: subject, credentials, ...options }).json
  else if (command === 'plan') text = ks.planSync(subject, options).json
  else text = ks.explainSync(fs.readFileSync(subject, 'utf8'), Number(status)).json
  fs.writeFileSync(`${out}/${id}`, text + '\n')
}
JS

# Compare every front end with the first, byte for byte.
reference="${FRONTS[0]}"
failed=0
count=0
while IFS="$US" read -r id _; do
  count=$((count + 1))
  if [ ! -s "$work/$reference/$id" ] || [ "$(head -c1 "$work/$reference/$id")" != "{" ]; then
    echo "35-parity.sh: $reference printed no JSON object for $id" >&2
    failed=1
    continue
  fi
  for front in "${FRONTS[@]:1}"; do
    if ! cmp -s "$work/$reference/$id" "$work/$front/$id"; then
      echo "35-parity.sh: $id: $front differs from $reference:" >&2
      diff -u "$work/$reference/$id" "$work/$front/$id" | head -20 >&2 || true
      failed=1
    fi
  done
done <"$cases"

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "parity: $count cases, ${#FRONTS[@]} front ends (${FRONTS[*]}): byte-identical"
