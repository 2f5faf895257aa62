//! Remote store tests: real HTTP on loopback against the Kudu emulator. Every timeout is short and
//! every fault ends, so no test can hang.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod credentials;
mod hygiene;
mod reads;
mod repair;
mod scenarios;
mod util;

/// The scan reads records on several threads through one store.
#[test]
fn remote_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<kudu_state::remote::RemoteStore>();
    check::<kudu_state::remote::HttpClient>();
    check::<kudu_state::remote::Credentials>();
}
