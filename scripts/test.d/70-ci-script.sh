#!/usr/bin/env bash
# The script behind the GitHub Action and the Azure Pipelines template (action/kudu-state-ci.sh), run as each
# CI system would run it, without any Azure endpoint:
#   run      against a stub `kudu-state` that records its arguments: which command and flags each input gives,
#            exit statuses and outputs, the publish profile (a 0600 file while it runs, gone after, its password
#            masked and printed nowhere else), bad inputs refused
#   install  the real artifacts from dist/ (run 60-dist.sh first): the archive over file:// checked against a
#            SHA256SUMS (and refused with a wrong one), a cache hit without download, and pip from dist/python
# Run by scripts/test.sh after 60-dist.sh; runnable alone once dist/ exists.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
CI_SH="$ROOT/action/kudu-state-ci.sh"

failures=0
pass() { printf '70-ci-script: ok: %s\n' "$*"; }
bad() { printf '70-ci-script: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- the stub command ---------------------------------------------------------------------------------------
mkdir -p "$work/stub"
cat >"$work/stub/kudu-state" <<'EOF'
#!/usr/bin/env bash
# Records one line per call: the arguments separated by '|'. Exit status per command from STUB_<CMD>_EXIT.
set -euo pipefail
printf '%s\n' "$(IFS='|'; echo "$*")" >>"$STUB_LOG"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = --publish-profile ]; then
    f="${args[$((i + 1))]}"
    printf 'profile-file %s mode=%s same=%s\n' "$f" "$(stat -c %a "$f")" \
      "$([ "$(cat "$f")" = "$STUB_PROFILE" ] && echo yes || echo no)" >>"$STUB_LOG"
  fi
done
cmd="$1"
var="STUB_$(echo "$cmd" | tr 'a-z-' 'A-Z_')_EXIT"
case "$cmd" in
  --version) echo "kudu-state 0.1.0 (rev 0123456789ab, stub)"; exit 0 ;;
  explain)
    body="$(cat)"
    printf 'explain-stdin %s\n' "$body" >>"$STUB_LOG"
    if [ "${2:-}" = --json ]; then printf '{\n  "kind": "lock-conflict",\n  "retryable": true\n}\n'; else echo "LOCK CONFLICT"; fi
    ;;
  apply) mkdir -p kudu-state-backups/20240904T100000.000Z-1a2b3c4d && echo "applied" ;;
  plan) if [ "${2:-}" = --json ]; then echo '{"schema":1,"steps":[]}'; else echo "PLAN"; fi ;;
  *) echo "$cmd output" ;;
esac
exit "${!var:-0}"
EOF
chmod +x "$work/stub/kudu-state"

# run_ci NAME WANT_EXIT [VAR=VALUE...] -- ARG: runs the script in a clean environment (GitHub unless TF_BUILD).
run_ci() {
  local name="$1" want="$2"
  shift 2
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  case_dir="$work/case-$name"
  mkdir -p "$case_dir/temp"
  for f in log output summary path; do : >"$case_dir/$f"; done
  local status=0
  # Every proxy points at a closed loopback port: a case that lost its file:// release URL or its
  # local wheel fails here instead of reaching github.com or PyPI.
  env -i PATH="$work/stub:/usr/bin:/bin" HOME="$case_dir" \
    HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
    RUNNER_TEMP="$case_dir/temp" GITHUB_OUTPUT="$case_dir/output" GITHUB_STEP_SUMMARY="$case_dir/summary" \
    GITHUB_PATH="$case_dir/path" STUB_LOG="$case_dir/log" "${vars[@]}" \
    bash "$CI_SH" "$@" >"$case_dir/stdout" 2>"$case_dir/stderr" || status=$?
  if [ "$status" != "$want" ]; then
    bad "$name: exit $status, expected $want"
    sed 's/^/    /' "$case_dir/stdout" "$case_dir/stderr" >&2
    return 1
  fi
}
calls() { grep -v '^profile-file \|^explain-stdin ' "$case_dir/log" || true; }
has() { # FILE TEXT: FILE has a line equal to TEXT
  grep -qxF -- "$2" "$case_dir/$1" || { bad "$name: $1 has no line '$2'"; sed 's/^/    /' "$case_dir/$1" >&2; return 1; }
}
calls_are() { # EXPECTED... : the stub was called exactly so
  local got want
  got="$(calls)"
  want="$(printf '%s\n' "$@")"
  [ "$got" = "$want" ] || { bad "$name: kudu-state called as:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"; return 1; }
}

