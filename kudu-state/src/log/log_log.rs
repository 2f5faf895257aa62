//! Kudu's structured-text deployment log, `site/deployments/<id>/log.log` (spec §6.1).
//!
//! The log is the only place that says *what a deployment was doing* when it stopped, and the
//! newest line's time tells whether a deployment still makes progress. Kudu's own reader
//! (`StructuredTextDocument`) is strict: one malformed line makes the whole
//! `GET /api/deployments/{id}/log` request fail. This module reads the same format leniently, keeps
//! every entry it can, and reports each line Kudu would choke on as a [`LogProblem`], so a diagnosis
//! can say both "here is the log" and "Kudu's API cannot show it".
//!
//! Format (one entry per line, UTF-8, CRLF on Windows, LF on Linux):
//! `<depth TABs><time>,<message>,<id>,<type>` where `time` is .NET round-trip "o" format, commas in
//! `message` are written as `&comma;`, `id` is a dashed GUID for top-level entries and empty for
//! children, and `type` is `0` Message, `1` Warning, `2` Error. Lines with one more leading TAB are
//! the details (children) of the preceding top-level entry.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::dotnet_time;

/// Severity of a log line, as Kudu's `LogEntryType` enum numbers it; it decides whether a
/// deployment log shows a warning or an error to the person reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogEntryType {
    /// `0`: an informational line (also stdout of build commands).
    Message,
    /// `1`: a warning (also stderr of build commands).
    Warning,
    /// `2`: an error.
    Error,
    /// Any other integer: Kudu casts it to its enum without checking, so it is kept, not rejected.
    Other(i64),
}

impl LogEntryType {
    /// The number Kudu writes for this type; used to compare severities the way Kudu does
    /// (by the enum's integer value).
    pub fn number(self) -> i64 {
        match self {
            LogEntryType::Message => 0,
            LogEntryType::Warning => 1,
            LogEntryType::Error => 2,
            LogEntryType::Other(n) => n,
        }
    }

    /// Maps Kudu's number back to a type, so that round-tripping a line never loses information.
    pub fn from_number(n: i64) -> Self {
        match n {
            0 => LogEntryType::Message,
            1 => LogEntryType::Warning,
            2 => LogEntryType::Error,
            other => LogEntryType::Other(other),
        }
    }
}

/// One line of `log.log` (top-level entry or child detail line), decoded, so callers can show a
/// deployment's progress without re-implementing Kudu's escaping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// The entry's time in UTC, or `None` when the time text could not be parsed (then Kudu
    /// cannot read the log either, and a [`LogProblem`] is reported).
    pub time: Option<DateTime<Utc>>,
    /// The time exactly as written, so nothing is lost when `time` is `None`.
    pub time_text: String,
    /// The message with `&comma;` turned back into `,`; the two-character sequences `\r\n`,
    /// `\r`, `\n` Kudu writes for line breaks are kept as written (Kudu does not reverse them).
    pub message: String,
    /// A dashed GUID for top-level entries; empty for children (Kudu's API addresses details by
    /// the parent's id).
    pub id: String,
    /// The type as written on this line (see [`LogEntry::effective_type`] for what Kudu reports).
    pub entry_type: LogEntryType,
    /// Detail lines (one more leading TAB) that follow this entry, in file order. Always empty
    /// for children: Kudu only ever writes one level of nesting, and deeper lines are attached to
    /// the top-level entry.
    pub children: Vec<LogEntry>,
}

impl LogEntry {
    /// The type Kudu reports for this entry: its own type raised to the highest type of its
    /// children, so that a step whose command printed warnings shows as a warning.
    pub fn effective_type(&self) -> LogEntryType {
        self.children
            .iter()
            .map(|c| c.entry_type)
            .fold(self.entry_type, |acc, t| {
                if t.number() > acc.number() { t } else { acc }
            })
    }
}

/// A line that Kudu's own log reader would reject (which makes Kudu's whole log request fail), so
/// a diagnosis can point at the exact line to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogProblem {
    /// 1-based line number within the bytes given to [`parse`] / [`parse_tail`] (CRLF, LF and a
    /// lone CR each end one line, as .NET's `ReadAllLines` counts them). In tail mode the dropped
    /// partial first line is line 1.
    pub line: usize,
    /// What is wrong with the line, for a person.
    pub reason: String,
}

