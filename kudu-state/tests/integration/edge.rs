//! Bad input: missing homes, files as homes, links, odd names, huge logs.

use chrono::TimeDelta;
use kudu_state::fixture::{HomeBuilder, LogLine, Stage, status_doc};
use kudu_state::snapshot::{Given, NoteKind};
use kudu_state::store::Content;
use kudu_state::{FindingCode as C, Platform, ScanOptions, Verdict};

use crate::util::*;

#[test]
fn a_home_that_does_not_exist() {
    let err = kudu_state::scan(
        std::path::Path::new("/nonexistent/home"),
        &ScanOptions::default(),
    )
    .expect_err("missing");
    assert_eq!(err.code(), "HOME_NOT_FOUND");
    assert_eq!(err.path(), Some(std::path::Path::new("/nonexistent/home")));
}

#[test]
fn a_file_or_a_folder_without_site_is_not_a_home() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").expect("write");
    assert_eq!(
        kudu_state::scan(&file, &ScanOptions::default())
            .expect_err("file")
            .code(),
        "NOT_A_HOME"
    );
    assert_eq!(
        kudu_state::scan(dir.path(), &ScanOptions::default())
            .expect_err("dir")
            .code(),
        "NOT_A_HOME"
    );
}

#[test]
fn site_itself_is_accepted_and_said() {
    let h = healthy(Platform::Linux);
    let s = scan(h.path());
    assert_eq!(s.given, Given::Home);
    let s = scan(&h.full("site"));
    assert_eq!(s.given, Given::Site);
    assert_eq!(s.home, h.path());
}

#[test]
fn missing_deployments_folder_is_an_empty_valid_state() {
    let h = HomeBuilder::new(Platform::Linux).expect("home");
    let (s, d) = diagnose_at(h.path(), t0());
    assert!(s.deployments.is_none());
    assert_verdict(&d, Verdict::Idle);
    assert!(d.findings.is_empty());
}

#[test]
fn links_are_reported_and_never_followed() {
    let outside = tempfile::tempdir().expect("outside");
    std::fs::create_dir_all(outside.path().join("secret")).expect("mk");
    std::fs::write(outside.path().join("secret/status.xml"), b"not xml").expect("w");
    let h = healthy(Platform::Linux);
    // A record folder that is a link out of the home, a dangling link, and a linked status.xml.
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        h.full("site/deployments/aaaabbbbccccddddeeeeffff00001111"),
    )
    .expect("link");
    std::os::unix::fs::symlink("/nonexistent", h.full("site/deployments/dangling")).expect("link");
    h.dir("site/deployments/feedfeedfeedfeedfeedfeedfeedfeed")
        .expect("dir");
    std::os::unix::fs::symlink(
        outside.path().join("secret/status.xml"),
        h.full("site/deployments/feedfeedfeedfeedfeedfeedfeedfeed/status.xml"),
    )
    .expect("link");
    let (s, d) = diagnose_at(h.path(), t0());
    let links: Vec<_> = s
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Symlink)
        .map(|n| n.path.as_str())
        .collect();
    assert!(
        links.contains(&"site/deployments/aaaabbbbccccddddeeeeffff00001111"),
        "{links:?}"
    );
    assert!(links.contains(&"site/deployments/dangling"), "{links:?}");
    let dep = s.deployments.as_ref().expect("deployments");
    assert!(
        dep.record("aaaabbbbccccddddeeeeffff00001111").is_none(),
        "a linked folder must not be read as a record"
    );
    let linked = dep
        .record("feedfeedfeedfeedfeedfeedfeedfeed")
        .and_then(|r| r.status.as_ref())
        .expect("status");
    assert!(
        matches!(linked.content, Content::Unreadable { .. }),
        "{:?}",
        linked.content
    );
    assert!(d.has(C::SymlinkNotFollowed));
    assert_ne!(
        d.verdict,
        Verdict::Broken,
        "an unread link is not a corrupt record: {:#?}",
        d.findings
    );
}

#[test]
fn non_utf8_names_are_reported() {
    use std::os::unix::ffi::OsStrExt;
    let h = healthy(Platform::Linux);
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname");
    std::fs::create_dir(h.full("site/deployments").join(name)).expect("mkdir");
    let s = scan(h.path());
    assert!(
        s.notes.iter().any(|n| n.kind == NoteKind::NonUtf8Name),
        "{:#?}",
        s.notes
    );
}

