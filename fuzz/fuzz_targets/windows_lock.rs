//! `lock::parse_operation_lock` (Windows `deployments.lock`, Linux idle locks) never panics.
#![no_main]

use kudu_state::lock::parse_operation_lock;
use kudu_state::store::Content;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Content::Parsed { value } = parse_operation_lock(data) {
        // A parsed time always comes with the text it was parsed from.
        assert!(value.acquired.is_none() || value.acquired_text.is_some());
    }
});
