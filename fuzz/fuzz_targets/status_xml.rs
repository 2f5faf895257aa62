//! `status_xml::parse` never panics, and whatever parses survives Kudu's writer.
//!
//! The property is not `parse(write(doc)) == doc`: the writer is Kudu's `Save`, which normalises on
//! purpose (it drops characters XML 1.0 cannot hold, runs `author`/`message` through Kudu's sanitiser,
//! turns every line end into the platform newline, writes whitespace-only text that reads back as
//! empty, and keeps whole ticks only). What is true, and checked for both platforms:
//! 1. the writer's bytes always parse (Kudu can read what it wrote), with nothing missing;
//! 2. the fields Kudu acts on survive one write: `status`, `complete`, `is_temp`, `is_readonly` and the
//!    dates (to the tick);
//! 3. after one write the document is a fixed point: `d1 = parse(write(parse(x)))` gives
//!    `parse(write(d1)) == d1` and `write(d1)` is byte-identical to `write(parse(write(d1)))`.
//!
//! And the snapshot's compact form ([`StatusDoc`]) of whatever parses gives the same document back.
//!
//! Before all that, for any bytes: `parse` (which reads the shape Kudu writes without quick-xml and
//! leaves everything else to the general reader) gives exactly what the general reader alone gives,
//! errors included, and the scan's direct route into a `StatusDoc` gives the parse's `StatusDoc`.
#![no_main]

use kudu_state::Platform;
use kudu_state::dotnet_time::truncate_to_tick;
use kudu_state::status_xml::StatusDoc;
use kudu_state::status_xml::cross_check::{parse_doc, parse_general};
use kudu_state::status_xml::{parse, write};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse(data);
    assert_eq!(
        parsed,
        parse_general(data),
        "the shape reader and the general reader disagree"
    );
    assert_eq!(
        parse_doc(data),
        parsed.clone().map(StatusDoc::from),
        "the scan's StatusDoc is not the parse's"
    );
    let Ok(doc) = parsed else { return };
    let packed = StatusDoc::from(doc.clone());
    assert_eq!(packed.to_status_xml(), doc, "StatusDoc lost something");
    assert_eq!(packed.unsavable_reason(), doc.unsavable_reason());
    for platform in [Platform::Linux, Platform::Windows] {
        let w1 = write(&doc, platform);
        let d1 = parse(&w1).unwrap_or_else(|e| panic!("written bytes do not parse: {e}"));
        assert!(d1.missing.is_empty(), "written bytes miss {:?}", d1.missing);
        assert_eq!(d1.status, doc.status);
        assert_eq!(
            (d1.complete, d1.is_temp, d1.is_readonly),
            (doc.complete, doc.is_temp, doc.is_readonly)
        );
        assert_eq!(d1.received_time, truncate_to_tick(doc.received_time));
        assert_eq!(d1.start_time, truncate_to_tick(doc.start_time));
        assert_eq!(d1.end_time, doc.end_time.map(truncate_to_tick));
        assert_eq!(
            d1.last_success_end_time,
            doc.last_success_end_time.map(truncate_to_tick)
        );
        let w2 = write(&d1, platform);
        let d2 = parse(&w2).unwrap_or_else(|e| panic!("rewritten bytes do not parse: {e}"));
        assert_eq!(d2, d1, "not a fixed point after one write");
        assert_eq!(write(&d2, platform), w2, "writer output not stable");
    }
});
