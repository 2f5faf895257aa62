//! `explain::explain` never panics on any body (lossy UTF-8) and any status; its answer is consistent.
//! The first two bytes choose the HTTP status (0 = none given).
#![no_main]

use kudu_state::explain::explain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (409, data),
    };
    let body = String::from_utf8_lossy(body);
    let x = explain(&body, (status != 0).then_some(status));
    let _ = x.kind.as_str();
    // The kind's answer, except the ARM 429 "exclusive lock" text of `ArmSiteLock`, which is retryable.
    assert!(
        x.retryable == x.kind.retryable()
            || (x.kind == kudu_state::explain::ConflictKind::ArmSiteLock && x.retryable)
    );
    assert!(!x.advice.is_empty());
});
