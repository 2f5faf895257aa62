"""explain a 409 body; wait_idle with its callback, timeouts and the GIL released."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest

import kudu_state
from kudu_state import ConflictKind, Diagnosis, Verdict

from conftest import EXAMPLES

LOCK_CONFLICT = (
    "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' "
    "operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later."
)


def test_explain_lock_conflict() -> None:
    x = kudu_state.explain(LOCK_CONFLICT)
    assert x.kind == ConflictKind.LOCK_CONFLICT
    assert x.retryable is True
    assert x.requested_operation == "Preparing zip package"
    assert x.holder_operation == "Performing continuous deployment"
    assert x.started_at == dt.datetime(2024, 9, 4, 10, 33, 18, 123456, tzinfo=dt.timezone.utc)
    assert x.started_at_text == "2024-09-04T10:33:18.1234567Z"
    assert x.status == 409
    assert x.body == LOCK_CONFLICT
    assert x.advice
    data = json.loads(x.to_json())
    assert data == x.to_dict()
    assert data["kind"] == "lock-conflict"
    assert repr(x) == (
        "Explanation(kind=ConflictKind.LOCK_CONFLICT, retryable=True, "
        "holder_operation='Performing continuous deployment')"
    )
    assert x == kudu_state.explain(LOCK_CONFLICT)


def test_explain_unknown_and_status() -> None:
    x = kudu_state.explain("hello", status=None)
    assert x.kind == ConflictKind.UNKNOWN and x.retryable is False and x.status is None
    assert kudu_state.explain("", status=500).status == 500


def test_wait_idle_on_an_idle_home_returns_at_once() -> None:
    out = kudu_state.wait_idle(EXAMPLES / "linux-healthy", timeout=dt.timedelta(seconds=5))
    assert out.idle is True and bool(out)
    assert isinstance(out.waited, dt.timedelta) and out.waited < dt.timedelta(seconds=5)
    assert out.diagnosis.verdict == Verdict.IDLE
    assert json.loads(out.to_json())["idle"] is True
    assert out.to_dict()["diagnosis"] == out.diagnosis.to_dict()
    assert repr(out).startswith("WaitOutcome(idle=True, waited=datetime.timedelta(")


def test_wait_idle_times_out_and_reports_progress() -> None:
    seen: list[tuple[Diagnosis, float]] = []

    def progress(d: Diagnosis, waited: float) -> None:
        seen.append((d, waited))

    out = kudu_state.wait_idle(EXAMPLES / "linux-stuck", timeout=0.3, poll=0.05, on_progress=progress)
    assert out.idle is False and not out
    assert out.waited >= dt.timedelta(seconds=0.3)
    assert out.diagnosis.verdict == Verdict.BROKEN
    assert len(seen) >= 2
    assert all(isinstance(d, Diagnosis) and isinstance(w, float) for d, w in seen)
    assert [w for _, w in seen] == sorted(w for _, w in seen)


def test_on_progress_returning_false_stops() -> None:
    calls: list[float] = []

    def stop(_d: Diagnosis, waited: float) -> bool:
        calls.append(waited)
        return False

    out = kudu_state.wait_idle(EXAMPLES / "linux-stuck", timeout=60, poll=0.01, on_progress=stop)
    assert out.idle is False and len(calls) == 1


def test_on_progress_exception_propagates() -> None:
    def boom(_d: Diagnosis, _w: float) -> bool:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        kudu_state.wait_idle(EXAMPLES / "linux-stuck", timeout=60, poll=0.01, on_progress=boom)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), dt.timedelta(seconds=-1)])
def test_bad_durations_are_invalid_input(bad: float | dt.timedelta) -> None:
    with pytest.raises(kudu_state.InvalidInputError) as info:
        kudu_state.wait_idle(EXAMPLES / "linux-healthy", timeout=bad)
    assert info.value.code == "INVALID_INPUT"


def test_duration_type_is_checked() -> None:
    with pytest.raises(TypeError):
        kudu_state.wait_idle(EXAMPLES / "linux-healthy", timeout="5m")  # type: ignore[arg-type]


def test_the_gil_is_released_while_waiting(tmp_path: Path) -> None:
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.005)

    t = threading.Thread(target=count)
    t.start()
    try:
        start = ticks
        kudu_state.wait_idle(EXAMPLES / "linux-stuck", timeout=0.4, poll=0.4)
        during = ticks - start
    finally:
        done.set()
        t.join()
    assert during >= 10, f"the other thread only ran {during} times while waiting"