name=wait-idle
if run_ci $name 0 KS_APP=web KS_RESOURCE_GROUP=rg KS_SLOT=staging KS_TIMEOUT=5m -- run &&
  calls_are "wait-idle|--timeout|5m|--poll|10s|--app|web|--resource-group|rg|--slot|staging" &&
  has output "status=0" && has output "verdict=idle"; then
  pass "wait-idle with app + resource-group + slot"
fi

name=wait-timeout
if run_ci $name 11 KS_SCM_URL=https://web.scm.azurewebsites.net STUB_WAIT_IDLE_EXIT=11 -- run &&
  calls_are "wait-idle|--timeout|20m|--poll|10s|--remote|https://web.scm.azurewebsites.net" &&
  has output "verdict=stuck" && grep -q '^::error title=kudu-state::the site did not become idle within 20m' "$case_dir/stdout"; then
  pass "wait-idle timing out fails the step with exit 11 and an error annotation"
fi

name=wait-failure
if run_ci $name 1 KS_SCM_URL=https://web.scm.azurewebsites.net STUB_WAIT_IDLE_EXIT=1 -- run &&
  grep -q '^::error title=kudu-state::kudu-state wait-idle failed (exit 1)' "$case_dir/stdout"; then
  pass "wait-idle failing (exit 1) fails the step"
fi

name=explain-only
body="The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18Z."
if run_ci $name 0 "KS_EXPLAIN=$body" -- run &&
  calls_are "explain|-" "explain|--json|-" && has log "explain-stdin $body" &&
  has output "explain-kind=lock-conflict" && has output "status=0"; then
  pass "explain without a site explains only"
fi

name=explain-diagnose
if run_ci $name 0 "KS_EXPLAIN=$body" KS_APP=web KS_RESOURCE_GROUP=rg KS_SUBSCRIPTION=sub-1 STUB_DIAGNOSE_EXIT=12 -- run &&
  calls_are "explain|-" "explain|--json|-" "diagnose|--app|web|--resource-group|rg|--subscription|sub-1" &&
  has output "verdict=broken" && has output "status=12" && grep -q 'broken' "$case_dir/summary"; then
  pass "explain + diagnose reports a broken site without failing the step"
fi

name=explain-file
printf '%s\n' "$body" >"$work/deploy.log"
if run_ci $name 0 KS_EXPLAIN_FILE="$work/deploy.log" KS_APP=web KS_RESOURCE_GROUP=rg -- run &&
  calls_are "explain|-" "explain|--json|-" "diagnose|--app|web|--resource-group|rg" && has log "explain-stdin $body" &&
  has output "verdict=idle"; then
  pass "explain-file: the file's text is explained, then the site diagnosed"
fi

name=explain-file-missing
if run_ci $name 0 KS_EXPLAIN_FILE="$work/no-such.log" KS_APP=web KS_RESOURCE_GROUP=rg STUB_DIAGNOSE_EXIT=11 -- run &&
  grep -q '^::warning title=kudu-state::no file .*no-such.log to explain' "$case_dir/stdout" &&
  has output "verdict=stuck"; then
  pass "explain-file that was never written: a warning, and the site is still diagnosed"
fi

