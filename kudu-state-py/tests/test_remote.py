"""Remote mode: diagnose, explain, wait_idle and track of a site over Kudu's REST API (the `kudu-emulator`
binary on 127.0.0.1), with credentials given in code or from the environment; secrets never shown."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from pathlib import Path
from typing import Any, Callable

import pytest

import kudu_state
from kudu_state import (
    AuthFailedError,
    Credentials,
    CredentialsError,
    Diagnosis,
    InvalidInputError,
    KuduStateError,
    RemoteError,
    SiteNotFoundError,
    TrackEnd,
    TrackState,
    Verdict,
)

from conftest import PASSWORD, TOKEN, USER, HomeFactory, SiteFactory, platform_of, write_record, write_linux_lock

NOW = dt.datetime(2024, 9, 4, 10, 0, tzinfo=dt.timezone.utc)
EXAMPLE_HOMES = ["linux-healthy", "linux-expired-lock", "linux-stuck", "windows-healthy", "windows-corrupt-status"]
NEW_ID = "3f786850e387550fdab836ed7e6dc881de23001b"


def basic() -> Credentials:
    return Credentials.basic(USER, PASSWORD)


def without_home(d: Diagnosis) -> dict[str, Any]:
    data = d.to_dict()
    data.pop("home")
    return data


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No credential source in the environment (and no `az` on PATH)."""
    for name in [
        "KUDU_STATE_USERNAME",
        "KUDU_STATE_PASSWORD",
        "KUDU_STATE_TOKEN",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    ]:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return monkeypatch


# --- diagnose ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLE_HOMES)
def test_remote_diagnosis_is_the_local_one(example: str, home: HomeFactory, serve: SiteFactory) -> None:
    h = home(example)
    site = serve(h, platform_of(example))
    local = kudu_state.diagnose(h, now=NOW)
    remote = kudu_state.diagnose(remote=site.url, credentials=basic(), now=NOW)
    assert remote.home == site.url and isinstance(remote.home, str)
    assert isinstance(local.home, Path)
    assert without_home(remote) == without_home(local)
    assert remote.to_dict()["home"] == site.url
    assert remote.verdict == local.verdict
    # The same options as for a home, checked the same way.
    again = kudu_state.diagnose(remote=site.url, credentials=basic(), now=NOW, stall_minutes=1440, max_in_flight=1)
    assert again.verdict == kudu_state.diagnose(h, now=NOW, stall_minutes=1440).verdict


def test_without_now_a_site_is_judged_by_its_own_clock(home: HomeFactory, serve: SiteFactory) -> None:
    site = serve(home("linux-healthy"))
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    d = kudu_state.diagnose(remote=site.url, credentials=basic())
    assert d.verdict == Verdict.IDLE
    assert before <= d.now <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)


def test_credentials_from_the_environment(home: HomeFactory, serve: SiteFactory, clean_env: pytest.MonkeyPatch) -> None:
    site = serve(home("linux-healthy"))
    with pytest.raises(CredentialsError) as info:
        kudu_state.diagnose(remote=site.url, now=NOW)
    assert info.value.code == "NO_CREDENTIALS"
    assert "KUDU_STATE_USERNAME" in str(info.value)
    clean_env.setenv("KUDU_STATE_USERNAME", USER)
    clean_env.setenv("KUDU_STATE_PASSWORD", PASSWORD)
    assert kudu_state.diagnose(remote=site.url, now=NOW).verdict == Verdict.IDLE
    # Given credentials win over the environment's, and are never replaced by them.
    with pytest.raises(AuthFailedError):
        kudu_state.diagnose(remote=site.url, now=NOW, credentials=Credentials.basic(USER, "SECRET-wrong"))


def test_a_token(home: HomeFactory, serve: SiteFactory) -> None:
    site = serve(home("windows-healthy"), "windows", token=True)
    for token in (TOKEN, f"Bearer {TOKEN}"):
        d = kudu_state.diagnose(remote=site.url, credentials=Credentials.token(token), now=NOW)
        assert d.verdict == Verdict.IDLE


