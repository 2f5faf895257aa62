//! The `kudu-state` command run as a process: exit codes, JSON, human output, bad input.

mod common;
use common::files;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, TimeDelta, Utc};
use kudu_state::Platform;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kudu-state"));
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run kudu-state")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-09-04T10:00:00Z")
        .expect("t")
        .with_timezone(&Utc)
}

const NOW: &str = "2024-09-04T10:00:00Z";

/// The example homes shipped in the repository, built by the fixture (so they are Kudu's exact bytes).
fn build_example(name: &str, root: &Path) {
    let platform = if name.starts_with("windows") {
        Platform::Windows
    } else {
        Platform::Linux
    };
    let h = HomeBuilder::at(root, platform).expect("home");
    let day = t0() - TimeDelta::days(1);
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", day)
        .expect("healthy");
    match name {
        "linux-healthy" | "windows-healthy" => {}
        "linux-stuck" => {
            // A crash mid-write left info.lock truncated, and a hand edit added a newline to `active`.
            h.file(
                "site/locks/deployment/info.lock",
                "{\"lockExpiry\":\"2024-09-04T10:2",
            )
            .expect("lock");
            h.active(b"8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b\n", day)
                .expect("active");
        }
        "linux-expired-lock" => {
            h.linux_lock("Performing continuous deployment", day)
                .expect("lock");
        }
        "windows-corrupt-status" => {
            h.record(
                &status_doc(
                    "3f786850e387550fdab836ed7e6dc881de23001b",
                    Stage::Failed,
                    day + TimeDelta::hours(2),
                ),
                true,
            )
            .expect("record");
            let p = "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b/status.xml";
            let bytes = std::fs::read(h.full(p)).expect("read");
            h.file(p, &bytes[..300]).expect("truncate");
            std::fs::remove_file(h.full(
                "site/deployments/3f786850e387550fdab836ed7e6dc881de23001b/status_complete.xml",
            ))
            .expect("rm");
        }
        other => panic!("unknown example {other}"),
    }
}

const EXAMPLES: [(&str, &str, i32); 5] = [
    ("linux-healthy", "idle", 0),
    ("windows-healthy", "idle", 0),
    ("linux-expired-lock", "idle", 0),
    ("linux-stuck", "broken", 12),
    ("windows-corrupt-status", "broken", 12),
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/homes")
}

#[test]
fn example_homes_are_the_fixtures_bytes() {
    for (name, _, _) in EXAMPLES {
        let fresh = tempfile::tempdir().expect("tmp");
        build_example(name, fresh.path());
        let committed = examples_dir().join(name);
        if std::env::var_os("UPDATE_EXAMPLES").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            let status = Command::new("cp")
                .arg("-a")
                .arg(fresh.path())
                .arg(&committed)
                .status()
                .expect("cp");
            assert!(status.success());
        }
        assert_eq!(
            files(&committed),
            files(fresh.path()),
            "{name} drifted; run UPDATE_EXAMPLES=1 cargo test -p kudu-state-cli"
        );
    }
}

