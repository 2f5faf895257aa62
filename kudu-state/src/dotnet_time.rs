//! The .NET date-time text forms Kudu writes and reads, at .NET tick (100 ns) precision.
//!
//! Kudu's files carry `DateTime` values in three textual shapes: the XML Schema form in `status.xml`
//! (spec §5.1), the round-trip "o" form in lock files and `log.log` (spec §2.2, §6.1), and whatever
//! `DateTime.Parse` accepts when reading them back (spec §5.2). Modelling them here keeps every reader
//! and writer in the crate agreeing on the exact bytes, and keeps values at the precision .NET can hold
//! so that a parse/format round trip is lossless.
//!
//! # One reader
//!
//! Every Kudu reader of these values is `DateTime.Parse` (current culture) followed by
//! `ToUniversalTime()`; none uses `XmlConvert.ToDateTime` or `DateTimeOffset.Parse`:
//! - `status.xml`: `ParseDateTime` = `DateTime.Parse(value).ToUniversalTime()`
//!   (`DeploymentStatusFile.cs`, Windows Kudu and KuduLite alike);
//! - `log.log`: `DateTime.Parse(fields[0]).ToUniversalTime()` (`StructuredTextLogger.cs`, both);
//! - KuduLite `info.lock`: Newtonsoft's `JObject.Parse` (which recognises ISO dates by itself), the
//!   token's `ToString()`, then `Convert.ToDateTime` / `DateTime.TryParse` (`AllSafeLinuxLock.cs`): the
//!   same parser again, after a culture round trip that drops everything below the second;
//! - Windows `OperationLockInfo.AcquiredDateTime`: never parsed by Kudu, only echoed into the 409 text,
//!   which [`crate::explain`] reads.
//!
//! So [`parse_lenient`] is the one place where these texts are decided, for `status.xml`, `log.log`, the
//! lock files and explain. It accepts the *shapes* Kudu and .NET's round-trip formats produce and gives
//! them the *value* `DateTime.Parse` gives. [`parse_lenient_or_culture`] additionally reads the
//! culture-formatted dates (`9/4/2024 10:33:18 AM`) found in 409 texts, for explain only, after trying
//! [`parse_lenient`] first.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};

/// Nanoseconds per .NET tick.
const NANOS_PER_TICK: u32 = 100;

/// .NET ticks per second (`TimeSpan.TicksPerSecond`).
const TICKS_PER_SECOND: f64 = 10_000_000.0;

/// Parses a date-time the way Kudu's `DateTime.Parse(value).ToUniversalTime()` does for the values
/// found in its files, returning UTC.
///
/// Shape (after trimming surrounding whitespace): `yyyy-MM-dd`, then `T`, `t` or a space, `HH:mm:ss`,
/// an optional fraction of one or more digits, then `Z`, `z`, an offset `+hh:mm` / `-hh:mm`, or nothing.
/// Other shapes `DateTime.Parse` would also take (one-digit fields, `+hhmm`, culture formats) are not
/// read: Kudu never writes them, and a reader that guessed at them would hide a hand-edited file.
///
/// Values are what `DateTime.Parse` makes of that shape (each decision is a test case below):
/// - a fraction of any length is rounded to the nearest tick, as `AddTicks(Math.Round(fraction * 1e7))`
///   does (computed the same way, in `f64`, ties to even); a fraction that rounds up carries into the
///   next second;
/// - an offset is subtracted whatever its size (up to `+99:59`; only `DateTimeOffset` limits it to 14 h),
///   minutes must be below 60;
/// - a value **without a zone** is taken as UTC: .NET reads it as local time, and App Service machines
///   run with the UTC time zone, so local time is UTC there;
/// - second 60 is refused (.NET accepts it only as a leap second the operating system knows of, which
///   Linux never reports and App Service's Windows workers do not enable), and so are year 0 and
///   anything outside years 1..=9999 before or after the offset is applied (`DateTime`'s range).
///
/// Never panics, and the work is linear in the input's length.
#[must_use]
pub fn parse_lenient(s: &str) -> Option<DateTime<Utc>> {
    let b = s.trim().as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)?;
    p.lit(b'-')?;
    let month = p.digits(2)?;
    p.lit(b'-')?;
    let day = p.digits(2)?;
    // .NET's tokenizer lower-cases letters before matching its `T` (and `Z`) tokens.
    if !matches!(p.next()?, b'T' | b't' | b' ') {
        return None;
    }
    let hour = p.digits(2)?;
    p.lit(b':')?;
    let minute = p.digits(2)?;
    p.lit(b':')?;
    let second = p.digits(2)?;
    let ticks = if p.peek() == Some(b'.') {
        p.i += 1;
        p.fraction_ticks()?
    } else {
        0
    };
    let offset_secs: i64 = match p.next() {
        None | Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = p.digits(2)?;
            p.lit(b':')?;
            let om = p.digits(2)?;
            if om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -secs } else { secs }
        }
        Some(_) => return None,
    };
    if p.i != b.len() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    // `from_hms_opt` refuses second 60 (chrono would only take it as a leap nanosecond value).
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    to_utc(date.and_time(time), ticks, offset_secs)
}

