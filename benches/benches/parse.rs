//! In-process benches of the parsers: `status.xml` (the scan's route into a `StatusDoc`, `parse`, the
//! general quick-xml reader alone, and a bare quick-xml event loop over the same bytes), `log.log`
//! tails, lock JSON, and the 409 explainer.
//!
//! `cargo bench -p kudu-state-benches --bench parse`

use chrono::{TimeDelta, TimeZone, Utc};
use divan::{Bencher, black_box};
use kudu_state::Platform;
use kudu_state::fixture::operation_lock_json;
use kudu_state::log::log_log;
use kudu_state::{explain, lock, status_xml};
use kudu_state_benches::{log_bytes, record_doc, record_log};
use quick_xml::events::Event;

fn main() {
    divan::main();
}

fn status_bytes(platform: Platform) -> Vec<u8> {
    status_xml::write(&record_doc(1), platform)
}

#[divan::bench(args = [Platform::Linux, Platform::Windows])]
fn status_xml_parse(bencher: Bencher, platform: Platform) {
    let bytes = status_bytes(platform);
    bencher
        .counter(divan::counter::BytesCount::of_slice(&bytes))
        .bench(|| status_xml::parse(black_box(&bytes)));
}

/// What the scan does with each `status.xml`: straight into the compact form a snapshot keeps.
#[divan::bench(args = [Platform::Linux, Platform::Windows])]
fn status_xml_parse_doc(bencher: Bencher, platform: Platform) {
    let bytes = status_bytes(platform);
    bencher
        .counter(divan::counter::BytesCount::of_slice(&bytes))
        .bench(|| status_xml::cross_check::parse_doc(black_box(&bytes)));
}

/// The same document through the general (quick-xml) reader alone, as every document was read
/// before the reader learnt the shape Kudu writes.
#[divan::bench(args = [Platform::Linux, Platform::Windows])]
fn status_xml_parse_general(bencher: Bencher, platform: Platform) {
    let bytes = status_bytes(platform);
    bencher
        .counter(divan::counter::BytesCount::of_slice(&bytes))
        .bench(|| status_xml::cross_check::parse_general(black_box(&bytes)));
}

/// The floor: every event of the same document through quick-xml, nothing kept.
#[divan::bench(args = [Platform::Linux, Platform::Windows])]
fn status_xml_bare_quick_xml(bencher: Bencher, platform: Platform) {
    let bytes = status_bytes(platform);
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    bencher
        .counter(divan::counter::BytesCount::of_str(&text))
        .bench(|| {
            let mut reader = quick_xml::Reader::from_str(black_box(&text));
            let mut events = 0usize;
            loop {
                match reader.read_event() {
                    Ok(Event::Eof) | Err(_) => break,
                    Ok(e) => {
                        black_box(e);
                        events += 1;
                    }
                }
            }
            events
        });
}

#[divan::bench]
fn status_xml_write(bencher: Bencher) {
    let doc = record_doc(1);
    bencher.bench(|| status_xml::write(black_box(&doc), Platform::Windows));
}

/// A whole ~5 KiB record log, and a 64 KiB tail cut mid-line (what the scanner reads of a big log).
#[divan::bench(args = ["record", "tail-64k"])]
fn log_log_parse_tail(bencher: Bencher, which: &str) {
    let one = log_bytes(&record_log(&record_doc(1)), Platform::Linux);
    let bytes = if which == "record" {
        one
    } else {
        let mut big = Vec::new();
        while big.len() < 64 * 1024 + 100 {
            big.extend_from_slice(&one);
        }
        big[big.len() - 64 * 1024..].to_vec()
    };
    let mid = which != "record";
    bencher
        .counter(divan::counter::BytesCount::of_slice(&bytes))
        .bench(|| log_log::parse_tail(black_box(&bytes), mid));
}

#[divan::bench]
fn lock_parse_linux(bencher: Bencher) {
    let json = br#"{"lockExpiry":"2024-09-04T10:58:18.1234567Z","heldByPID":57,"heldByTID":23,"heldByOp":"Performing continuous deployment","heldByWorker":"5f2c0b7e1d3a9c4b8e6f0a2d4c6e8f0a1b3d5f7092a4c6e8f0a1b3d5f7092a4c"}"#;
    bencher.bench(|| lock::parse_linux_lock(black_box(json)));
}

#[divan::bench]
fn lock_parse_operation(bencher: Bencher) {
    let at = Utc
        .with_ymd_and_hms(2024, 9, 4, 10, 33, 18)
        .single()
        .expect("time")
        + TimeDelta::nanoseconds(123_456_700);
    let json = operation_lock_json("Performing continuous deployment", at, "\r\n");
    bencher.bench(|| lock::parse_operation_lock(black_box(json.as_bytes())));
}

const BODIES: [&str; 4] = [
    "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later.",
    "There is a deployment currently in progress. Please try again when it completes.",
    r#"{"Message":"An error has occurred.","ExceptionMessage":"Unable to delete '8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b'. The deployment is currently active.","ExceptionType":"System.InvalidOperationException","StackTrace":"   at Kudu.Services.Deployment.DeploymentController.Delete(String id)"}"#,
    "Run-From-Zip is set to a remote URL using WEBSITE_RUN_FROM_PACKAGE or WEBSITE_USE_ZIP app setting. Deployment is not supported in this configuration.",
];

#[divan::bench(args = [0, 1, 2, 3])]
fn explain_409(bencher: Bencher, i: usize) {
    let body = BODIES[i];
    bencher.bench(|| explain::explain(black_box(body), Some(409)));
}
