#!/usr/bin/env bash
# Installs each artifact in dist/ the way a user would, on a PATH without cargo or rustc, and runs it:
#   python  the wheel into a fresh venv (pip --no-index): the `kudu-state` command and `import kudu_state`;
#           the wheel is abi3 and manylinux/musllinux-tagged on Linux; the sdist holds what a build needs
#   npm     the main tarball and this platform's, offline, into a fresh folder: require('kudu-state') loads
#           the addon from the kudu-state-<platform> package (the main package has none), and `npx kudu-state`
#   bin     the archive unpacked: the command, README, LICENSE, completions, man pages
# Usage: scripts/check-dist.sh [python] [npm] [bin]    (default: the parts present in DIST_DIR)
#   DIST_DIR=...   default $ROOT/dist
# Runs on Linux, macOS and Windows (Git Bash): the release workflow checks each platform's artifacts with it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
HOMES="$ROOT/examples/homes"

fail() { printf 'check-dist: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'check-dist: ok: %s\n' "$*"; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)"
[ -n "$version" ] || fail "no version in Cargo.toml"
windows=false
case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) windows=true ;; esac
exe=""
$windows && exe=".exe"

# The revision the builds must name: HEAD of this checkout, when it is one.
want_rev="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null | cut -c1-12 || true)"

# A PATH with no folder that holds cargo or rustc: nothing below may build anything.
strip_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  [ -n "$d" ] || continue
  if [ -e "$d/cargo$exe" ] || [ -e "$d/rustc$exe" ] || [ -e "$d/cargo" ]; then continue; fi
  strip_path="${strip_path:+$strip_path:}$d"
done
export PATH="$strip_path"
unset CARGO CARGO_HOME RUSTUP_HOME RUSTC CARGO_TARGET_DIR
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
  fail "cargo or rustc is still on PATH ($(command -v cargo rustc | tr '\n' ' '))"
fi
ok "cargo and rustc are not on PATH"

