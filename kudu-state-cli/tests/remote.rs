//! The command against a site over Kudu's REST API: the emulator serves fixture homes on 127.0.0.1.
//! Remote diagnoses equal local ones, only VFS reads are sent, secrets never show.

mod common;
use common::files;
use std::process::{Command, Output};

use chrono::{DateTime, TimeDelta, Utc};
use kudu_emulator::{Auth, Emulator, Options};
use kudu_state::Platform;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};
use serde_json::Value;

const NOW: &str = "2024-09-04T10:00:00Z";
const USER: &str = "$emulated-app";
/// Every secret starts with this, so one search finds a leak.
const PASSWORD: &str = "SECRET-pw-91c2";
const OLD: &str = "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b";
const NEW: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .expect("t")
        .with_timezone(&Utc)
}

fn emu_platform(p: Platform) -> kudu_emulator::Platform {
    match p {
        Platform::Windows => kudu_emulator::Platform::Windows,
        Platform::Linux => kudu_emulator::Platform::Linux,
    }
}

fn serve(h: &HomeBuilder, tweak: impl FnOnce(Options) -> Options) -> Emulator {
    let options = Options {
        auth: Auth::basic(USER, PASSWORD),
        ..Options::new(emu_platform(h.platform()))
    };
    Emulator::start(h.path(), tweak(options)).expect("emulator")
}

