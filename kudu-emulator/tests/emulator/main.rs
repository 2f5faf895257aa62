//! Integration tests: real HTTP on loopback against a real temporary home.

// clippy.toml allows unwrap in #[test] functions; the helpers they call are test code too.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod auth;
mod azure;
mod bin;
mod concurrency;
mod faults;
mod locks;
mod routes;
mod util;
mod vfs_read;
mod vfs_write;
mod zip;

/// Tests share an emulator across threads.
#[test]
fn emulator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<kudu_emulator::Emulator>();
    check::<kudu_emulator::Request>();
}
