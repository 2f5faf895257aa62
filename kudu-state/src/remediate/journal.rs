//! The backup folder's `journal.json`: what an apply did, written before and after every change so that a
//! crash at any moment leaves a state `apply` can finish and `undo` can reverse.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, PLAN_SCHEMA, Plan};
use crate::error::{Error, Result};
use crate::fs::{read_capped, write_atomic};
use crate::store::RelPath;

/// File name of the journal inside a backup folder.
pub(crate) const JOURNAL: &str = "journal.json";
/// Largest journal read back.
const JOURNAL_CAP: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum JournalState {
    Applying,
    Applied,
    Undone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum StepState {
    Started,
    Done,
}

/// One change made (or about to be made: intents are journaled first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "done")]
pub(crate) enum Done {
    Moved {
        from: RelPath,
        to: String,
    },
    Wrote {
        path: RelPath,
        original: Option<String>,
        original_mtime: Option<DateTime<Utc>>,
        after_digest: String,
    },
    Appended {
        path: RelPath,
        original_len: u64,
        original_mtime: Option<DateTime<Utc>>,
        text: String,
    },
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
            Done::Wrote { path, .. } | Done::Appended { path, .. } | Done::Touched { path, .. } => {
                path
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalStep {
    pub index: usize,
    pub action: Action,
    pub state: StepState,
    pub done: Vec<Done>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub schema: u32,
    pub plan_id: String,
    pub home: PathBuf,
    pub state: JournalState,
    pub plan: Plan,
    pub steps: Vec<JournalStep>,
}

/// A journal and the folder it lives in; every `save` is an atomic rewrite.
#[derive(Debug)]
pub(crate) struct Backup {
    pub dir: PathBuf,
    pub journal: Journal,
    saves: u32,
    crash_after: Option<u32>,
}

impl Backup {
    pub(crate) fn create(dir: PathBuf, plan: &Plan, crash_after: Option<u32>) -> Result<Backup> {
        fs_err::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let mut b = Backup {
            dir,
            journal: Journal {
                schema: PLAN_SCHEMA,
                plan_id: plan.id(),
                home: plan.home.clone(),
                state: JournalState::Applying,
                plan: plan.clone(),
                steps: Vec::new(),
            },
            saves: 0,
            crash_after,
        };
        b.save()?;
        Ok(b)
    }

    pub(crate) fn open(dir: &Path, crash_after: Option<u32>) -> Result<Backup> {
        let path = dir.join(JOURNAL);
        if crate::fs::lstat_opt(&path)?.is_none() {
            return Err(Error::invalid(
                "journal",
                format!(
                    "`{}` has no {JOURNAL}; pass a backup folder printed by `kudu-state apply`",
                    dir.display()
                ),
            ));
        }
        let bytes = read_capped(&path, JOURNAL_CAP)?;
        let journal: Journal = serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid("journal", format!("`{}`: {e}", path.display())))?;
        if journal.schema != PLAN_SCHEMA {
            return Err(Error::invalid(
                "journal",
                format!("schema {} is not {PLAN_SCHEMA}", journal.schema),
            ));
        }
        Ok(Backup {
            dir: dir.to_path_buf(),
            journal,
            saves: 0,
            crash_after,
        })
    }

    /// Writes the journal. With a crash injected after N saves (tests), stops right after the Nth.
    pub(crate) fn save(&mut self) -> Result<()> {
        let text = serde_json::to_vec_pretty(&self.journal)
            .map_err(|e| Error::invalid("journal", e.to_string()))?;
        write_atomic(&self.dir.join(JOURNAL), &text, None)?;
        self.saves += 1;
        if self.crash_after == Some(self.saves) {
            return Err(Error::invalid(
                "journal",
                format!("injected crash after journal write {}", self.saves),
            ));
        }
        Ok(())
    }

    pub(crate) fn step_mut(&mut self, index: usize, action: Action) -> &mut JournalStep {
        if let Some(pos) = self.journal.steps.iter().position(|s| s.index == index) {
            return &mut self.journal.steps[pos];
        }
        self.journal.steps.push(JournalStep {
            index,
            action,
            state: StepState::Started,
            done: Vec::new(),
        });
        let last = self.journal.steps.len() - 1;
        &mut self.journal.steps[last]
    }

    pub(crate) fn step(&self, index: usize) -> Option<&JournalStep> {
        self.journal.steps.iter().find(|s| s.index == index)
    }

    /// The journaled change to `path` of this kind in step `index`, if one was recorded.
    pub(crate) fn recorded(&self, index: usize, pred: impl Fn(&Done) -> bool) -> Option<&Done> {
        self.step(index)?.done.iter().find(|d| pred(d))
    }

    /// Where a moved path goes inside the backup.
    pub(crate) fn moved_path(rel: &RelPath) -> String {
        format!("moved/{rel}")
    }

    /// Where the original of a rewritten file is kept inside the backup.
    pub(crate) fn original_path(rel: &RelPath) -> String {
        format!("originals/{rel}")
    }

    pub(crate) fn full(&self, backup_rel: &str) -> PathBuf {
        backup_rel
            .split('/')
            .fold(self.dir.clone(), |p, c| p.join(c))
    }
}