name=apply-with-profile
secret='s3cr3t-Pa55-w0rd'
profile="<publishData><publishProfile publishMethod=\"MSDeploy\" userName=\"\$web\" userPWD=\"$secret\" /><publishProfile publishMethod=\"FTP\" userPWD=\"$secret\" /></publishData>"
if run_ci $name 0 KS_SCM_URL=https://web.scm.azurewebsites.net KS_FIX=apply "KS_PUBLISH_PROFILE=$profile" \
  "STUB_PROFILE=$profile" STUB_PLAN_EXIT=10 -- run; then
  file="$(sed -n 's/^profile-file \([^ ]*\) .*/\1/p' "$case_dir/log" | head -n 1)"
  ok=true
  calls_are "plan|--remote|https://web.scm.azurewebsites.net|--publish-profile|$file" \
    "plan|--json|--remote|https://web.scm.azurewebsites.net|--publish-profile|$file" \
    "apply|--plan|plan.json|--yes|--remote|https://web.scm.azurewebsites.net|--publish-profile|$file" || ok=false
  [ "$(grep -c '^profile-file .* mode=600 same=yes$' "$case_dir/log")" = 3 ] || { bad "$name: the profile file was not 0600 with the profile in it"; ok=false; }
  [ ! -e "$file" ] || { bad "$name: $file is still there"; ok=false; }
  [ "$(grep -c -- "::add-mask::$secret" "$case_dir/stdout")" = 1 ] || { bad "$name: the password was not masked once"; ok=false; }
  if grep -v -- "^::add-mask::" "$case_dir/stdout" | cat - "$case_dir/stderr" "$case_dir/output" "$case_dir/summary" | grep -q -- "$secret"; then
    bad "$name: the password appears outside the mask command"; ok=false
  fi
  grep -q "^backups=.*/kudu-state-backups$" "$case_dir/output" || { bad "$name: no backups output"; ok=false; }
  grep -q "^plan=.*/plan.json$" "$case_dir/output" || { bad "$name: no plan output"; ok=false; }
  $ok && pass "fix: apply plans, applies with --yes, keeps backups; the publish profile is a 0600 file, masked, removed"
fi

name=plan-empty
if run_ci $name 0 KS_APP=web KS_RESOURCE_GROUP=rg KS_FIX=apply -- run &&
  calls_are "plan|--app|web|--resource-group|rg" "plan|--json|--app|web|--resource-group|rg" && has stdout "kudu-state: nothing to repair"; then
  pass "fix: apply with an empty plan applies nothing"
fi

name=bad-inputs
ok=true
run_ci both 1 KS_APP=web KS_RESOURCE_GROUP=rg KS_SCM_URL=https://x -- run && grep -q "not both" "$case_dir/stdout" || ok=false
run_ci no-rg 1 KS_APP=web -- run && grep -q "go together" "$case_dir/stdout" || ok=false
run_ci no-site 1 -- run && grep -q "name the site" "$case_dir/stdout" || ok=false
run_ci bad-fix 1 KS_APP=web KS_RESOURCE_GROUP=rg KS_FIX=yes -- run && grep -q "fix must be 'plan' or 'apply'" "$case_dir/stdout" || ok=false
run_ci http 1 KS_SCM_URL=http://web.scm.azurewebsites.net -- run && grep -q "https://" "$case_dir/stdout" || ok=false
run_ci usage 2 -- frobnicate || ok=false
for c in both no-rg no-site bad-fix http; do
  [ ! -s "$work/case-$c/log" ] || { bad "bad-inputs: $c called kudu-state"; ok=false; }
done
$ok && pass "conflicting, incomplete or invalid inputs are refused before kudu-state runs"

name=azure
if run_ci $name 11 TF_BUILD=True "AGENT_TEMPDIRECTORY=$work/case-azure/temp" KS_APP=web KS_RESOURCE_GROUP=rg \
  "KS_PUBLISH_PROFILE=$profile" "STUB_PROFILE=$profile" STUB_WAIT_IDLE_EXIT=11 -- run &&
  has stdout "##vso[task.setsecret]$secret" && has stdout "##vso[task.setvariable variable=verdict;isoutput=true]stuck" &&
  grep -q '^##vso\[task.logissue type=error\]kudu-state: the site did not become idle' "$case_dir/stdout" &&
  [ ! -s "$case_dir/output" ]; then
  pass "Azure Pipelines: secret masked with setsecret, output variables, logissue on timeout"
