//! A backup folder and its append-only journal: what an apply did, written ahead of every change so that
//! a crash or a kill at any moment leaves a state `apply` can finish and `undo` can reverse.
//!
//! Layout of a backup folder:
//! - `plan.json`: the plan, written once (for people, and to see what a backup was for);
//! - `journal.jsonl`: one JSON event per line. The first is `begin` (plan id, home, home identity); then,
//!   per step, a `step` event listing every change the step is about to make (with what is needed to
//!   undo it), written and synced **before** the first of them, and a `step-done` event after the last;
//!   finally `applied`, and `undone` once undone. Each event is one `write` of one line; a last line
//!   without its newline is a write torn by a crash and is ignored (its step then has no `step` event
//!   and had made no change).
//! - `moved/<path>`: what a step moved out of the home; `originals/<step>/<path>`: a file's content
//!   before step `<step>` rewrote it; `undone/<path>`: what undo took back out of the home (a file apply created).
//!
//! Appending keeps the cost of a step independent of the plan's length (rewriting a whole journal per
//! change made a 2,000-step apply quadratic).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, HomeIdentity, PLAN_SCHEMA, Plan, PlanSite};
use crate::error::{Error, Result};
use crate::store::RelPath;
use crate::store::local::{lstat_opt, read_capped, write_atomic};

/// File name of the journal inside a backup folder.
pub(crate) const JOURNAL: &str = "journal.jsonl";
/// File name of the plan inside a backup folder.
const PLAN_FILE: &str = "plan.json";
/// Largest journal read back (a 100,000-step plan's journal is a few tens of MiB).
const JOURNAL_CAP: u64 = 256 * 1024 * 1024;

/// One change made (or about to be made: a step's changes are journaled before any is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "done")]
pub(crate) enum Done {
    /// `from` was moved to `to` in the backup folder.
    Moved { from: RelPath, to: String },
    /// `path` was replaced; its original (if it existed) is at `original` in the backup folder.
    Wrote {
        path: RelPath,
        original: Option<String>,
        original_mtime: Option<DateTime<Utc>>,
        after_digest: String,
    },
    /// `path` was created with content of this digest.
    Created { path: RelPath, digest: String },
    /// `text` was appended to `path`, which had `original_len` bytes.
    Appended {
        path: RelPath,
        original_len: u64,
        original_mtime: Option<DateTime<Utc>>,
        text: String,
        /// A copy of the file before, in the backup folder, where the place rewrites a file whole to
        /// append (over Kudu's API): an interrupted rewrite can then be told from a changed log.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original: Option<String>,
    },
    /// Kudu's process on `instance` was ended to release `lock` (cannot be undone).
    Restarted { lock: RelPath, instance: String },
    /// `active`'s time was set (or it was created empty).
    Touched {
        path: RelPath,
        existed: bool,
        original_mtime: Option<DateTime<Utc>>,
    },
}

impl Done {
    pub(crate) fn path(&self) -> &RelPath {
        match self {
            Done::Moved { from, .. } => from,
            Done::Wrote { path, .. }
            | Done::Created { path, .. }
            | Done::Appended { path, .. }
            | Done::Touched { path, .. } => path,
            Done::Restarted { lock, .. } => lock,
        }
    }
}

/// One line of `journal.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
enum Event {
    Begin {
        schema: u32,
        plan_id: String,
        home: PathBuf,
        home_identity: HomeIdentity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<PlanSite>,
    },
    Step {
        step: usize,
        action: Action,
        changes: Vec<Done>,
    },
    StepDone {
        step: usize,
    },
    Applied,
    Undone,
}

/// Where a backup stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JournalState {
    Applying,
    Applied,
    Undone,
}

/// A step as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JournalStep {
    pub changes: Vec<Done>,
    pub done: bool,
}

/// A backup folder: its journal read back, and the journal open for appending.
#[derive(Debug)]
pub(crate) struct Backup {
    pub dir: PathBuf,
    pub plan_id: String,
    pub home: PathBuf,
    pub home_identity: HomeIdentity,
    /// The site, for the backup of a remote apply.
    pub site: Option<PlanSite>,
    pub state: JournalState,
    /// Steps by index, in the order the journal lists them.
    steps: BTreeMap<usize, JournalStep>,
    /// The steps in journal order (undo reverses them in this order).
    order: Vec<usize>,
    /// Set when the journal ends in a torn line: it is cut off before the next append.
    torn_at: Option<u64>,
    appends: u32,
    crash_after: Option<u32>,
}

impl Backup {
    /// Creates the backup folder `dir` (its parent must exist) for `plan`.
    pub(crate) fn create(dir: PathBuf, plan: &Plan, crash_after: Option<u32>) -> Result<Backup> {
        fs_err::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let text =
            serde_json::to_vec_pretty(plan).map_err(|e| Error::invalid("plan", e.to_string()))?;
        write_atomic(&dir.join(PLAN_FILE), &text, None)?;
        let mut b = Backup {
            dir,
            plan_id: plan.id(),
            home: plan.home.clone(),
            home_identity: plan.home_identity,
            site: plan.site.clone(),
            state: JournalState::Applying,
            steps: BTreeMap::new(),
            order: Vec::new(),
            torn_at: None,
            appends: 0,
            crash_after,
        };
        b.append(
            &Event::Begin {
                schema: PLAN_SCHEMA,
                plan_id: b.plan_id.clone(),
                home: b.home.clone(),
                home_identity: b.home_identity,
                site: b.site.clone(),
            },
            true,
        )?;
        Ok(b)
    }

