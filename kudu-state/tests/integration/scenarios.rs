//! Spec §10 scenarios S1–S12, each built as a tree in Kudu's bytes, scanned, diagnosed, and — where
//! there is a fix — planned, applied, diagnosed again, and undone byte for byte.

use chrono::TimeDelta;
use kudu_state::fixture::{LogLine, Stage, status_doc};
use kudu_state::record::{IdKind, NextRead};
use kudu_state::remediate::{Action, Risk};
use kudu_state::status_xml::DeployStatus;
use kudu_state::store::Content;
use kudu_state::{ApplyOptions, FindingCode as C, PlanOptions, Platform, Verdict};

use crate::util::*;

/// Plans at `now`, checks the actions, applies, re-diagnoses, undoes, and checks the tree is restored.
/// Returns the diagnosis after apply.
fn fix_and_undo(
    home: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
    actions: &[Action],
) -> kudu_state::Diagnosis {
    let before = capture(home);
    let (s, d) = diagnose_at(home, now);
    let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
    let got: Vec<Action> = plan.steps.iter().map(|s| s.action).collect();
    assert_eq!(got, actions, "plan: {plan:#?}");
    let report = kudu_state::apply(&plan, &ApplyOptions::default()).expect("apply");
    let (_, after) = diagnose_at(home, now);
    // Applying the same plan again changes nothing.
    let again = capture(home);
    let second = kudu_state::apply(&plan, &ApplyOptions::default()).expect("apply again");
    assert!(
        second.backup.is_none(),
        "second apply made a backup: {second:#?}"
    );
    assert_same_tree(&again, &capture(home));
    if let Some(backup) = report.backup {
        kudu_state::undo(&backup).expect("undo");
        assert_same_tree(&before, &capture(home));
    }
    after
}

#[test]
fn healthy_homes_are_idle_without_warnings() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = healthy(p);
        let (s, d) = diagnose_at(h.path(), t0());
        assert_eq!(s.platform(), p, "{:#?}", s.platform);
        assert_verdict(&d, Verdict::Idle);
        assert!(d.safe_to_deploy);
        assert_eq!(problems(&d), vec![], "{p:?}: {:#?}", d.findings);
        assert!(d.has(C::PendingMarker));
        assert_eq!(d.has(C::IdleLockFile), p == Platform::Linux);
        let rec = s
            .deployments
            .as_ref()
            .and_then(|d| d.record(OLD_ID))
            .expect("record");
        assert_eq!(rec.id_kind, IdKind::Guid);
        assert_eq!(rec.next_read, NextRead::Keep);
        // A settled record is read as Kudu reads it, by its status files: its folder (log,
        // manifest) is not listed, and it is aged by its status.xml.
        assert!(rec.is_settled() && rec.folder.is_none() && rec.log().is_none());
        // The id is not stored apart from the path, but a reader of the JSON still gets both.
        let json = serde_json::to_value(rec).expect("json");
        assert_eq!(json["id"], OLD_ID);
        assert_eq!(json["path"], format!("site/deployments/{OLD_ID}"));
        assert_eq!(json["status"]["content"]["value"]["id"], OLD_ID);
        assert!(
            rec.status
                .as_ref()
                .is_some_and(|s| s.meta.modified.is_some() && s.meta.size > 0)
        );
        assert_eq!(rec.status_complete.is_some(), p == Platform::Windows);
        let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
        assert!(plan.is_empty(), "{plan:#?}");
    }
}