#[test]
fn a_huge_log_is_read_from_its_tail_only() {
    let h = healthy(Platform::Linux);
    let start = t0() - mins(2);
    h.linux_lock("Performing continuous deployment", start)
        .expect("lock");
    h.record(&status_doc(NEW_ID, Stage::Building, start), false)
        .expect("record");
    let mut lines: Vec<LogLine> = (0..60_000)
        .map(|i| LogLine {
            time: start + TimeDelta::milliseconds(i),
            message: format!("npm output line {i}, with a comma"),
            kind: 0,
            child: i % 2 == 1,
        })
        .collect();
    lines.push(LogLine::message(
        t0() - TimeDelta::seconds(5),
        "Running post deployment command(s)...",
    ));
    h.log(NEW_ID, &lines).expect("log");
    let (s, d) = diagnose_at(h.path(), t0());
    let log = s
        .deployments
        .as_ref()
        .and_then(|d| d.record(NEW_ID))
        .and_then(|r| r.log())
        .expect("log");
    let size = log
        .meta
        .as_ref()
        .expect("an unsettled record's log is opened")
        .size;
    assert!(size > 4 * 1024 * 1024, "{size}");
    assert!(log.tail_only);
    assert_eq!(
        log.last_message.as_deref(),
        Some("Running post deployment command(s)...")
    );
    assert_eq!(log.last_entry_time, Some(t0() - TimeDelta::seconds(5)));
    assert_verdict(&d, Verdict::Deploying);
}

#[test]
fn a_forced_platform_wins_but_keeps_the_evidence() {
    let h = healthy(Platform::Linux);
    let s = kudu_state::scan(
        h.path(),
        &ScanOptions {
            platform: Some(Platform::Windows),
            ..ScanOptions::default()
        },
    )
    .expect("scan");
    assert_eq!(s.platform(), Platform::Windows);
    assert!(s.platform.overridden);
    assert!(
        s.platform
            .evidence
            .iter()
            .all(|e| e.platform == Platform::Linux)
    );
}

/// KuduLite never reads `status_complete.xml`, so on a home whose locks show KuduLite beyond doubt it
/// is not looked for; anywhere less certain, or when the Windows reading is asked for, it is.
#[test]
fn status_complete_is_looked_for_unless_the_home_is_kudulite_beyond_doubt() {
    let h = healthy(Platform::Linux);
    let record = format!("site/deployments/{OLD_ID}");
    let doc = fs_err::read(h.full(&format!("{record}/status.xml"))).expect("read");
    h.file(&format!("{record}/status_complete.xml"), &doc)
        .expect("write");
    let complete_of = |s: &kudu_state::Snapshot| {
        s.deployments
            .as_ref()
            .and_then(|d| d.record(OLD_ID))
            .expect("record")
            .status_complete
            .is_some()
    };

    // Three idle lock files: nothing in the records could outvote them.
    let s = scan(h.path());
    assert_eq!(s.platform(), Platform::Linux);
    assert!(!complete_of(&s));
    let forced = kudu_state::scan(
        h.path(),
        &ScanOptions {
            platform: Some(Platform::Windows),
            ..ScanOptions::default()
        },
    )
    .expect("scan");
    assert!(complete_of(&forced));

    // One sign of KuduLite only: the records are weighed, status_complete.xml included.
    for lock in ["hooks.lock", "sshkey.lock"] {
        fs_err::remove_file(h.full(&format!("site/locks/{lock}"))).expect("remove");
    }
    let s = scan(h.path());
    assert!(complete_of(&s));
    assert!(
        s.platform
            .evidence
            .iter()
            .any(|e| e.path.as_str().ends_with("status_complete.xml"))
    );
}

/// A FIFO where a status.xml should be is reported, not opened for a read that would never return.
#[test]
fn a_fifo_as_status_xml_does_not_hang_the_scan() {
    let h = healthy(Platform::Linux);
    let record = "site/deployments/feedfeedfeedfeedfeedfeedfeedfeed";
    h.dir(record).expect("dir");
    let made = std::process::Command::new("mkfifo")
        .arg(h.full(&format!("{record}/status.xml")))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let home = h.path().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(scan(&home));
    });
    let s = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the scan returned");
    let status = s
        .deployments
        .as_ref()
        .and_then(|d| d.record("feedfeedfeedfeedfeedfeedfeedfeed"))
        .and_then(|r| r.status.as_ref())
        .expect("status");
    assert!(
        matches!(&status.content, Content::Unreadable { error } if error.contains("not a regular file")),
        "{:?}",
        status.content
    );
}
