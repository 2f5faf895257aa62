#!/usr/bin/env bash
# The Python package (kudu-state-py): build the abi3 wheel from source into a venv, then run pytest (the
# remote-mode tests against the kudu-emulator binary, built here) and check the type stubs against the
# native module with mypy.stubtest.
#   VENV=...      the venv to use (default $ROOT/.venv-py, created when missing)
# Run by scripts/test.sh (set -euo pipefail, $ROOT exported); runnable alone too.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv-py}"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"  # the maturin build backend runs the `maturin` executable
export MYPY_CACHE_DIR="$VENV/.mypy_cache"  # keep the work tree clean (stubtest and mypy)

if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi
# Pinned tools; pip skips them when already installed at these versions.
"$PY" -m pip install --quiet --disable-pip-version-check \
  "maturin==1.16.0" "pytest==9.2.0" "mypy==1.20.2"

# Build the wheel and install it (release profile, in the workspace target dir, or $CARGO_TARGET_DIR).
# No build isolation: maturin is already in the venv, so nothing is downloaded on each run (P5).
"$PY" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
  --no-build-isolation ./kudu-state-py

# The remote-mode tests serve homes over Kudu's REST API with the emulator binary (127.0.0.1 only).
cargo build -q -p kudu-emulator --bin kudu-emulator
export KUDU_EMULATOR="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kudu-emulator"

# pytest: exit status 5 (no tests collected) fails like any other non-zero status.
"$PY" -m pytest -q -p no:cacheprovider kudu-state-py/tests

# The stubs match the runtime module (no allowlist needed), and the package and tests type-check.
# (stubtest ignores MYPY_CACHE_DIR and writes .mypy_cache in the current folder: run it from the venv.)
(cd "$VENV" && "$PY" -m mypy.stubtest kudu_state._native --mypy-config-file "$ROOT/kudu-state-py/pyproject.toml")
"$PY" -m mypy --config-file kudu-state-py/pyproject.toml \
  kudu-state-py/python/kudu_state kudu-state-py/tests