/// [`parse_lenient`], and when that fails the culture-formatted dates .NET's `DateTime.ToString()` writes
/// (en-US / invariant `9/4/2024 10:33:18 AM`, day-first `25/12/2024 08:00:01`, `04.09.2024 10:33:18`, …),
/// which appear in the "started at" part of Kudu's lock-conflict text.
///
/// Only [`crate::explain`] uses this: a 409 text is written for people and may come from a Kudu whose
/// culture is not the invariant one, whereas Kudu's files hold the round-trip forms. Slash dates are read
/// month-first and day-first only when month-first is impossible; all are taken as UTC (App Service
/// runs Kudu with a UTC clock unless `WEBSITE_TIME_ZONE` is set). The ISO forms are never decided here.
#[must_use]
pub fn parse_lenient_or_culture(s: &str) -> Option<DateTime<Utc>> {
    // .NET on ICU writes a narrow no-break space before AM/PM; some cultures use U+00A0.
    let t: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '\u{202F}' | '\u{00A0}' => ' ',
            c => c,
        })
        .collect();
    let t = t.trim();
    if let Some(v) = parse_lenient(t) {
        return Some(v);
    }
    const CULTURE_FORMATS: &[&str] = &[
        // en-US and invariant culture
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M:%S",
        // day-first cultures (en-GB, fr-FR, ...), used only when month-first fails
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %I:%M:%S %p",
        "%d.%m.%Y %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y.%m.%d %H:%M:%S",
        "%Y/%m/%d %p %I:%M:%S",
    ];
    CULTURE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .and_then(|n| to_utc(n, 0, 0))
}

