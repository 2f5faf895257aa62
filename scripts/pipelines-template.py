#!/usr/bin/env python3
"""Keeps pipelines/kudu-state.yml's embedded script equal to action/kudu-state-ci.sh, and checks the template.

    python3 scripts/pipelines-template.py           check (exit 1 with the reason)
    python3 scripts/pipelines-template.py --write   rewrite the embedded script from action/kudu-state-ci.sh

Checks: the embedded script is the file, byte for byte; the script has nothing Azure Pipelines would expand
before bash runs it (`${{ }}` template expressions, `$[ ]` runtime expressions, `$(name)` macros); every
`${{ parameters.X }}` is declared and every declared parameter is used; with PyYAML, the template parses and
its parameters and steps have the expected shape.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "pipelines" / "kudu-state.yml"
SCRIPT = ROOT / "action" / "kudu-state-ci.sh"
START = """cat >"$AGENT_TEMPDIRECTORY/kudu-state-ci.sh" <<'KUDU_STATE_CI_SH'"""
END = "KUDU_STATE_CI_SH"


def fail(msg: str) -> None:
    print(f"pipelines-template: {msg}", file=sys.stderr)
    sys.exit(1)


def split(lines: list[str]) -> tuple[int, int, str]:
    starts = [i for i, l in enumerate(lines) if l.strip() == START]
    if len(starts) != 1:
        fail(f"{TEMPLATE.name}: expected one line `{START}`, found {len(starts)}")
    s = starts[0]
    indent = lines[s][: len(lines[s]) - len(lines[s].lstrip())]
    ends = [i for i in range(s + 1, len(lines)) if lines[i] == indent + END]
    if not ends:
        fail(f"{TEMPLATE.name}: no closing `{END}` line after line {s + 1}")
    return s, ends[0], indent


def main() -> None:
    script = SCRIPT.read_text()
    if not script.endswith("\n"):
        fail(f"{SCRIPT.name} must end with a newline")
    for pattern, what in [(r"\$\{\{", "a `${{` template expression"), (r"\$\[", "a `$[` runtime expression"),
                          (r"\$\([A-Za-z_][A-Za-z0-9_.]*\)", "a `$(name)` macro")]:
        m = re.search(pattern, script)
        if m:
            line = script[: m.start()].count("\n") + 1
            fail(f"{SCRIPT.name}:{line} has {what}, which Azure Pipelines would expand before bash runs it")
    if END in script.splitlines():
        fail(f"{SCRIPT.name} has a line `{END}`, which would end the heredoc")

    lines = TEMPLATE.read_text().split("\n")
    s, e, indent = split(lines)
    embedded = [l.replace(indent, "", 1) if l.strip() else "" for l in lines[s + 1 : e]]
    want = [(indent + l if l else "") for l in script.rstrip("\n").split("\n")]
    if "--write" in sys.argv[1:]:
        TEMPLATE.write_text("\n".join(lines[: s + 1] + want + lines[e:]))
        print(f"pipelines-template: wrote {SCRIPT.relative_to(ROOT)} into {TEMPLATE.relative_to(ROOT)}")
    else:
        # Blank lines carry no indentation in the YAML block; compare with them emptied on both sides.
        mine = [l if l.strip() else "" for l in script.rstrip("\n").split("\n")]
        if embedded != mine:
            fail(f"the script in {TEMPLATE.relative_to(ROOT)} differs from {SCRIPT.relative_to(ROOT)}; "
                 "run `python3 scripts/pipelines-template.py --write` and commit")

    text = TEMPLATE.read_text()
    declared = re.findall(r"^  - name: ([A-Za-z_][A-Za-z0-9_]*)$", text.split("\nsteps:")[0], re.M)
    used = set(re.findall(r"\$\{\{ *parameters\.([A-Za-z_][A-Za-z0-9_]*) *\}\}", text))
    if set(declared) != used or len(declared) != len(set(declared)):
        fail(f"parameters declared {sorted(declared)} but used {sorted(used)}")
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        yaml = None
    if yaml is not None:
        doc = yaml.safe_load(text)
        params = {p["name"]: p for p in doc["parameters"]}
        if any(p.get("type") != "string" for p in params.values()):
            fail("every parameter is a string")
        if "default" in params["azureSubscription"]:
            fail("azureSubscription has no default: AzureCLI@2 needs a service connection")
        tasks = [st.get("task") or "bash" for st in doc["steps"]]
        if tasks != ["Cache@2", "bash", "AzureCLI@2", "PublishPipelineArtifact@1"]:
            fail(f"unexpected steps {tasks}")
        run = doc["steps"][2]
        if run["inputs"]["scriptType"] != "bash" or "run" not in run["inputs"]["inlineScript"]:
            fail("the AzureCLI@2 step must run the script with bash")
        # Inputs reach the script only through env, never pasted into script text.
        for st in doc["steps"][1:3]:
            body = st.get("bash") or st["inputs"]["inlineScript"]
            if "${{" in body:
                fail("a template expression inside a script; map it through env instead")
    print(f"pipelines-template: ok ({len(declared)} parameters; the embedded script is {SCRIPT.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
