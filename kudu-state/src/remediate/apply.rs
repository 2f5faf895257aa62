//! [`apply`]: run a plan's steps, each only if its precondition still holds, with everything it replaces
//! kept in a backup folder and every change journaled first.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::journal::{Backup, Done, JournalState, StepState};
use super::{Action, Op, Plan, Step, check_op};
use crate::deployments::ActiveValue;
use crate::error::{Error, Result};
use crate::fs::{
    HomeLock, append, digest, file_digest, lstat_opt, move_to, read_capped, set_mtime, tree_digest,
    truncate, write_atomic,
};
use crate::store::{EntryKind, RelPath};

/// Largest file apply reads whole (status files, `active`); logs are only appended to.
const READ_CAP: u64 = crate::scan::STATUS_XML_CAP;

/// How to apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyOptions {
    /// Folder that receives one backup folder per apply; default `HOME/data/kudu-state/backups`. Must be
    /// on the same file system as the home (removals are renames).
    pub backup_root: Option<PathBuf>,
}

/// What happened to one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    /// Its changes were made now.
    Applied,
    /// The disk already showed its result (a second apply of the same plan changes nothing).
    AlreadyDone,
    /// Advice or waiting: nothing to execute.
    Advisory,
}

/// One line of an [`ApplyReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// Position in the plan.
    pub index: usize,
    /// The step's action.
    pub action: Action,
    /// Its target.
    pub target: Option<RelPath>,
    /// What happened.
    pub outcome: StepOutcome,
}

/// The result of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The backup folder (for `undo`), or `None` when nothing was changed.
    pub backup: Option<PathBuf>,
    /// True when an interrupted apply of the same plan was finished.
    pub resumed: bool,
    /// One per step.
    pub steps: Vec<StepReport>,
}

/// The default folder for backups and the apply lock: `HOME/data/kudu-state`.
#[must_use]
pub fn state_dir(home: &Path) -> PathBuf {
    home.join("data").join("kudu-state")
}

/// Applies `plan`. Stops at the first step whose precondition no longer holds (`PRECONDITION_FAILED`),
/// touching nothing more. An interrupted apply of the same plan is resumed in its own backup folder.
///
/// # Errors
/// `APPLY_LOCKED` (another apply or undo runs), `PRECONDITION_FAILED`, `PROTECTED_PATH` (a hand-edited
/// plan), `IO_ERROR`.
pub fn apply(plan: &Plan, options: &ApplyOptions) -> Result<ApplyReport> {
    apply_with_progress(plan, options, |_| {})
}

/// [`apply`] that stops, as a crash would, right after `journal_writes` journal writes: for tests of
/// crash recovery (feature `fixture`).
///
/// # Errors
/// As [`apply`], and `INVALID_INPUT` "injected crash" when it stops.
#[cfg(feature = "fixture")]
pub fn apply_crashing_after(
    plan: &Plan,
    options: &ApplyOptions,
    journal_writes: u32,
) -> Result<ApplyReport> {
    run(plan, options, Some(journal_writes), |_| {})
}

/// [`apply`], calling `on_step` as each step finishes (a command prints it as it runs).
///
/// # Errors
/// As [`apply`].
pub fn apply_with_progress(
    plan: &Plan,
    options: &ApplyOptions,
    on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    run(plan, options, None, on_step)
}

