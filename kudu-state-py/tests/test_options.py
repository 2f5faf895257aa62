"""Options are the core's: the same names as in the Node package and the command, checked by the core."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import pytest

import kudu_state
from kudu_state import InvalidInputError, Verdict

from conftest import EXAMPLES, HomeFactory

HOME = EXAMPLES / "linux-healthy"
NOW = dt.datetime(2024, 9, 4, 10, 0, tzinfo=dt.timezone.utc)

READERS: dict[str, Callable[..., Any]] = {
    "diagnose": lambda **kw: kudu_state.diagnose(HOME, now=NOW, **kw),
    "plan": lambda **kw: kudu_state.plan(HOME, now=NOW, **kw),
    "wait_idle": lambda **kw: kudu_state.wait_idle(HOME, timeout=0, **kw),
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("minutes", [0, 1441, -1, 2**40])
def test_stall_minutes_out_of_range_is_invalid_input(reader: str, minutes: int) -> None:
    with pytest.raises(InvalidInputError, match="stall") as info:
        READERS[reader](stall_minutes=minutes)
    assert info.value.code == "INVALID_INPUT"
    assert info.value.path is None


def test_the_core_says_what_the_stall_window_may_be() -> None:
    with pytest.raises(InvalidInputError, match="the stall window must be 1 to 1440 minutes, not 0"):
        kudu_state.diagnose(HOME, stall_minutes=0)
    assert kudu_state.diagnose(HOME, now=NOW, stall_minutes=1).verdict == Verdict.IDLE
    assert kudu_state.diagnose(HOME, now=NOW, stall_minutes=1440).verdict == Verdict.IDLE


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("tail", [0, 1023, 16 * 1024 * 1024 + 1, -5])
def test_log_tail_bytes_out_of_range_is_invalid_input(reader: str, tail: int) -> None:
    with pytest.raises(InvalidInputError, match="log_tail_bytes|log tail") as info:
        READERS[reader](log_tail_bytes=tail)
    assert info.value.code == "INVALID_INPUT"
    with pytest.raises(InvalidInputError):
        kudu_state.scan(HOME, log_tail_bytes=tail)


def test_log_tail_bytes_in_range(home: HomeFactory) -> None:
    h = home("linux-stuck")
    for tail in (1024, 16 * 1024 * 1024, None):
        assert kudu_state.scan(h, log_tail_bytes=tail).home == h
        assert kudu_state.diagnose(h, now=NOW, log_tail_bytes=tail).verdict == Verdict.BROKEN


@pytest.mark.parametrize("status", [0, 99, 600, 1000, -1, 70000])
def test_explain_refuses_what_is_not_an_http_status(status: int) -> None:
    with pytest.raises(InvalidInputError, match="status") as info:
        kudu_state.explain("There is a deployment currently in progress.", status=status)
    assert info.value.code == "INVALID_INPUT"


def test_explain_status_range() -> None:
    with pytest.raises(InvalidInputError, match="1000 is not an HTTP status"):
        kudu_state.explain("x", 1000)
    assert kudu_state.explain("x", 100).status == 100
    assert kudu_state.explain("x", 599).status == 599
    assert kudu_state.explain("x", None).status is None


def test_option_types_are_checked() -> None:
    with pytest.raises(TypeError):
        kudu_state.diagnose(HOME, stall_minutes=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        kudu_state.explain("x", "409")  # type: ignore[arg-type]
