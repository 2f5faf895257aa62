"""scan and diagnose: types, enums, datetimes, paths."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

import kudu_state
from kudu_state import Diagnosis, Finding, Given, Platform, Severity, Verdict

from conftest import ACQUIRED, EXAMPLES, UTC, HomeFactory, write_linux_lock


def test_scan_returns_a_typed_snapshot(home: HomeFactory) -> None:
    h = home("linux-healthy")
    snap = kudu_state.scan(h)
    assert isinstance(snap, kudu_state.Snapshot)
    assert snap.home == h and isinstance(snap.home, Path)
    assert snap.given is Given.HOME
    assert snap.platform == Platform.LINUX
    assert snap.platform_overridden is False
    data = snap.to_dict()
    assert data == json.loads(snap.to_json())
    assert data["home"] == str(h)
    assert data["given"] == "home"
    assert snap.notes == [] and data["notes"] == []
    assert repr(snap) == f"Snapshot(home={h!r}, given=Given.HOME, platform=Platform.LINUX)"
    assert snap == kudu_state.scan(h)


def test_scan_accepts_site_folder_str_and_pathlike(home: HomeFactory) -> None:
    h = home("windows-healthy")
    via_site = kudu_state.scan(str(h / "site"))
    assert via_site.given == Given.SITE
    assert via_site.home == h
    assert via_site.platform == Platform.WINDOWS

    class Custom(os.PathLike[str]):
        def __fspath__(self) -> str:
            return str(h)

    assert kudu_state.scan(Custom()).home == h


def test_platform_override(home: HomeFactory) -> None:
    h = home("linux-healthy")
    snap = kudu_state.scan(h, platform=Platform.WINDOWS)
    assert snap.platform == Platform.WINDOWS and snap.platform_overridden
    assert kudu_state.diagnose(h, platform=Platform.WINDOWS).platform == Platform.WINDOWS


def test_live_linux_lock_is_deploying_then_not_at_a_later_now(home: HomeFactory) -> None:
    h = home("linux-healthy")
    expiry = write_linux_lock(h)

    during = kudu_state.diagnose(h, now=ACQUIRED + dt.timedelta(minutes=5))
    assert during.verdict == Verdict.DEPLOYING
    assert during.safe_to_deploy is False
    assert during.safe_after == expiry
    assert during.safe_after is not None and during.safe_after.tzinfo is not None
    assert during.now == ACQUIRED + dt.timedelta(minutes=5)
    live = [f for f in during.findings if f.code == "linux-lock-live"]
    assert len(live) == 1
    assert live[0].severity == Severity.WARNING
    assert live[0].path == "site/locks/deployment/info.lock"
    assert live[0].evidence["operation"] == "Performing continuous deployment"

    after = kudu_state.diagnose(h, now=expiry + dt.timedelta(minutes=5))
    assert after.verdict != Verdict.DEPLOYING
    assert after.verdict == Verdict.IDLE
    assert after.safe_to_deploy is True
    assert after.safe_after is None
    assert "linux-lock-expired" in {f.code for f in after.findings}


def test_aware_datetimes_are_converted_to_utc(home: HomeFactory) -> None:
    h = home("linux-healthy")
    plus2 = dt.timezone(dt.timedelta(hours=2))
    d = kudu_state.diagnose(h, now=dt.datetime(2024, 9, 4, 12, 0, tzinfo=plus2))
    assert d.now == dt.datetime(2024, 9, 4, 10, 0, tzinfo=UTC)
    assert d.now.utcoffset() == dt.timedelta(0)
    assert d.to_dict()["now"] == "2024-09-04T10:00:00Z"


def test_now_defaults_to_the_current_utc_time(home: HomeFactory) -> None:
    before = dt.datetime.now(UTC)
    d = kudu_state.diagnose(home("linux-healthy"))
    assert before <= d.now <= dt.datetime.now(UTC)


def test_naive_datetime_is_refused(home: HomeFactory) -> None:
    with pytest.raises(kudu_state.InvalidInputError, match="naive") as info:
        kudu_state.diagnose(home("linux-healthy"), now=dt.datetime(2024, 9, 4, 10, 0))
    assert info.value.code == "INVALID_INPUT"
    assert info.value.path is None


def test_now_must_be_a_datetime(home: HomeFactory) -> None:
    with pytest.raises(TypeError):
        kudu_state.diagnose(home("linux-healthy"), now="2024-09-04T10:00:00Z")  # type: ignore[arg-type]


def test_stall_minutes_turns_a_quiet_live_lock_stuck(home: HomeFactory) -> None:
    h = home("linux-healthy")
    write_linux_lock(h)
    now = ACQUIRED + dt.timedelta(minutes=15)
    assert kudu_state.diagnose(h, now=now, stall_minutes=10).verdict == Verdict.STUCK
    assert kudu_state.diagnose(h, now=now, stall_minutes=60).verdict == Verdict.DEPLOYING


def test_broken_home_findings_are_typed() -> None:
    d = kudu_state.diagnose(EXAMPLES / "linux-stuck", now=ACQUIRED)
    assert isinstance(d, Diagnosis)
    assert d.verdict is Verdict.BROKEN
    assert d.home == EXAMPLES / "linux-stuck"
    assert d.platform == Platform.LINUX
    assert d.schema == 1
    assert all(isinstance(f, Finding) for f in d.findings)
    codes = [f.code for f in d.findings]
    assert "linux-lock-corrupt" in codes and "active-malformed" in codes
    assert d.findings[0].severity == Severity.ERROR  # most severe first
    for f in d.findings:
        assert isinstance(f.evidence, dict)
        assert f.to_dict() == {
            "code": f.code,
            "severity": f.severity.value,
            "path": f.path,
            "message": f.message,
            "evidence": f.evidence,
        }
    assert repr(d.findings[0]).startswith("Finding(code='")
    assert repr(d).startswith("Diagnosis(verdict=Verdict.BROKEN, safe_to_deploy=False, ")


def test_diagnosis_json_is_the_schema(home: HomeFactory) -> None:
    d = kudu_state.diagnose(EXAMPLES / "linux-stuck", now=ACQUIRED)
    data = json.loads(d.to_json())
    assert list(data) == ["schema", "home", "platform", "now", "verdict", "safe_to_deploy", "safe_after", "findings"]
    assert data == d.to_dict()
    assert data["verdict"] == "broken" and data["platform"] == "linux"
    assert d == kudu_state.diagnose(EXAMPLES / "linux-stuck", now=ACQUIRED)


def test_enums_are_real_enums() -> None:
    assert Verdict.STUCK == Verdict.STUCK
    assert Verdict.STUCK != Verdict.IDLE
    assert Verdict.STUCK is Verdict.STUCK
    assert str(Verdict.STUCK) == "stuck" and Verdict.STUCK.value == "stuck"
    assert [int(v) for v in (Verdict.IDLE, Verdict.DEPLOYING, Verdict.STUCK, Verdict.BROKEN)] == [0, 1, 2, 3]
    assert {Verdict.IDLE: 1}[Verdict.IDLE] == 1
    assert repr(Severity.WARNING) == "Severity.WARNING"
    assert Platform.LINUX.value == "linux" and Platform.WINDOWS.value == "windows"
    assert kudu_state.Action.REMOVE_EXPIRED_LOCK.value == "remove-expired-lock"
    assert kudu_state.ConflictKind.ARM_SITE_LOCK.value == "arm-site-lock"
    assert kudu_state.StepOutcome.ALREADY_DONE.value == "already-done"
    assert kudu_state.NoteKind.NON_UTF8_NAME.value == "non-utf8-name"
    assert str(kudu_state.Risk.NONE) == "none"
    with pytest.raises(TypeError):
        Verdict()


def test_results_are_frozen(home: HomeFactory) -> None:
    d = kudu_state.diagnose(home("linux-healthy"))
    with pytest.raises(AttributeError):
        d.verdict = Verdict.BROKEN  # type: ignore[misc]


def test_public_api_is_reexported() -> None:
    from kudu_state import _native

    public = {n for n in dir(_native) if not n.startswith("_")} - {"run_cli"}
    assert public <= set(kudu_state.__all__)
    assert kudu_state.__version__


def test_a_link_is_a_scan_note(home: HomeFactory) -> None:
    h = home("linux-healthy")
    (h / "site" / "deployments" / "elsewhere").symlink_to("/etc")
    snap = kudu_state.scan(h)
    notes = [n for n in snap.notes if n.path == "site/deployments/elsewhere"]
    assert len(notes) == 1 and isinstance(notes[0], kudu_state.ScanNote)
    assert notes[0].kind is kudu_state.NoteKind.SYMLINK
    assert notes[0].detail
    assert notes[0].to_dict() == snap.to_dict()["notes"][0]
    assert repr(notes[0]) == "ScanNote(path='site/deployments/elsewhere', kind=NoteKind.SYMLINK)"


def test_enum_values_are_the_json_names() -> None:
    d = kudu_state.diagnose(EXAMPLES / "linux-stuck", now=ACQUIRED)
    data = d.to_dict()
    assert d.verdict.value == data["verdict"] and d.platform.value == data["platform"]
    assert [f.severity.value for f in d.findings] == [f["severity"] for f in data["findings"]]
    assert [f.code for f in d.findings] == [f["code"] for f in data["findings"]]
