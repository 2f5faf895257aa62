//! `lock::parse_linux_lock` (KuduLite's `info.lock`) never panics, nor do the times derived from it.
#![no_main]

use chrono::{DateTime, Utc};
use kudu_state::lock::parse_linux_lock;
use kudu_state::store::Content;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Content::Parsed { value } = parse_linux_lock(data) {
        let _ = value.acquired();
        for now in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            DateTime::<Utc>::MAX_UTC,
        ] {
            let held = value.is_held_at(now);
            assert!(!held || value.expiry.is_some());
        }
    }
});