/// The value checks and conversion both readers share: `DateTime`'s range (years 1..=9999, no leap
/// second), the fraction's ticks added with carry as `AddTicks` does, then the offset subtracted.
fn to_utc(local: NaiveDateTime, ticks: i64, offset_secs: i64) -> Option<DateTime<Utc>> {
    // chrono keeps a parsed second 60 as a nanosecond value of one second or more.
    if local.nanosecond() >= 1_000_000_000 || local.year() < 1 {
        return None;
    }
    let local = local.checked_add_signed(TimeDelta::nanoseconds(
        ticks.checked_mul(i64::from(NANOS_PER_TICK))?,
    ))?;
    let utc = local.checked_sub_signed(TimeDelta::seconds(offset_secs))?;
    let in_range = |t: &NaiveDateTime| (1..=9999).contains(&t.year());
    (in_range(&local) && in_range(&utc)).then(|| utc.and_utc())
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

    /// The digits after a `.`, as ticks, computed exactly as .NET's `ParseFraction` and
    /// `AddTicks((long)Math.Round(fraction * TicksPerSecond))` do: a `double` sum of digit × 0.1ⁿ,
    /// rounded half to even. `None` when there is no digit.
    fn fraction_ticks(&mut self) -> Option<i64> {
        let start = self.i;
        let mut fraction = 0.0_f64;
        let mut base = 0.1_f64;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            fraction += f64::from(d - b'0') * base;
            base *= 0.1;
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        // The sum stays below 1 + 1e-15, so the rounded product is in 0..=10_000_000 and the
        // conversion is exact.
        Some((fraction * TICKS_PER_SECOND).round_ties_even() as i64)
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
    use chrono::TimeZone;
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
            parse_lenient("2024-09-04T23:30:00-01:30"),
            Some(utc(2024, 9, 5, 1, 0, 0, 0))
        );
        assert_eq!(
            parse_lenient("  2024-09-04 10:33:19.5 \n"),
            Some(utc(2024, 9, 4, 10, 33, 19, 500_000_000))
        );
        // Nine digits: 1234567.89 ticks round up (was truncated to 123_456_700 before the readers
        // were unified; .NET rounds).
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19.123456789Z"),
            Some(utc(2024, 9, 4, 10, 33, 19, 123_456_800))
        );
        // A fraction that rounds up to a whole second carries, across midnight too.
        assert_eq!(
            parse_lenient("2024-12-31T23:59:59.99999999Z"),
            Some(utc(2025, 1, 1, 0, 0, 0, 0))
        );
        // The smallest and largest values `DateTime` holds.
        assert_eq!(
            parse_lenient("0001-01-01T00:00:00Z"),
            Some(utc(1, 1, 1, 0, 0, 0, 0))
        );
        assert_eq!(
            parse_lenient("9999-12-31T23:59:59.9999999Z"),
            Some(utc(9999, 12, 31, 23, 59, 59, 999_999_900))
        );
    }

    /// The nine probes on which the crate's three former readers were compared (five of them
    /// disagreed). Each is decided by what `DateTime.Parse(value).ToUniversalTime()` does, the call
    /// every Kudu reader makes (module docs); the expected values are what the one reader now gives.
    #[test]
    fn probes_decided_by_dotnet() {
        let z = Some(utc(2024, 9, 4, 10, 33, 19, 0));
        // 1. Second 60. .NET builds the value with `Calendar.TryToDateTime`, which refuses second 60
        //    unless the OS reports a leap second at that exact time (`IsValidTimeWithLeapSeconds`);
        //    Linux never does and App Service's Windows workers do not enable it: FormatException.
        assert_eq!(parse_lenient("2024-09-04T10:33:60Z"), None);
        // 2. Year 0000. `DateTime` starts at year 1: FormatException.
        assert_eq!(parse_lenient("0000-01-01T00:00:00Z"), None);
        // 3. Offset +14:30. `DateTime.Parse`'s `ParseTimeZone` takes any hour offset and minutes below
        //    60, and subtracts it; only `DateTimeOffset` limits offsets to 14 h, and Kudu does not use it.
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19+14:30"),
            Some(utc(2024, 9, 3, 20, 3, 19, 0))
        );
        // 4. Lowercase `t` (and `z`). The tokenizer lower-cases a letter before looking it up, and
        //    matches the `T` and `Z` tokens ignoring case.
        assert_eq!(parse_lenient("2024-09-04t10:33:19z"), z);
        // 5. Ten fraction digits. `ParseFraction` reads every digit; `AddTicks(Math.Round(f * 1e7))`
        //    rounds to the nearest tick: .1234567891 -> 1234568 ticks.
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19.1234567891Z"),
            Some(utc(2024, 9, 4, 10, 33, 19, 123_456_800))
        );
        // 6. `Z` versus an offset: the same instant; `ToUniversalTime` applies the offset.
        assert_eq!(parse_lenient("2024-09-04T10:33:19Z"), z);
        assert_eq!(parse_lenient("2024-09-04T12:33:19+02:00"), z);
        // 7. No zone: `DateTimeKind.Unspecified`, which `ToUniversalTime` takes as local time, and local
        //    time is UTC on App Service.
        assert_eq!(parse_lenient("2024-09-04T10:33:19"), z);
        // 8. A space instead of `T`: the general (non-ISO) parse path reads date and time separated by
        //    white space.
        assert_eq!(parse_lenient("2024-09-04 10:33:19Z"), z);
        // 9. Seven fraction digits, the "o" format Kudu writes: exact ticks, nothing rounded.
        assert_eq!(
            parse_lenient("2024-09-04T10:33:19.1234567Z"),
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
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-02:00",
            "9999-12-31T23:59:59.99999999Z",
            "2024-09-04T10:33:19+02:60",
            "2024-09-04T10:33:19+0200",
            "2024-09-04T10:33:19Z+02:00",
            "2024-09-04x10:33:19Z",
            "２０２４-09-04T10:33:19Z",
            "2024-09-04T10:33:19é",
            "9/4/2024 10:33:18 AM",
        ] {
            assert_eq!(parse_lenient(s), None, "{s:?}");
        }
    }

    #[test]
    fn culture_forms_only_in_the_second_reader() {
        let t = Some(utc(2024, 9, 4, 10, 33, 18, 0));
        assert_eq!(parse_lenient_or_culture("9/4/2024 10:33:18 AM"), t);
        assert_eq!(parse_lenient_or_culture("9/4/2024 10:33:18\u{202F}AM"), t);
        assert_eq!(
            parse_lenient_or_culture("9/4/2024 10:33:18 PM"),
            Some(utc(2024, 9, 4, 22, 33, 18, 0))
        );
        assert_eq!(
            parse_lenient_or_culture("25/12/2024 08:00:01"),
            Some(utc(2024, 12, 25, 8, 0, 1, 0))
        );
        assert_eq!(parse_lenient_or_culture("04.09.2024 10:33:18"), t);
        // The ISO forms are the first reader's: same answers, including its refusals.
        for s in [
            "2024-09-04T10:33:18Z",
            "2024-09-04t10:33:18.5+14:30",
            "2024-09-04T10:33:60Z",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_lenient_or_culture(s), parse_lenient(s), "{s:?}");
        }
        // The culture forms get the same range checks: no leap second, no year 0.
        assert_eq!(parse_lenient_or_culture("9/4/2024 10:33:60 AM"), None);
        assert_eq!(parse_lenient_or_culture("1/1/0000 10:33:18 AM"), None);
        assert_eq!(parse_lenient_or_culture("sometime"), None);
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
            let _ = parse_lenient_or_culture(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[0-9 Tt:.+\\-Zz/APM]{0,40}") {
            let _ = parse_lenient(&s);
            let _ = parse_lenient_or_culture(&s);
        }

        /// Whatever Kudu writes reads back as the same tick, through both readers and in every
        /// spelling .NET accepts for it (lowercase, space for `T`, extra fraction digits, an offset).
        #[test]
        fn formats_round_trip_through_parse(
            secs in -62_135_596_800i64..=253_402_300_799i64,
            ticks in 0u32..10_000_000,
            offset_min in -(99 * 60 + 59)..=(99 * 60 + 59i64),
        ) {
            let t = DateTime::from_timestamp(secs, ticks * 100).unwrap();
            for text in [format_xs(t), format_round_trip(t)] {
                prop_assert_eq!(parse_lenient(&text), Some(t));
                prop_assert_eq!(parse_lenient_or_culture(&text), Some(t));
                prop_assert_eq!(parse_lenient(&text.to_lowercase().replace('t', " ")), Some(t));
            }
            // Extra digits below the tick round away, never up to the next tick when they are 0.
            let long = format_round_trip(t).replace('Z', "0000Z");
            prop_assert_eq!(parse_lenient(&long), Some(t));
            // The same instant written with an offset, when it fits in `DateTime` both ways.
            let local = t + TimeDelta::minutes(offset_min);
            if (1..=9999).contains(&local.year()) {
                let sign = if offset_min < 0 { '-' } else { '+' };
                let text = format!(
                    "{}{sign}{:02}:{:02}",
                    format_round_trip(local).trim_end_matches('Z'),
                    offset_min.abs() / 60,
                    offset_min.abs() % 60
                );
                prop_assert_eq!(parse_lenient(&text), Some(t), "{}", text);
            }
            prop_assert_eq!(truncate_to_tick(t), t);
        }
    }
}