/// S1: a live deployment. Deploying now; stalled later; orphaned once the Linux lock expired.
#[test]
fn s1_live_deployment_linux_depends_on_now() {
    let h = healthy(Platform::Linux);
    let start = t0() - mins(2);
    h.linux_lock("Performing continuous deployment", start)
        .expect("lock");
    h.record(&status_doc("temp-3fa9c0d1", Stage::Receiving, start), false)
        .expect("temp");
    h.mtime(
        "site/deployments/temp-3fa9c0d1/log.log",
        t0() - TimeDelta::seconds(30),
    )
    .expect("mtime");

    let (s, d) = diagnose_at(h.path(), t0());
    let info = s
        .locks
        .linux_deployment
        .as_ref()
        .and_then(|l| l.info.as_ref())
        .and_then(|i| i.content.value())
        .expect("info");
    assert_eq!(info.acquired(), Some(start));
    assert_eq!(
        info.operation.as_deref(),
        Some("Performing continuous deployment")
    );
    assert_verdict(&d, Verdict::Deploying);
    assert!(!d.safe_to_deploy);
    assert_eq!(d.safe_after, Some(start + TimeDelta::seconds(1500)));
    assert!(d.has(C::LinuxLockLive) && d.has(C::DeploymentInProgress));
    let temp = s
        .deployments
        .as_ref()
        .and_then(|d| d.record("temp-3fa9c0d1"))
        .and_then(|r| r.log())
        .expect("log");
    assert!(temp.tail_read && temp.last_message.as_deref() == Some("Fetching changes."));
    let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].action, Action::Wait);
    assert_eq!(plan.steps[0].until, d.safe_after);

    // 15 minutes later nothing has moved: stalled, still locked.
    let (_, d) = diagnose_at(h.path(), t0() + mins(15));
    assert_verdict(&d, Verdict::Stuck);
    assert!(d.has(C::DeploymentStalled) && !d.safe_to_deploy);

    // 30 minutes later the lock has expired: the record is an orphan, deploying works again.
    let (_, d) = diagnose_at(h.path(), t0() + mins(30));
    assert_verdict(&d, Verdict::Stuck);
    assert!(d.safe_to_deploy);
    assert!(d.has(C::LinuxLockExpired) && d.has(C::TempDeploymentOrphaned));
}

#[test]
fn s1_live_deployment_windows() {
    let h = healthy(Platform::Windows);
    let start = t0() - mins(3);
    h.windows_lock("Performing continuous deployment", start)
        .expect("lock");
    h.record(&status_doc(NEW_ID, Stage::Building, start), false)
        .expect("record");
    let (s, d) = diagnose_at(h.path(), t0());
    let info = s
        .locks
        .windows_deployment
        .as_ref()
        .and_then(|l| l.content.value())
        .expect("info");
    assert_eq!(info.instance_id.as_deref(), Some("a1b2c3"));
    assert!(
        info.stack_trace
            .as_deref()
            .is_some_and(|t| t.contains("LockFile"))
    );
    assert_verdict(&d, Verdict::Deploying);
    assert!(!d.safe_to_deploy && d.safe_after.is_none());
    assert!(d.has(C::WindowsLockFile) && d.has(C::DeploymentInProgress));
}

/// S2: a stale Windows lock file and nothing running: Kudu deletes it itself; no 409.
#[test]
fn s2_stale_windows_lock() {
    let h = healthy(Platform::Windows);
    h.windows_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::days(2),
    )
    .expect("lock");
    let (s, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Idle);
    assert!(d.safe_to_deploy);
    let f = d.with_code(C::WindowsLockFile).next().expect("finding");
    assert_eq!(
        serde_json::to_value(&f.evidence).expect("json")["age_seconds"],
        serde_json::json!(2 * 86_400)
    );
    let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
    assert!(plan.steps.is_empty() && !plan.notes.is_empty(), "{plan:#?}");
}

