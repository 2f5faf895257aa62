//! What a record's `log.log` says about its deployment: the tail's newest entry and time (spec §6.1),
//! read from the end of the file only, since logs can be hundreds of megabytes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::log_log;
use crate::scan::{note_unreadable, note_wrong_kind, stat_or_gone};
use crate::snapshot::ScanNote;
use crate::store::{EntryKind, Meta, RelPath, Store};

/// The tail of a record's `log.log` (spec §6.1): enough to tell whether the deployment is moving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// Where it is.
    pub path: RelPath,
    /// Its metadata (its mtime is the best sign of a live deployment); `None` only when it vanished or
    /// could not be `stat`ed either.
    pub meta: Option<Meta>,
    /// Only the last bytes were read, because the log is larger than the tail cap.
    pub tail_only: bool,
    /// Time of the newest entry in what was read.
    pub last_entry_time: Option<DateTime<Utc>>,
    /// Message of the newest top-level entry in what was read.
    pub last_message: Option<String>,
    /// Top-level entries in what was read.
    pub entries_read: usize,
    /// A line Kudu's log reader rejects (the whole log request fails), if any.
    pub format_problem: Option<String>,
    /// Set when the log could not be read at all.
    pub unreadable: Option<String>,
    /// True when the tail was read; false when the log is not a regular file or could not be read
    /// (see `unreadable`). A settled record's log is not looked at at all (it decides nothing), so
    /// such a record has no `LogSummary`.
    pub tail_read: bool,
}

impl LogSummary {
    /// A log that is there but was not opened.
    #[must_use]
    pub fn not_read(path: RelPath) -> LogSummary {
        LogSummary {
            path,
            meta: None,
            tail_only: false,
            last_entry_time: None,
            last_message: None,
            entries_read: 0,
            format_problem: None,
            unreadable: None,
            tail_read: false,
        }
    }
}

pub(crate) fn read_log(
    store: &dyn Store,
    path: RelPath,
    kind: &EntryKind,
    tail: u64,
    notes: &mut Vec<ScanNote>,
) -> LogSummary {
    let mut summary = LogSummary::not_read(path.clone());
    if *kind != EntryKind::File {
        note_wrong_kind(notes, path.as_str(), kind);
        summary.meta = stat_or_gone(store, &path, notes);
        summary.unreadable = Some("not a regular file; not followed".to_owned());
        return summary;
    }
    match store.read_tail(&path, tail) {
        Ok(bytes) => {
            let parsed = log_log::parse_tail(&bytes.data, bytes.offset > 0);
            summary.tail_read = true;
            summary.tail_only = bytes.offset > 0;
            summary.meta = Some(bytes.meta);
            summary.last_entry_time = parsed.last_time();
            summary.last_message = parsed.entries.last().map(|e| e.message.clone());
            summary.entries_read = parsed.entries.len();
            if parsed.kudu_would_fail() {
                summary.format_problem = parsed
                    .problems
                    .first()
                    .map(|p| format!("line {} of what was read: {}", p.line, p.reason));
            }
        }
        Err(e) => {
            summary.unreadable = Some(note_unreadable(notes, &path, &e));
            summary.meta = stat_or_gone(store, &path, notes);
        }
    }
    summary
}
