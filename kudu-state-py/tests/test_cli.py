"""The `kudu-state` console script and `python -m kudu_state`: the Rust command's output and exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kudu_state

from conftest import EXAMPLES, REPO

pytestmark = pytest.mark.cli

SCRIPT = Path(sys.executable).parent / "kudu-state"
COMMANDS = {"console-script": [str(SCRIPT)], "python-m": [sys.executable, "-m", "kudu_state"]}
NOW = "2024-09-04T10:00:00Z"


def run(cmd: list[str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, cwd=REPO, env=env, input=stdin, timeout=60
    )


@pytest.fixture(params=sorted(COMMANDS))
def cmd(request: pytest.FixtureRequest) -> list[str]:
    return COMMANDS[request.param]


def test_console_script_is_installed() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} missing: is the package installed in this interpreter's environment?"


@pytest.mark.parametrize(("name", "code"), [("linux-healthy", 0), ("linux-stuck", 12)])
def test_diagnose_exit_codes(cmd: list[str], name: str, code: int) -> None:
    r = run(cmd, "diagnose", str(EXAMPLES / name))
    assert r.returncode == code, r.stderr
    assert ("IDLE" if code == 0 else "BROKEN") in r.stdout


def test_diagnose_json_equals_the_binding(cmd: list[str]) -> None:
    home = EXAMPLES / "linux-stuck"
    r = run(cmd, "diagnose", str(home), "--json", "--now", NOW)
    assert r.returncode == 12, r.stderr
    d = kudu_state.diagnose(home, now=dt.datetime(2024, 9, 4, 10, 0, tzinfo=dt.timezone.utc))
    assert json.loads(r.stdout) == json.loads(d.to_json())
    assert r.stdout == d.to_json() + "\n"


def test_plan_json_parses_as_a_plan(cmd: list[str]) -> None:
    home = EXAMPLES / "linux-stuck"
    r = run(cmd, "plan", str(home), "--json", "--now", NOW)
    assert r.returncode == 10, r.stderr
    assert kudu_state.Plan.from_json(r.stdout) == kudu_state.plan(
        home, now=dt.datetime(2024, 9, 4, 10, 0, tzinfo=dt.timezone.utc)
    )


def test_explain_from_stdin(cmd: list[str]) -> None:
    r = run(cmd, "explain", "--json", "-", stdin="There is a deployment currently in progress. Please try again when it completes.")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kind"] == "deployment-in-progress"


def test_errors_and_usage(cmd: list[str], tmp_path: Path) -> None:
    missing = run(cmd, "diagnose", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert "error[HOME_NOT_FOUND]" in missing.stderr
    usage = run(cmd, "diagnose", "--no-such-flag")
    assert usage.returncode == 2
    assert "kudu-state" in usage.stderr
    version = run(cmd, "--version")
    assert version.returncode == 0 and version.stdout.startswith("kudu-state ")