/// S3: a held Windows lock whose deployment stopped moving: only an SCM restart helps.
#[test]
fn s3_hung_windows_lock() {
    let h = healthy(Platform::Windows);
    let start = t0() - TimeDelta::hours(3);
    h.windows_lock("Performing continuous deployment", start)
        .expect("lock");
    h.record(&status_doc(NEW_ID, Stage::Building, start), false)
        .expect("record");
    let (s, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Stuck);
    assert!(d.has(C::DeploymentStalled) && !d.safe_to_deploy);
    let plan = kudu_state::plan(
        &s,
        &d,
        PlanOptions {
            allow_live_lock: true,
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    let actions: Vec<_> = plan.steps.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        vec![Action::RestartScm],
        "a Windows lock is never removed: {plan:#?}"
    );
    assert!(plan.steps[0].ops.is_empty());
}

/// S4 (i): Linux lock live, nothing running: stuck, fixed only with --allow-live-lock.
#[test]
fn s4_linux_lock_live_nothing_running() {
    let h = healthy(Platform::Linux);
    let start = t0() - mins(15);
    h.linux_lock("Performing continuous deployment", start)
        .expect("lock");
    let (s, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Stuck);
    assert!(!d.safe_to_deploy);
    assert_eq!(d.safe_after, Some(start + TimeDelta::seconds(1500)));
    let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
    assert_eq!(
        plan.steps.iter().map(|s| s.action).collect::<Vec<_>>(),
        vec![Action::RestartScm]
    );
    let plan = kudu_state::plan(
        &s,
        &d,
        PlanOptions {
            allow_live_lock: true,
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    assert_eq!(plan.steps[0].action, Action::RemoveStalledLock);
    assert_eq!(plan.steps[0].risk, Risk::High);
    assert!(plan.steps[0].reason.contains("at once"));
    let report = kudu_state::apply(&plan, &ApplyOptions::default()).expect("apply");
    let (_, after) = diagnose_at(h.path(), t0());
    assert_verdict(&after, Verdict::Idle);
    assert!(after.safe_to_deploy);
    kudu_state::undo(&report.backup.expect("backup")).expect("undo");
    assert!(h.full("site/locks/deployment/info.lock").exists());

    // A young lock with nothing running yet is a deployment that just started.
    let (_, d) = diagnose_at(h.path(), start + mins(1));
    assert_verdict(&d, Verdict::Deploying);
}

/// S4 (ii): Linux lock expired: treated as free; moving it is what Kudu does next.
#[test]
fn s4_linux_lock_expired() {
    let h = healthy(Platform::Linux);
    h.linux_lock(
        "Performing continuous deployment",
        t0() - TimeDelta::hours(1),
    )
    .expect("lock");
    let (_, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Idle);
    assert!(d.safe_to_deploy && d.has(C::LinuxLockExpired));
    let after = fix_and_undo(h.path(), t0(), &[Action::RemoveExpiredLock]);
    assert!(!after.has(C::LinuxLockExpired));
}

/// S5: info.lock empty or not JSON: Kudu's check throws; broken until the folder goes.
#[test]
fn s5_linux_lock_corrupt() {
    for bad in [
        &b""[..],
        b"{\"lockExpiry\":\"2024-09-04T1",
        b"{\"lockExpiry\":\"2024-09-04T10:00:00Z\"}",
    ] {
        let h = healthy(Platform::Linux);
        h.file("site/locks/deployment/info.lock", bad)
            .expect("lock");
        let (s, d) = diagnose_at(h.path(), t0());
        let info = s
            .locks
            .linux_deployment
            .as_ref()
            .and_then(|l| l.info.as_ref())
            .expect("info");
        assert!(
            matches!(info.content, Content::Corrupt { .. }),
            "{:?}",
            info.content
        );
        assert_verdict(&d, Verdict::Broken);
        assert!(!d.safe_to_deploy && d.safe_after.is_none());
        let after = fix_and_undo(h.path(), t0(), &[Action::RemoveCorruptLock]);
        assert_verdict(&after, Verdict::Idle);
    }
}

/// S6: `pending` present with nothing running is normal.
#[test]
fn s6_pending_is_normal() {
    let h = healthy(Platform::Linux);
    h.pending(t0() - mins(1)).expect("pending");
    let (s, d) = diagnose_at(h.path(), t0());
    assert_eq!(
        s.deployments
            .as_ref()
            .and_then(|d| d.pending.as_ref())
            .map(|m| m.size),
        Some(0)
    );
    assert_verdict(&d, Verdict::Idle);
    let f = d.with_code(C::PendingMarker).next().expect("finding");
    assert_eq!(f.severity, kudu_state::Severity::Info);
}

/// S7: an orphaned temp record on both platforms.
#[test]
fn s7_orphaned_temp() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = healthy(p);
        h.record(
            &status_doc(
                "temp-0a1b2c3d",
                Stage::Receiving,
                t0() - TimeDelta::hours(2),
            ),
            false,
        )
        .expect("temp");
        let (s, d) = diagnose_at(h.path(), t0());
        let r = s
            .deployments
            .as_ref()
            .and_then(|d| d.record("temp-0a1b2c3d"))
            .expect("record");
        assert_eq!(r.id_kind, IdKind::Temp);
        assert!(!r.is_complete(p));
        assert_verdict(&d, Verdict::Stuck);
        assert!(d.safe_to_deploy && d.has(C::TempDeploymentOrphaned));
        let after = fix_and_undo(h.path(), t0(), &[Action::FailOrphanedRecord]);
        assert_verdict(&after, Verdict::Idle);
        assert!(after.has(C::TempDeploymentFailed), "{:#?}", after.findings);
    }
}

/// S8: a Building record hours old with the lock free: fail it as Kudu would.
#[test]
fn s8_stuck_building_record() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = healthy(p);
        h.record(
            &status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::hours(3)),
            true,
        )
        .expect("record");
        let (_, d) = diagnose_at(h.path(), t0());
        assert_verdict(&d, Verdict::Stuck);
        assert!(d.has(C::DeploymentOrphaned));
        let before = capture(h.path());
        let (s, d) = diagnose_at(h.path(), t0());
        let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
        assert_eq!(
            plan.steps.iter().map(|s| s.action).collect::<Vec<_>>(),
            vec![Action::FailOrphanedRecord]
        );
        let report = kudu_state::apply(&plan, &ApplyOptions::default()).expect("apply");
        let (s2, after) = diagnose_at(h.path(), t0());
        assert_verdict(&after, Verdict::Idle);
        let r = s2
            .deployments
            .as_ref()
            .and_then(|d| d.record(NEW_ID))
            .expect("record");
        let doc = r.effective(p).expect("doc");
        assert_eq!(doc.status, DeployStatus::Failed);
        assert!(doc.complete);
        assert_eq!(doc.end_time, Some(t0()));
        assert_eq!(r.status_complete.is_some(), p == Platform::Windows);
        let log = std::fs::read_to_string(h.full(&format!("site/deployments/{NEW_ID}/log.log")))
            .expect("log");
        let last = log.lines().last().expect("line");
        assert!(last.starts_with("2024-09-04T10:00:00.0000000Z,An unknown error has occurred. Check the diagnostic log for details.,"), "{last}");
        assert!(last.ends_with(",2"), "{last}");
        assert_eq!(log.ends_with("\r\n"), p == Platform::Windows);
        kudu_state::undo(&report.backup.expect("backup")).expect("undo");
        assert_same_tree(&before, &capture(h.path()));
    }
}

