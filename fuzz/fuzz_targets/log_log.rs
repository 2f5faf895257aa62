//! `log_log::parse` and `parse_tail` never panic, and agree with each other: a tail that does not start
//! mid-file is the whole log, and every problem points at a line that exists.
#![no_main]

use kudu_state::log::log_log::{parse, parse_tail};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = parse(data);
    assert_eq!(parse_tail(data, false), whole);
    assert!(!whole.truncated_head);
    let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
    for p in &whole.problems {
        assert!(
            p.line >= 1 && p.line <= lines,
            "problem on line {} of {lines}",
            p.line
        );
    }
    let _ = whole.last_time();
    let _ = whole.kudu_would_fail();
    for e in &whole.entries {
        let _ = e.effective_type();
    }
    let tail = parse_tail(data, true);
    let _ = tail.last_time();
    for p in &tail.problems {
        assert!(
            p.line >= 1 && p.line <= lines,
            "tail problem on line {} of {lines}",
            p.line
        );
    }
});