fi

# --- install, from the real artifacts ----------------------------------------------------------------------
host="$(rustc -vV | sed -n 's/^host: //p')"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
archive="dist/bin/kudu-state-$version-$host.tar.gz"
[ -f "$archive" ] || { bad "no $archive (run scripts/test.d/60-dist.sh first)"; exit 1; }
mkdir -p "$work/release"
cp "$archive" "$work/release/"
(cd "$work/release" && sha256sum -- *.tar.gz >SHA256SUMS)

name=install-archive
tools="$work/tools"
if run_ci $name 0 KS_VERSION="$version" KS_DIR="$tools" KS_TARGET="$host" RUNNER_OS=Linux RUNNER_ARCH=X64 \
  KS_RELEASES_URL="file://$work/release" -- install &&
  has path "$tools/kudu-state-$version-$host" && has output "bin=$tools/kudu-state-$version-$host" &&
  grep -q "^kudu-state $version (rev " "$case_dir/stdout"; then
  pass "install: the archive, checked against SHA256SUMS, on PATH"
fi

name=install-cached
if run_ci $name 0 KS_VERSION="$version" KS_DIR="$tools" KS_TARGET="$host" RUNNER_OS=Linux RUNNER_ARCH=X64 \
  KS_RELEASES_URL="file://$work/nowhere" -- install && grep -q "already installed (cache hit)" "$case_dir/stdout"; then
  pass "install: a cached install downloads nothing"
fi

name=install-bad-sum
sed 's/^[0-9a-f]\{8\}/00000000/' "$work/release/SHA256SUMS" >"$work/release/SHA256SUMS.bad"
mkdir -p "$work/release-bad"
cp "$archive" "$work/release-bad/"
cp "$work/release/SHA256SUMS.bad" "$work/release-bad/SHA256SUMS"
if run_ci $name 1 KS_VERSION="$version" KS_DIR="$work/tools-bad" KS_TARGET="$host" \
  KS_RELEASES_URL="file://$work/release-bad" -- install && grep -q "but SHA256SUMS says" "$case_dir/stdout" &&
  [ ! -e "$work/tools-bad/kudu-state-$version-$host" ]; then
  pass "install: an archive that does not match SHA256SUMS is refused, not unpacked"
fi

name=install-pip
if run_ci $name 0 KS_VERSION="$version" KS_INSTALL=pip KS_DIR="$work/tools-pip" RUNNER_OS=Linux \
  PIP_NO_INDEX=1 PIP_FIND_LINKS="$ROOT/dist/python" -- install &&
  has path "$work/tools-pip/venv/bin" && grep -q "^kudu-state $version (rev " "$case_dir/stdout"; then
  pass "install: pip into a venv, from the wheel"
fi

name=install-azure
if run_ci $name 0 TF_BUILD=True AGENT_OS=Linux AGENT_OSARCHITECTURE=X64 "AGENT_TEMPDIRECTORY=$work/case-install-azure/temp" \
  KS_VERSION="$version" KS_DIR="$work/tools-az" KS_TARGET="$host" KS_RELEASES_URL="file://$work/release" -- install &&
  has stdout "##vso[task.prependpath]$work/tools-az/kudu-state-$version-$host"; then
  pass "install on Azure Pipelines: prependpath"
fi

name=install-unknown-platform
if run_ci $name 1 KS_VERSION="$version" KS_DIR="$work/x" RUNNER_OS=Linux RUNNER_ARCH=ARM -- install &&
  grep -q "no release archive for Linux/ARM; install with pip instead" "$case_dir/stdout"; then
  pass "install: a platform without an archive says to use pip"
fi

if [ "$failures" -gt 0 ]; then
  echo "70-ci-script: $failures check(s) failed" >&2
  exit 1
fi
echo "70-ci-script: all checks passed"
