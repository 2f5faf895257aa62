//! The core crate's integration tests: real homes on disk, built in Kudu's exact bytes.

mod dotnet_time_readers;
mod edge;
mod explain_real_texts;
mod heal;
mod new_status_values;
mod props;
mod remediation;
mod scenarios;
mod track;
mod util;

/// Every public result type must cross threads (the bindings run them off the main thread).
#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<kudu_state::Snapshot>();
    check::<kudu_state::Diagnosis>();
    check::<kudu_state::Plan>();
    check::<kudu_state::ApplyReport>();
    check::<kudu_state::Error>();
}