PY="$(command -v python3 || command -v python || true)"
[ -n "$PY" ] || fail "no python3 on PATH"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# `kudu-state --version` as released: the version, the 12-digit revision of HEAD, a target.
check_version() { # LABEL OUTPUT
  local line="$2" rev
  [[ "$line" =~ ^kudu-state\ ${version//./\\.}\ \(rev\ ([0-9a-f]{12}),\ [a-z0-9_]+-[a-z0-9_-]+\)$ ]] ||
    fail "$1: --version printed '$line', not 'kudu-state $version (rev <12 hex digits>, <target>)'"
  rev="${BASH_REMATCH[1]}"
  if [ -n "$want_rev" ] && [ "$rev" != "$want_rev" ]; then
    fail "$1: built from $rev, but this checkout is at $want_rev (rebuild with scripts/dist.sh)"
  fi
  ok "$1: $line"
}

# Runs a command and checks its exit status: expect_status LABEL WANT CMD...
expect_status() {
  local label="$1" want="$2" status=0
  shift 2
  "$@" >"$work/out" 2>"$work/err" || status=$?
  if [ "$status" != "$want" ]; then
    cat "$work/out" "$work/err" >&2
    fail "$label: exit $status, expected $want ($*)"
  fi
}

only_one() { # LABEL GLOB-RESULTS... -> prints the one file
  local label="$1"
  shift
  [ $# -eq 1 ] && [ -f "$1" ] || fail "$label: expected exactly one file, found: ${*:-none}"
  printf '%s' "$1"
}

check_python() {
  local whl sdist venv vbin
  whl="$(only_one "python wheel" "$DIST_DIR"/python/*.whl)"
  sdist="$(only_one "python sdist" "$DIST_DIR"/python/*.tar.gz)"
  local name
  name="$(basename "$whl")"
  [[ "$name" == kudu_state-"$version"-cp39-abi3-* ]] || fail "$name is not an abi3 (cp39) wheel of $version"
  case "$(uname -s)" in
    Linux)
      # Every platform tag manylinux*/musllinux* (a plain linux_x86_64 wheel cannot go to PyPI).
      local tags tag
      tags="${name#*-abi3-}"
      IFS=. read -r -a tags <<<"${tags%.whl}"
      for tag in "${tags[@]}"; do
        [[ "$tag" == manylinux* || "$tag" == musllinux* ]] || fail "$name has platform tag $tag, not manylinux/musllinux"
      done
      ;;
  esac
  ok "python: $name"

  # The sdist: everything a build from it needs, and not the Node package.
  "$PY" - "$sdist" "$version" <<'EOF' || fail "python sdist $(basename "$sdist") is incomplete"
import sys, tarfile
path, version = sys.argv[1], sys.argv[2]
root = f"kudu_state-{version}/"
names = set(tarfile.open(path).getnames())
need = ["pyproject.toml", "PKG-INFO", "Cargo.toml", "Cargo.lock", "LICENSE", "README.md",
        "kudu-state/src/lib.rs", "kudu-state-cli/src/main.rs", "kudu-state-cli/build.rs",
        "python/kudu_state/__init__.py", "python/kudu_state/py.typed"]
missing = [n for n in need if root + n not in names]
extra = [n for n in names if n.startswith(root + "kudu-state-node")]
if missing or extra:
    print("missing:", missing, "unexpected:", extra[:5], file=sys.stderr)
    sys.exit(1)
EOF
  ok "python: $(basename "$sdist") has the crates, the lock file, the package, README and LICENSE"

  venv="$work/venv"
  "$PY" -m venv "$venv"
  vbin="$venv/bin"
  [ -d "$vbin" ] || vbin="$venv/Scripts"
  "$vbin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$whl"
  # From an empty folder, so nothing from the source tree can be imported instead.
  mkdir -p "$work/py-cwd"
  (
    cd "$work/py-cwd"
    unset PYTHONPATH
    check_version "python: kudu-state" "$("$vbin/kudu-state$exe" --version)"
    expect_status "python: kudu-state diagnose (healthy)" 0 "$vbin/kudu-state$exe" diagnose "$HOMES/linux-healthy"
    expect_status "python: kudu-state diagnose (broken)" 12 "$vbin/kudu-state$exe" diagnose "$HOMES/linux-stuck"
    "$vbin/python" - "$HOMES" "$version" "$venv" <<'EOF' || fail "python: import kudu_state from the wheel"
import os, sys, kudu_state
homes, version, venv = sys.argv[1:4]
native = os.path.realpath(kudu_state._native.__file__)
assert native.startswith(os.path.realpath(venv)), f"loaded {native}, not the venv's"
assert kudu_state.__version__ == version, kudu_state.__version__
assert kudu_state.diagnose(os.path.join(homes, "linux-healthy")).to_dict()["verdict"] == "idle"
assert kudu_state.diagnose(os.path.join(homes, "linux-stuck")).to_dict()["verdict"] == "broken"
body = "There is a deployment currently in progress. Please try again when it completes."
assert kudu_state.explain(body, status=409).to_dict()["kind"] == "deployment-in-progress"
print(f"check-dist: ok: python: import kudu_state {kudu_state.__version__} from {os.path.basename(native)}")
EOF
  )
  ok "python: the wheel installs and runs without cargo"
}

check_npm() {
  local main platform_tgz platform
  main="$(only_one "npm main package" "$DIST_DIR/npm/kudu-state-$version.tgz")"
  local others=()
  for f in "$DIST_DIR"/npm/kudu-state-*-"$version".tgz; do
    [ -f "$f" ] && others+=("$f")
  done
  platform_tgz="$(only_one "npm platform package" ${others[@]+"${others[@]}"})"
  platform="$(basename "$platform_tgz")"
  platform="${platform#kudu-state-}"
  platform="${platform%-"$version".tgz}"
  ok "npm: $(basename "$main") + $(basename "$platform_tgz") (platform $platform)"

  local app="$work/app"
  mkdir -p "$app"
  printf '{ "name": "check-dist-app", "version": "1.0.0", "private": true }\n' >"$app/package.json"
  # Offline, from the two tarballs only: the other platforms' optional packages are not fetched (npm skips
  # an optional dependency it cannot get, and the registry does not have them before a release anyway).
  (cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error "$platform_tgz" "$main") ||
    fail "npm: offline install of the two tarballs"
  local nm="$app/node_modules"
  [ -f "$nm/kudu-state-$platform/kudu-state.$platform.node" ] || fail "npm: kudu-state-$platform has no addon"
  if ls "$nm/kudu-state/"*.node >/dev/null 2>&1; then fail "npm: the main package carries an addon"; fi
  (
    cd "$app"
    node - "$HOMES" "$platform" <<'EOF' || fail "npm: require('kudu-state')"
const path = require('path')
const [homes, platform] = process.argv.slice(2)
const ks = require('kudu-state')
// The addon napi's loader picked: the one in the platform package, not a file beside index.js.
const addons = Object.keys(require.cache).filter((k) => k.endsWith('.node')).map((k) => k.split(path.sep).join('/'))
const want = `/node_modules/kudu-state-${platform}/kudu-state.${platform}.node`
if (addons.length !== 1 || !addons[0].endsWith(want)) throw new Error(`loaded ${JSON.stringify(addons)}, expected …${want}`)
if (ks.diagnoseSync(path.join(homes, 'linux-healthy')).verdict !== 'idle') throw new Error('healthy home not idle')
if (ks.diagnoseSync(path.join(homes, 'linux-stuck')).verdict !== 'broken') throw new Error('stuck home not broken')
const x = ks.explainSync('There is a deployment currently in progress. Please try again when it completes.', 409)
if (x.kind !== 'deployment-in-progress') throw new Error(`explain gave ${x.kind}`)
console.log(`check-dist: ok: npm: require('kudu-state') loaded …${want}`)
EOF
    check_version "npm: npx kudu-state" "$(npx --offline --no -- kudu-state --version)"
    expect_status "npm: npx kudu-state diagnose (broken)" 12 npx --offline --no -- kudu-state diagnose "$HOMES/linux-stuck"
  )
  ok "npm: the tarballs install offline and run without cargo"
}

check_bin() {
  local archive
  local found=()
  for f in "$DIST_DIR"/bin/kudu-state-"$version"-*; do
    [ -f "$f" ] && found+=("$f")
  done
  archive="$(only_one "bin archive" ${found[@]+"${found[@]}"})"
  local name target
  name="$(basename "$archive")"
  name="${name%.tar.gz}"
  name="${name%.zip}"
  target="${name#kudu-state-"$version"-}"
  "$PY" - "$archive" "$work/bin" <<'EOF'
import sys, tarfile, zipfile
src, dest = sys.argv[1:3]
if src.endswith(".zip"):
    zipfile.ZipFile(src).extractall(dest)
else:
    tarfile.open(src).extractall(dest)
EOF
  local dir="$work/bin/$name"
  local f
  for f in "kudu-state$exe" README.md LICENSE completions/kudu-state.bash completions/_kudu-state \
    completions/kudu-state.fish completions/_kudu-state.ps1 man/man1/kudu-state.1 man/man1/kudu-state-diagnose.1; do
    [ -s "$dir/$f" ] || fail "bin: $name has no $f"
  done
  cmp -s "$dir/LICENSE" "$ROOT/LICENSE" || fail "bin: LICENSE differs from the repository's"
  local line
  line="$("$dir/kudu-state$exe" --version)"
  check_version "bin: $name" "$line"
  [[ "$line" == *", $target)" ]] || fail "bin: $name runs as '$line', another target"
  expect_status "bin: diagnose (healthy)" 0 "$dir/kudu-state$exe" diagnose "$HOMES/linux-healthy"
  expect_status "bin: diagnose (broken)" 12 "$dir/kudu-state$exe" diagnose "$HOMES/linux-stuck"
  if command -v bash >/dev/null; then
    bash -n "$dir/completions/kudu-state.bash" || fail "bin: the bash completion does not parse"
  fi
  ok "bin: $name unpacks and runs"
}

parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
  for p in python npm bin; do
    [ -d "$DIST_DIR/$p" ] && parts+=("$p")
  done
fi
[ ${#parts[@]} -gt 0 ] || fail "nothing to check in $DIST_DIR (run scripts/dist.sh)"
for p in "${parts[@]}"; do
  case "$p" in python | npm | bin) "check_$p" ;; *) fail "unknown part '$p'" ;; esac
done
echo "check-dist: all checks passed (${parts[*]})"
