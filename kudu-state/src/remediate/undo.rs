//! [`undo`]: put back exactly what one apply moved or rewrote.
//!
//! Every change is checked before anything is restored: if a file differs from what apply left (Kudu or a
//! person wrote it since), undo refuses with `UNDO_CONFLICT` and restores nothing, so no newer data is
//! overwritten. Changes an interrupted apply never made are recognised and skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::apply::lock_home;
use super::home;
use super::journal::{Backup, Done, JournalState};
use crate::error::{Error, Result};
use crate::store::local::{
    digest, file_digest, lstat_opt, move_to, read_capped, set_mtime, truncate, write_atomic,
};
use crate::store::{EntryKind, RelPath};

/// The result of [`undo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// The backup folder undone.
    pub backup: PathBuf,
    /// Paths restored, relative to the home.
    pub restored: Vec<String>,
    /// True when the backup had already been undone (nothing was done).
    pub already_undone: bool,
}

enum Fix {
    Skip,
    Restore,
}

/// Reverses the apply recorded in `backup_dir`, in the home the journal names (wherever it is run from).
///
/// # Errors
/// `UNDO_CONFLICT` when a file changed since apply (nothing is restored then), `HOME_NOT_FOUND` /
/// `HOME_MISMATCH` when the home the apply changed is not at its path any more (nothing is created then),
/// `INVALID_INPUT` for a folder without a readable journal, `APPLY_LOCKED`, `IO_ERROR`.
pub fn undo(backup_dir: &Path) -> Result<UndoReport> {
    let mut b = Backup::open(backup_dir, None)?;
    let home = b.home.clone();
    home::verify(&home, &b.home_identity)?;
    let _lock = lock_home(&home)?;
    let mut report = UndoReport {
        backup: backup_dir.to_path_buf(),
        restored: Vec::new(),
        already_undone: false,
    };
    if b.state == JournalState::Undone {
        report.already_undone = true;
        return Ok(report);
    }
    let changes = b.changes_newest_first();
    // A file several steps rewrote (`latest.json`) is checked against what undoing the newer rewrites
    // will have put back, not against the disk: the digest each path will have by then.
    let mut after_newer: HashMap<RelPath, Option<String>> = HashMap::new();
    let mut fixes = Vec::new();
    for d in &changes {
        fixes.push(check(&home, &b, d, &mut after_newer)?);
    }
    for (d, fix) in changes.iter().zip(fixes) {
        if let Fix::Restore = fix {
            restore(&home, &b, d)?;
            report.restored.push(d.path().to_string());
        }
    }
    b.finish_undo()?;
    Ok(report)
}

fn conflict(path: PathBuf, reason: &str) -> Error {
    Error::UndoConflict {
        path,
        reason: reason.to_owned(),
    }
}

fn check(
    home: &Path,
    b: &Backup,
    d: &Done,
    after_newer: &mut HashMap<RelPath, Option<String>>,
) -> Result<Fix> {
    match d {
        Done::Moved { from, to } => {
            let here = lstat_opt(&from.under(home))?.is_some();
            let kept = lstat_opt(&b.full(to))?.is_some();
            match (here, kept) {
                (false, true) => Ok(Fix::Restore),
                (true, false) => Ok(Fix::Skip),
                (true, true) => Err(conflict(
                    from.under(home),
                    "something new exists where the moved folder was",
                )),
                (false, false) => Err(conflict(b.full(to), "the backup copy is missing")),
            }
        }
        Done::Wrote {
            path,
            original,
            after_digest,
            ..
        } => {
            let full = path.under(home);
            let now = match after_newer.get(path) {
                Some(d) => d.clone(),
                None => file_digest(&full)?,
            };
            let before = match original {
                Some(rel) => Some(digest(&read_capped(
                    &b.full(rel),
                    crate::store::local::REWRITE_CAP,
                )?)),
                None => None,
            };
            after_newer.insert(path.clone(), before.clone());
            if now.as_deref() == Some(after_digest.as_str()) {
                Ok(Fix::Restore)
            } else if now == before {
                Ok(Fix::Skip)
            } else {
                Err(conflict(full, "it changed since apply rewrote it"))
            }
        }
        Done::Created { path, digest: made } => {
            let full = path.under(home);
            match file_digest(&full)? {
                None => Ok(Fix::Skip),
                Some(d) if d == *made => Ok(Fix::Restore),
                Some(_) => Err(conflict(full, "it changed since apply created it")),
            }
        }
        Done::Appended {
            path,
            original_len,
            text,
            ..
        } => {
            let full = path.under(home);
            let len = lstat_opt(&full)?.map_or(0, |m| m.size);
            if len == *original_len {
                return Ok(Fix::Skip);
            }
            if len == original_len + text.len() as u64 {
                let store = crate::store::LocalStore::new(home.to_path_buf());
                let tail = crate::store::Store::read_tail(&store, path, text.len() as u64)?;
                if tail.data == text.as_bytes() {
                    return Ok(Fix::Restore);
                }
            }
            Err(conflict(full, "the log grew since apply appended to it"))
        }
        Done::Touched { .. } => Ok(Fix::Restore),
    }
}

fn restore(home: &Path, b: &Backup, d: &Done) -> Result<()> {
    match d {
        Done::Moved { from, to } => move_to(&b.full(to), &from.under(home)),
        Done::Wrote {
            path,
            original,
            original_mtime,
            ..
        } => {
            let full = path.under(home);
            match original {
                Some(rel) => {
                    let bytes = read_capped(&b.full(rel), crate::store::local::REWRITE_CAP)?;
                    write_atomic(&full, &bytes, *original_mtime)
                }
                // It did not exist before: move it aside rather than delete it.
                None => move_to(&full, &b.full(&format!("undone/{path}"))),
            }
        }
        // It did not exist before: move it aside rather than delete it.
        Done::Created { path, .. } => {
            move_to(&path.under(home), &b.full(&format!("undone/{path}")))
        }
        Done::Appended {
            path,
            original_len,
            original_mtime,
            ..
        } => {
            let full = path.under(home);
            truncate(&full, *original_len)?;
            match original_mtime {
                Some(t) => set_mtime(&full, *t),
                None => Ok(()),
            }
        }
        Done::Touched {
            path,
            existed,
            original_mtime,
        } => {
            let full = path.under(home);
            match (existed, lstat_opt(&full)?) {
                (true, Some(_)) => match original_mtime {
                    Some(t) => set_mtime(&full, *t),
                    None => Ok(()),
                },
                (false, Some(m)) if m.kind == EntryKind::File && m.size == 0 => {
                    move_to(&full, &b.full(&format!("undone/{path}")))
                }
                _ => Ok(()),
            }
        }
    }
}
