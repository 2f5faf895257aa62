//! [`undo`]: put back exactly what one apply moved or rewrote.
//!
//! Every change is checked before anything is restored: if a file differs from what apply left (Kudu or a
//! person wrote it since), undo refuses with `UNDO_CONFLICT` and restores nothing, so no newer data is
//! overwritten. Changes an interrupted apply never made are recognised and skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::apply::{File, lock_home};
use super::home;
use super::journal::{Backup, Done, JournalState};
use super::place::{LocalPlace, Place};
use crate::error::{Error, Result};
use crate::store::local::{COPY_CAP, digest, local_tree, lstat_opt, read_capped};
use crate::store::{EntryKind, RelPath, file_digest};

/// The result of [`undo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// The backup folder undone.
    pub backup: PathBuf,
    /// Paths restored, relative to the home.
    pub restored: Vec<String>,
    /// True when the backup had already been undone (nothing was done).
    pub already_undone: bool,
    /// Paths restored whose last write time could not be put back: Kudu's REST API cannot set a
    /// file's time (a file put back over it gets the time of the write). Empty for a local home.
    pub times_not_restored: Vec<String>,
    /// What apply did that nothing can reverse, one line each (Kudu's process ended on an instance).
    pub irreversible: Vec<String>,
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
/// `INVALID_INPUT` for a folder without a readable journal (or one of a remote apply: undo that with
/// the site's credentials), `APPLY_LOCKED`, `IO_ERROR`.
pub fn undo(backup_dir: &Path) -> Result<UndoReport> {
    let b = Backup::open(backup_dir, None)?;
    if let Some(site) = &b.site {
        return Err(Error::HomeMismatch {
            path: b.home.clone(),
            reason: format!(
                "the backup is of the site {} over Kudu's REST API: undo it there (the command's --remote, the packages' remote option)",
                site.url
            ),
        });
    }
    let home = b.home.clone();
    home::verify(&home, &b.home_identity)?;
    let _lock = lock_home(&home)?;
    undo_on(b, &LocalPlace::new(&home))
}

/// Reverses the apply recorded in `b` on `place`: every change is checked first, then restored.
pub(crate) fn undo_on(mut b: Backup, place: &dyn Place) -> Result<UndoReport> {
    let mut report = UndoReport {
        backup: b.dir.clone(),
        restored: Vec::new(),
        already_undone: false,
        times_not_restored: Vec::new(),
        irreversible: Vec::new(),
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
        fixes.push(check(place, &b, d, &mut after_newer)?);
    }
    for (d, fix) in changes.iter().zip(fixes) {
        if let Done::Restarted { instance, .. } = d {
            report.irreversible.push(format!(
                "Kudu's process on instance {instance} was ended (it restarted by itself)"
            ));
        }
        if let Fix::Restore = fix {
            // A file that changed between the check and its restore (a guarded write refused).
            let restored = restore(place, &b, d).map_err(|e| match e {
                Error::PreconditionFailed { path, reason } => Error::UndoConflict { path, reason },
                other => other,
            })?;
            if !restored {
                report.times_not_restored.push(d.path().to_string());
            }
            report.restored.push(d.path().to_string());
        }
    }
    b.finish_undo()?;
    Ok(report)
}

fn conflict(place: &dyn Place, path: &RelPath, reason: &str) -> Error {
    Error::UndoConflict {
        path: place.shown(path),
        reason: reason.to_owned(),
    }
}

fn check(
    place: &dyn Place,
    b: &Backup,
    d: &Done,
    after_newer: &mut HashMap<RelPath, Option<String>>,
) -> Result<Fix> {
    let store = place.store();
    match d {
        Done::Moved { from, to } => {
            let here = store.meta(from)?.is_some();
            let kept = lstat_opt(&b.full(to))?.is_some();
            match (here, kept) {
                (false, true) => Ok(Fix::Restore),
                (true, false) => Ok(Fix::Skip),
                (true, true) if place.moves_in_parts() => partly_moved(place, from, &b.full(to)),
                (true, true) => Err(conflict(
                    place,
                    from,
                    "something new exists where the moved folder was",
                )),
                (false, false) => Err(Error::UndoConflict {
                    path: b.full(to),
                    reason: "the backup copy is missing".to_owned(),
                }),
            }
        }
        Done::Wrote {
            path,
            original,
            after_digest,
            ..
        } => {
            let now = match after_newer.get(path) {
                Some(d) => d.clone(),
                None => file_digest(store, path)?,
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
                Err(conflict(place, path, "it changed since apply rewrote it"))
            }
        }
        Done::Created { path, digest: made } => match file_digest(store, path)? {
            None => Ok(Fix::Skip),
            Some(d) if d == *made => Ok(Fix::Restore),
            Some(_) => Err(conflict(place, path, "it changed since apply created it")),
        },
        Done::Appended {
            path,
            original_len,
            text,
            ..
        } => {
            let len = store.meta(path)?.map_or(0, |m| m.size);
            if len == *original_len {
                return Ok(Fix::Skip);
            }
            if len == original_len + text.len() as u64 {
                let tail = store.read_tail(path, text.len() as u64)?;
                if tail.data == text.as_bytes() {
                    return Ok(Fix::Restore);
                }
            }
            Err(conflict(
                place,
                path,
                "the log grew since apply appended to it",
            ))
        }
        Done::Touched { .. } => Ok(Fix::Restore),
        Done::Restarted { .. } => Ok(Fix::Skip),
    }
}