/// The result of reading a `log.log`: every entry that could be decoded plus the lines that could
/// not, so one bad line never hides the rest of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedLog {
    /// Top-level entries in file order, each with its children.
    pub entries: Vec<LogEntry>,
    /// Lines Kudu's reader would reject, in file order.
    pub problems: Vec<LogProblem>,
    /// true when parsing started mid-file (tail) and the first partial line / leading orphan
    /// children were skipped, so `entries` is not the whole log.
    pub truncated_head: bool,
}

impl ParsedLog {
    /// The newest time of any entry or child: the last sign of life of the deployment, used to
    /// tell a running deployment from a stuck one.
    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        self.entries
            .iter()
            .flat_map(|e| std::iter::once(e).chain(e.children.iter()))
            .filter_map(|e| e.time)
            .max()
    }

    /// true when Kudu's own reader would throw on this log (every recorded problem is such a
    /// line), i.e. `GET /api/deployments/{id}/log` fails for this deployment.
    pub fn kudu_would_fail(&self) -> bool {
        !self.problems.is_empty()
    }
}

/// Reads a whole `log.log` file, so its entries can be shown and its Kudu-breaking lines reported.
///
/// Never panics: invalid UTF-8 is decoded lossily, a leading UTF-8 BOM is ignored, and an
/// unterminated last line (a log still being appended to) is kept when it parses and silently
/// ignored otherwise.
pub fn parse(text: &[u8]) -> ParsedLog {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    parse_inner(text, 0, false)
}

/// Reads a tail of `log.log` taken from some offset, so a large or growing log can be followed
/// without reading it all.
///
/// When `starts_mid_file` is true, everything up to and including the first `'\n'` is dropped (it
/// may be a partial line), child lines before the first top-level entry are skipped without
/// being reported, and [`ParsedLog::truncated_head`] is set. When it is false this is the same as
/// [`parse`].
pub fn parse_tail(tail: &[u8], starts_mid_file: bool) -> ParsedLog {
    if !starts_mid_file {
        return parse(tail);
    }
    match tail.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            let rest = tail.get(nl + 1..).unwrap_or(&[]);
            parse_inner(rest, 1, true)
        }
        None => ParsedLog {
            entries: Vec::new(),
            problems: Vec::new(),
            truncated_head: true,
        },
    }
}

/// One physical line: its 1-based number, its text (terminator removed) and whether a line
/// terminator followed it.
struct Line<'a> {
    number: usize,
    text: &'a str,
    terminated: bool,
}

/// Splits like .NET `ReadAllLines`: `\r\n`, `\n` and a lone `\r` each end a line.
fn split_lines(text: &str, first_number: usize) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0usize;
    let mut i = 0usize;
    let mut number = first_number;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' || b == b'\r' {
            out.push(Line {
                number,
                text: text.get(start..i).unwrap_or(""),
                terminated: true,
            });
            number += 1;
            if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push(Line {
            number,
            text: text.get(start..).unwrap_or(""),
            terminated: false,
        });
    }
    out
}

fn parse_inner(bytes: &[u8], lines_skipped: usize, tail_mode: bool) -> ParsedLog {
    let text = String::from_utf8_lossy(bytes);
    let mut entries: Vec<LogEntry> = Vec::new();
    let mut problems = Vec::new();
    for line in split_lines(&text, lines_skipped + 1) {
        if line.text.trim().is_empty() {
            continue;
        }
        let depth = line.text.bytes().take_while(|&b| b == b'\t').count();
        let body = line.text.get(depth..).unwrap_or("");
        let is_last_partial = !line.terminated;
        let decoded = match decode_fields(body) {
            Ok(entry) => entry,
            Err(reason) => {
                if !is_last_partial {
                    problems.push(LogProblem {
                        line: line.number,
                        reason,
                    });
                }
                continue;
            }
        };
        if depth == 0 {
            entries.push(decoded);
        } else if let Some(parent) = entries.last_mut() {
            parent.children.push(decoded);
        } else if !tail_mode && !is_last_partial {
            problems.push(LogProblem {
                line: line.number,
                reason: "detail line (leading TAB) before any top-level entry".to_string(),
            });
        }
    }
    ParsedLog {
        entries,
        problems,
        truncated_head: tail_mode,
    }
}

