//! How .NET, Json.NET and Kudu spell times, ETags, media types and local paths.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Platform;

/// .NET ticks (100 ns units since 0001-01-01T00:00:00Z) of the Unix epoch.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

/// The .NET ticks of a file time (`FileSystemInfo.LastWriteTimeUtc.Ticks`), truncated to 100 ns.
pub fn ticks(time: SystemTime) -> i64 {
    let nanos: i128 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    };
    UNIX_EPOCH_TICKS + nanos.div_euclid(100) as i64
}

/// Kudu's ETag of a file: the quoted lowercase hex of the 8 little-endian bytes of its last-write
/// time in ticks (`CreateEntityTag` in Kudu's `VfsController.cs`, `BitConverter.GetBytes(ticks)`).
pub fn etag(ticks: i64) -> String {
    let mut out = String::with_capacity(18);
    out.push('"');
    for byte in ticks.to_le_bytes() {
        out.push_str(&format!("{byte:02x}"));
    }
    out.push('"');
    out
}

/// A UTC civil time split into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 100 ns units within the second (0..10_000_000).
    pub fraction: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Splits ticks into a proleptic Gregorian UTC date and time.
pub fn civil(ticks: i64) -> Civil {
    let since_epoch = ticks - UNIX_EPOCH_TICKS;
    let days = since_epoch.div_euclid(TICKS_PER_DAY);
    let in_day = since_epoch.rem_euclid(TICKS_PER_DAY);
    let seconds = in_day / TICKS_PER_SECOND;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (seconds / 3600) as u32,
        minute: (seconds / 60 % 60) as u32,
        second: (seconds % 60) as u32,
        fraction: (in_day % TICKS_PER_SECOND) as u32,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// A UTC `DateTimeOffset` as Json.NET writes it (`DateTimeUtils.WriteDefaultIsoDate` plus the
/// offset): `2024-09-04T10:33:19.8815468+00:00`. Json.NET drops trailing zeros of the fraction and
/// the whole fraction when it is zero (`2024-09-04T10:33:19+00:00`), so so do we.
pub fn json_date(ticks: i64) -> String {
    let c = civil(ticks);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    if c.fraction != 0 {
        let digits = format!("{:07}", c.fraction);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push_str("+00:00");
    out
}

/// An RFC 9110 IMF-fixdate (`Last-Modified`, `Date`): `Wed, 04 Sep 2024 10:33:19 GMT`.
pub fn http_date(ticks: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(ticks);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[c.weekday as usize],
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// The media type Kudu gives a file name.
///
/// \[inferred\] Windows Kudu asks the registry (`HKCR\.ext\Content Type`) and KuduLite asks ASP.NET
/// Core's `FileExtensionContentTypeProvider`, both after their own `.js`/`.json` (+ `.log`, `.md`
/// on Linux) entries. This table holds the extensions found in a Kudu home with the values those
/// sources give; anything else is `application/octet-stream`, as both answer for unknown ones.
pub fn mime(platform: Platform, name: &str) -> &'static str {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    match (ext.to_ascii_lowercase().as_str(), platform) {
        ("json", _) => "application/json",
        ("js", _) => "application/javascript",
        ("xml", _) => "text/xml",
        ("txt" | "log", _) => "text/plain",
        ("md", Platform::Linux) => "text/plain",
        ("htm" | "html", _) => "text/html",
        ("css", _) => "text/css",
        ("zip", _) => "application/x-zip-compressed",
        ("gz", _) => "application/x-gzip",
        ("sh", Platform::Linux) => "application/x-sh",
        _ => "application/octet-stream",
    }
}

impl Platform {
    /// Kudu's `HOME`.
    pub fn home_path(self) -> &'static str {
        match self {
            Platform::Windows => r"D:\home",
            Platform::Linux => "/home",
        }
    }

    /// The absolute local path Kudu shows for a path relative to `HOME` (`FileSystemInfo.FullName`),
    /// with a trailing separator when the request named it with one.
    pub fn local_path(self, segments: &[String], trailing_separator: bool) -> String {
        let sep = match self {
            Platform::Windows => '\\',
            Platform::Linux => '/',
        };
        let mut out = self.home_path().to_owned();
        for segment in segments {
            out.push(sep);
            out.push_str(segment);
        }
        if trailing_separator {
            out.push(sep);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn epoch_ticks_and_etag_match_dotnet() {
        assert_eq!(ticks(UNIX_EPOCH), UNIX_EPOCH_TICKS);
        // 2024-09-04T10:33:19.8815468Z is DateTime ticks 638610427998815468 = 0x08dccccc_febac4ec.
        let t = UNIX_EPOCH + Duration::new(1_725_445_999, 881_546_800);
        assert_eq!(ticks(t), 638_610_427_998_815_468);
        assert_eq!(etag(ticks(t)), "\"ecc4bafeccccdc08\"");
        // The example of the spec (§8).
        assert_eq!(etag(0x08dc_d9b5_e0f1_c2a7), "\"a7c2f1e0b5d9dc08\"");
        assert_eq!(json_date(ticks(t)), "2024-09-04T10:33:19.8815468+00:00");
        assert_eq!(http_date(ticks(t)), "Wed, 04 Sep 2024 10:33:19 GMT");
    }

    #[test]
    fn json_date_trims_fraction_like_json_net() {
        let whole = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(json_date(ticks(whole)), "2023-11-14T22:13:20+00:00");
        let tenth = whole + Duration::from_millis(100);
        assert_eq!(json_date(ticks(tenth)), "2023-11-14T22:13:20.1+00:00");
        let before_epoch = UNIX_EPOCH - Duration::from_nanos(100);
        assert_eq!(
            json_date(ticks(before_epoch)),
            "1969-12-31T23:59:59.9999999+00:00"
        );
    }

    #[test]
    fn civil_handles_leap_days() {
        let c = civil(ticks(UNIX_EPOCH + Duration::from_secs(951_782_400))); // 2000-02-29
        assert_eq!((c.year, c.month, c.day, c.weekday), (2000, 2, 29, 2));
    }

    #[test]
    fn local_paths_per_platform() {
        let segs = vec!["site".to_owned(), "locks".to_owned()];
        assert_eq!(
            Platform::Windows.local_path(&segs, false),
            r"D:\home\site\locks"
        );
        assert_eq!(Platform::Linux.local_path(&segs, true), "/home/site/locks/");
        assert_eq!(mime(Platform::Linux, "x.LOG"), "text/plain");
        assert_eq!(
            mime(Platform::Windows, "active"),
            "application/octet-stream"
        );
    }
}
