"""Errors: one subclass per family, the core's code, the path; IO_ERROR as builtin OSError subclasses."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import kudu_state
from kudu_state import (
    ApplyLockedError,
    HomeError,
    InvalidInputError,
    KuduStateError,
    PreconditionFailedError,
    ProtectedPathError,
    UndoConflictError,
)


def test_hierarchy() -> None:
    for cls in (HomeError, PreconditionFailedError, ApplyLockedError, UndoConflictError, InvalidInputError, ProtectedPathError):
        assert issubclass(cls, KuduStateError)
    assert issubclass(KuduStateError, Exception)
    assert issubclass(kudu_state.RemoteError, KuduStateError)
    for remote in (kudu_state.AuthFailedError, kudu_state.CredentialsError, kudu_state.SiteNotFoundError):
        assert issubclass(remote, kudu_state.RemoteError)


def test_local_errors_have_no_url_or_status(tmp_path: Path) -> None:
    with pytest.raises(HomeError) as info:
        kudu_state.diagnose(tmp_path / "nope")
    assert info.value.url is None and info.value.status is None


def test_missing_home_is_home_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    for call in (kudu_state.scan, kudu_state.diagnose, kudu_state.plan):
        with pytest.raises(HomeError) as info:
            call(missing)
        assert info.value.code == "HOME_NOT_FOUND"
        assert info.value.path == missing
        assert str(missing) in str(info.value)


def test_folder_without_site_is_not_a_home(tmp_path: Path) -> None:
    with pytest.raises(HomeError) as info:
        kudu_state.diagnose(tmp_path)
    assert info.value.code == "NOT_A_HOME"
    assert info.value.path == tmp_path


def test_io_error_maps_to_the_builtin_os_error(tmp_path: Path) -> None:
    # A file where a backup folder is expected: the OS says "not a directory" (root ignores permissions,
    # so this is the I/O error a test can produce reliably).
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"x")
    with pytest.raises(OSError) as info:
        kudu_state.undo(not_a_dir)
    err = info.value
    assert not isinstance(err, KuduStateError)
    assert isinstance(err, NotADirectoryError)
    assert err.errno == errno.ENOTDIR
    assert getattr(err, "code") == "IO_ERROR"
    assert isinstance(getattr(err, "path"), Path)
    assert getattr(err, "path") == Path(err.filename)
    assert Path(err.filename).parent == not_a_dir


def test_undo_of_a_folder_without_journal_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        kudu_state.undo(tmp_path / "no-backup")
    assert info.value.code == "INVALID_INPUT"
    assert "journal.json" in str(info.value)


def test_wait_idle_missing_home(tmp_path: Path) -> None:
    with pytest.raises(HomeError) as info:
        kudu_state.wait_idle(tmp_path / "nope", timeout=0)
    assert info.value.code == "HOME_NOT_FOUND"


def test_undo_of_a_folder_without_journal_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text("not json")
    with pytest.raises(InvalidInputError) as info:
        kudu_state.undo(tmp_path)
    assert info.value.code == "INVALID_INPUT"
