//! The .NET date-time text forms Kudu writes and reads, at .NET tick (100 ns) precision.
//!
//! Kudu's files carry `DateTime` values in three textual shapes: the XML Schema form in `status.xml`
//! (spec §5.1), the round-trip "o" form in lock files and `log.log` (spec §2.2, §6.1), and whatever
//! `DateTime.Parse` accepts when reading them back (spec §5.2). Modelling them here keeps every reader
//! and writer in the crate agreeing on the exact bytes, and keeps values at the precision .NET can hold
//! so that a parse/format round trip is lossless.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// Nanoseconds per .NET tick.
const NANOS_PER_TICK: u32 = 100;

/// Parses a date-time the way Kudu's `DateTime.Parse(value).ToUniversalTime()` does for the values
/// found in its files, returning UTC.
///
/// Accepted (after trimming surrounding whitespace): `yyyy-MM-ddTHH:mm:ss` (a space may replace the
/// `T`), an optional fraction of 1 or more digits (digits beyond the 7th, i.e. below one tick, are
/// truncated), then either `Z`, an offset `+hh:mm` / `-hh:mm` (converted to UTC), or nothing.
///
/// A value **without a zone** is treated as UTC: .NET interprets it as local time, and App Service
/// machines run with the UTC time zone, so local time is UTC there.
///
/// Anything else (other layouts, out-of-range fields, years outside .NET's 1..=9999 after conversion to
/// UTC, non-ASCII text) returns `None`. Never panics.
#[must_use]
pub fn parse_lenient(s: &str) -> Option<DateTime<Utc>> {
    let b = s.trim().as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)?;
    p.lit(b'-')?;
    let month = p.digits(2)?;
    p.lit(b'-')?;
    let day = p.digits(2)?;
    match p.next()? {
        b'T' | b' ' => {}
        _ => return None,
    }
    let hour = p.digits(2)?;
    p.lit(b':')?;
    let minute = p.digits(2)?;
    p.lit(b':')?;
    let second = p.digits(2)?;
    let mut nanos: u32 = 0;
    if p.peek() == Some(b'.') {
        p.i += 1;
        let start = p.i;
        let mut scale: u32 = 100_000_000;
        while let Some(d) = p.peek().filter(u8::is_ascii_digit) {
            if p.i - start < 7 {
                nanos += u32::from(d - b'0') * scale;
                scale /= 10;
            }
            p.i += 1;
        }
        if p.i == start {
            return None;
        }
    }
    let offset_secs: i32 = match p.next() {
        None => 0,
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = p.digits(2)?;
            p.lit(b':')?;
            let om = p.digits(2)?;
            if oh > 14 || om > 59 || (oh == 14 && om != 0) {
                return None;
            }
            let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
            if sign == b'-' { -secs } else { secs }
        }
        Some(_) => return None,
    };
    if p.i != b.len() || year == 0 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let naive: NaiveDateTime = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset_secs)?;
    let utc = offset
        .from_local_datetime(&naive)
        .single()?
        .with_timezone(&Utc);
    if !(1..=9999).contains(&utc.year()) {
        return None;
    }
    Some(utc)
}

/// A tiny byte cursor so the parser stays index-safe without slicing.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn lit(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            let c = self.next().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
}

/// Drops precision below one .NET tick (100 ns), which no .NET `DateTime` can hold.
///
/// A chrono leap-second value (nanoseconds ≥ 1 s) is clamped to the last tick of its second, because
/// .NET has no leap seconds.
#[must_use]
pub fn truncate_to_tick(t: DateTime<Utc>) -> DateTime<Utc> {
    let ns = t.nanosecond().min(999_999_999);
    t.with_nanosecond(ns - ns % NANOS_PER_TICK).unwrap_or(t)
}

