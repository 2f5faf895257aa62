"""Homes for the tests: copies of the repository's example homes (Kudu's exact bytes), edited in place;
and sites serving them over Kudu's REST API (the `kudu-emulator` binary, on 127.0.0.1 only)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "homes"
UTC = dt.timezone.utc

#: When the Linux lock written by `write_linux_lock` is taken.
ACQUIRED = dt.datetime(2024, 9, 4, 10, 0, 0, tzinfo=UTC)
#: KuduLite's lock lifetime: lockExpiry = acquired + 25 minutes.
LIFETIME = dt.timedelta(minutes=25)

HomeFactory = Callable[[str], Path]


@pytest.fixture
def home(tmp_path: Path) -> HomeFactory:
    """`home("linux-stuck")` copies that example home under tmp_path and returns the copy's path."""

    def make(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(EXAMPLES / name, dest, symlinks=True)
        return dest

    return make


def write_linux_lock(home: Path, acquired: dt.datetime = ACQUIRED, op: str = "Performing continuous deployment") -> dt.datetime:
    """Writes KuduLite's `site/locks/deployment/info.lock` exactly as `AllSafeLinuxLock` does (compact
    camelCase JSON, no newline), with the lock's mtimes at `acquired`. Returns the lockExpiry."""
    expiry = acquired + LIFETIME
    lock_dir = home / "site" / "locks" / "deployment"
    lock_dir.mkdir(parents=True, exist_ok=True)
    info = lock_dir / "info.lock"
    info.write_bytes(
        (
            '{"lockExpiry":"%s","heldByPID":57,"heldByTID":23,"heldByOp":"%s",'
            '"heldByWorker":"5f2c0b7e1d3a9c4b8e6f0a2d4c6e8f0a1b3d5f7092a4c6e8f0a1b3d5f7092a4c"}'
            % (expiry.strftime("%Y-%m-%dT%H:%M:%SZ"), op)
        ).encode()
    )
    stamp = acquired.timestamp()
    os.utime(info, (stamp, stamp))
    os.utime(lock_dir, (stamp, stamp))
    return expiry


def tree_bytes(root: Path, skip: str = "data") -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `root`, except the top-level `skip` folder."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == skip or rel.startswith(skip + "/"):
            continue
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


# --- Remote mode: the `kudu-emulator` binary serves a home over Kudu's REST API on 127.0.0.1 ---------

#: The Basic credentials the emulated sites take. Every secret the tests use starts with "SECRET", so one
#: search finds a leak.
USER = "$emulated-app"
PASSWORD = "SECRET-pw-5e1b7"
TOKEN = "SECRET-token-c03d9"


def emulator_binary() -> Path:
    """$KUDU_EMULATOR, else the workspace's debug build (built here when missing)."""
    given = os.environ.get("KUDU_EMULATOR")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    binary = target / "debug" / "kudu-emulator"
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "-q", "-p", "kudu-emulator", "--bin", "kudu-emulator"], cwd=REPO, check=True
        )
    return binary


@dataclass
class Site:
    """A running emulator: its URL, the home it serves, and what it printed about itself."""

    url: str
    home: Path
    info: dict[str, Any]


SiteFactory = Callable[..., Site]


@pytest.fixture
def serve() -> Iterator[SiteFactory]:
    """`serve(home, platform="linux", token=False, instances=None, hold=())` starts `kudu-emulator` on
    `home` (Basic USER/PASSWORD, and Bearer TOKEN with token=True; `instances`: the instance names;
    `hold`: files Kudu holds open, `REL_PATH[@INSTANCE]`) and returns the Site; every emulator stops at
    the test's end."""
    procs: list[subprocess.Popen[str]] = []

    def start(
        home: Path,
        platform: str = "linux",
        token: bool = False,
        instances: list[str] | None = None,
        hold: tuple[str, ...] = (),
    ) -> Site:
        ticks(home)
        args = [str(emulator_binary()), "--home", str(home), "--platform", platform]
        args += ["--user", USER, "--password", PASSWORD]
        if token:
            args += ["--token", TOKEN]
        if instances:
            args += ["--instances", ",".join(instances)]
        for held in hold:
            args += ["--hold", held]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        info = json.loads(proc.stdout.readline())
        assert url.startswith("http://127.0.0.1:"), url
        return Site(url=url, home=home, info=info)

    yield start
    for proc in procs:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ticks(root: Path) -> None:
    """Rounds every mtime under `root` down to Kudu's precision: the REST API gives times in .NET ticks
    (100 ns), a disk in nanoseconds, and a finding's evidence shows the mtime."""
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - st.st_mtime_ns % 100), follow_symlinks=False)


def platform_of(example: str) -> str:
    return "windows" if example.startswith("windows") else "linux"


def write_record(
    home: Path, deployment_id: str, status: str, complete: bool, progress: str = "", template_home: str = "linux-healthy"
) -> Path:
    """Writes `site/deployments/<id>/status.xml` in Kudu's bytes (from the healthy example's of that
    platform, `template_home`), with this status and `complete`."""
    # newline="": the template's own line endings (Windows Kudu writes CRLF).
    with open(EXAMPLES / template_home / "site" / "deployments" / HEALTHY_ID / "status.xml", encoding="utf-8-sig", newline="") as f:
        template = f.read()
    text = (
        template.replace(HEALTHY_ID, deployment_id)
        .replace("<status>Success</status>", f"<status>{status}</status>")
        .replace("<complete>True</complete>", f"<complete>{complete}</complete>")
        .replace("<progress></progress>", f"<progress>{progress}</progress>")
    )
    folder = home / "site" / "deployments" / deployment_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "status.xml"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(text)
    return path


#: The one deployment of the healthy examples.
HEALTHY_ID = "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b"


def set_mtime(path: Path, when: dt.datetime) -> None:
    """Sets a file's or folder's mtime (and atime)."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
