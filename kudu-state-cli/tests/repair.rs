//! Repairs run as a user runs them: the command as a process, from other working directories, and
//! killed with SIGKILL in the middle of a large apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use kudu_state::Platform;
use kudu_state::fixture::{HomeBuilder, Stage, status_doc};

const NOW: &str = "2024-09-04T10:00:00Z";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .expect("t")
        .with_timezone(&Utc)
}

fn bin(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kudu-state"));
    c.env("NO_COLOR", "1").current_dir(cwd);
    c
}

/// Runs `cmd`, asserting its exit status, and returns its standard output.
fn run_expect(cmd: &mut Command, code: i32) -> Vec<u8> {
    let out = cmd.output().expect("run kudu-state");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every file of the home outside kudu-state's own folder, with its bytes and mtime.
fn tree(home: &Path) -> BTreeMap<String, (Vec<u8>, Option<std::time::SystemTime>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("list") {
            let p = e.expect("entry").path();
            let rel = p
                .strip_prefix(home)
                .expect("under")
                .to_string_lossy()
                .into_owned();
            if rel == "data" {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).expect("lstat");
            if m.is_dir() {
                out.insert(format!("{rel}/"), (Vec::new(), None));
                stack.push(p);
            } else {
                out.insert(rel, (std::fs::read(&p).expect("read"), m.modified().ok()));
            }
        }
    }
    out
}

/// A Linux home with `n` orphaned Building records (each a fail-orphaned-record step) and an expired lock.
fn neglected(root: &Path, n: usize) -> HomeBuilder {
    let h = HomeBuilder::at(root, Platform::Linux).expect("home");
    h.healthy(
        "8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b",
        t0() - TimeDelta::days(1),
    )
    .expect("healthy");
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(2),
    )
    .expect("lock");
    for i in 0..n {
        let id = format!("{i:040x}");
        let at = t0() - TimeDelta::hours(3) + TimeDelta::seconds(i64::try_from(i).expect("i"));
        h.record(&status_doc(&id, Stage::Building, at), false)
            .expect("record");
    }
    h
}

fn backups(home: &Path) -> Vec<PathBuf> {
    let dir = home.join("data/kudu-state/backups");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn apply_with_a_relative_home_and_undo_from_elsewhere_touch_the_real_home() {
    let base = tempfile::tempdir().expect("tmp");
    let elsewhere = tempfile::tempdir().expect("tmp");
    let home = base.path().join("home");
    neglected(&home, 2);
    let before = tree(&home);

    // plan from the parent with a relative path, apply the plan file from another directory.
    let plan_json = run_expect(
        bin(base.path()).args(["plan", "home", "--json", "--now", NOW]),
        10,
    );
    std::fs::write(elsewhere.path().join("plan.json"), &plan_json).expect("save plan");
    let plan: serde_json::Value = serde_json::from_slice(&plan_json).expect("json");
    assert_eq!(
        Path::new(plan["home"].as_str().expect("home")),
        home.canonicalize().expect("canonical"),
        "the plan names the home by its absolute path"
    );
    run_expect(
        bin(elsewhere.path()).args(["apply", "--plan", "plan.json", "--yes"]),
        0,
    );
    assert!(
        !elsewhere.path().join("site").exists(),
        "nothing is created where apply ran"
    );
    assert_ne!(tree(&home), before);

    // undo from a third directory, with the backup path as printed.
    let backup = backups(&home).pop().expect("backup");
    run_expect(bin(Path::new("/")).arg("undo").arg(&backup), 0);
    assert_eq!(tree(&home), before, "undo restored the real home");
    assert!(!Path::new("/site/deployments").exists());

    // A backup whose home is gone is refused, and no home is created for it.
    let moved = base.path().join("moved");
    std::fs::rename(&home, &moved).expect("move the home away");
    let out = bin(elsewhere.path())
        .arg("undo")
        .arg(
            moved
                .join("data/kudu-state/backups")
                .join(backup.file_name().expect("name")),
        )
        .output()
        .expect("undo");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HOME_NOT_FOUND"), "{err}");
    assert!(!home.exists(), "undo created a home that was not there");
}

/// SIGKILL at several moments of a 1,500-step apply: each run resumes the same backup, the last one
/// finishes, the home diagnoses idle without warnings, and undo restores every byte and time.
#[test]
fn a_killed_apply_is_finished_by_running_it_again_and_undone_exactly() {
    let base = tempfile::tempdir().expect("tmp");
    let home = base.path().join("home");
    neglected(&home, 1500);
    let before = tree(&home);
    let plan_json = run_expect(
        bin(base.path()).args(["plan", "home", "--json", "--now", NOW]),
        10,
    );
    std::fs::write(base.path().join("plan.json"), &plan_json).expect("plan file");
    let plan: serde_json::Value = serde_json::from_slice(&plan_json).expect("json");
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(1501));

    let journal_lines = |home: &Path| {
        backups(home)
            .iter()
            .map(|b| {
                std::fs::read(b.join("journal.jsonl"))
                    .map(|j| j.iter().filter(|&&c| c == b'\n').count())
                    .unwrap_or(0)
            })
            .sum::<usize>()
    };
    // Kill points, in journal lines written (a step writes two): early, middle, late.
    for kill_at in [3, 1200, 2600] {
        let mut child = bin(base.path())
            .args(["apply", "--plan", "plan.json", "--yes"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("apply");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if journal_lines(&home) >= kill_at {
                child.kill().expect("SIGKILL");
                break;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("apply ended ({status}) before the kill point {kill_at}");
            }
            assert!(Instant::now() < deadline, "no progress to {kill_at}");
            std::thread::sleep(Duration::from_millis(2));
        }
        let status = child.wait().expect("reap");
        assert!(!status.success(), "killed");
    }
    assert_eq!(backups(&home).len(), 1, "every run resumed the same backup");
    run_expect(
        bin(base.path()).args(["apply", "--plan", "plan.json", "--yes"]),
        0,
    );
    assert_eq!(backups(&home).len(), 1);

    let diagnosis = run_expect(
        bin(base.path()).args(["diagnose", "home", "--json", "--now", NOW]),
        0,
    );
    let d: serde_json::Value = serde_json::from_slice(&diagnosis).expect("json");
    let warnings: Vec<_> = d["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let stray: Vec<_> = tree(&home)
        .into_keys()
        .filter(|k| k.contains(".kudu-state-"))
        .collect();
    assert!(stray.is_empty(), "temp files left: {stray:?}");

    let backup = backups(&home).pop().expect("backup");
    run_expect(bin(base.path()).arg("undo").arg(&backup), 0);
    assert_eq!(tree(&home), before, "undo restored the tree byte for byte");
}