/// S9: a truncated status.xml: Kudu would delete the folder; rewrite it as a complete record instead.
#[test]
fn s9_corrupt_status_xml() {
    for active in [false, true] {
        let h = healthy(Platform::Linux);
        h.record(
            &status_doc(NEW_ID, Stage::Failed, t0() - TimeDelta::hours(1)),
            true,
        )
        .expect("record");
        let id = if active { OLD_ID } else { NEW_ID };
        let path = format!("site/deployments/{id}/status.xml");
        let bytes = std::fs::read(h.full(&path)).expect("read");
        h.file(&path, &bytes[..bytes.len() / 2]).expect("truncate");
        let (s, d) = diagnose_at(h.path(), t0());
        let r = s
            .deployments
            .as_ref()
            .and_then(|d| d.record(id))
            .expect("record");
        assert!(
            matches!(r.next_read, NextRead::DeleteFolder { .. }),
            "{:?}",
            r.next_read
        );
        assert_verdict(&d, Verdict::Broken);
        let f = d.with_code(C::StatusXmlCorrupt).next().expect("finding");
        assert_eq!(f.message.contains("ACTIVE"), active);
        let after = fix_and_undo(h.path(), t0(), &[Action::RepairStatusXml]);
        assert_verdict(&after, Verdict::Idle);
    }
}

/// S10: Linux status.lock that cannot be opened. (Tests run as root, which ignores permissions, so the
/// file is replaced by a link that kudu-state refuses to follow — the same "cannot read" state.)
#[test]
fn s10_status_lock_unreadable() {
    let h = healthy(Platform::Linux);
    std::fs::remove_file(h.full("site/locks/status.lock")).expect("rm");
    std::os::unix::fs::symlink("/nonexistent/status.lock", h.full("site/locks/status.lock"))
        .expect("link");
    let (_, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Stuck);
    assert!(!d.safe_to_deploy);
    let f = d.with_code(C::LockFileUnreadable).next().expect("finding");
    assert_eq!(f.path, "site/locks/status.lock");
}

