//! [`track`]: follow one deployment by its id until it ends, reading only its own files.
//!
//! Deploy clients (`az webapp deploy`, the pipeline tasks, scripts) poll `GET /api/deployments/latest`
//! to learn how their deployment ends. That endpoint answers with *whatever* record is newest or
//! incomplete, so a stale record left by someone else makes the tracker wait forever; and every call runs
//! Kudu's self-heal and purge. Tracking by id reads `site/deployments/<id>/status.xml` and the tail of
//! its `log.log` through a [`Store`] (the local disk, or Kudu's VFS API: read-only either way), and
//! reports each change. It gives up after a stretch of *inactivity* (nothing in the record changed), not
//! after a fixed total, so a long build that keeps logging is followed to its end.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Result;
use crate::log::log_log;
use crate::status_xml::{self, DeployStatus};
use crate::store::{EntryKind, Meta, RelPath, Store};

/// How much of the log's end is read to show its newest entry.
const LOG_TAIL: u64 = 16 * 1024;

/// How to track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackOptions {
    /// Give up when nothing in the record changed for this long (the record not existing yet counts
    /// as no change).
    pub inactivity: Duration,
    /// Time between reads.
    pub poll: Duration,
}

/// What the record says at one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackState {
    /// The deployment id.
    pub id: String,
    /// False until `status.xml` exists (a deployment that just started may not have it yet).
    pub found: bool,
    /// `status`, when readable.
    pub status: Option<DeployStatus>,
    /// `complete`.
    pub complete: bool,
    /// `statusText`.
    pub status_text: Option<String>,
    /// `progress`.
    pub progress: Option<String>,
    /// The newest top-level message of `log.log`.
    pub last_log_message: Option<String>,
    /// Why `status.xml` could not be understood, when it could not (Kudu would delete the folder).
    pub problem: Option<String>,
}

/// How a track ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrackEnd {
    /// `Success` (or newer Kudu's `PartialSuccess`, which clients count as a success).
    Succeeded,
    /// `Failed`, or newer Kudu's `Cancelled` / `Conflict`.
    Failed,
    /// Nothing changed for the inactivity window.
    TimedOut,
    /// The caller stopped it.
    Stopped,
}

/// The end of a track, with the last state read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackOutcome {
    /// How it ended.
    pub end: TrackEnd,
    /// The last state read.
    pub last: TrackState,
    /// How long it tracked (seconds, in JSON).
    #[serde(serialize_with = "crate::wait::seconds")]
    pub waited: Duration,
}

/// What changes between polls: the files' sizes and times (and the status file's ETag on a remote
/// store), so an unchanged record costs one listing per poll.
type Fingerprint = Vec<(String, u64, Option<chrono::DateTime<chrono::Utc>>)>;

/// Follows deployment `id` through `store` until it ends, times out, or `on_change` returns `false`.
/// `on_change` is called with each new state (the first, then after every change) and how long the
/// track has run. Every poll lists the record's folder afresh (a [`RemoteStore`](crate::remote::RemoteStore)
/// replaces what it knew of that folder with each listing), so nothing cached hides a change.
///
/// # Errors
/// `INVALID_INPUT` for an id that is not a folder name; what the store returns when
/// `site/deployments` itself cannot be read.
pub fn track(
    store: &dyn Store,
    id: &str,
    options: TrackOptions,
    mut on_change: impl FnMut(&TrackState, Duration) -> bool,
) -> Result<TrackOutcome> {
    let folder = RelPath::new("site/deployments")?.join(id)?;
    let start = Instant::now();
    let mut last_change = start;
    let mut previous: Option<Fingerprint> = None;
    let mut state = TrackState::missing(id);
    loop {
        let fingerprint = fingerprint(store, &folder)?;
        if previous.as_ref() != Some(&fingerprint) {
            state = read_state(store, &folder, id, &fingerprint);
            last_change = Instant::now();
            previous = Some(fingerprint);
            if !on_change(&state, start.elapsed()) {
                return Ok(state.outcome(TrackEnd::Stopped, start));
            }
        }
        if let Some(end) = state.end() {
            return Ok(state.outcome(end, start));
        }
        let idle = last_change.elapsed();
        if idle >= options.inactivity {
            return Ok(state.outcome(TrackEnd::TimedOut, start));
        }
        std::thread::sleep(options.poll.min(options.inactivity - idle));
    }
}

impl TrackState {
    fn missing(id: &str) -> TrackState {
        TrackState {
            id: id.to_owned(),
            found: false,
            status: None,
            complete: false,
            status_text: None,
            progress: None,
            last_log_message: None,
            problem: None,
        }
    }

    /// How the deployment ended, if it has.
    #[must_use]
    pub fn end(&self) -> Option<TrackEnd> {
        if !self.complete {
            return None;
        }
        match self.status? {
            DeployStatus::Success | DeployStatus::PartialSuccess => Some(TrackEnd::Succeeded),
            DeployStatus::Failed | DeployStatus::Cancelled | DeployStatus::Conflict => {
                Some(TrackEnd::Failed)
            }
            _ => None,
        }
    }

    fn outcome(&self, end: TrackEnd, start: Instant) -> TrackOutcome {
        TrackOutcome {
            end,
            last: self.clone(),
            waited: start.elapsed(),
        }
    }
}

/// The record folder's listing reduced to what changes when Kudu writes to it. A missing folder is
/// an empty fingerprint; any other listing error is the store's.
fn fingerprint(store: &dyn Store, folder: &RelPath) -> Result<Fingerprint> {
    match store.list(folder) {
        Ok(entries) => Ok(entries
            .into_iter()
            .filter(|e| matches!(e.name.as_str(), "status.xml" | "log.log"))
            .map(|e| {
                let meta = folder
                    .join(&e.name)
                    .ok()
                    .and_then(|p| store.meta(&p).ok().flatten());
                let (size, modified) = meta.map_or((0, None), |m: Meta| (m.size, m.modified));
                (e.name, size, modified)
            })
            .collect()),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Reads the record's status and the newest log message.
fn read_state(store: &dyn Store, folder: &RelPath, id: &str, fp: &Fingerprint) -> TrackState {
    let mut state = TrackState::missing(id);
    let has = |name: &str| fp.iter().any(|(n, _, _)| n == name);
    if has("status.xml") {
        state.found = true;
        match store.read_head(&folder.child("status.xml"), crate::scan::STATUS_XML_CAP) {
            Ok(bytes) => match status_xml::parse(&bytes.data) {
                Ok(doc) => {
                    state.status = Some(doc.status);
                    state.complete = doc.complete;
                    state.status_text = doc.status_text.filter(|t| !t.is_empty());
                    state.progress = doc.progress.filter(|t| !t.is_empty());
                }
                Err(e) => state.problem = Some(e.to_string()),
            },
            Err(e) => state.problem = Some(crate::error::error_chain(&e)),
        }
    }
    if has("log.log")
        && let Ok(tail) = store.read_tail(&folder.child("log.log"), LOG_TAIL)
        && tail.meta.kind == EntryKind::File
    {
        let parsed = log_log::parse_tail(&tail.data, tail.offset > 0);
        state.last_log_message = parsed.entries.last().map(|e| e.message.clone());
    }
    state
}