/// The `yyyy-MM-ddTHH:mm:ss` part, shared by both writers.
fn format_seconds(t: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The tick count within the second (0..=9_999_999).
fn ticks_in_second(t: DateTime<Utc>) -> u32 {
    truncate_to_tick(t).nanosecond() / NANOS_PER_TICK
}

/// Formats as `XmlConvert.ToString(dt, RoundtripKind)` does for a UTC value, the form `status.xml`
/// holds (spec §5.1): `yyyy-MM-ddTHH:mm:ss[.fffffff]Z` with trailing zeros of the fraction removed and
/// the fraction omitted when zero. Precision below 100 ns is truncated.
#[must_use]
pub fn format_xs(t: DateTime<Utc>) -> String {
    let mut out = format_seconds(t);
    let ticks = ticks_in_second(t);
    if ticks != 0 {
        let frac = format!("{ticks:07}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Formats as .NET's round-trip `"o"` format does for a UTC value, the form lock files and `log.log`
/// use (spec §2.2, §6.1): always 7 fraction digits, then `Z`. Precision below 100 ns is truncated.
#[must_use]
pub fn format_round_trip(t: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", format_seconds(t), ticks_in_second(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ns: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, s, ns)
                .unwrap(),
        )
    }

    #[test]
    fn parses_spec_examples() {
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19.8815Z"),
            Some(utc(2024, 9, 4, 10, 33, 19, 881_500_000))
        );
        assert_eq!(
            parse_lenient("2024-09-04T10:33:20Z"),
            Some(utc(2024, 9, 4, 10, 33, 20, 0))
        );
        assert_eq!(
            parse_lenient("2024-09-04T10:33:18.1234567Z"),
            Some(utc(2024, 9, 4, 10, 33, 18, 123_456_700))
        );
        assert_eq!(
            parse_lenient("2021-09-09T17:27:47.0000000"),
            Some(utc(2021, 9, 9, 17, 27, 47, 0))
        );
    }

    #[test]
    fn parses_offsets_spaces_and_long_fractions() {
        assert_eq!(
            parse_lenient("2024-09-04T12:33:19+02:00"),
            Some(utc(2024, 9, 4, 10, 33, 19, 0))
        );
        assert_eq!(
            parse_lenient("2024-09-04T23:30:00-01:30"),
            Some(utc(2024, 9, 5, 1, 0, 0, 0))
        );
        assert_eq!(
            parse_lenient("  2024-09-04 10:33:19.5 \n"),
            Some(utc(2024, 9, 4, 10, 33, 19, 500_000_000))
        );
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19.123456789Z"),
            Some(utc(2024, 9, 4, 10, 33, 19, 123_456_700))
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            " ",
            "2024-09-04",
            "2024-09-04T",
            "2024-9-04T10:33:19Z",
            "2024-09-04T10:33:19.Z",
            "2024-09-04T10:33:19ZZ",
            "2024-13-04T10:33:19Z",
            "2024-02-30T10:33:19Z",
            "2024-09-04T24:00:00Z",
            "2024-09-04T10:60:00Z",
            "2024-09-04T10:33:60Z",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-02:00",
            "2024-09-04T10:33:19+15:00",
            "2024-09-04T10:33:19+0200",
            "2024-09-04x10:33:19Z",
            "２０２４-09-04T10:33:19Z",
            "2024-09-04T10:33:19é",
        ] {
            assert_eq!(parse_lenient(s), None, "{s:?}");
        }
    }

    #[test]
    fn formats_xs() {
        assert_eq!(
            format_xs(utc(2024, 9, 4, 10, 33, 19, 881_500_000)),
            "2024-09-04T10:33:19.8815Z"
        );
        assert_eq!(
            format_xs(utc(2024, 9, 4, 10, 33, 20, 0)),
            "2024-09-04T10:33:20Z"
        );
        assert_eq!(
            format_xs(utc(2024, 9, 4, 10, 35, 2, 512_093_100)),
            "2024-09-04T10:35:02.5120931Z"
        );
        // sub-tick precision is truncated, not rounded
        assert_eq!(
            format_xs(utc(2024, 9, 4, 10, 33, 20, 99)),
            "2024-09-04T10:33:20Z"
        );
        assert_eq!(
            format_xs(utc(2024, 9, 4, 10, 33, 20, 199)),
            "2024-09-04T10:33:20.0000001Z"
        );
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(
            format_round_trip(utc(2024, 9, 4, 10, 33, 18, 123_456_700)),
            "2024-09-04T10:33:18.1234567Z"
        );
        assert_eq!(
            format_round_trip(utc(2024, 9, 4, 10, 35, 2, 500_000_000)),
            "2024-09-04T10:35:02.5000000Z"
        );
        assert_eq!(
            format_round_trip(utc(2021, 9, 9, 17, 27, 47, 0)),
            "2021-09-09T17:27:47.0000000Z"
        );
    }

    #[test]
    fn truncates_to_tick() {
        let t = utc(2024, 9, 4, 10, 33, 18, 123_456_789);
        assert_eq!(
            truncate_to_tick(t),
            utc(2024, 9, 4, 10, 33, 18, 123_456_700)
        );
        let leap = utc(2016, 12, 31, 23, 59, 59, 1_500_000_000);
        assert_eq!(
            truncate_to_tick(leap),
            utc(2016, 12, 31, 23, 59, 59, 999_999_900)
        );
        assert_eq!(format_xs(leap), "2016-12-31T23:59:59.9999999Z");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = parse_lenient(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[0-9 T:.+\\-Zz]{0,40}") {
            let _ = parse_lenient(&s);
        }

        #[test]
        fn formats_round_trip_through_parse(secs in -2_208_988_800i64..=7_258_118_399i64, ticks in 0u32..10_000_000) {
            let t = DateTime::from_timestamp(secs, ticks * 100).unwrap();
            prop_assert_eq!(parse_lenient(&format_xs(t)), Some(t));
            prop_assert_eq!(parse_lenient(&format_round_trip(t)), Some(t));
            prop_assert_eq!(truncate_to_tick(t), t);
        }
    }
}