/// S11: `active` with a newline, in the wrong case, or naming a missing record.
#[test]
fn s11_active_broken() {
    let cases: [(&[u8], C); 3] = [
        (b"8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b\n", C::ActiveMalformed),
        (b"8C1F4E2A9B3D4F6E8A7B5C4D3E2F1A0B", C::ActiveMalformed),
        (b"ffffffffffffffffffffffffffffffff", C::ActiveMissingTarget),
    ];
    for (bytes, code) in cases {
        let h = healthy(Platform::Linux);
        h.active(bytes, t0() - mins(5)).expect("active");
        let (_, d) = diagnose_at(h.path(), t0());
        assert_verdict(&d, Verdict::Broken);
        assert!(d.has(code), "{:#?}", d.findings);
        let after = fix_and_undo(h.path(), t0(), &[Action::RepairActive]);
        assert_verdict(&after, Verdict::Idle);
        assert!(problems(&after).is_empty(), "{:#?}", after.findings);
    }
    // Empty is normal on a site that never succeeded.
    let h = kudu_state::fixture::HomeBuilder::new(Platform::Linux).expect("home");
    h.site(t0()).expect("site");
    h.active(b"", t0()).expect("active");
    let (_, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Idle);
    assert!(d.has(C::ActiveEmpty) && problems(&d).is_empty());
}

/// S12: a deployment folder without status.xml.
#[test]
fn s12_folder_without_status() {
    let h = healthy(Platform::Windows);
    h.log(
        "0123456789abcdef0123456789abcdef",
        &[LogLine::message(
            t0() - TimeDelta::days(3),
            "Fetching changes.",
        )],
    )
    .expect("log");
    let (s, d) = diagnose_at(h.path(), t0());
    let r = s
        .deployments
        .as_ref()
        .and_then(|d| d.record("0123456789abcdef0123456789abcdef"))
        .expect("record");
    assert_eq!(r.next_read, NextRead::Invisible);
    assert_verdict(&d, Verdict::Idle);
    assert_eq!(problems(&d), vec![C::FolderWithoutStatus]);
    let after = fix_and_undo(h.path(), t0(), &[Action::RemoveFolderWithoutStatus]);
    assert!(problems(&after).is_empty());
}

/// Kudu keeps the newest successful records and purges the rest at its next listing (spec §7.1). The
/// finding counts them all but lists only the first 20 ids: a neglected site has tens of thousands.
#[test]
fn purge_backlog_counts_every_record_and_lists_twenty() {
    let h = healthy(Platform::Linux);
    let ids: Vec<String> = (0..40).map(|i| format!("{i:032x}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let at = t0() - TimeDelta::days(40) + TimeDelta::hours(i64::try_from(i).expect("small"));
        h.record(&status_doc(id, Stage::Success, at), true)
            .expect("record");
    }
    let (_, d) = diagnose_at(h.path(), t0());
    let finding = d
        .findings
        .iter()
        .find(|f| f.code == C::PurgeBacklog)
        .expect("purge-backlog");
    // 41 successful records (the 40 and the active one, which is the newest): 10 kept, 31 purged,
    // all of them older than the kept ones.
    let kudu_state::diagnose::Evidence::Purge { count, first_ids } = &finding.evidence else {
        panic!("{finding:#?}")
    };
    assert_eq!(*count, 31, "{finding:#?}");
    let listed: Vec<&str> = first_ids.iter().map(String::as_str).collect();
    assert_eq!(
        listed,
        ids[..20].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(d.verdict, Verdict::Idle);
}

/// `active` is repaired to the newest successful record that has a `manifest` (the next deployment
/// needs it), which the scan does not list for settled records: the plan looks it up.
#[test]
fn s11_active_is_repaired_to_a_record_with_a_manifest() {
    let h = healthy(Platform::Linux);
    let newer = status_doc(NEW_ID, Stage::Success, t0() - TimeDelta::hours(2));
    h.record(&newer, false).expect("record without manifest");
    h.active(b"ffffffffffffffffffffffffffffffff", t0() - mins(5))
        .expect("active");
    let (s, d) = diagnose_at(h.path(), t0());
    assert!(d.has(C::ActiveMissingTarget), "{:#?}", d.findings);
    let plan = kudu_state::plan(&s, &d, PlanOptions::default()).expect("plan");
    let json = serde_json::to_string(&plan).expect("json");
    assert!(json.contains(OLD_ID), "{json}");
    assert!(
        !json.contains(NEW_ID),
        "picked the record without a manifest: {json}"
    );
}