def test_app_and_resource_group_through_arm(home: HomeFactory, serve: SiteFactory) -> None:
    site = serve(home("linux-healthy"), token=True)
    info = site.info
    d = kudu_state.diagnose(
        app=info["app"],
        resource_group=info["resource_group"],
        subscription=info["subscription"],
        arm_endpoint=site.url,
        credentials=Credentials.token(TOKEN),
        now=NOW,
    )
    assert d.home == site.url and d.verdict == Verdict.IDLE
    with pytest.raises(SiteNotFoundError) as info_err:
        kudu_state.diagnose(
            app=info["app"],
            resource_group=info["resource_group"],
            subscription=info["subscription"],
            slot="nope",
            arm_endpoint=site.url,
            credentials=Credentials.token(TOKEN),
        )
    assert info_err.value.code == "SITE_NOT_FOUND" and info_err.value.url


# --- errors -----------------------------------------------------------------------------------------


def test_a_wrong_password_is_auth_failed_with_the_url_and_no_secret(home: HomeFactory, serve: SiteFactory) -> None:
    site = serve(home("linux-healthy"))
    wrong = Credentials.basic(USER, "SECRET-wrong-9f")
    with pytest.raises(AuthFailedError) as info:
        kudu_state.diagnose(remote=site.url, credentials=wrong)
    e = info.value
    assert isinstance(e, RemoteError) and isinstance(e, KuduStateError)
    assert e.code == "AUTH_FAILED"
    assert e.status == 401
    assert e.url is not None and e.url.startswith(site.url + "/api/vfs/")
    assert e.path is None
    assert "the credentials came from the `credentials` given in code" in str(e)
    shown = f"{e} {e!r} {e.args} {e.url}"
    assert "SECRET" not in shown, shown
    # The same for a token, wait_idle, explain and track.
    calls: list[Callable[[], object]] = [
        lambda: kudu_state.diagnose(remote=site.url, credentials=Credentials.token("SECRET-bad-token")),
        lambda: kudu_state.wait_idle(remote=site.url, credentials=wrong, timeout=0),
        lambda: kudu_state.explain("x", remote=site.url, credentials=wrong),
        lambda: kudu_state.track(NEW_ID, remote=site.url, credentials=wrong, timeout=0),
    ]
    for call in calls:
        with pytest.raises(AuthFailedError) as info:
            call()
        assert info.value.url is not None and info.value.url.startswith(site.url)
        assert "SECRET" not in f"{info.value} {info.value!r}"


