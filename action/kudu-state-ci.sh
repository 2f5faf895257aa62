#!/usr/bin/env bash
# kudu-state in CI: the GitHub Action (action.yml) runs this file; the Azure Pipelines template
# (pipelines/kudu-state.yml) embeds it byte for byte (scripts/pipelines-template.py writes and checks that).
#   kudu-state-ci.sh install   put the released `kudu-state` command on PATH
#   kudu-state-ci.sh run       wait-idle, or explain + diagnose, or plan / apply a repair, against a site
# Inputs come from the environment (the Action and the template map their inputs there, never into script text).
#
# install:
#   KS_VERSION       the release, e.g. 0.1.0 (required)
#   KS_INSTALL       archive (default: the release's kudu-state-<version>-<target> archive, checked against the
#                    release's SHA256SUMS) or pip (`pip install kudu-state==<version>` into a venv)
#   KS_DIR           where to install (cached by the caller); nothing is downloaded when it holds that version
#   KS_TARGET        the archive's target (default: from the runner's OS and arch; static musl builds on Linux)
#   KS_RELEASES_URL  where the archives are (default: the project's GitHub release v<version>)
# run:
#   KS_APP, KS_RESOURCE_GROUP [KS_SUBSCRIPTION] [KS_SLOT]   the site, resolved through Azure Resource Manager
#   KS_SCM_URL       or the SCM (Kudu) site itself, https://<app>.scm.azurewebsites.net
#   KS_TIMEOUT, KS_POLL   wait-idle's --timeout and --poll (default 20m, 10s)
#   KS_EXPLAIN       a failed deploy step's output: explain it, then diagnose the site (no waiting, no failing
#                    on a busy or broken site)
#   KS_EXPLAIN_FILE  or a file holding that output (a missing file: a warning, and the site is still diagnosed)
#   KS_FIX           plan | apply: plan a repair (plan.json), or plan and apply it (backups in kudu-state-backups/)
#   KS_PUBLISH_PROFILE  the publish profile's XML (a secret): its passwords masked, written to a 0600 file for
#                    --publish-profile, the file removed at exit
#   KS_WORK          folder for plan.json and kudu-state-backups/ (default: a new folder in the runner's temp)
#   With neither KS_EXPLAIN nor KS_FIX: `wait-idle`; the step fails (exit 11) when the site is still busy.
#   Other credentials are the CLI's own: `az` logged in by azure/login or AzureCLI@2 (OIDC / service
#   connection), or KUDU_STATE_USERNAME + KUDU_STATE_PASSWORD, or KUDU_STATE_TOKEN in the step's environment.
#   Outputs: status, verdict, explain-kind, plan, backups (GitHub step outputs; Azure Pipelines output variables).
set -euo pipefail

# --- the two CI systems -------------------------------------------------------------------------------------
if [ -n "${TF_BUILD:-}" ]; then
  ci=azure
  temp="${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}"
  case "${AGENT_OS:-}" in Darwin) os=macOS ;; Windows_NT) os=Windows ;; *) os="${AGENT_OS:-}" ;; esac
  arch="${AGENT_OSARCHITECTURE:-}"
else
  ci=github
  temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
  os="${RUNNER_OS:-}"
  arch="${RUNNER_ARCH:-}"
