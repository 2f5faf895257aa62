"""Remote repair: plan, apply and undo of a site over Kudu's REST API (the `kudu-emulator` binary on
127.0.0.1), on a Linux and a Windows home with an orphaned record; what the core refuses; no secret
anywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import kudu_state
from kudu_state import (
    Action,
    Credentials,
    HeldOpenError,
    HomeError,
    InvalidInputError,
    KuduStateError,
    Plan,
    PlanSite,
    Precondition,
    PreconditionFailedError,
    StepOutcome,
    TargetKind,
    Verdict,
)

from conftest import PASSWORD, USER, HomeFactory, Site, SiteFactory, set_mtime, tree_bytes, write_record

NOW = dt.datetime(2024, 9, 4, 10, 0, tzinfo=dt.timezone.utc)
#: The orphaned record: Building, not complete, nothing touched it for three hours, no lock.
STUCK_ID = "3f786850e387550fdab836ed7e6dc881de23001b"
PLATFORMS = ["linux", "windows"]
#: Two Windows instances; the first one's Kudu holds the lock in the restart test.
HOLDER = "a1b2c3" + "0" * 58
OTHER = "ffffff" + "0" * 58


def basic() -> Credentials:
    return Credentials.basic(USER, PASSWORD)


def orphaned(home: HomeFactory, serve: SiteFactory, platform: str) -> Site:
    """The platform's healthy example plus an orphaned record, served by the emulator."""
    example = f"{platform}-healthy"
    h = home(example)
    status = write_record(h, STUCK_ID, "Building", False, progress="Building the app", template_home=example)
    for path in (status, status.parent):
        set_mtime(path, NOW - dt.timedelta(hours=3))
    return serve(h, platform)


