"""plan, apply, undo: the round trip on a real home, and every error they raise."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from pathlib import Path

import pytest

import kudu_state
from kudu_state import Action, Plan, Risk, StepOutcome, Verdict

from conftest import ACQUIRED, HomeFactory, tree_bytes

LATER = dt.datetime(2024, 9, 5, 10, 0, tzinfo=dt.timezone.utc)


def test_plan_apply_diagnose_undo_restores_bytes(home: HomeFactory) -> None:
    h = home("linux-stuck")
    before = tree_bytes(h)

    plan = kudu_state.plan(h, now=LATER)
    assert isinstance(plan, Plan)
    assert plan.home == h and plan.verdict == Verdict.BROKEN
    assert plan.created == LATER
    assert [s.action for s in plan.steps] == [Action.REPAIR_ACTIVE, Action.REMOVE_CORRUPT_LOCK]
    assert len(plan) == 2 and not plan.is_empty() and plan.changes_files()
    step = plan.steps[0]
    assert step.target == "site/deployments/active"
    assert step.finding == "active-malformed"
    assert isinstance(step.risk, Risk) and step.reason and not step.is_advisory
    assert step.to_dict()["action"] == "repair-active"
    assert tree_bytes(h) == before, "planning changes nothing"

    report = kudu_state.apply(plan, yes=True)
    assert report.backup is not None and report.backup.is_dir()
    assert report.resumed is False
    assert [s.outcome for s in report.steps] == [StepOutcome.APPLIED, StepOutcome.APPLIED]
    assert report.steps[1].action == Action.REMOVE_CORRUPT_LOCK
    assert report.steps[1].target == "site/locks/deployment"
    assert json.loads(report.to_json()) == report.to_dict()
    assert tree_bytes(h) != before

    after = kudu_state.diagnose(h)
    assert after.verdict == Verdict.IDLE and after.safe_to_deploy

    undone = kudu_state.undo(report.backup)
    assert undone.backup == report.backup
    assert sorted(undone.restored) == ["site/deployments/active", "site/locks/deployment"]
    assert undone.already_undone is False
    assert tree_bytes(h) == before
    assert kudu_state.undo(str(report.backup)).already_undone is True
    assert "UndoReport(" in repr(undone)


def test_apply_into_a_chosen_backup_dir(home: HomeFactory) -> None:
    h = home("linux-expired-lock")
    plan = kudu_state.plan(h, now=LATER)
    assert [s.action for s in plan.steps] == [Action.REMOVE_EXPIRED_LOCK]
    report = kudu_state.apply(plan, h / "my-backups", yes=True)
    assert report.backup is not None
    assert report.backup.parent == h / "my-backups"
    assert not (h / "site" / "locks" / "deployment").exists()


def test_apply_requires_yes(home: HomeFactory) -> None:
    h = home("linux-stuck")
    before = tree_bytes(h)
    plan = kudu_state.plan(h, now=LATER)
    with pytest.raises(kudu_state.InvalidInputError, match="yes=True") as info:
        kudu_state.apply(plan, yes=False)
    assert info.value.code == "INVALID_INPUT"
    assert isinstance(info.value, kudu_state.KuduStateError)
    with pytest.raises(TypeError):
        kudu_state.apply(plan)  # type: ignore[call-arg]
    assert tree_bytes(h) == before


def test_plan_json_round_trip(home: HomeFactory) -> None:
    plan = kudu_state.plan(home("linux-stuck"), now=LATER)
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.id == plan.id
    assert json.loads(plan.to_json()) == plan.to_dict()
    assert plan.to_dict()["created"] == "2024-09-05T10:00:00Z"


def test_plan_from_bad_json_is_invalid_input() -> None:
    with pytest.raises(kudu_state.InvalidInputError) as info:
        Plan.from_json("{}")
    assert info.value.code == "INVALID_INPUT"


def test_live_lock_plan_only_waits(home: HomeFactory) -> None:
    from conftest import write_linux_lock

    h = home("linux-healthy")
    expiry = write_linux_lock(h)
    plan = kudu_state.plan(h, now=ACQUIRED + dt.timedelta(minutes=5))
    assert [s.action for s in plan.steps] == [Action.WAIT]
    assert plan.steps[0].until == expiry and plan.steps[0].is_advisory
    assert not plan.changes_files()
    assert plan.verdict == Verdict.DEPLOYING


def test_precondition_failed_when_the_disk_changed(home: HomeFactory) -> None:
    h = home("linux-stuck")
    plan = kudu_state.plan(h, now=LATER)
    active = h / "site" / "deployments" / "active"
    active.write_bytes(b"0123456789abcdef0123456789abcdef")  # Kudu wrote a new id meanwhile
    with pytest.raises(kudu_state.PreconditionFailedError) as info:
        kudu_state.apply(plan, yes=True)
    assert info.value.code == "PRECONDITION_FAILED"
    assert info.value.path == active
    assert active.read_bytes() == b"0123456789abcdef0123456789abcdef"


def test_undo_conflict_when_a_file_changed_since_apply(home: HomeFactory) -> None:
    h = home("linux-stuck")
    report = kudu_state.apply(kudu_state.plan(h, now=LATER), yes=True)
    assert report.backup is not None
    active = h / "site" / "deployments" / "active"
    active.write_bytes(b"0123456789abcdef0123456789abcdef")
    with pytest.raises(kudu_state.UndoConflictError) as info:
        kudu_state.undo(report.backup)
    assert info.value.code == "UNDO_CONFLICT"
    assert info.value.path == active
    assert active.read_bytes() == b"0123456789abcdef0123456789abcdef", "nothing was overwritten"


def test_protected_path_in_a_hand_edited_plan(home: HomeFactory) -> None:
    h = home("linux-stuck")
    data = kudu_state.plan(h, now=LATER).to_dict()
    move = next(s for s in data["steps"] if s["action"] == "remove-corrupt-lock")
    move["ops"] = [{"op": "move", "path": "site/deployments/pending"}]
    data["steps"] = [move]
    with pytest.raises(kudu_state.ProtectedPathError) as info:
        kudu_state.apply(Plan.from_json(json.dumps(data)), yes=True)
    assert info.value.code == "PROTECTED_PATH"
    assert info.value.path == h / "site" / "deployments" / "pending"
    assert (h / "site" / "deployments" / "pending").exists()


def test_apply_locked_while_another_apply_holds_the_home(home: HomeFactory) -> None:
    h = home("linux-stuck")
    plan = kudu_state.plan(h, now=LATER)
    lock_path = h / "data" / "kudu-state" / "apply.lock"
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(kudu_state.ApplyLockedError) as info:
            kudu_state.apply(plan, yes=True)
    assert info.value.code == "APPLY_LOCKED"
    assert info.value.path == lock_path