fi
fail() {
  if [ "$ci" = azure ]; then echo "##vso[task.logissue type=error]kudu-state: $*"; else echo "::error title=kudu-state::$*"; fi
  exit 1
}
warn() { if [ "$ci" = azure ]; then echo "##vso[task.logissue type=warning]kudu-state: $*"; else echo "::warning title=kudu-state::$*"; fi; }
mask() { if [ "$ci" = azure ]; then echo "##vso[task.setsecret]$1"; else echo "::add-mask::$1"; fi; }
output() {
  if [ "$ci" = azure ]; then
    echo "##vso[task.setvariable variable=$1;isoutput=true]$2"
  elif [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}
add_path() {
  if [ "$ci" = azure ]; then
    echo "##vso[task.prependpath]$1"
  elif [ -n "${GITHUB_PATH:-}" ]; then
    echo "$1" >>"$GITHUB_PATH"
  fi
}
group() { if [ "$ci" = azure ]; then echo "##[group]$*"; else echo "::group::$*"; fi; }
endgroup() { if [ "$ci" = azure ]; then echo "##[endgroup]"; else echo "::endgroup::"; fi; }
summary() { [ "$ci" != github ] || [ -z "${GITHUB_STEP_SUMMARY:-}" ] || printf '%s\n' "$*" >>"$GITHUB_STEP_SUMMARY"; }
exe=""
[ "$os" = Windows ] && exe=".exe"
# Git Bash on Windows: work with /d/a/... paths; hand C:\... paths to the runner (PATH for later steps).
to_unix() { if command -v cygpath >/dev/null; then cygpath -u "$1"; else printf '%s\n' "$1"; fi; }
to_native() { if command -v cygpath >/dev/null; then cygpath -w "$1"; else printf '%s\n' "$1"; fi; }
temp="$(to_unix "$temp")"

# --- install ------------------------------------------------------------------------------------------------
# Is the command in BIN_DIR this version?
installed() {
  local out
  [ -x "$1/kudu-state$exe" ] || return 1
  out="$("$1/kudu-state$exe" --version 2>/dev/null)" || return 1
  [[ "$out" == "kudu-state $version "* ]]
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

do_install() {
  version="${KS_VERSION:-}"
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    fail "version '$version' is not a release version such as 0.1.0"
  local method="${KS_INSTALL:-archive}" dir="${KS_DIR:-}" bin
  [ -n "$dir" ] || fail "KS_DIR (where to install) is not set"
  dir="$(to_unix "$dir")"
  case "$method" in
    archive)
      local target="${KS_TARGET:-}"
      if [ -z "$target" ]; then
        case "$os/$arch" in
          Linux/X64) target=x86_64-unknown-linux-musl ;;
          Linux/ARM64) target=aarch64-unknown-linux-musl ;;
          macOS/X64) target=x86_64-apple-darwin ;;
          macOS/ARM64) target=aarch64-apple-darwin ;;
          Windows/X64) target=x86_64-pc-windows-msvc ;;
          *) fail "no release archive for $os/$arch; install with pip instead" ;;
        esac
      fi
      local name="kudu-state-$version-$target" ext=tar.gz
      [[ "$target" == *windows* ]] && ext=zip
      bin="$dir/$name"
      if installed "$bin"; then
        echo "kudu-state $version ($target) is already installed (cache hit)"
      else
        local base="${KS_RELEASES_URL:-https://github.com/kudu-state/kudu-state/releases/download/v$version}"
        local tmp want got
        tmp="$(mktemp -d "$temp/kudu-state-download.XXXXXX")"
        echo "Downloading $name.$ext from $base"
        curl -fsSL --retry 3 -o "$tmp/$name.$ext" "$base/$name.$ext" || fail "could not download $base/$name.$ext"
        curl -fsSL --retry 3 -o "$tmp/SHA256SUMS" "$base/SHA256SUMS" || fail "could not download $base/SHA256SUMS"
        want="$(awk -v f="$name.$ext" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")"
        [ -n "$want" ] || fail "SHA256SUMS has no line for $name.$ext"
        got="$(sha256 "$tmp/$name.$ext")"
        [ "$got" = "$want" ] || fail "$name.$ext has SHA-256 $got, but SHA256SUMS says $want"
        mkdir -p "$dir"
        rm -rf "$bin"
        if [ "$ext" = zip ]; then
          unzip -q "$tmp/$name.$ext" -d "$dir" || 7z x -y -bso0 "-o$dir" "$tmp/$name.$ext" || fail "could not unpack $name.$ext"
        else
          tar -xzf "$tmp/$name.$ext" -C "$dir" || fail "could not unpack $name.$ext"
        fi
        rm -rf "$tmp"
        installed "$bin" || fail "the unpacked $name does not run here"
      fi
      ;;
    pip)
      local venv="$dir/venv" py
      bin="$venv/bin"
      [ "$os" = Windows ] && bin="$venv/Scripts"
      if installed "$bin"; then
        echo "kudu-state $version is already installed in $venv (cache hit)"
      else
        py="$(command -v python3 || command -v python || true)"
        [ -n "$py" ] || fail "installing with pip needs Python 3.9 or later on PATH"
        rm -rf "$venv"
        "$py" -m venv "$venv" || fail "could not create a venv with $py"
        "$bin/python" -m pip install --quiet --disable-pip-version-check "kudu-state==$version" ||
          fail "pip install kudu-state==$version failed"
        installed "$bin" || fail "the installed kudu-state does not run"
      fi
      ;;
    *) fail "install must be 'archive' or 'pip', not '$method'" ;;
  esac
  "$bin/kudu-state$exe" --version
  add_path "$(to_native "$bin")"
  output bin "$(to_native "$bin")"
}

