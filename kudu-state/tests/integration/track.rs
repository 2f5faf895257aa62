//! `track`: follow one deployment by id through its own files, to its end or to inactivity.

use std::time::Duration;

use chrono::TimeDelta;
use kudu_state::fixture::{LogLine, Stage, status_doc};
use kudu_state::status_xml::DeployStatus;
use kudu_state::store::LocalStore;
use kudu_state::{Platform, TrackEnd, TrackOptions, track};

use crate::util::*;

fn options(inactivity_ms: u64) -> TrackOptions {
    TrackOptions {
        inactivity: Duration::from_millis(inactivity_ms),
        poll: Duration::from_millis(20),
    }
}

#[test]
fn a_finished_record_ends_the_track_at_once() {
    for (stage, end) in [
        (Stage::Success, TrackEnd::Succeeded),
        (Stage::Failed, TrackEnd::Failed),
    ] {
        let h = healthy(Platform::Linux);
        h.record(&status_doc(NEW_ID, stage, t0()), true)
            .expect("record");
        let store = LocalStore::new(h.path());
        let out = track(&store, NEW_ID, options(60_000), |_, _| true).expect("track");
        assert_eq!(out.end, end);
        assert!(out.last.found && out.last.complete);
    }
}

/// A record that moves (log lines, then Building → Success) is followed through each change to its
/// end; another record's stale state is never looked at.
#[test]
fn a_moving_record_is_followed_to_its_end_and_others_are_ignored() {
    let h = healthy(Platform::Linux);
    // Someone else's stale, incomplete record: /api/deployments/latest would report this one.
    h.record(
        &status_doc("temp-0a1b2c3d", Stage::Receiving, t0() - TimeDelta::days(2)),
        false,
    )
    .expect("stale");
    let mut doc = status_doc(NEW_ID, Stage::Building, t0());
    h.record(&doc, true).expect("record");
    let root = h.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        let h = kudu_state::fixture::HomeBuilder::at(&root, Platform::Linux).expect("home");
        for i in 0..3 {
            std::thread::sleep(Duration::from_millis(120));
            let lines: Vec<_> = (0..=i)
                .map(|n| LogLine::message(t0() + TimeDelta::seconds(n), &format!("step {n}")))
                .collect();
            h.log(NEW_ID, &lines).expect("log");
        }
        std::thread::sleep(Duration::from_millis(120));
        doc.status = DeployStatus::Success;
        doc.complete = true;
        h.record(&doc, true).expect("done");
    });
    let store = LocalStore::new(h.path());
    let mut seen = Vec::new();
    let out = track(&store, NEW_ID, options(5_000), |s, _| {
        seen.push((s.status, s.last_log_message.clone()));
        true
    })
    .expect("track");
    writer.join().expect("writer");
    assert_eq!(out.end, TrackEnd::Succeeded, "{seen:?}");
    assert!(seen.len() >= 3, "each change is reported: {seen:?}");
    assert_eq!(seen[0].0, Some(DeployStatus::Building));
    assert!(
        seen.iter().any(|(_, m)| m.as_deref() == Some("step 2")),
        "{seen:?}"
    );
}

#[test]
fn an_idle_or_missing_record_times_out_on_inactivity() {
    let h = healthy(Platform::Linux);
    h.record(&status_doc(NEW_ID, Stage::Building, t0()), true)
        .expect("record");
    let store = LocalStore::new(h.path());
    let out = track(&store, NEW_ID, options(200), |_, _| true).expect("track");
    assert_eq!(out.end, TrackEnd::TimedOut);
    assert_eq!(out.last.status, Some(DeployStatus::Building));
    let out = track(
        &store,
        "0123456789abcdef0123456789abcdef",
        options(200),
        |_, _| true,
    )
    .expect("track");
    assert_eq!(out.end, TrackEnd::TimedOut);
    assert!(!out.last.found);
    // An id that is not a folder name is refused, not looked up.
    let err = track(&store, "../etc", options(200), |_, _| true).expect_err("bad id");
    assert_eq!(err.code(), "INVALID_INPUT");
}
