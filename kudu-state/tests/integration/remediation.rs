//! Apply's guarantees: preconditions, the journal under crashes, one apply at a time, the allowlist.

use chrono::TimeDelta;
use kudu_state::fixture::{Stage, status_doc};
use kudu_state::remediate::{HomeIdentity, Op};
use kudu_state::store::RelPath;
use kudu_state::{ApplyOptions, PlanOptions, Platform, Verdict};

use crate::util::*;

/// A Linux home with three problems: an orphaned Building record, an orphaned temp record, and an
/// `active` with a trailing newline.
fn messy() -> kudu_state::fixture::HomeBuilder {
    let h = healthy(Platform::Linux);
    h.record(
        &status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::hours(3)),
        true,
    )
    .expect("record");
    h.record(
        &status_doc(
            "temp-0a1b2c3d",
            Stage::Receiving,
            t0() - TimeDelta::hours(2),
        ),
        false,
    )
    .expect("temp");
    h.active(format!("{OLD_ID}\n").as_bytes(), t0() - TimeDelta::days(1))
        .expect("active");
    h
}

fn plan_for(home: &std::path::Path) -> kudu_state::Plan {
    let (s, d) = diagnose_at(home, t0());
    kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan")
}

#[test]
fn a_changed_target_stops_apply_and_loses_nothing() {
    let h = messy();
    let plan = plan_for(h.path());
    assert_eq!(plan.steps.len(), 3, "{plan:#?}");
    // Between plan and apply, Kudu writes the Building record's log.
    let log = h.full(&format!("site/deployments/{NEW_ID}/log.log"));
    let mut text = std::fs::read_to_string(&log).expect("log");
    text.push_str(
        "2024-09-04T10:00:01.0000000Z,Still going.,0c5e0c4e-2a1f-4b5e-9d76-52b7a1b44d0e,0\n",
    );
    std::fs::write(&log, &text).expect("write");
    let before = capture(h.path());
    let err = kudu_state::apply(&plan, &ApplyOptions::default()).expect_err("must refuse");
    assert_eq!(err.code(), "PRECONDITION_FAILED", "{err}");
    assert!(
        err.to_string().contains("run `kudu-state diagnose` again"),
        "{err}"
    );
    // The step before it (repair-active) ran; the refused one and everything after did not.
    let after = capture(h.path());
    assert_eq!(
        after.get(&format!("site/deployments/{NEW_ID}/log.log")),
        before.get(&format!("site/deployments/{NEW_ID}/log.log"))
    );
    assert!(after.contains_key("site/deployments/temp-0a1b2c3d/status.xml"));
}

#[test]
fn a_new_linux_lock_stops_a_lock_removal() {
    let h = healthy(Platform::Linux);
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(1),
    )
    .expect("lock");
    let plan = plan_for(h.path());
    // A new deployment takes the lock after the plan was made.
    h.linux_lock("Performing continuous deployment", t0())
        .expect("relock");
    let err = kudu_state::apply(&plan, &ApplyOptions::default()).expect_err("must refuse");
    assert_eq!(err.code(), "PRECONDITION_FAILED");
    assert!(h.full("site/locks/deployment/info.lock").exists());
}

/// Crash after every journal write in turn: `undo` always restores the original tree, and (from a fresh
/// copy of the same crash) a second `apply` always finishes the job.
#[test]
fn crash_after_any_journal_write_is_recoverable() {
    let mut k = 1;
    loop {
        let h = messy();
        let original = capture(h.path());
        let plan = plan_for(h.path());
        match kudu_state::remediate::apply_crashing_after(&plan, &ApplyOptions::default(), k) {
            Ok(_) => break, // k is past the last journal write: every crash point was covered
            Err(e) => assert!(e.to_string().contains("injected crash"), "{e}"),
        }
        let backups = h.full("data/kudu-state/backups");
        let backup = std::fs::read_dir(&backups)
            .expect("backups")
            .next()
            .expect("one")
            .expect("entry")
            .path();

        // Recovery 1: finish it.
        let h2 = clone_home(&h);
        let finished =
            kudu_state::apply(&rebase(&plan, h2.path()), &ApplyOptions::default()).expect("resume");
        // Either it resumed the interrupted journal, or (a crash after the final journal write) the apply had
        // finished and the second one finds every step done.
        let all_done = finished
            .steps
            .iter()
            .all(|s| s.outcome != kudu_state::remediate::StepOutcome::Applied);
        assert!(
            finished.resumed || all_done,
            "crash {k}: neither resumed nor done: {finished:#?}"
        );
        let (_, d) = diagnose_at(h2.path(), t0());
        assert_verdict(&d, Verdict::Idle);

        // Recovery 2: undo it.
        kudu_state::undo(&backup).unwrap_or_else(|e| panic!("crash {k}: undo failed: {e}"));
        assert_same_tree(&original, &capture(h.path()));
        k += 1;
        assert!(k < 100, "apply never finished");
    }
    assert!(k > 10, "too few crash points exercised: {k}");
}

/// A copy of a home (with its backups), for a second recovery path from the same crash.
fn clone_home(h: &kudu_state::fixture::HomeBuilder) -> kudu_state::fixture::HomeBuilder {
    let copy = kudu_state::fixture::HomeBuilder::new(Platform::Linux).expect("home");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", h.path().display()))
        .arg(copy.path())
        .status()
        .expect("cp");
    assert!(status.success());
    // The journal names the original home and its identity; point it at the copy.
    let identity =
        serde_json::to_value(HomeIdentity::of(copy.path()).expect("identity")).expect("json");
    for e in std::fs::read_dir(copy.full("data/kudu-state/backups")).expect("backups") {
        let j = e.expect("entry").path().join("journal.jsonl");
        let text = std::fs::read_to_string(&j).expect("journal");
        let (first, rest) = text.split_once('\n').expect("begin line");
        let mut begin: serde_json::Value = serde_json::from_str(first).expect("begin");
        begin["home"] = serde_json::json!(copy.path());
        begin["home_identity"] = identity.clone();
        std::fs::write(&j, format!("{begin}\n{rest}")).expect("write");
    }
    copy
}