def site_kw(site: Site) -> dict[str, Any]:
    return {"remote": site.url, "credentials": basic()}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory of the test: where a site's backups go by default."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_remote_plan_has_steps_and_names_the_site(platform: str, home: HomeFactory, serve: SiteFactory) -> None:
    site = orphaned(home, serve, platform)
    before = tree_bytes(site.home)
    plan = kudu_state.plan(**site_kw(site), now=NOW)
    assert isinstance(plan, Plan)
    assert plan.home == site.url and isinstance(plan.home, str)
    assert isinstance(plan.site, PlanSite) and plan.site.url == site.url
    assert plan.site.instance  # the instance that answered, which requests then stay on
    assert plan.verdict == Verdict.STUCK and plan.created == NOW
    assert plan.changes_files() and len(plan) >= 1
    step = plan.steps[0]
    assert step.action == Action.FAIL_ORPHANED_RECORD
    assert step.target == f"site/deployments/{STUCK_ID}"
    assert step.finding == "deployment-orphaned" and not step.is_advisory
    assert isinstance(step.precondition, Precondition) and step.precondition.kind == TargetKind.DIR
    assert step.ops and {op["op"] for op in step.ops} <= {"create", "write", "append", "touch-active"}
    data = json.loads(plan.to_json())
    assert data["home"] == site.url and data["site"] == plan.site.to_dict()
    assert data["steps"][0]["ops"] == step.ops
    assert Plan.from_json(plan.to_json()) == plan
    assert tree_bytes(site.home) == before, "planning changes nothing"
    # Without `now`, the site's own clock.
    clocked = kudu_state.plan(**site_kw(site))
    assert abs(clocked.created - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    assert [s.action for s in clocked.steps] == [s.action for s in plan.steps]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_apply_changes_the_site_then_undo_puts_every_byte_back(
    platform: str, home: HomeFactory, serve: SiteFactory, work: Path
) -> None:
    site = orphaned(home, serve, platform)
    before = tree_bytes(site.home)
    plan = kudu_state.plan(**site_kw(site), now=NOW)

    report = kudu_state.apply(plan, yes=True, **site_kw(site))
    assert [s.outcome for s in report.steps] == [StepOutcome.APPLIED] * len(plan)
    assert report.backup is not None and report.backup.is_dir()
    # The backup is on this machine: the core's default, ./kudu-state-backups/<host>.
    assert report.backup.parent == work / "kudu-state-backups" / "127.0.0.1"
    assert (report.backup / "journal.jsonl").is_file()
    after = tree_bytes(site.home)
    assert after != before
    status = after[f"site/deployments/{STUCK_ID}/status.xml"]
    assert status is not None and b"<status>Failed</status>" in status
    assert kudu_state.diagnose(**site_kw(site)).verdict == Verdict.IDLE
    # Applying the same plan again changes nothing.
    again = kudu_state.apply(plan, yes=True, **site_kw(site))
    assert all(s.outcome == StepOutcome.ALREADY_DONE for s in again.steps), again
    assert tree_bytes(site.home) == after

    undone = kudu_state.undo(report.backup, **site_kw(site))
    assert tree_bytes(site.home) == before, "every file's bytes are back"
    assert undone.backup == report.backup and not undone.already_undone
    assert undone.restored
    # VFS cannot set a file's time: the files it rewrote are back with the time of the write.
    assert undone.times_not_restored and set(undone.times_not_restored) <= set(undone.restored)
    assert undone.irreversible == []
    assert json.loads(undone.to_json())["times_not_restored"] == undone.times_not_restored
    assert kudu_state.undo(report.backup, **site_kw(site)).already_undone


def test_apply_into_a_chosen_backup_dir(home: HomeFactory, serve: SiteFactory, tmp_path: Path) -> None:
    site = orphaned(home, serve, "linux")
    report = kudu_state.apply(kudu_state.plan(**site_kw(site), now=NOW), tmp_path / "mine", yes=True, **site_kw(site))
    assert report.backup is not None and report.backup.parent == tmp_path / "mine"
    assert kudu_state.undo(str(report.backup), **site_kw(site)).restored


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_file_changed_since_the_plan_is_precondition_failed(
    platform: str, home: HomeFactory, serve: SiteFactory, work: Path
) -> None:
    site = orphaned(home, serve, platform)
    plan = kudu_state.plan(**site_kw(site), now=NOW)
    # The deployment wrote its log meanwhile.
    log = site.home / "site" / "deployments" / STUCK_ID / "log.log"
    log.write_bytes(b"2024-09-04T09:59:00.0000000Z,Still building.,0000,0\n")
    changed = tree_bytes(site.home)
    with pytest.raises(PreconditionFailedError) as info:
        kudu_state.apply(plan, yes=True, **site_kw(site))
    e = info.value
    assert e.code == "PRECONDITION_FAILED" and isinstance(e, KuduStateError)
    assert e.path is not None and STUCK_ID in str(e.path)
    assert tree_bytes(site.home) == changed, "nothing was touched"


def test_a_sites_plan_or_backup_without_the_site_is_the_cores_refusal(
    home: HomeFactory, serve: SiteFactory, work: Path
) -> None:
    site = orphaned(home, serve, "windows")
    before = tree_bytes(site.home)
    plan = kudu_state.plan(**site_kw(site), now=NOW)
    with pytest.raises(HomeError, match="made for the site") as info:
        kudu_state.apply(plan, yes=True)
    assert info.value.code == "HOME_MISMATCH"
    assert tree_bytes(site.home) == before
    # The same plan read back from its JSON, as a stored plan is.
    with pytest.raises(HomeError, match="made for the site"):
        kudu_state.apply(Plan.from_json(plan.to_json()), yes=True)
    report = kudu_state.apply(plan, yes=True, **site_kw(site))
    assert report.backup is not None
    with pytest.raises(HomeError, match="backup is of the site"):
        kudu_state.undo(report.backup)
    # A plan (and a backup) of another site, and a home's plan on a site: HOME_MISMATCH.
    other = orphaned(home, serve, "linux")
    with pytest.raises(HomeError) as mismatch:
        kudu_state.apply(plan, yes=True, **site_kw(other))
    assert mismatch.value.code == "HOME_MISMATCH"
    with pytest.raises(HomeError) as mismatch:
        kudu_state.undo(report.backup, **site_kw(other))
    assert mismatch.value.code == "HOME_MISMATCH"
    local = kudu_state.plan(other.home, now=NOW)
    with pytest.raises(HomeError) as mismatch:
        kudu_state.apply(local, yes=True, **site_kw(other))
    assert mismatch.value.code == "HOME_MISMATCH"
    # Site-only arguments without a site, and a home and a site together.
    with pytest.raises(InvalidInputError, match="credentials= is for a remote site"):
        kudu_state.apply(plan, yes=True, credentials=basic())
    with pytest.raises(InvalidInputError, match="give one or the other"):
        kudu_state.plan(other.home, remote=other.url, credentials=basic())
    with pytest.raises(InvalidInputError, match="yes=True"):
        kudu_state.apply(plan, yes=False, **site_kw(site))


def windows_lock_held(home: HomeFactory, serve: SiteFactory) -> Site:
    """A Windows site whose `deployments.lock` Kudu on HOLDER holds open for a deployment that
    stalled two hours ago."""
    h = home("windows-healthy")
    lock = h / "site" / "locks" / "deployments.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(
        b'{\r\n  "OperationName": "Performing deployment",\r\n'
        b'  "AcquiredDateTime": "2024-09-04T08:00:00.0000000Z",\r\n'
        b'  "StackTrace": "   at Kudu.Core.Infrastructure.LockFile.TryLockOperation()",\r\n'
        b'  "InstanceId": "a1b2c3"\r\n}'
    )
    set_mtime(lock, NOW - dt.timedelta(hours=2))
    return serve(h, "windows", instances=[HOLDER, OTHER], hold=(f"site/locks/deployments.lock@{HOLDER}",))