    /// Reads the backup folder `dir`.
    pub(crate) fn open(dir: &Path, crash_after: Option<u32>) -> Result<Backup> {
        let path = dir.join(JOURNAL);
        if lstat_opt(&path)?.is_none() {
            return Err(Error::invalid(
                "journal",
                format!(
                    "`{}` has no {JOURNAL}; pass a backup folder printed by `kudu-state apply`",
                    dir.display()
                ),
            ));
        }
        let bytes = read_capped(&path, JOURNAL_CAP)?;
        let bad = |line: usize, why: String| {
            Error::invalid(
                "journal",
                format!("`{}` line {line}: {why}", path.display()),
            )
        };
        // A last line without its newline was torn by a crash: the event was never complete.
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..=i],
            None => &[][..],
        };
        let mut events = complete
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_slice::<Event>(l).map_err(|e| bad(i + 1, e.to_string()))
            });
        let Some(Event::Begin {
            schema,
            plan_id,
            home,
            home_identity,
            site,
        }) = events.next().transpose()?
        else {
            return Err(bad(
                1,
                "the journal does not start with its `begin` event".to_owned(),
            ));
        };
        if schema != PLAN_SCHEMA {
            return Err(Error::invalid(
                "journal",
                format!(
                    "schema {schema} is not {PLAN_SCHEMA}; undo it with the kudu-state version that applied it"
                ),
            ));
        }
        let mut b = Backup {
            dir: dir.to_path_buf(),
            plan_id,
            home,
            home_identity,
            site,
            state: JournalState::Applying,
            steps: BTreeMap::new(),
            order: Vec::new(),
            torn_at: (complete.len() < bytes.len()).then_some(complete.len() as u64),
            appends: 0,
            crash_after,
        };
        for event in events {
            b.absorb(event?);
        }
        Ok(b)
    }

    /// Folds one event into the in-memory view.
    fn absorb(&mut self, event: Event) {
        match event {
            Event::Begin { .. } => {}
            Event::Step { step, changes, .. } => {
                if self
                    .steps
                    .insert(
                        step,
                        JournalStep {
                            changes,
                            done: false,
                        },
                    )
                    .is_none()
                {
                    self.order.push(step);
                }
            }
            Event::StepDone { step } => {
                if let Some(s) = self.steps.get_mut(&step) {
                    s.done = true;
                }
            }
            Event::Applied => self.state = JournalState::Applied,
            Event::Undone => self.state = JournalState::Undone,
        }
    }

    /// Appends one event as one line; `sync` when the event must be on disk before what follows it (a
    /// step's changes). A `step-done` lost to a power cut only makes a resumed apply re-check a step
    /// whose changes it recognises as made, so it is not synced on its own (the next step's sync covers it).
    fn append(&mut self, event: &Event, sync: bool) -> Result<()> {
        let path = self.dir.join(JOURNAL);
        let mut line =
            serde_json::to_vec(event).map_err(|e| Error::invalid("journal", e.to_string()))?;
        line.push(b'\n');
        let mut f = fs_err::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        if let Some(len) = self.torn_at.take() {
            f.set_len(len)
                .map_err(|e| Error::io("truncate", &path, e))?;
        }
        f.write_all(&line)
            .map_err(|e| Error::io("append to", &path, e))?;
        if sync {
            f.sync_data().map_err(|e| Error::io("sync", &path, e))?;
        }
        self.absorb(event.clone());
        self.checkpoint()
    }

    /// Counts one journal write or one change made; with a crash injected after N of them (tests), stops
    /// right after the Nth, as a kill at that moment would.
    pub(crate) fn checkpoint(&mut self) -> Result<()> {
        self.appends += 1;
        if self.crash_after == Some(self.appends) {
            return Err(Error::invalid(
                "journal",
                format!(
                    "injected crash after journal write or change {}",
                    self.appends
                ),
            ));
        }
        Ok(())
    }

    /// Journals the changes step `index` is about to make (before it makes any).
    pub(crate) fn begin_step(
        &mut self,
        index: usize,
        action: Action,
        changes: Vec<Done>,
    ) -> Result<()> {
        self.append(
            &Event::Step {
                step: index,
                action,
                changes,
            },
            true,
        )
    }

    /// Journals that step `index` made all its changes.
    pub(crate) fn finish_step(&mut self, index: usize) -> Result<()> {
        self.append(&Event::StepDone { step: index }, false)
    }

    /// Journals that the whole plan was applied.
    pub(crate) fn finish_apply(&mut self) -> Result<()> {
        self.append(&Event::Applied, true)
    }

    /// Journals that the backup was undone.
    pub(crate) fn finish_undo(&mut self) -> Result<()> {
        self.append(&Event::Undone, true)
    }

    pub(crate) fn step(&self, index: usize) -> Option<&JournalStep> {
        self.steps.get(&index)
    }

    /// Every journaled change, last made first: the order undo reverses them in.
    pub(crate) fn changes_newest_first(&self) -> Vec<Done> {
        self.order
            .iter()
            .rev()
            .filter_map(|i| self.steps.get(i))
            .flat_map(|s| s.changes.iter().rev().cloned())
            .collect()
    }

    /// Where a moved path goes inside the backup.
    pub(crate) fn moved_path(rel: &RelPath) -> String {
        format!("moved/{rel}")
    }

    /// Where the original of a file step `index` rewrites is kept inside the backup (per step: a file
    /// several steps rewrite, `latest.json`, has one original per step).
    pub(crate) fn original_path(index: usize, rel: &RelPath) -> String {
        format!("originals/{index}/{rel}")
    }

    pub(crate) fn full(&self, backup_rel: &str) -> PathBuf {
        backup_rel
            .split('/')
            .fold(self.dir.clone(), |p, c| p.join(c))
    }
}