fn rebase(plan: &kudu_state::Plan, home: &std::path::Path) -> kudu_state::Plan {
    let mut p = plan.clone();
    p.home = home.to_path_buf();
    p.home_identity = HomeIdentity::of(home).expect("identity");
    p
}

#[test]
fn only_one_apply_runs_at_a_time() {
    let h = messy();
    let plan = plan_for(h.path());
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    kudu_state::apply(&plan, &ApplyOptions::default())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let applied = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.backup.is_some()))
        .count();
    let locked = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.code() == "APPLY_LOCKED"))
        .count();
    let noop = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.backup.is_none()))
        .count();
    // Either the second was refused while the first ran, or it ran after and found nothing to do.
    assert_eq!(applied, 1, "{results:#?}");
    assert_eq!(locked + noop, 1, "{results:#?}");
}

#[test]
fn a_hand_edited_plan_cannot_touch_protected_paths() {
    let h = messy();
    for target in [
        "site/deployments/pending",
        "site/wwwroot",
        "site/deployments/tools",
        "site/locks/status.lock",
        "site/deployments/settings.xml",
        "site/repository",
        &format!("site/deployments/{OLD_ID}"),
    ] {
        let mut plan = plan_for(h.path());
        plan.steps[0].ops = vec![Op::Move {
            path: RelPath::new(target).expect("path"),
        }];
        let err = kudu_state::apply(&plan, &ApplyOptions::default()).expect_err(target);
        assert_eq!(err.code(), "PROTECTED_PATH", "{target}: {err}");
    }
    let mut plan = plan_for(h.path());
    plan.steps[0].ops = vec![Op::Write {
        path: RelPath::new("site/wwwroot/index.html").expect("p"),
        content: String::new(),
        expect: None,
    }];
    assert_eq!(
        kudu_state::apply(&plan, &ApplyOptions::default())
            .expect_err("write")
            .code(),
        "PROTECTED_PATH"
    );
    assert!(RelPath::new("../etc/passwd").is_err() && RelPath::new("/etc").is_err());
}

#[test]
fn undo_refuses_when_a_file_changed_since_apply() {
    let h = messy();
    let plan = plan_for(h.path());
    let report = kudu_state::apply(&plan, &ApplyOptions::default()).expect("apply");
    // A new deployment rewrites `active` after the apply.
    h.active(
        b"3f786850e387550fdab836ed7e6dc881de23001b",
        t0() + TimeDelta::hours(1),
    )
    .expect("active");
    let backup = report.backup.expect("backup");
    let err = kudu_state::undo(&backup).expect_err("conflict");
    assert_eq!(err.code(), "UNDO_CONFLICT", "{err}");
    assert_eq!(
        std::fs::read(h.full("site/deployments/active")).expect("read"),
        NEW_ID.as_bytes()
    );
}

#[test]
fn plans_round_trip_through_json() {
    let h = messy();
    let plan = plan_for(h.path());
    let text = serde_json::to_string_pretty(&plan).expect("json");
    assert_eq!(kudu_state::Plan::from_json(&text).expect("parse"), plan);
    assert_eq!(
        kudu_state::Plan::from_json("{}").expect_err("bad").code(),
        "INVALID_INPUT"
    );
    // Another version's plan says so, and what to do.
    let mut old: serde_json::Value = serde_json::from_str(&text).expect("json");
    old["schema"] = 1.into();
    let e = kudu_state::Plan::from_json(&old.to_string()).expect_err("schema 1");
    assert!(
        e.to_string().contains("schema 1 is not 2: plan again"),
        "{e}"
    );
    // A plan of this schema from before a field was added (a restart without its `stalled` guards).
    let mut early: serde_json::Value = serde_json::from_str(&text).expect("json");
    early["steps"][0]["ops"] = serde_json::json!([
        { "op": "restart-kudu", "instance": "i0", "lock": "site/locks/deployments.lock" }
    ]);
    let e = kudu_state::Plan::from_json(&early.to_string()).expect_err("no stalled");
    assert!(e.to_string().contains("missing field `stalled`"), "{e}");
    assert!(e.to_string().contains("plan again"), "{e}");
}

#[test]
fn a_held_apply_lock_is_apply_locked_after_a_short_wait() {
    let h = messy();
    let plan = plan_for(h.path());
    std::fs::create_dir_all(h.full("data/kudu-state")).expect("mkdir");
    let held = std::fs::File::create(h.full("data/kudu-state/apply.lock")).expect("create");
    held.try_lock().expect("lock");
    let started = std::time::Instant::now();
    let err = kudu_state::apply(&plan, &ApplyOptions::default()).expect_err("locked");
    assert_eq!(err.code(), "APPLY_LOCKED", "{err}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "it should wait a moment first"
    );
    assert!(
        !h.full("data/kudu-state/backups").exists(),
        "nothing may be written while locked"
    );
    drop(held);
    assert!(
        kudu_state::apply(&plan, &ApplyOptions::default())
            .expect("apply")
            .backup
            .is_some()
    );
}