fn run(
    plan: &Plan,
    options: &ApplyOptions,
    crash_after: Option<u32>,
    mut on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    let home = &plan.home;
    crate::scan::resolve_home(home)?;
    let active = current_active(home)?;
    for step in &plan.steps {
        for op in &step.ops {
            check_op(op, home, active.as_deref())?;
        }
    }
    let _lock = HomeLock::acquire(&state_dir(home).join("apply.lock"))?;
    let root = options
        .backup_root
        .clone()
        .unwrap_or_else(|| state_dir(home).join("backups"));

    let mut backup = find_unfinished(&root, plan, crash_after)?;
    let resumed = backup.is_some();
    let mut report = ApplyReport {
        backup: None,
        resumed,
        steps: Vec::new(),
    };
    for (index, step) in plan.steps.iter().enumerate() {
        let outcome = if step.action.is_advisory() || step.ops.is_empty() {
            StepOutcome::Advisory
        } else if backup
            .as_ref()
            .and_then(|b| b.step(index))
            .is_some_and(|s| s.state == StepState::Done)
        {
            StepOutcome::Applied
        } else {
            let started = backup.as_ref().and_then(|b| b.step(index)).is_some();
            if !started && already_done(home, step)? {
                StepOutcome::AlreadyDone
            } else {
                if !started {
                    check_precondition(home, step)?;
                }
                let b = match backup.as_mut() {
                    Some(b) => b,
                    None => backup.insert(Backup::create(
                        new_backup_dir(&root, plan),
                        plan,
                        crash_after,
                    )?),
                };
                b.step_mut(index, step.action);
                b.save()?;
                for op in &step.ops {
                    run_op(home, b, (index, step.action), op, plan.created)?;
                }
                b.step_mut(index, step.action).state = StepState::Done;
                b.save()?;
                StepOutcome::Applied
            }
        };
        let line = StepReport {
            index,
            action: step.action,
            target: step.target.clone(),
            outcome,
        };
        on_step(&line);
        report.steps.push(line);
    }
    if let Some(b) = backup.as_mut() {
        b.journal.state = JournalState::Applied;
        b.save()?;
        report.backup = Some(b.dir.clone());
    }
    Ok(report)
}

fn current_active(home: &Path) -> Result<Option<String>> {
    let path = home.join("site").join("deployments").join("active");
    match lstat_opt(&path)? {
        Some(m) if m.kind == EntryKind::File => {
            let bytes = read_capped(&path, crate::scan::ACTIVE_CAP)?;
            Ok(ActiveValue::parse(&bytes).named_id().map(str::to_owned))
        }
        _ => Ok(None),
    }
}

fn new_backup_dir(root: &Path, plan: &Plan) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let id = plan.id();
    let short = id
        .trim_start_matches("fnv1a64:")
        .get(..8)
        .unwrap_or("plan")
        .to_owned();
    root.join(format!("{stamp}-{short}"))
}

