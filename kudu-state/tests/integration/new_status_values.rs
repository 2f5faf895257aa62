//! Records with the status values newer Kudu builds write (-1 Cancelled, 5 Conflict, 6
//! PartialSuccess): read by name or number, reported as what they mean, never as a stuck or running
//! deployment, while Kudu's public purge rule still counts them as in progress.

use chrono::TimeDelta;
use kudu_state::fixture::{Stage, status_doc};
use kudu_state::record::purge_candidates;
use kudu_state::status_xml::DeployStatus;
use kudu_state::{FindingCode as C, Platform, Severity, Verdict};

use crate::util::*;

const ENDED: [(DeployStatus, &str, &str); 3] = [
    (DeployStatus::Cancelled, "-1", "was cancelled"),
    (
        DeployStatus::Conflict,
        "5",
        "another deployment was in progress",
    ),
    (DeployStatus::PartialSuccess, "6", "partial success"),
];

/// An incomplete record with a newer status and the lock free: one Info finding saying what the status
/// means, the verdict stays idle (a Building record in the same place is stuck).
#[test]
fn incomplete_ended_record_is_reported_as_what_it_means() {
    for p in [Platform::Linux, Platform::Windows] {
        for (status, number, meaning) in ENDED {
            let h = healthy(p);
            let mut doc = status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::hours(2));
            doc.status = status;
            h.record(&doc, false).expect("record");
            let (s, d) = diagnose_at(h.path(), t0());
            let r = s
                .deployments
                .as_ref()
                .and_then(|d| d.record(NEW_ID))
                .expect("record");
            assert_eq!(r.effective(p).map(|d| d.status), Some(status));
            assert_verdict(&d, Verdict::Idle);
            let f = d.with_code(C::DeploymentOrphaned).next().expect("finding");
            assert_eq!(f.severity, Severity::Info, "{p:?} {status}");
            assert!(f.message.contains(meaning), "{}", f.message);
            assert!(f.message.contains(number), "{}", f.message);
            assert!(!f.message.contains("trackers"), "{}", f.message);
            assert!(
                f.message.ends_with("Failed on its next read"),
                "{}",
                f.message
            );
            assert_eq!(
                serde_json::to_value(&f.evidence).expect("json")["status"],
                serde_json::json!(status.to_string())
            );
            assert!(!d.has(C::DeploymentInProgress) && !d.has(C::DeploymentStalled));
            assert!(problems(&d).is_empty(), "{:#?}", d.findings);
        }
        // The same record Building is an orphan that trackers wait on: stuck.
        let h = healthy(p);
        h.record(
            &status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::hours(2)),
            false,
        )
        .expect("record");
        let (_, d) = diagnose_at(h.path(), t0());
        assert_verdict(&d, Verdict::Stuck);
        let f = d.with_code(C::DeploymentOrphaned).next().expect("finding");
        assert_eq!(f.severity, Severity::Warning);
    }
}

/// KuduLite waits 180 s before failing an incomplete record; the message says when.
#[test]
fn fresh_ended_record_on_linux_says_when_kudu_settles_it() {
    let h = healthy(Platform::Linux);
    let mut doc = status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::seconds(30));
    doc.status = DeployStatus::Cancelled;
    h.record(&doc, false).expect("record");
    let (_, d) = diagnose_at(h.path(), t0());
    assert_verdict(&d, Verdict::Idle);
    let f = d.with_code(C::DeploymentOrphaned).next().expect("finding");
    let after = (t0() + TimeDelta::seconds(150)).to_rfc3339();
    assert!(
        f.message.ends_with(&format!("Failed after {after}")),
        "{}",
        f.message
    );
}

/// Written by number (as a Kudu without the names would), the record reads the same.
#[test]
fn status_written_as_number_reads_the_same() {
    for (status, number, meaning) in ENDED {
        let h = healthy(Platform::Linux);
        let mut doc = status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::hours(2));
        doc.status = status;
        h.record(&doc, false).expect("record");
        let rel = format!("site/deployments/{NEW_ID}/status.xml");
        let xml = std::fs::read_to_string(h.full(&rel)).expect("read");
        let name = status.to_string();
        assert!(xml.contains(&format!("<status>{name}</status>")));
        h.file(
            &rel,
            xml.replace(
                &format!("<status>{name}</status>"),
                &format!("<status>{number}</status>"),
            ),
        )
        .expect("rewrite");
        let (_, d) = diagnose_at(h.path(), t0());
        assert_verdict(&d, Verdict::Idle);
        let f = d.with_code(C::DeploymentOrphaned).next().expect("finding");
        assert!(f.message.contains(meaning), "{}", f.message);
    }
}

/// With the lock held (by the deployment that won), the ended record is neither running nor stalled;
/// the lock has its own finding.
#[test]
fn ended_record_under_a_live_lock_is_not_the_running_one() {
    let h = healthy(Platform::Linux);
    let mut doc = status_doc(NEW_ID, Stage::Building, t0() - TimeDelta::minutes(1));
    doc.status = DeployStatus::Conflict;
    h.record(&doc, false).expect("record");
    h.linux_lock("Performing deployment", t0() - TimeDelta::minutes(2))
        .expect("lock");
    let (_, d) = diagnose_at(h.path(), t0());
    assert!(d.has(C::LinuxLockLive));
    assert!(
        d.findings.iter().all(|f| !f.path.contains(NEW_ID)),
        "{:#?}",
        d.findings
    );
    assert!(!d.has(C::DeploymentInProgress) && !d.has(C::DeploymentStalled));
}

/// A complete record with a newer status is a finished deployment: nothing to report.
#[test]
fn complete_ended_record_is_quiet() {
    for p in [Platform::Linux, Platform::Windows] {
        let h = healthy(p);
        let mut doc = status_doc(NEW_ID, Stage::Failed, t0() - TimeDelta::hours(2));
        doc.status = DeployStatus::PartialSuccess;
        h.record(&doc, false).expect("record");
        let (_, d) = diagnose_at(h.path(), t0());
        assert_verdict(&d, Verdict::Idle);
        assert!(
            d.findings.iter().all(|f| !f.path.contains(NEW_ID)),
            "{:#?}",
            d.findings
        );
    }
}

/// Kudu's public purge (spec §7.1) counts only Success and Failed as ended: with a Conflict record
/// and a temporary record both "not Success/Failed", it removes the temporary one (rule 1). The
/// diagnosis keeps Kudu's rule rather than guessing what newer builds purge.
#[test]
fn purge_still_follows_kudus_public_rule() {
    let h = healthy(Platform::Windows);
    let mut doc = status_doc(NEW_ID, Stage::Failed, t0() - TimeDelta::hours(2));
    doc.status = DeployStatus::Conflict;
    h.record(&doc, false).expect("record");
    let temp = status_doc(
        "temp-0a1b2c3d",
        Stage::Receiving,
        t0() - TimeDelta::hours(1),
    );
    h.record(&temp, false).expect("temp");
    let s = scan(h.path());
    let deployments = s.deployments.as_ref().expect("deployments");
    assert_eq!(
        purge_candidates(deployments, Platform::Windows),
        vec!["temp-0a1b2c3d"]
    );
    // The same pair with the record Success: only the temporary one is in progress, nothing is purged.
    let h = healthy(Platform::Windows);
    h.record(
        &status_doc(NEW_ID, Stage::Success, t0() - TimeDelta::hours(2)),
        false,
    )
    .expect("record");
    h.record(&temp, false).expect("temp");
    let s = scan(h.path());
    assert!(purge_candidates(s.deployments.as_ref().expect("d"), Platform::Windows).is_empty());
}