# --- run ----------------------------------------------------------------------------------------------------
status=0
# kudu-state with its exit status in $status (never an early exit).
ks() {
  status=0
  kudu-state "$@" || status=$?
}

verdict_of() {
  case "$1" in 0) echo idle ;; 10) echo deploying ;; 11) echo stuck ;; 12) echo broken ;; *) echo "" ;; esac
}

diagnose() {
  group "kudu-state diagnose"
  ks diagnose "${target[@]}"
  endgroup
  local verdict
  verdict="$(verdict_of "$status")"
  [ -n "$verdict" ] || fail "kudu-state diagnose failed (exit $status); its message is above"
  output verdict "$verdict"
  output status "$status"
  summary "kudu-state: the site is **$verdict** (exit $status)."
}

secret_dir=""
cleanup() { [ -z "$secret_dir" ] || rm -rf "$secret_dir"; }

do_run() {
  command -v kudu-state >/dev/null || fail "kudu-state is not on PATH (did the install step run?)"
  local fix="${KS_FIX:-}" explain="${KS_EXPLAIN:-}" timeout="${KS_TIMEOUT:-20m}" poll="${KS_POLL:-10s}"
  local explain_file="${KS_EXPLAIN_FILE:-}"
  [ -z "$explain_file" ] || explain_file="$(to_unix "$explain_file")"
  if [ -z "$explain" ] && [ -n "$explain_file" ]; then
    if [ -f "$explain_file" ]; then
      explain="$(tail -c 4000000 "$explain_file")"
      [ -n "$explain" ] || explain="(the file $explain_file is empty)"
    else
      warn "no file $explain_file to explain; diagnosing the site only"
      explain="(no output: $explain_file was not written)"
    fi
  fi
  case "$fix" in "" | plan | apply) ;; *) fail "fix must be 'plan' or 'apply', not '$fix'" ;; esac

  # Which site: --remote URL, or --app/--resource-group [--subscription] [--slot].
  target=()
  if [ -n "${KS_SCM_URL:-}" ]; then
    [ -z "${KS_APP:-}${KS_RESOURCE_GROUP:-}" ] || fail "give either the SCM URL or app + resource group, not both"
    [[ "$KS_SCM_URL" == https://* ]] || fail "the SCM URL must start with https://"
    target=(--remote "$KS_SCM_URL")
  elif [ -n "${KS_APP:-}" ] || [ -n "${KS_RESOURCE_GROUP:-}" ]; then
    [ -n "${KS_APP:-}" ] && [ -n "${KS_RESOURCE_GROUP:-}" ] || fail "app and resource group go together"
    target=(--app "$KS_APP" --resource-group "$KS_RESOURCE_GROUP")
    [ -z "${KS_SUBSCRIPTION:-}" ] || target+=(--subscription "$KS_SUBSCRIPTION")
    [ -z "${KS_SLOT:-}" ] || target+=(--slot "$KS_SLOT")
  fi
  if [ ${#target[@]} -eq 0 ] && { [ -z "$explain" ] || [ -n "$fix" ]; }; then
    fail "name the site: app + resource group, or its SCM URL"
  fi

  local work="${KS_WORK:-}"
  if [ -n "$work" ]; then work="$(to_unix "$work")"; else work="$(mktemp -d "$temp/kudu-state.XXXXXX")"; fi
  mkdir -p "$work"
  cd "$work"

  # The publish profile: never on a command line, in a log or in the work folder; masked; removed at exit.
  trap cleanup EXIT
  if [ -n "${KS_PUBLISH_PROFILE:-}" ]; then
    [ ${#target[@]} -gt 0 ] || fail "a publish profile needs the site too (SCM URL, or app + resource group)"
    local pwd
    while IFS= read -r pwd; do
      [ -z "$pwd" ] || mask "$pwd"
    done < <(printf '%s' "$KS_PUBLISH_PROFILE" | grep -o 'userPWD="[^"]*"' | sed 's/^userPWD="//; s/"$//' | sort -u)
    secret_dir="$(umask 077 && mktemp -d "$temp/kudu-state-profile.XXXXXX")"
    (umask 077 && printf '%s' "$KS_PUBLISH_PROFILE" >"$secret_dir/profile.publishsettings")
    target+=(--publish-profile "$secret_dir/profile.publishsettings")
  fi
  unset KS_PUBLISH_PROFILE

  if [ -n "$explain" ]; then
    group "kudu-state explain"
    printf '%s' "$explain" | kudu-state explain - || fail "kudu-state explain failed"
    endgroup
    local kind
    kind="$(printf '%s' "$explain" | kudu-state explain --json - | sed -n 's/^ *"kind": *"\([a-z-]*\)".*/\1/p' | head -n 1)"
    output explain-kind "$kind"
    summary "kudu-state explain: \`${kind:-unknown}\`"
    if [ ${#target[@]} -gt 0 ]; then diagnose; else output status 0; fi
  fi

  if [ -n "$fix" ]; then
    group "kudu-state plan"
    ks plan "${target[@]}"
    endgroup
    [ "$status" = 0 ] || [ "$status" = 10 ] || fail "kudu-state plan failed (exit $status); its message is above"
    ks plan --json "${target[@]}" >plan.json
    [ "$status" = 0 ] || [ "$status" = 10 ] || fail "kudu-state plan --json failed (exit $status)"
    output plan "$(to_native "$work/plan.json")"
    output status "$status"
    if [ "$fix" = plan ]; then
      if [ "$status" = 10 ]; then summary "kudu-state plan: a repair is planned (plan.json)."; else summary "kudu-state plan: nothing to repair."; fi
    elif [ "$status" = 0 ]; then
      echo "kudu-state: nothing to repair"
      summary "kudu-state apply: nothing to repair."
    else
      # apply re-checks every step against the site and prints the plan it carries out.
      ks apply --plan plan.json --yes "${target[@]}"
      [ ! -d kudu-state-backups ] || output backups "$(to_native "$work/kudu-state-backups")"
      output status "$status"
      [ "$status" = 0 ] || fail "kudu-state apply failed (exit $status); what it changed is in kudu-state-backups (kudu-state undo)"
      summary "kudu-state apply: repaired; what it replaced is in the backups artifact."
    fi
  fi

  if [ -z "$explain" ] && [ -z "$fix" ]; then
    group "kudu-state wait-idle --timeout $timeout"
    ks wait-idle --timeout "$timeout" --poll "$poll" "${target[@]}"
    endgroup
    output status "$status"
    case "$status" in
      0) output verdict idle ;;
      11)
        output verdict stuck
        summary "kudu-state: the site was not idle after $timeout."
        if [ "$ci" = azure ]; then
          echo "##vso[task.logissue type=error]kudu-state: the site did not become idle within $timeout; a deployment now would fail with 409 (run with fix: plan)"
        else
          echo "::error title=kudu-state::the site did not become idle within $timeout; a deployment now would fail with 409 (run with fix: plan)"
        fi
        exit 11
        ;;
      *) fail "kudu-state wait-idle failed (exit $status); its message is above" ;;
    esac
  fi
}

case "${1:-}" in
  install) do_install ;;
  run) do_run ;;
  *) echo "usage: kudu-state-ci.sh install|run" >&2; exit 2 ;;
esac