/// A move over Kudu's API that stopped halfway: the path is on the site and in the backup. Every file
/// still on the site must be the one kept; the files that are not there are put back.
fn partly_moved(place: &dyn Place, from: &RelPath, kept: &Path) -> Result<Fix> {
    let store = place.store();
    let mut missing = false;
    for (rel, kind) in local_tree(kept, super::plan::MAX_TREE)? {
        let path = if rel.is_empty() {
            from.clone()
        } else {
            RelPath::new(&format!("{from}/{rel}"))?
        };
        match (kind, store.meta(&path)?) {
            (_, None) => missing = true,
            (EntryKind::Dir, Some(m)) if m.kind == EntryKind::Dir => {}
            (EntryKind::File, Some(m)) if m.kind == EntryKind::File => {
                let local = digest(&read_capped(&kept.join(rel.as_str()), COPY_CAP)?);
                if file_digest(store, &path)?.as_deref() != Some(local.as_str()) {
                    return Err(conflict(place, &path, "it changed since apply copied it"));
                }
            }
            _ => return Err(conflict(place, &path, "something else is there now")),
        }
    }
    Ok(if missing { Fix::Restore } else { Fix::Skip })
}

/// Restores one change; `false` when its file's time could not be put back (over Kudu's API).
fn restore(place: &dyn Place, b: &Backup, d: &Done) -> Result<bool> {
    match d {
        Done::Moved { from, to } => place
            .move_back(&b.full(to), from)
            .map(|()| place.sets_times()),
        Done::Wrote {
            path,
            original,
            original_mtime,
            after_digest,
        } => match original {
            Some(rel) => {
                let bytes = read_capped(&b.full(rel), crate::store::local::REWRITE_CAP)?;
                // Checked again right before, and over Kudu's API replaced only as that version.
                let now = File::now(place.store(), path)?;
                if now.digest().as_deref() != Some(after_digest.as_str()) {
                    return Err(conflict(place, path, "it changed during the undo"));
                }
                place.write(path, &bytes, *original_mtime, now.version())?;
                Ok(original_mtime.is_none() || place.sets_times())
            }
            // It did not exist before: move it aside rather than delete it.
            None => place
                .move_out(path, &b.full(&format!("undone/{path}")))
                .map(|()| true),
        },
        // It did not exist before: move it aside rather than delete it.
        Done::Created { path, .. } => place
            .move_out(path, &b.full(&format!("undone/{path}")))
            .map(|()| true),
        Done::Appended {
            path,
            original_len,
            original_mtime,
            text,
            ..
        } => {
            let tail = place.store().read_tail(path, text.len() as u64)?;
            if tail.meta.size != original_len + text.len() as u64 || tail.data != text.as_bytes() {
                return Err(conflict(place, path, "the log grew during the undo"));
            }
            place.truncate(path, *original_len, tail.etag.as_deref())?;
            match original_mtime {
                Some(t) => place.set_mtime(path, *t),
                None => Ok(true),
            }
        }
        Done::Touched {
            path,
            existed,
            original_mtime,
        } => match (existed, place.store().meta(path)?) {
            (true, Some(_)) => match original_mtime {
                Some(t) => place.set_mtime(path, *t),
                None => Ok(true),
            },
            (false, Some(m)) if m.kind == EntryKind::File && m.size == 0 => place
                .move_out(path, &b.full(&format!("undone/{path}")))
                .map(|()| true),
            _ => Ok(true),
        },
        Done::Restarted { .. } => Ok(true),
    }
}