def test_restart_kudu_only_when_asked_and_it_cannot_be_undone(
    home: HomeFactory, serve: SiteFactory, work: Path
) -> None:
    site = windows_lock_held(home, serve)
    advice = kudu_state.plan(**site_kw(site), instance=HOLDER, now=NOW)
    step = next(s for s in advice.steps if s.action == Action.RESTART_SCM)
    assert step.is_advisory and step.ops == [] and step.precondition is None
    plan = kudu_state.plan(**site_kw(site), instance=HOLDER, now=NOW, allow_scm_restart=True)
    assert plan.site is not None and plan.site.instance == HOLDER
    step = next(s for s in plan.steps if s.action == Action.RESTART_SCM)
    assert not step.is_advisory
    assert step.ops == [
        {"op": "restart-kudu", "instance": HOLDER, "lock": "site/locks/deployments.lock", "stalled": []}
    ]
    assert step.precondition is not None and step.precondition.kind == TargetKind.FILE
    assert step.precondition.etag, "a plan over the API records the file's ETag"
    report = kudu_state.apply(plan, yes=True, **site_kw(site))
    assert report.backup is not None
    assert [s.outcome for s in report.steps if s.action == Action.RESTART_SCM] == [StepOutcome.APPLIED]
    undone = kudu_state.undo(report.backup, **site_kw(site))
    assert len(undone.irreversible) == 1 and HOLDER in undone.irreversible[0]


def test_a_file_kudu_holds_open_is_held_open_error(home: HomeFactory, serve: SiteFactory, work: Path) -> None:
    h = home("windows-healthy")
    folder = h / "site" / "deployments" / STUCK_ID  # a folder without status.xml: moved away
    folder.mkdir()
    (folder / "manifest").write_bytes(b"m")
    for path in (folder / "manifest", folder):
        set_mtime(path, NOW - dt.timedelta(hours=3))
    site = serve(h, "windows", hold=(f"site/deployments/{STUCK_ID}/manifest",))
    plan = kudu_state.plan(**site_kw(site), now=NOW)
    assert [s.action for s in plan.steps] == [Action.REMOVE_FOLDER_WITHOUT_STATUS]
    assert plan.steps[0].ops == [{"op": "move", "path": f"site/deployments/{STUCK_ID}"}]
    before = tree_bytes(h)
    with pytest.raises(HeldOpenError) as info:
        kudu_state.apply(plan, yes=True, **site_kw(site))
    e = info.value
    assert isinstance(e, KuduStateError) and e.code == "HELD_OPEN"
    assert e.path == Path(f"site/deployments/{STUCK_ID}/manifest")
    assert e.url is not None and e.url.startswith(site.url + "/api/vfs/")
    assert "held open" in str(e)
    assert tree_bytes(h) == before, "what was removed was put back"


def test_no_secret_in_any_repair_output(home: HomeFactory, serve: SiteFactory, work: Path) -> None:
    site = orphaned(home, serve, "linux")
    plan = kudu_state.plan(**site_kw(site), now=NOW)
    report = kudu_state.apply(plan, yes=True, **site_kw(site))
    backup = report.backup
    assert backup is not None
    shown: list[str] = []
    wrong = Credentials.basic(USER, "SECRET-wrong-7c")
    for call in (
        lambda: kudu_state.plan(remote=site.url, credentials=wrong),
        lambda: kudu_state.apply(plan, yes=True, remote=site.url, credentials=wrong),
        lambda: kudu_state.undo(backup, remote=site.url, credentials=wrong),
    ):
        with pytest.raises(KuduStateError) as info:
            call()
        assert info.value.code == "AUTH_FAILED"
        shown += [str(info.value), repr(info.value), str(info.value.args)]
    undone = kudu_state.undo(backup, **site_kw(site))
    values: list[Any] = [plan, plan.site, *plan.steps, *[s.precondition for s in plan.steps], report, *report.steps, undone]
    for value in values:
        shown += [repr(value), str(value), value.to_json(), json.dumps(value.to_dict(), default=str)]
    # The backup folder (plan.json, the journal, the copies) is on this machine, under `work`.
    for path in sorted(work.rglob("*")):
        if path.is_file():
            shown.append(path.read_text(encoding="utf-8", errors="replace"))
    text = "\n".join(shown)
    assert site.url in text
    assert "SECRET" not in text