/// The command with the emulator's credentials in its environment (and nothing of the caller's).
fn ks(password: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kudu-state"));
    c.env("NO_COLOR", "1")
        .env_remove("KUDU_STATE_TOKEN")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env("KUDU_STATE_USERNAME", USER)
        .env("KUDU_STATE_PASSWORD", password);
    c
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Homes a diagnosis over HTTP must read exactly as from disk: healthy, mid-deployment, stuck.
fn homes(p: Platform) -> Vec<HomeBuilder> {
    let healthy = || {
        let h = HomeBuilder::new(p).expect("home");
        h.healthy(OLD, t0() - TimeDelta::days(1)).expect("healthy");
        h
    };
    let running = healthy();
    running
        .record(
            &status_doc(NEW, Stage::Building, t0() - TimeDelta::minutes(2)),
            true,
        )
        .expect("running");
    let stuck = healthy();
    stuck
        .record(
            &status_doc(NEW, Stage::Building, t0() - TimeDelta::hours(3)),
            true,
        )
        .expect("orphan");
    stuck
        .active(format!("{OLD}\n").as_bytes(), t0())
        .expect("active");
    if p == Platform::Linux {
        stuck
            .linux_lock(
                "Performing continuous deployment",
                t0() - TimeDelta::hours(2),
            )
            .expect("lock");
    }
    vec![healthy(), running, stuck]
}

#[test]
fn remote_diagnosis_equals_the_local_one_and_only_reads() {
    for p in [Platform::Linux, Platform::Windows] {
        for h in homes(p) {
            let emu = serve(&h, |o| o);
            let local = Command::new(env!("CARGO_BIN_EXE_kudu-state"))
                .args(["diagnose", "--json", "--now", NOW])
                .arg(h.path())
                .output()
                .expect("local");
            let remote = ks(PASSWORD)
                .args(["diagnose", "--json", "--now", NOW, "--remote", &emu.url()])
                .output()
                .expect("remote");
            assert_eq!(remote.status.code(), local.status.code(), "{p:?}");
            let (mut l, mut r) = (json(&local), json(&remote));
            assert_eq!(r["home"], emu.url());
            l["home"] = Value::Null;
            r["home"] = Value::Null;
            assert_eq!(r, l, "{p:?}");
            let err = String::from_utf8_lossy(&remote.stderr);
            assert!(
                err.contains("requests") && err.contains("time: --now"),
                "{err}"
            );
            for req in emu.requests() {
                assert!(
                    (req.method == "GET" || req.method == "HEAD")
                        && (req.path.starts_with("/api/vfs/") || req.path == "/api/processes/0"),
                    "not a read: {} {}",
                    req.method,
                    req.path
                );
            }
        }
    }
}

#[test]
fn without_now_the_sites_clock_judges_and_the_output_says_so() {
    let h = homes(Platform::Linux).remove(0);
    let emu = serve(&h, |o| o);
    let out = ks(PASSWORD)
        .args(["diagnose", "--remote", &emu.url()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the site's clock (its Date header)"), "{err}");
}

#[test]
fn wrong_credentials_fail_clearly_and_no_secret_is_ever_printed() {
    let h = homes(Platform::Linux).remove(0);
    let emu = serve(&h, |o| o);
    let wrong = "SECRET-wrong-7d1";
    let out = ks(wrong)
        .args(["diagnose", "--remote", &emu.url()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AUTH_FAILED"), "{err}");
    assert!(err.contains(&emu.url()), "the URL is named: {err}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("SECRET"), "a secret was printed: {all}");
    let ok = ks(PASSWORD)
        .args(["diagnose", "--json", "--remote", &emu.url()])
        .output()
        .expect("run");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(!all.contains("SECRET"), "a secret was printed: {all}");
}

#[test]
fn a_home_path_and_a_remote_site_together_are_a_usage_error() {
    let h = homes(Platform::Linux).remove(0);
    let out = ks(PASSWORD)
        .args(["diagnose", "--remote", "http://127.0.0.1:9"])
        .arg(h.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    // An option only a site uses, on a home on disk: refused, never silently ignored.
    for extra in [
        ["--instance", "i0"],
        ["--max-in-flight", "4"],
        ["--arm-endpoint", "http://127.0.0.1:9"],
    ] {
        let out = ks(PASSWORD)
            .args(["diagnose", "--now", NOW])
            .args(extra)
            .arg(h.path())
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(&format!("{} is for a remote site", extra[0])),
            "{extra:?}: {err}"
        );
    }
    let out = ks(PASSWORD)
        .args(["diagnose", "--remote", "http://example.com"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("URL_REFUSED"));
}

#[test]
fn wait_idle_remote_returns_when_clear_and_times_out_under_a_live_lock() {
    let healthy = homes(Platform::Linux).remove(0);
    // A lock taken just now by the site's clock (wait-idle judges by it): 409 for 25 minutes.
    let running = homes(Platform::Linux).remove(0);
    running
        .linux_lock("Performing continuous deployment", Utc::now())
        .expect("live lock");
    let emu = serve(&healthy, |o| o);
    let out = ks(PASSWORD)
        .args(["wait-idle", "--timeout", "5s", "--remote", &emu.url()])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let emu = serve(&running, |o| o);
    let out = ks(PASSWORD)
        .args([
            "wait-idle",
            "--timeout",
            "1s",
            "--poll",
            "200ms",
            "--remote",
            &emu.url(),
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(11),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn track_remote_follows_one_record_by_id() {
    let h = homes(Platform::Linux).remove(0);
    h.record(&status_doc(NEW, Stage::Failed, t0()), true)
        .expect("failed");
    let emu = serve(&h, |o| o);
    let run = |id: &str, timeout: &str| {
        ks(PASSWORD)
            .args([
                "track",
                id,
                "--timeout",
                timeout,
                "--poll",
                "100ms",
                "--remote",
                &emu.url(),
            ])
            .output()
            .expect("run")
    };
    assert_eq!(run(OLD, "5s").status.code(), Some(0));
    let failed = run(NEW, "5s");
    assert_eq!(failed.status.code(), Some(12));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("failed"));
    let missing = run("0123456789abcdef0123456789abcdef", "500ms");
    assert_eq!(missing.status.code(), Some(11));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not there yet"));
    assert!(
        emu.requests()
            .iter()
            .all(|r| r.method == "GET" || r.method == "HEAD"),
        "track only reads"
    );
}

#[test]
fn explain_remote_says_whether_the_holder_is_alive() {
    let stuck = homes(Platform::Linux).pop().expect("stuck");
    let emu = serve(&stuck, |o| o);
    let body = "There is a deployment currently in progress. Please try again when it completes.";
    let out = ks(PASSWORD)
        .args(["explain", "--json", "--remote", &emu.url(), body])
        .output()
        .expect("run");
    let v = json(&out);
    assert_eq!(v["explanation"]["kind"], "deployment-in-progress");
    // Nothing runs the orphaned record and the expired lock is free: the holder is not alive (and
    // `active` has a newline: broken).
    assert!(
        v["diagnosis"]["findings"]
            .as_array()
            .expect("f")
            .iter()
            .any(|f| f["code"] == "deployment-orphaned")
    );
    assert_eq!(v["diagnosis"]["verdict"], "broken");
    assert_eq!(out.status.code(), Some(12));
}

/// On Windows the site can prove what a copy of the disk cannot: whether Kudu holds deployments.lock.
#[test]
fn a_windows_lock_is_proven_held_or_not_by_kudus_open_handles() {
    let h = homes(Platform::Windows).remove(0);
    h.windows_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::minutes(40),
    )
    .expect("lock");
    // The fixture's lock names InstanceId a1b2c3: the emulator's instance is that machine.
    let emu = serve(&h, |o| Options {
        instances: vec!["a1b2c3d4e5f6".to_owned()],
        ..o
    });
    let diagnose = || {
        let out = ks(PASSWORD)
            .args(["diagnose", "--json", "--now", NOW, "--remote", &emu.url()])
            .output()
            .expect("run");
        let v = json(&out);
        let f = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "windows-lock-file")
            .cloned()
            .expect("lock finding");
        (v, f)
    };
    let (_, f) = diagnose();
    assert_eq!(f["evidence"]["held"], false, "{f}");
    assert!(
        f["message"]
            .as_str()
            .expect("m")
            .contains("does not hold it open")
    );
    emu.hold("site/locks/deployments.lock", "a1b2c3d4e5f6");
    let (v, f) = diagnose();
    assert_eq!(f["evidence"]["held"], true, "{f}");
    // Held for 40 minutes with nothing in progress: hung, and only a Kudu restart there ends it.
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .expect("m")
            .contains("has held deployments.lock")
    );
    assert_eq!(v["safe_to_deploy"], false);
}

/// A pipeline's repair: the plan kept as a file for review, applied in a later step with `--plan`,
/// backups on the runner; then undone. Secrets never show.
#[test]
fn plan_as_a_file_then_apply_and_undo_over_the_api() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = HomeBuilder::new(p).expect("home");
        h.healthy(OLD, t0() - TimeDelta::days(1)).expect("healthy");
        h.record(
            &status_doc(NEW, Stage::Building, t0() - TimeDelta::hours(3)),
            true,
        )
        .expect("stuck");
        let before = files(h.path());
        let emu = serve(&h, |o| o);
        let work = tempfile::tempdir().expect("work");
        let url = emu.url();

        let planned = ks(PASSWORD)
            .current_dir(work.path())
            .args(["plan", "--json", "--remote", &url, "--now", NOW])
            .output()
            .expect("run");
        assert_eq!(planned.status.code(), Some(10), "{planned:?}");
        let plan = json(&planned);
        assert_eq!(plan["site"]["url"], url.as_str());
        std::fs::write(work.path().join("plan.json"), &planned.stdout).expect("write");
        assert_eq!(files(h.path()), before, "plan changes nothing");

        let applied = ks(PASSWORD)
            .current_dir(work.path())
            .args(["apply", "--plan", "plan.json", "--yes", "--remote", &url])
            .output()
            .expect("run");
        let out = String::from_utf8_lossy(&applied.stdout).into_owned();
        let err = String::from_utf8_lossy(&applied.stderr).into_owned();
        assert_eq!(applied.status.code(), Some(0), "{out}\n{err}");
        assert!(out.contains("--remote"), "{out}");
        assert!(!out.contains("SECRET") && !err.contains("SECRET"));
        // The backup is on this machine, under the working directory, by host.
        let root = work.path().join("kudu-state-backups").join("127.0.0.1");
        let backup = std::fs::read_dir(&root)
            .expect("backups")
            .map(|e| e.expect("entry").path())
            .find(|p| p.is_dir())
            .expect("a backup folder");
        let journal = std::fs::read_to_string(backup.join("journal.jsonl")).expect("journal");
        assert!(!journal.contains("SECRET"));
        assert_ne!(files(h.path()), before);

        let idle = ks(PASSWORD)
            .args(["diagnose", "--remote", &url])
            .output()
            .expect("run");
        assert_eq!(idle.status.code(), Some(0), "{idle:?}");

        // A local undo of a remote backup is refused; over the API it puts the bytes back.
        let refused = ks(PASSWORD).arg("undo").arg(&backup).output().expect("run");
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("HOME_MISMATCH"),
            "{refused:?}"
        );
        let undone = ks(PASSWORD)
            .arg("undo")
            .arg(&backup)
            .args(["--remote", &url])
            .output()
            .expect("run");
        let out = String::from_utf8_lossy(&undone.stdout).into_owned();
        assert_eq!(undone.status.code(), Some(0), "{undone:?}");
        assert!(out.contains("file times not restored"), "{out}");
        assert_eq!(files(h.path()), before, "{p:?}");
        for r in emu.requests() {
            assert_ne!(r.if_match.as_deref(), Some("*"));
            assert!(
                r.path.starts_with("/api/vfs/") || r.path == "/api/processes/0",
                "{r:?}"
            );
        }
    }
}
