"""Homes for the tests: copies of the repository's example homes (Kudu's exact bytes), edited in place."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Callable

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