/// An earlier apply of this very plan that did not finish.
fn find_unfinished(root: &Path, plan: &Plan, crash_after: Option<u32>) -> Result<Option<Backup>> {
    let Some(meta) = lstat_opt(root)? else {
        return Ok(None);
    };
    if meta.kind != EntryKind::Dir {
        return Ok(None);
    }
    let id = plan.id();
    let mut dirs: Vec<_> = fs_err::read_dir(root)
        .map_err(|e| Error::io("list", root, e))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        if lstat_opt(&dir.join(super::journal::JOURNAL))?.is_none() {
            continue;
        }
        let b = Backup::open(&dir, crash_after)?;
        if b.journal.plan_id == id
            && b.journal.home == plan.home
            && b.journal.state == JournalState::Applying
        {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// True when the disk already shows every move and write of the step.
fn already_done(home: &Path, step: &Step) -> Result<bool> {
    let mut any = false;
    for op in &step.ops {
        match op {
            Op::Move { path } => {
                any = true;
                if lstat_opt(&path.under(home))?.is_some() {
                    return Ok(false);
                }
            }
            Op::Write { path, content } => {
                any = true;
                if file_digest(&path.under(home))? != Some(digest(content.as_bytes())) {
                    return Ok(false);
                }
            }
            Op::Append { .. } | Op::TouchActive => {}
        }
    }
    Ok(any)
}

fn check_precondition(home: &Path, step: &Step) -> Result<()> {
    let (Some(target), Some(pre)) = (&step.target, &step.precondition) else {
        return Ok(());
    };
    let full = target.under(home);
    let fail = |reason: String| {
        Err(Error::PreconditionFailed {
            path: full.clone(),
            reason,
        })
    };
    let now = lstat_opt(&full)?;
    let kind = match &now {
        None => "absent",
        Some(m) if m.kind == EntryKind::Dir => "dir",
        Some(m) if m.kind == EntryKind::File => "file",
        Some(_) => "other",
    };
    if kind != pre.kind {
        return fail(format!("it was {} and is now {kind}", pre.kind));
    }
    let current = match kind {
        "dir" => Some(tree_digest(&full, 10_000)?),
        "file" => file_digest(&full)?,
        _ => None,
    };
    if current != pre.digest {
        return fail(if kind == "dir" {
            "its contents changed (a file was written, added or removed)".to_owned()
        } else {
            "its content changed".to_owned()
        });
    }
    Ok(())
}

fn run_op(
    home: &Path,
    b: &mut Backup,
    (index, action): (usize, Action),
    op: &Op,
    now: DateTime<Utc>,
) -> Result<()> {
    match op {
        Op::Move { path } => {
            let from = path.under(home);
            let to_rel = Backup::moved_path(path);
            let to = b.full(&to_rel);
            if lstat_opt(&from)?.is_none() && lstat_opt(&to)?.is_some() {
                return Ok(()); // moved before an interruption
            }
            if b.recorded(
                index,
                |d| matches!(d, Done::Moved { from: f, .. } if f == path),
            )
            .is_none()
            {
                b.step_mut(index, action).done.push(Done::Moved {
                    from: path.clone(),
                    to: to_rel,
                });
                b.save()?;
            }
            move_to(&from, &to)
        }
        Op::Write { path, content } => {
            let full = path.under(home);
            let after = digest(content.as_bytes());
            let current = file_digest(&full)?;
            if current.as_deref() == Some(after.as_str()) {
                return Ok(());
            }
            if let Some(Done::Wrote { original, .. }) = b.recorded(
                index,
                |d| matches!(d, Done::Wrote { path: p, .. } if p == path),
            ) {
                // Resuming: the file must still be the original we saved.
                let original_digest = match original {
                    Some(rel) => Some(digest(&read_capped(&b.full(rel), READ_CAP)?)),
                    None => None,
                };
                if current != original_digest {
                    return Err(Error::PreconditionFailed {
                        path: full,
                        reason: "it changed while the apply was interrupted".to_owned(),
                    });
                }
            } else {
                let meta = lstat_opt(&full)?;
                let original = match &meta {
                    Some(_) => {
                        let rel = Backup::original_path(path);
                        let bytes = read_capped(&full, READ_CAP)?;
                        let dest = b.full(&rel);
                        if let Some(parent) = dest.parent() {
                            fs_err::create_dir_all(parent)
                                .map_err(|e| Error::io("create", parent, e))?;
                        }
                        write_atomic(&dest, &bytes, meta.as_ref().and_then(|m| m.modified))?;
                        Some(rel)
                    }
                    None => None,
                };
                let original_mtime = meta.and_then(|m| m.modified);
                b.step_mut(index, action).done.push(Done::Wrote {
                    path: path.clone(),
                    original,
                    original_mtime,
                    after_digest: after,
                });
                b.save()?;
            }
            if let Some(parent) = full.parent() {
                fs_err::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            write_atomic(&full, content.as_bytes(), Some(now))
        }
        Op::Append { path, text } => {
            let full = path.under(home);
            let len = lstat_opt(&full)?.map_or(0, |m| m.size);
            if let Some(Done::Appended { original_len, .. }) = b.recorded(
                index,
                |d| matches!(d, Done::Appended { path: p, .. } if p == path),
            ) {
                let original_len = *original_len;
                if len == original_len + text.len() as u64 {
                    return Ok(());
                }
                if len != original_len {
                    // A torn append from the interruption: cut it off and append again.
                    if len < original_len || len > original_len + text.len() as u64 {
                        return Err(Error::PreconditionFailed {
                            path: full,
                            reason: "the log changed while the apply was interrupted".to_owned(),
                        });
                    }
                    truncate(&full, original_len)?;
                }
            } else {
                let original_mtime = lstat_opt(&full)?.and_then(|m| m.modified);
                b.step_mut(index, action).done.push(Done::Appended {
                    path: path.clone(),
                    original_len: len,
                    original_mtime,
                    text: text.clone(),
                });
                b.save()?;
            }
            append(&full, text.as_bytes())?;
            set_mtime(&full, now)
        }
        Op::TouchActive => {
            let rel = RelPath::new("site/deployments/active")?;
            let full = rel.under(home);
            let meta = lstat_opt(&full)?;
            if b.recorded(index, |d| matches!(d, Done::Touched { .. }))
                .is_none()
            {
                b.step_mut(index, action).done.push(Done::Touched {
                    path: rel,
                    existed: meta.is_some(),
                    original_mtime: meta.as_ref().and_then(|m| m.modified),
                });
                b.save()?;
            }
            match meta {
                Some(m) if m.kind == EntryKind::File => set_mtime(&full, now),
                Some(_) => Ok(()),
                None => write_atomic(&full, b"", Some(now)),
            }
        }
    }
}
