#!/usr/bin/env bash
# Release artifacts, as each ecosystem installs them:
#   1. scripts/dist.sh builds dist/python (manylinux abi3 wheel + sdist), dist/npm (napi-rs layout), dist/bin
#   2. scripts/check-dist.sh installs each without cargo on PATH and runs it
#   3. the sdist builds (with cargo, as pip does where no wheel fits) and its command runs
#   4. the crates: `cargo publish --dry-run` of the core and the CLI, `cargo install --path kudu-state-cli`
#   5. every place that names the version names the same one
# Run by scripts/test.sh after the Node suite (its napi build and npm install are reused); runnable alone.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${VENV:-$ROOT/.venv-dist}"
export VENV

t() { printf '60-dist: %s: %s s\n' "$1" "$((SECONDS - $2))"; }

s=$SECONDS
bash scripts/dist.sh
t "dist.sh" "$s"

s=$SECONDS
bash scripts/check-dist.sh
t "check-dist.sh" "$s"

# 3. The sdist, built the way pip builds it where no wheel fits (maturin's PEP 517 backend, with cargo).
s=$SECONDS
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sdist=(dist/python/kudu_state-*.tar.gz)
python3 -m venv "$work/venv"
# The build backend (maturin, pinned) in the venv, so pip needs no isolated build env; the build runs where pip
# unpacks the sdist, outside git. CARGO_TARGET_DIR: crates already built by 20-python.sh are reused.
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==1.16.0"
PATH="$work/venv/bin:$PATH" "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation "${sdist[0]}" ||
  { echo "60-dist: the sdist ${sdist[0]} does not build" >&2; exit 1; }
line="$("$work/venv/bin/kudu-state" --version)"
[[ "$line" == "kudu-state "* ]] || { echo "60-dist: the sdist's command printed '$line'" >&2; exit 1; }
echo "60-dist: ok: the sdist builds and runs: $line"
t "sdist build" "$s"

# 4. The crates as crates.io would take them: packaged, rebuilt from the packages alone; and cargo install.
s=$SECONDS
dirty=()
[ -z "$(git status --porcelain 2>/dev/null)" ] || dirty=(--allow-dirty)
# Cargo extracts the crates this dry-run packages into $CARGO_HOME/registry/src/-<hash of the
# overlay's path>/ and reuses that copy on the next run of the same version in the same checkout
# (it checks neither content nor checksum; cf. 0xMiden/miden-vm#2530), so a second run would verify
# the CLI against the core of the first. Those extractions of our own crates go first; nothing
# crates.io's is touched.
for stale in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/kudu-state-*; do
  rm -rf -- "$stale"
done
cargo publish --dry-run --locked ${dirty[@]+"${dirty[@]}"} -p kudu-state -p kudu-state-cli
# --target: dist.sh's CLI build (target/<triple>/release) is reused instead of a second release build.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo install --quiet --locked --path kudu-state-cli --root "$work/cargo-install" --target-dir "$CARGO_TARGET_DIR" \
  --target "$host"
line="$("$work/cargo-install/bin/kudu-state" --version)"
rev="$(git rev-parse HEAD | cut -c1-12)"
[[ "$line" == "kudu-state "*" (rev $rev, $host)" ]] ||
  { echo "60-dist: cargo install --path gave '$line', not rev $rev" >&2; exit 1; }
echo "60-dist: ok: cargo install --path kudu-state-cli: $line"
t "crates" "$s"

# 5. One version everywhere a release names it.
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
node_version="$(node -p "require('./kudu-state-node/package.json').version")"
mismatch=()
[ "$node_version" = "$version" ] || mismatch+=("kudu-state-node/package.json: $node_version")
while read -r line; do
  mismatch+=("Cargo.toml: $line")
done < <(grep -E '^kudu-state(-cli)? = \{.*version = ' Cargo.toml | grep -v "version = \"$version\"" || true)
for f in action.yml pipelines/kudu-state.yml; do
  # The `version` input / parameter: the CLI release the Action and the template install by default.
  grep -qF "default: '$version'" "$f" || mismatch+=("$f: the default CLI version is not '$version'")
done
if [ ${#mismatch[@]} -gt 0 ]; then
  printf '60-dist: version %s (Cargo.toml) differs in: %s\n' "$version" "${mismatch[@]}" >&2
  exit 1
fi
echo "60-dist: ok: version $version in Cargo.toml, package.json, action.yml and the pipelines template"
