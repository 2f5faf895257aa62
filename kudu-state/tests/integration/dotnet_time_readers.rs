//! Every reader of a Kudu date-time text in the crate gives the same answer as
//! `dotnet_time::parse_lenient`: `status.xml`, `log.log`, both lock files and explain's "started at".
//! The probes are the ones the three former readers disagreed on, plus the forms Kudu writes.

use chrono::{DateTime, Utc};
use kudu_state::dotnet_time::{parse_lenient, parse_lenient_or_culture};
use kudu_state::explain;
use kudu_state::lock::{parse_linux_lock, parse_operation_lock};
use kudu_state::log::log_log;
use kudu_state::status_xml::{self, StatusXmlError};
use kudu_state::store::Content;

const PROBES: &[&str] = &[
    "2024-09-04T10:33:60Z",
    "0000-01-01T00:00:00Z",
    "2024-09-04T10:33:19+14:30",
    "2024-09-04t10:33:19z",
    "2024-09-04T10:33:19.1234567891Z",
    "2024-09-04T12:33:19+02:00",
    "2024-09-04T10:33:19",
    "2024-09-04 10:33:19Z",
    "2024-09-04T10:33:19.1234567Z",
    "2024-09-04T10:33:19.8815Z",
    "2021-09-09T17:27:47.0000000",
];

fn status_xml_with_start(start: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<deployment>\n  <id>a1</id>\n  <author>N/A</author>\n  \
         <message>m</message>\n  <status>Success</status>\n  <statusText></statusText>\n  \
         <receivedTime>2024-09-04T10:00:00Z</receivedTime>\n  <startTime>{start}</startTime>\n  \
         <complete>True</complete>\n</deployment>"
    )
}

fn via_status_xml(probe: &str) -> Option<DateTime<Utc>> {
    match status_xml::parse(status_xml_with_start(probe).as_bytes()) {
        Ok(doc) => Some(doc.start_time),
        Err(StatusXmlError::BadDate { element, value }) => {
            assert_eq!((element, value.as_str()), ("startTime", probe));
            None
        }
        Err(e) => panic!("{probe:?}: unexpected error {e}"),
    }
}

fn via_log_log(probe: &str) -> Option<DateTime<Utc>> {
    let log = log_log::parse(format!("{probe},msg,id,0\n").as_bytes());
    match log.entries.as_slice() {
        [e] => {
            assert!(log.problems.is_empty());
            assert_eq!(e.time_text, probe);
            e.time
        }
        [] => {
            assert_eq!(log.problems.len(), 1, "{probe:?}");
            assert!(log.problems[0].reason.contains("is not a date"));
            None
        }
        more => panic!("{probe:?}: {more:?}"),
    }
}

fn via_linux_lock(probe: &str) -> Option<DateTime<Utc>> {
    let json = serde_json::json!({"heldByWorker": null, "lockExpiry": probe}).to_string();
    match parse_linux_lock(json.as_bytes()) {
        Content::Parsed { value } => {
            assert!(value.expiry.is_some(), "{probe:?}");
            value.expiry
        }
        Content::Corrupt { reason } => {
            assert!(reason.contains("is not a date"), "{reason}");
            None
        }
        Content::Unreadable { error } => panic!("{error}"),
    }
}

fn via_operation_lock(probe: &str) -> Option<DateTime<Utc>> {
    let json = serde_json::json!({"OperationName": "x", "AcquiredDateTime": probe}).to_string();
    let info = parse_operation_lock(json.as_bytes());
    let value = info.value().expect("any object parses");
    assert_eq!(value.acquired_text.as_deref(), Some(probe));
    value.acquired
}

fn via_explain(probe: &str) -> Option<DateTime<Utc>> {
    let body = format!(
        "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at {probe}.  Please retry operation later."
    );
    let ex = explain::explain(&body, Some(409));
    assert_eq!(ex.started_at_text.as_deref(), Some(probe));
    ex.started_at
}

#[test]
fn every_reader_agrees_with_the_one_parser() {
    for &probe in PROBES {
        let want = parse_lenient(probe);
        assert_eq!(via_status_xml(probe), want, "status.xml {probe:?}");
        assert_eq!(via_log_log(probe), want, "log.log {probe:?}");
        assert_eq!(via_linux_lock(probe), want, "info.lock {probe:?}");
        assert_eq!(via_operation_lock(probe), want, "lock info {probe:?}");
        assert_eq!(via_explain(probe), want, "explain {probe:?}");
        assert_eq!(parse_lenient_or_culture(probe), want, "{probe:?}");
    }
    // The probes are not vacuous: some are refused, some accepted.
    assert_eq!(parse_lenient(PROBES[0]), None);
    assert!(parse_lenient(PROBES[2]).is_some());
}

#[test]
fn only_explain_reads_culture_dates() {
    let culture = "9/4/2024 10:33:18 AM";
    assert_eq!(via_status_xml(culture), None);
    assert_eq!(via_log_log(culture), None);
    assert_eq!(via_linux_lock(culture), None);
    assert_eq!(via_operation_lock(culture), None);
    let want = DateTime::parse_from_rfc3339("2024-09-04T10:33:18Z")
        .expect("valid")
        .with_timezone(&Utc);
    assert_eq!(via_explain(culture), Some(want));
}