def test_a_site_url_off_loopback_over_http_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(RemoteError) as info:
        kudu_state.diagnose(remote="http://example.com", credentials=basic())
    assert info.value.code == "URL_REFUSED"
    assert info.value.url == "http://example.com"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"home": "SITE", "remote": "URL"}, "give one or the other"),
        ({}, "give a home"),
        ({"home": "SITE", "credentials": "CREDENTIALS"}, "credentials= is for a remote site"),
        ({"home": "SITE", "max_in_flight": 4}, "max_in_flight= is for a remote site"),
        ({"home": "SITE", "instance": "i0"}, "instance= is for a remote site"),
        ({"remote": "URL", "app": "a", "resource_group": "rg"}, "either remote= or app="),
        ({"app": "a"}, "app= needs resource_group="),
        ({"remote": "URL", "slot": "staging"}, "slot= is only for app="),
        ({"remote": "URL", "max_in_flight": 0}, "1 to 16, not 0"),
        ({"remote": "URL", "max_in_flight": 17}, "1 to 16, not 17"),
    ],
)
def test_conflicting_arguments_are_invalid_input(
    kwargs: dict[str, Any], message: str, home: HomeFactory, serve: SiteFactory
) -> None:
    h = home("linux-healthy")
    site = serve(h)
    values: dict[str, Any] = {"SITE": h, "URL": site.url, "CREDENTIALS": basic()}
    kw: dict[str, Any] = {k: values.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(InvalidInputError, match=message) as info:
        kudu_state.diagnose(**kw)
    assert info.value.code == "INVALID_INPUT"
    with pytest.raises(InvalidInputError, match=message):
        kudu_state.wait_idle(**kw, timeout=0)
    with pytest.raises(InvalidInputError, match=message):
        kudu_state.track(NEW_ID, **kw, timeout=0)
    if "home" in kw or not kw:
        return
    with pytest.raises(InvalidInputError, match=message):
        kudu_state.explain("x", **kw)


# --- Credentials ------------------------------------------------------------------------------------


def test_credentials_never_show_their_secret() -> None:
    b = Credentials.basic(USER, PASSWORD)
    t = Credentials.token(TOKEN)
    assert (b.scheme, b.user) == ("Basic", USER)
    assert (t.scheme, t.user) == ("Bearer", None)
    assert b.to_dict() == {"scheme": "Basic", "user": USER}
    assert t.to_dict() == {"scheme": "Bearer", "user": None}
    assert repr(b) == "Credentials(scheme='Basic', user='$emulated-app', password=<hidden>)"
    assert repr(t) == "Credentials(scheme='Bearer', token=<hidden>)"
    assert str(t) == "a bearer token"
    for c in (b, t):
        shown = f"{c!r} {c} {json.dumps(c.to_dict())} {dir(c)} {vars(type(c))}"
        assert "SECRET" not in shown, shown
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(c)
        assert copy.copy(c) is c and copy.deepcopy(c) is c
        with pytest.raises(AttributeError):
            c.password  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Credentials.basic("", "x"),
        lambda: Credentials.basic("a:b", "x"),
        lambda: Credentials.basic("a\nb", "x"),
        lambda: Credentials.basic(USER, ""),
        lambda: Credentials.basic(USER, "   "),
        lambda: Credentials.token(""),
        lambda: Credentials.token("Bearer "),
        lambda: Credentials.token("SECRET-a b"),
        lambda: Credentials.token("SECRET-a\r\nX-Evil: 1"),
    ],
)
def test_unusable_credentials_are_invalid_input_without_the_secret(make: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        make()
    assert "SECRET" not in f"{info.value} {info.value!r}"


# --- explain ----------------------------------------------------------------------------------------


def test_explain_with_a_site_gives_its_diagnosis(home: HomeFactory, serve: SiteFactory) -> None:
    body = "There is a deployment currently in progress. Please try again when it completes."
    h = home("linux-healthy")
    site = serve(h)
    x = kudu_state.explain(body, remote=site.url, credentials=basic())
    assert x.diagnosis is not None
    assert x.diagnosis.home == site.url and x.diagnosis.verdict == Verdict.IDLE
    plain = kudu_state.explain(body)
    assert plain.diagnosis is None
    assert x.to_json() == plain.to_json()  # the explanation's JSON; the diagnosis has its own


# --- wait_idle --------------------------------------------------------------------------------------


def test_wait_idle_remote_returns_at_once_when_clear(home: HomeFactory, serve: SiteFactory) -> None:
    site = serve(home("linux-healthy"))
    out = kudu_state.wait_idle(remote=site.url, credentials=basic(), timeout=5)
    assert out.idle and out.diagnosis.home == site.url
    assert out.waited < dt.timedelta(seconds=5)


def test_wait_idle_remote_times_out_under_a_live_lock(home: HomeFactory, serve: SiteFactory) -> None:
    h = home("linux-healthy")
    # Taken just now by the site's clock (which judges): held for 25 minutes.
    write_linux_lock(h, acquired=dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    site = serve(h)
    seen: list[Diagnosis] = []

    def progress(d: Diagnosis, _waited: float) -> None:
        seen.append(d)

    out = kudu_state.wait_idle(remote=site.url, credentials=basic(), timeout=0.5, poll=0.1, on_progress=progress)
    assert not out.idle
    assert out.diagnosis.verdict == Verdict.DEPLOYING
    assert out.diagnosis.home == site.url
    assert len(seen) >= 2 and all(d.home == site.url for d in seen)
    assert json.loads(out.to_json())["diagnosis"]["home"] == site.url


# --- track ------------------------------------------------------------------------------------------


def targets(h: Path, site_url: str) -> list[dict[str, Any]]:
    """The same home, on disk and over the REST API."""
    return [{"home": h}, {"remote": site_url, "credentials": basic()}]


@pytest.mark.parametrize("where", ["home", "remote"])
@pytest.mark.parametrize("status, end", [("Success", TrackEnd.SUCCEEDED), ("Failed", TrackEnd.FAILED)])
def test_track_ends_with_the_record(
    where: str, status: str, end: TrackEnd, home: HomeFactory, serve: SiteFactory
) -> None:
    h = home("linux-healthy")
    write_record(h, NEW_ID, status, True)
    site = serve(h)
    kw = targets(h, site.url)[0 if where == "home" else 1]
    out = kudu_state.track(NEW_ID, **kw, timeout=5, poll=0.05)
    assert out.end == end and bool(out) == (end == TrackEnd.SUCCEEDED)
    assert out.last.found and out.last.complete and out.last.status == status
    data = out.to_dict()
    assert data["end"] == end.value and data["last"]["status"] == status
    assert data["last"] == out.last.to_dict()


@pytest.mark.parametrize("where", ["home", "remote"])
def test_track_follows_changes_until_success(where: str, home: HomeFactory, serve: SiteFactory) -> None:
    h = home("linux-healthy")
    write_record(h, NEW_ID, "Building", False, progress="Building the app")
    site = serve(h)
    kw = targets(h, site.url)[0 if where == "home" else 1]
    states: list[TrackState] = []

    def changed(state: TrackState, waited: float) -> None:
        states.append(state)
        if len(states) == 1:
            write_record(h, NEW_ID, "Success", True)

    out = kudu_state.track(NEW_ID, **kw, timeout=10, poll=0.05, on_change=changed)
    assert out.end == TrackEnd.SUCCEEDED
    assert [s.status for s in states] == ["Building", "Success"]
    assert states[0].progress == "Building the app" and not states[0].complete


@pytest.mark.parametrize("where", ["home", "remote"])
def test_track_times_out_when_nothing_changes_and_can_be_stopped(
    where: str, home: HomeFactory, serve: SiteFactory
) -> None:
    h = home("linux-healthy")
    write_record(h, NEW_ID, "Building", False)
    site = serve(h)
    kw = targets(h, site.url)[0 if where == "home" else 1]
    out = kudu_state.track("not-there", **kw, timeout=0.3, poll=0.05)
    assert out.end == TrackEnd.TIMED_OUT and not out
    assert out.last.found is False and out.last.status is None
    assert out.waited >= dt.timedelta(seconds=0.3)
    stopped = kudu_state.track(NEW_ID, **kw, timeout=60, poll=0.05, on_change=lambda _s, _w: False)
    assert stopped.end == TrackEnd.STOPPED and stopped.last.status == "Building"


def test_track_end_names_are_the_cores() -> None:
    assert [e.value for e in (TrackEnd.SUCCEEDED, TrackEnd.FAILED, TrackEnd.TIMED_OUT, TrackEnd.STOPPED)] == [
        "succeeded",
        "failed",
        "timed-out",
        "stopped",
    ]


def test_track_of_a_missing_home_and_a_bad_id(tmp_path: Path, home: HomeFactory) -> None:
    with pytest.raises(kudu_state.HomeError):
        kudu_state.track(NEW_ID, tmp_path / "nope", timeout=0)
    with pytest.raises(InvalidInputError):
        kudu_state.track("../escape", home("linux-healthy"), timeout=0)


# --- no secret anywhere -----------------------------------------------------------------------------


def test_no_secret_in_any_result(home: HomeFactory, serve: SiteFactory) -> None:
    h = home("linux-stuck")
    write_record(h, NEW_ID, "Failed", True)
    site = serve(h, token=True)
    shown: list[str] = []
    for credentials in (basic(), Credentials.token(TOKEN)):
        d = kudu_state.diagnose(remote=site.url, credentials=credentials)
        w = kudu_state.wait_idle(remote=site.url, credentials=credentials, timeout=0)
        x = kudu_state.explain("There is a deployment currently in progress.", remote=site.url, credentials=credentials)
        t = kudu_state.track(NEW_ID, remote=site.url, credentials=credentials, timeout=1, poll=0.05)
        values: list[Any] = [d, w, x, t, x.diagnosis, t.last, credentials]
        for value in values:
            shown += [repr(value), str(value), json.dumps(value.to_dict(), default=str)]
        shown += [d.to_json(), w.to_json(), x.to_json(), t.to_json()]
    text = "\n".join(shown)
    assert site.url in text
    assert "SECRET" not in text