/// Decodes `<time>,<message>,<id>,<type>` (TABs already removed) the way Kudu's deserializer
/// does; an `Err` carries the reason Kudu would reject it.
fn decode_fields(body: &str) -> Result<LogEntry, String> {
    let fields: Vec<&str> = body.split(',').collect();
    let [time_text, message, id, type_text] = fields.as_slice() else {
        return Err(format!(
            "expected 4 comma-separated fields (time,message,id,type), found {}",
            fields.len()
        ));
    };
    // Kudu: DateTime.Parse(text).ToUniversalTime(), decided in one place for the whole crate.
    let time = dotnet_time::parse_lenient(time_text);
    if time.is_none() {
        return Err(format!("time {:?} is not a date", shorten(time_text)));
    }
    // Kudu: (LogEntryType)Int32.Parse(text): surrounding white space allowed, 32-bit range.
    let n = type_text
        .trim()
        .parse::<i32>()
        .map_err(|_| format!("type {:?} is not a 32-bit integer", shorten(type_text)))?;
    Ok(LogEntry {
        time,
        time_text: (*time_text).to_string(),
        message: message.replace("&comma;", ","),
        id: (*id).to_string(),
        entry_type: LogEntryType::from_number(i64::from(n)),
        children: Vec::new(),
    })
}