#[test]
fn diagnose_on_each_example_home() {
    for (name, verdict, code) in EXAMPLES {
        let home = examples_dir().join(name);
        let o = run(&["diagnose", home.to_str().expect("utf8"), "--json"]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(v["verdict"], verdict, "{name}: {v:#}");
        assert_eq!(v["schema"], 1);
        let human = run(&["diagnose", home.to_str().expect("utf8")]);
        assert!(
            stdout(&human).starts_with(&verdict.to_uppercase()),
            "{name}: {}",
            stdout(&human)
        );
    }
}

#[test]
fn diagnose_json_matches_the_schema() {
    let h = HomeBuilder::new(Platform::Linux).expect("home");
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .expect("healthy");
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::minutes(2),
    )
    .expect("lock");
    h.record(
        &status_doc(
            "temp-3fa9c0d1",
            Stage::Receiving,
            t0() - TimeDelta::minutes(2),
        ),
        false,
    )
    .expect("temp");
    let o = run(&[
        "diagnose",
        h.path().to_str().expect("utf8"),
        "--json",
        "--now",
        NOW,
    ]);
    assert_eq!(o.status.code(), Some(10));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let obj = v.as_object().expect("object");
    for key in [
        "schema",
        "home",
        "platform",
        "now",
        "verdict",
        "safe_to_deploy",
        "safe_after",
        "findings",
    ] {
        assert!(obj.contains_key(key), "missing {key}: {v:#}");
    }
    assert_eq!(v["platform"], "linux");
    assert_eq!(v["verdict"], "deploying");
    assert_eq!(v["safe_to_deploy"], false);
    assert_eq!(v["safe_after"], "2024-09-04T10:23:00Z");
    for f in v["findings"].as_array().expect("findings") {
        for key in ["code", "severity", "path", "message", "evidence"] {
            assert!(f.get(key).is_some(), "finding without {key}: {f:#}");
        }
        assert!(!f["path"].as_str().expect("path").starts_with('/'));
    }
    // The same tree 40 minutes later: the lock expired, the temp record is an orphan.
    let o = run(&[
        "diagnose",
        h.path().to_str().expect("utf8"),
        "--json",
        "--now",
        "2024-09-04T10:40:00Z",
    ]);
    assert_eq!(o.status.code(), Some(11));
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    assert_eq!(
        run(&["diagnose", "--platform", "mac"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["diagnose", ".", "--now", "yesterday"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    let o = run(&["diagnose", "/nonexistent/home"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HOME_NOT_FOUND"));
    let f = tempfile::NamedTempFile::new().expect("file");
    let o = run(&["diagnose", f.path().to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("NOT_A_HOME"));
    let o = bin()
        .args(["diagnose"])
        .env("HOME", "/nonexistent")
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(run(&["--version"]).status.code(), Some(0));
    assert_eq!(run(&["diagnose", "--help"]).status.code(), Some(0));
}

#[test]
fn explain_classifies_a_body_from_argument_or_stdin() {
    let body = "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later.";
    let o = run(&["explain", "--json", body]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["kind"], "lock-conflict");
    assert_eq!(v["retryable"], true);
    assert_eq!(v["requested_operation"], "Preparing zip package");
    assert_eq!(v["holder_operation"], "Performing continuous deployment");
    assert_eq!(v["started_at"], "2024-09-04T10:33:18.123456700Z");
    assert_eq!(v["body"], body);

    use std::io::Write;
    let mut child = bin()
        .args(["explain", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"Message":"An error has occurred.","ExceptionMessage":"Unable to delete 'abc'. The deployment is currently active.","ExceptionType":"System.InvalidOperationException"}"#)
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["kind"], "deployment-active");
    assert_eq!(v["deployment_id"], "abc");
    assert_eq!(v["retryable"], false);
    // ARM's 429 shares the management lock's kind but not its answer (was `unknown`).
    let human = run(&[
        "explain",
        "Error type: 429\nError Message: Cannot acquire exclusive lock to create, update or delete this site. Retry the request later.",
    ]);
    assert!(
        stdout(&human).starts_with("arm-site-lock  (retryable)"),
        "{}",
        stdout(&human)
    );
    let human = run(&[
        "explain",
        "Run-From-Zip is set to a remote URL using WEBSITE_USE_ZIP app setting. Deployment is not supported in this configuration.",
    ]);
    assert!(
        stdout(&human).starts_with("run-from-remote-package  (do not retry)"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn wait_idle_returns_at_once_on_an_idle_home_and_times_out_on_a_stuck_one() {
    let h = HomeBuilder::new(Platform::Linux).expect("home");
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0())
        .expect("healthy");
    let o = run(&[
        "wait-idle",
        h.path().to_str().expect("utf8"),
        "--timeout",
        "5s",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A lock taken "now" by the real clock stays live for 25 minutes.
    h.linux_lock("Performing continuous deployment", Utc::now())
        .expect("lock");
    let o = run(&[
        "wait-idle",
        h.path().to_str().expect("utf8"),
        "--timeout",
        "1s",
        "--poll",
        "300ms",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(11));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("waiting for linux-lock-live"), "{err}");
    assert!(err.contains("timed out"), "{err}");
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["verdict"], "deploying");
}

#[cfg(unix)] // a symlink; the release builds (not tests) Windows
#[test]
fn a_dangling_link_and_a_huge_log_are_diagnosed_not_fatal() {
    let h = HomeBuilder::new(Platform::Linux).expect("home");
    h.healthy("8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b", t0())
        .expect("healthy");
    std::os::unix::fs::symlink("/nonexistent", h.full("site/deployments/active-link"))
        .expect("link");
    let big = "x".repeat(1 << 20);
    let log = h.full("site/deployments/8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b/log.log");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    for _ in 0..64 {
        std::io::Write::write_all(&mut f, big.as_bytes()).expect("write");
    }
    let o = run(&[
        "diagnose",
        h.path().to_str().expect("utf8"),
        "--json",
        "--now",
        NOW,
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 10 | 11 | 12)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(
        v["findings"]
            .as_array()
            .expect("f")
            .iter()
            .any(|f| f["code"] == "symlink-not-followed"),
        "{v:#}"
    );
}

fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", examples_dir().join(name).display()))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    dir
}

#[test]
fn plan_apply_diagnose_undo_round_trip() {
    let home = copy_example("linux-stuck");
    let h = home.path().to_str().expect("utf8");
    let before = files(home.path());

    let o = run(&["plan", h, "--json"]);
    assert_eq!(
        o.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let plan: Value = serde_json::from_str(&stdout(&o)).expect("plan json");
    let actions: Vec<_> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["action"].as_str().expect("a").to_owned())
        .collect();
    assert_eq!(actions, ["repair-active", "remove-corrupt-lock"]);

    // No terminal and no --yes: refused, nothing changed.
    let o = bin()
        .args(["apply", h])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yes"));
    assert_eq!(files(home.path()), before);

    let o = run(&["apply", h, "--yes"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    assert!(
        out.contains("step 1: repair-active site/deployments/active ... done"),
        "{out}"
    );
    let backup = out
        .lines()
        .find_map(|l| l.strip_prefix("backup: "))
        .expect("backup line")
        .to_owned();

    assert_eq!(run(&["diagnose", h]).status.code(), Some(0));
    assert_eq!(run(&["plan", h]).status.code(), Some(0));

    let o = run(&["undo", &backup]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        files(home.path())
            .into_iter()
            .filter(|(p, _)| !p.starts_with("data/"))
            .collect::<Vec<_>>(),
        before
    );
    assert_eq!(run(&["diagnose", h]).status.code(), Some(12));
    let o = run(&["undo", &backup]);
    assert!(stdout(&o).contains("already undone"), "{}", stdout(&o));
}

#[test]
fn apply_a_reviewed_plan_file() {
    let home = copy_example("linux-stuck");
    let h = home.path().to_str().expect("utf8");
    let o = run(&["plan", h, "--json"]);
    let file = home.path().join("plan.json");
    std::fs::write(&file, &o.stdout).expect("write plan");
    let o = run(&["apply", "--plan", file.to_str().expect("utf8"), "--yes"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(run(&["diagnose", h]).status.code(), Some(0));
    // The same plan again: every step is already done, no backup.
    let o = run(&["apply", "--plan", file.to_str().expect("utf8"), "--yes"]);
    assert!(stdout(&o).contains("no backup was made"), "{}", stdout(&o));
    // A plan for another home is refused.
    let other = copy_example("linux-healthy");
    let o = run(&[
        "apply",
        other.path().to_str().expect("utf8"),
        "--plan",
        file.to_str().expect("utf8"),
        "--yes",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Colour follows the usual variables: `NO_COLOR` wins, `CLICOLOR_FORCE` colours a pipe, `CLICOLOR=0`
/// and a pipe alone do not.
#[test]
fn colour_follows_no_color_clicolor_and_clicolor_force() {
    let home = examples_dir().join("linux-stuck");
    let run_with = |vars: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kudu-state"));
        for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM"] {
            c.env_remove(v);
        }
        c.envs(vars.iter().copied());
        let out = c
            .args(["diagnose", "--now", NOW])
            .arg(&home)
            .output()
            .expect("run");
        stdout(&out).contains("\u{1b}[")
    };
    assert!(!run_with(&[]), "a pipe gets no colour");
    assert!(run_with(&[("CLICOLOR_FORCE", "1")]));
    assert!(!run_with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!run_with(&[("CLICOLOR", "0")]));
}