/// Bounds text quoted in a problem message so a huge garbage line does not produce a huge report.
fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// One line as Kudu's `StructuredTextLogger` writes it, with its line break: the depth's TABs, the
/// time in round-trip "o" form, the message with commas as `&comma;` and line breaks as the literal
/// two-character `\\r` / `\\n`, the entry id (a dashed GUID at depth 0, empty for a child), the type
/// number. The one writer of the format: the self-heal appends with it, the fixture builds logs with it.
#[must_use]
pub fn entry_line(
    depth: usize,
    time: DateTime<Utc>,
    message: &str,
    id: &str,
    kind: LogEntryType,
    newline: &str,
) -> String {
    let message = message
        .replace(',', "&comma;")
        .replace("\r\n", "\\r\\n")
        .replace('\r', "\\r")
        .replace('\n', "\\n");
    format!(
        "{}{},{message},{id},{}{newline}",
        "\t".repeat(depth),
        crate::dotnet_time::format_round_trip(time),
        kind.number()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "2024-09-04T10:33:19.1024410Z,Updating submodules.,0c5e0c4e-2a1f-4b5e-9d76-52b7a1b44d0e,0
2024-09-04T10:33:19.2210021Z,Preparing deployment for commit id '8c1f4e2a9b'.,9d3f6a10-5b7e-4e0a-8a55-0f4f2e1c7d33,0
2024-09-04T10:33:20.4001234Z,Running deployment command...,e1a2b3c4-d5e6-4f70-8a91-b2c3d4e5f601,0
\t2024-09-04T10:33:20.5004321Z,Command: \"D:\\home\\site\\deployments\\tools\\deploy.cmd\",,0
\t2024-09-04T10:34:58.0000001Z,npm WARN deprecated x@1.0.0&comma; use y instead,,1
2024-09-04T10:35:02.5000000Z,Deployment successful.,5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f,0
";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test value")
            .with_timezone(&Utc)
    }

    #[test]
    fn spec_example() {
        let log = parse(EXAMPLE.as_bytes());
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        assert!(!log.kudu_would_fail());
        assert!(!log.truncated_head);
        assert_eq!(log.entries.len(), 4);
        let run = &log.entries[2];
        assert_eq!(run.message, "Running deployment command...");
        assert_eq!(run.id, "e1a2b3c4-d5e6-4f70-8a91-b2c3d4e5f601");
        assert_eq!(run.entry_type, LogEntryType::Message);
        assert_eq!(run.children.len(), 2);
        assert_eq!(
            run.children[0].message,
            r#"Command: "D:\home\site\deployments\tools\deploy.cmd""#
        );
        assert_eq!(run.children[0].id, "");
        assert_eq!(
            run.children[1].message,
            "npm WARN deprecated x@1.0.0, use y instead"
        );
        assert_eq!(run.children[1].entry_type, LogEntryType::Warning);
        assert_eq!(run.effective_type(), LogEntryType::Warning);
        assert_eq!(log.entries[0].effective_type(), LogEntryType::Message);
        assert_eq!(log.entries[0].time, Some(t("2024-09-04T10:33:19.102441Z")));
        assert_eq!(log.entries[0].time_text, "2024-09-04T10:33:19.1024410Z");
        assert_eq!(
            log.entries[1].message,
            "Preparing deployment for commit id '8c1f4e2a9b'."
        );
        assert_eq!(log.last_time(), Some(t("2024-09-04T10:35:02.5Z")));
    }

    #[test]
    fn crlf_and_blank_lines() {
        let text = EXAMPLE.replace('\n', "\r\n").replace(
            "2024-09-04T10:35:02",
            "\r\n   \r\n\t\r\n2024-09-04T10:35:02",
        );
        let log = parse(text.as_bytes());
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        assert_eq!(log.entries, parse(EXAMPLE.as_bytes()).entries);
        assert!(log.entries.iter().all(|e| !e.id.ends_with('\r')));
    }

    #[test]
    fn bom_and_invalid_utf8() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(b"2024-09-04T10:33:19.1024410Z,bad \xFF byte,id,2\n");
        let log = parse(&bytes);
        assert!(log.problems.is_empty());
        assert_eq!(log.entries[0].message, "bad \u{FFFD} byte");
        assert_eq!(log.entries[0].entry_type, LogEntryType::Error);
    }

    #[test]
    fn escaped_newlines_kept_literally() {
        let log = parse(b"2024-09-04T10:33:19.1024410Z,a\\r\\nb\\nc,id,0\n");
        assert_eq!(log.entries[0].message, "a\\r\\nb\\nc");
    }

    #[test]
    fn malformed_line_is_problem() {
        let text = "2024-09-04T10:33:19.1024410Z,ok,id1,0\nthis line, has, too, many, commas\n2024-09-04T10:33:20.0000000Z,ok2,id2,0\nno commas at all\n";
        let log = parse(text.as_bytes());
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.problems.len(), 2);
        assert_eq!(log.problems[0].line, 2);
        assert_eq!(log.problems[1].line, 4);
        assert!(log.problems[0].reason.contains("found 5"));
        assert!(log.kudu_would_fail());
    }

    #[test]
    fn bad_time_and_type_are_problems() {
        let text = "yesterday,msg,id,0\n2024-09-04T10:33:19.1024410Z,msg,id,warn\n2024-09-04T10:33:19.1024410Z,msg,id, 7 \n";
        let log = parse(text.as_bytes());
        assert_eq!(log.problems.len(), 2);
        assert_eq!(log.problems[0].line, 1);
        assert_eq!(log.problems[1].line, 2);
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].entry_type, LogEntryType::Other(7));
    }

    #[test]
    fn time_without_zone_is_utc() {
        let log = parse(b"2024-09-04T10:33:19.1024410,m,id,0\n");
        assert_eq!(log.entries[0].time, Some(t("2024-09-04T10:33:19.102441Z")));
    }

    #[test]
    fn child_before_parent_is_problem() {
        let text =
            "\t2024-09-04T10:33:19.1024410Z,orphan,,0\n2024-09-04T10:33:20.0000000Z,parent,id,0\n";
        let log = parse(text.as_bytes());
        assert_eq!(log.problems.len(), 1);
        assert_eq!(log.problems[0].line, 1);
        assert!(log.kudu_would_fail());
        assert_eq!(log.entries.len(), 1);
        assert!(log.entries[0].children.is_empty());
    }

    #[test]
    fn deeper_lines_attach_to_top_level_entry() {
        let text =
            "2024-09-04T10:33:19.1024410Z,p,id,0\n\t\t2024-09-04T10:33:20.0000000Z,deep,,2\n";
        let log = parse(text.as_bytes());
        assert!(log.problems.is_empty());
        assert_eq!(log.entries[0].children[0].message, "deep");
        assert_eq!(log.entries[0].effective_type(), LogEntryType::Error);
    }

    #[test]
    fn unterminated_last_line() {
        let good = "2024-09-04T10:33:19.1024410Z,a,id,0\n2024-09-04T10:33:20.0000000Z,b,id2,1";
        let log = parse(good.as_bytes());
        assert_eq!(log.entries.len(), 2);
        let partial = "2024-09-04T10:33:19.1024410Z,a,id,0\n2024-09-04T10:33:20.00";
        let log = parse(partial.as_bytes());
        assert_eq!(log.entries.len(), 1);
        assert!(log.problems.is_empty());
        // The same partial text followed by a newline is a real problem.
        let log = parse(format!("{partial}\n").as_bytes());
        assert_eq!(log.problems.len(), 1);
        assert_eq!(log.problems[0].line, 2);
    }

    #[test]
    fn tail_drops_partial_line_and_orphans() {
        let start = EXAMPLE.find("4-09-04T10:33:20.4").expect("test value");
        // Starts in the middle of the "Running deployment command" line: its children become orphans.
        let tail = &EXAMPLE.as_bytes()[start..];
        let log = parse_tail(tail, true);
        assert!(log.truncated_head);
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].message, "Deployment successful.");
        assert_eq!(log.last_time(), Some(t("2024-09-04T10:35:02.5Z")));

        // Not mid-file: same as parse (orphans are problems).
        let log = parse_tail(tail, false);
        assert!(!log.truncated_head);
        assert!(log.kudu_would_fail());

        // No newline at all: nothing complete.
        let log = parse_tail(b"2024-09-04T10:3", true);
        assert!(log.entries.is_empty() && log.problems.is_empty() && log.truncated_head);
    }

    #[test]
    fn tail_line_numbers_count_dropped_line() {
        let log = parse_tail(b"partial\ngarbage\n", true);
        assert_eq!(log.problems.len(), 1);
        assert_eq!(log.problems[0].line, 2);
    }

    #[test]
    fn last_time_includes_children_and_empty() {
        let text = "2024-09-04T10:33:19.1024410Z,p,id,0\n\t2024-09-04T11:00:00.0000000Z,c,,0\n";
        assert_eq!(
            parse(text.as_bytes()).last_time(),
            Some(t("2024-09-04T11:00:00Z"))
        );
        assert_eq!(parse(b"").last_time(), None);
    }

    #[test]
    fn serializes() {
        let log = parse(EXAMPLE.as_bytes());
        let v = serde_json::to_value(&log).expect("test value");
        assert_eq!(v["entries"][2]["children"][1]["entry_type"], "warning");
        let v = serde_json::to_value(LogEntryType::Other(9)).expect("test value");
        assert_eq!(v, serde_json::json!({"other": 9}));
    }

    fn format_time(dt: &DateTime<Utc>) -> String {
        use chrono::Timelike;
        format!(
            "{}.{:07}Z",
            dt.format("%Y-%m-%dT%H:%M:%S"),
            dt.nanosecond() / 100
        )
    }

    fn write_entry(out: &mut String, e: &LogEntry, depth: usize) {
        for _ in 0..depth {
            out.push('\t');
        }
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            e.time_text,
            e.message.replace(',', "&comma;"),
            e.id,
            e.entry_type.number()
        ));
    }

    fn arb_entry(child: bool) -> impl Strategy<Value = LogEntry> {
        (
            0i64..4_102_444_800,
            0u32..10_000_000,
            "[^\r\n&]{0,40}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            prop_oneof![0i64..3, 3i64..100],
        )
            .prop_map(move |(secs, ticks, message, id, ty)| {
                let time = DateTime::from_timestamp(secs, ticks * 100).unwrap_or_default();
                LogEntry {
                    time: Some(time),
                    time_text: format_time(&time),
                    message,
                    id: if child { String::new() } else { id },
                    entry_type: LogEntryType::from_number(ty),
                    children: Vec::new(),
                }
            })
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), mid in any::<bool>()) {
            let _ = parse(&bytes);
            let _ = parse_tail(&bytes, mid);
        }

        #[test]
        fn never_panics_on_log_like_text(s in "[\t\r\n,0-9TZ:.a-z&;-]{0,300}", mid in any::<bool>()) {
            let log = parse_tail(s.as_bytes(), mid);
            let _ = log.last_time();
            let _ = log.entries.iter().map(LogEntry::effective_type).count();
        }

        #[test]
        fn round_trip(
            entries in proptest::collection::vec(
                (arb_entry(false), proptest::collection::vec(arb_entry(true), 0..4)), 0..8)
        ) {
            let entries: Vec<LogEntry> = entries
                .into_iter()
                .map(|(mut p, c)| { p.children = c; p })
                .collect();
            let mut text = String::new();
            for e in &entries {
                write_entry(&mut text, e, 0);
                for c in &e.children {
                    write_entry(&mut text, c, 1);
                }
            }
            let log = parse(text.as_bytes());
            prop_assert!(log.problems.is_empty(), "{:?}", log.problems);
            prop_assert_eq!(&log.entries, &entries);
            let lf = parse(text.replace("\r\n", "\n").as_bytes());
            prop_assert_eq!(&lf.entries, &entries);
        }
    }
}
