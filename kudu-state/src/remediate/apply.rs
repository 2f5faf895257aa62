//! [`apply`]: run a plan's steps, each only if its precondition still holds, with everything it replaces
//! kept in a backup folder and every change journaled first.

use crate::names::named_enum;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::journal::{Backup, Done, JournalState};
use super::place::{LocalPlace, Place};
use super::{Action, Guard, Op, Plan, Precondition, Step, TargetKind, check_op, home};
use crate::deployments::ActiveValue;
use crate::error::{Error, Result};
use crate::store::local::{
    COPY_CAP, HomeLock, create_dirs_no_follow, digest, lstat_opt, read_capped, write_atomic,
};
use crate::store::{
    Bytes, EntryKind, RelPath, Store, file_digest, read_whole, read_whole_bytes, tree_digest,
};

/// Largest file apply reads whole (status files, `active`, `log.xml`); logs are only appended to.
const READ_CAP: u64 = crate::store::local::REWRITE_CAP;

/// How to apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyOptions {
    /// Folder that receives one backup folder per apply; default `HOME/data/kudu-state/backups`. Must be
    /// on the same file system as the home (removals are renames). A folder named here is used as
    /// given (links followed: the user chose it); the default folders must be real folders.
    pub backup_root: Option<PathBuf>,
}

named_enum! {
    /// What happened to one step.
    pub enum StepOutcome {
        /// Its changes were made now.
        Applied => "applied",
        /// The disk already showed its result (a second apply of the same plan changes nothing).
        AlreadyDone => "already-done",
        /// Advice or waiting: nothing to execute.
        Advisory => "advisory",
    }
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

/// Creates `HOME/data/kudu-state` (refusing links on the way) and takes its apply lock.
pub(super) fn lock_home(home: &Path) -> Result<HomeLock> {
    let dir = create_dirs_no_follow(home, &["data", "kudu-state"])?;
    HomeLock::acquire(&dir.join("apply.lock"))
}

/// Applies `plan`. Stops at the first step whose precondition no longer holds (`PRECONDITION_FAILED`),
/// touching nothing more. An interrupted apply of the same plan is resumed in its own backup folder.
///
/// # Errors
/// `HOME_NOT_FOUND` / `HOME_MISMATCH` (the folder at the plan's home path is not the planned home),
/// `APPLY_LOCKED` (another apply or undo runs), `PRECONDITION_FAILED`, `PROTECTED_PATH` (a hand-edited
/// plan, or a link where kudu-state keeps its state), `IO_ERROR`.
pub fn apply(plan: &Plan, options: &ApplyOptions) -> Result<ApplyReport> {
    apply_with_progress(plan, options, |_| {})
}

/// [`apply`] that stops, as a crash would, right after `journal_writes` journal writes and changes
/// made (counted together): for tests of crash recovery (feature `fixture`).
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
    on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    if let Some(site) = &plan.site {
        return Err(Error::HomeMismatch {
            path: plan.home.clone(),
            reason: format!(
                "the plan was made for the site {} over Kudu's REST API: apply it there (the command's --remote, the packages' remote option)",
                site.url
            ),
        });
    }
    let home = &plan.home;
    home::verify(home, &plan.home_identity)?;
    let place = LocalPlace::new(home);
    check_ops(plan, &place)?;
    let _lock = lock_home(home)?;
    let root = match &options.backup_root {
        Some(root) => named_backup_root(root)?,
        None => create_dirs_no_follow(home, &["data", "kudu-state", "backups"])?,
    };
    run_on(plan, &place, &root, crash_after, on_step)
}

/// A backup folder the user named (links followed: they chose it), created, as an absolute path so
/// the backup path printed works from any working directory.
pub(crate) fn named_backup_root(root: &Path) -> Result<PathBuf> {
    fs_err::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
    fs_err::canonicalize(root).map_err(|e| Error::io("resolve", root, e))
}

/// Every op of the plan against the allowlist, with `active` as the place holds it now and then as
/// each earlier step would leave it: a plan that could only ever move the folder `active` names is
/// refused before anything changes. Each move is checked again against `active` as it is on the
/// disk just before its step runs ([`check_moves_now`]): an earlier step may have been skipped
/// (already done, or journaled by an interrupted apply) or `active` changed since.
pub(crate) fn check_ops(plan: &Plan, place: &dyn Place) -> Result<()> {
    let mut active = current_active(place.store())?;
    for step in &plan.steps {
        for op in &step.ops {
            check_op(op, &plan.home, active.as_deref())?;
        }
        if let Some(named) = step.active_after() {
            active = named;
        }
    }
    Ok(())
}

/// The steps of `plan` on `place`, journaled in a backup folder under `root` (resuming an unfinished
/// apply of the same plan there).
pub(crate) fn run_on(
    plan: &Plan,
    place: &dyn Place,
    root: &Path,
    crash_after: Option<u32>,
    mut on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    let plan_id = plan.id();
    if find_backup(root, plan, &plan_id, JournalState::Applied)?.is_some() {
        // Applied already, from this backup folder: nothing is done twice (a restart of Kudu least
        // of all), whatever the home shows now.
        return Ok(ApplyReport {
            backup: None,
            resumed: false,
            steps: plan
                .steps
                .iter()
                .enumerate()
                .map(|(index, step)| {
                    let line = StepReport {
                        index,
                        action: step.action,
                        target: step.target.clone(),
                        outcome: if step.is_advisory() {
                            StepOutcome::Advisory
                        } else {
                            StepOutcome::AlreadyDone
                        },
                    };
                    on_step(&line);
                    line
                })
                .collect(),
        });
    }
    let mut backup = find_backup(root, plan, &plan_id, JournalState::Applying)?
        .map(|dir| Backup::open(&dir, crash_after))
        .transpose()?;
    if backup.is_none() {
        // A fresh apply: the whole plan must still describe the home, or nothing is changed. Each
        // step is checked again just before it runs (then by content: an earlier step's touch of
        // `active` gives it a new ETag).
        for step in plan.steps.iter().filter(|s| !s.is_advisory()) {
            if !already_done(place, step)? {
                check_precondition(place, step, Version::Planned)?;
            }
        }
    }
    let mut report = ApplyReport {
        backup: None,
        resumed: backup.is_some(),
        steps: Vec::new(),
    };
    for (index, step) in plan.steps.iter().enumerate() {
        let journaled = backup.as_ref().and_then(|b| b.step(index));
        let outcome = if step.is_advisory() {
            StepOutcome::Advisory
        } else if journaled.is_some_and(|s| s.done) {
            StepOutcome::Applied
        } else {
            let resumed_changes = journaled.map(|s| s.changes.clone());
            if resumed_changes.is_none() && already_done(place, step)? {
                StepOutcome::AlreadyDone
            } else {
                check_moves_now(plan, place, step)?;
                let b = match backup.as_mut() {
                    Some(b) => b,
                    None => {
                        let dir = new_backup_dir(root, &plan_id);
                        backup.insert(Backup::create(dir, plan, crash_after)?)
                    }
                };
                let changes = match resumed_changes {
                    Some(changes) => {
                        // Killed in the middle of this step: a write may have left its temp file.
                        // A move not begun (or stopped by a refusal and put back, its copy
                        // dropped) is checked against the plan again, as a fresh step would be.
                        if let ([Op::Move { path }], [Done::Moved { to, .. }]) =
                            (step.ops.as_slice(), changes.as_slice())
                            && lstat_opt(&b.full(to))?.is_none()
                            && place.store().meta(path)?.is_some()
                        {
                            check_precondition(place, step, Version::AnyWithSameContent)?;
                        }
                        for dir in step.ops.iter().filter_map(|op| match op {
                            Op::Write { path, .. } | Op::Create { path, .. } => path.parent(),
                            Op::TouchActive => RelPath::new("site/deployments").ok(),
                            Op::Move { .. } | Op::Append { .. } | Op::RestartKudu { .. } => None,
                        }) {
                            place.clean_up(&dir)?;
                        }
                        changes
                    }
                    None => {
                        check_precondition(place, step, Version::AnyWithSameContent)?;
                        let changes = step
                            .ops
                            .iter()
                            .map(|op| prepare(place, b, index, op))
                            .collect::<Result<Vec<_>>>()?;
                        b.begin_step(index, step.action, changes.clone())?;
                        changes
                    }
                };
                for (op, change) in step.ops.iter().zip(&changes) {
                    perform(place, b, step, op, change, plan.created)?;
                    b.checkpoint()?;
                }
                b.finish_step(index)?;
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
        b.finish_apply()?;
        report.backup = Some(b.dir.clone());
    }
    Ok(report)
}

/// The step's moves against the allowlist with `active` as it is now: never the folder it names.
fn check_moves_now(plan: &Plan, place: &dyn Place, step: &Step) -> Result<()> {
    if !step.ops.iter().any(|op| matches!(op, Op::Move { .. })) {
        return Ok(());
    }
    let active = current_active(place.store())?;
    for op in step.ops.iter().filter(|op| matches!(op, Op::Move { .. })) {
        check_op(op, &plan.home, active.as_deref())?;
    }
    Ok(())
}

/// The id `active` names now (generously: a malformed value's trimmed id), as the allowlist protects it.
fn current_active(store: &dyn Store) -> Result<Option<String>> {
    let path = RelPath::new("site/deployments/active")?;
    match store.meta(&path)? {
        Some(m) if m.kind == EntryKind::File => {
            let bytes = read_whole(store, &path, crate::scan::ACTIVE_CAP)?;
            Ok(ActiveValue::parse(&bytes).named_id().map(str::to_owned))
        }
        _ => Ok(None),
    }
}

/// `<UTC time>-<first 8 hex digits of the plan id>`: sorts by time, says which plan.
fn new_backup_dir(root: &Path, plan_id: &str) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let short = plan_id
        .trim_start_matches("fnv1a64:")
        .get(..8)
        .unwrap_or("plan");
    root.join(format!("{stamp}-{short}"))
}

/// The newest backup folder of an apply of this very plan, on this very home, in `state` (an
/// unfinished one is resumed; a finished one means the plan was applied).
fn find_backup(
    root: &Path,
    plan: &Plan,
    plan_id: &str,
    state: JournalState,
) -> Result<Option<PathBuf>> {
    let mut dirs: Vec<_> = fs_err::read_dir(root)
        .map_err(|e| Error::io("list", root, e))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        // The backup root also holds a remote apply's `apply.lock`.
        if lstat_opt(&dir)?.is_none_or(|m| m.kind != EntryKind::Dir)
            || lstat_opt(&dir.join(super::journal::JOURNAL))?.is_none()
        {
            continue;
        }
        let b = Backup::open(&dir, None)?;
        if b.plan_id == plan_id && b.home == plan.home && b.state == state {
            return Ok(Some(dir));
        }
    }
    Ok(None)
}

/// True when the disk already shows every move and write of the step inside its target (the files it
/// shares with other steps, `active` and `latest.json`, may have been changed since by a later step).
fn already_done(place: &dyn Place, step: &Step) -> Result<bool> {
    let store = place.store();
    let mut any = false;
    let inside = |p: &RelPath| {
        step.target.as_ref().is_some_and(|t| {
            p == t
                || p.as_str()
                    .strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    for op in step.ops.iter().filter(|op| op.path().is_some_and(inside)) {
        match op {
            Op::Move { path } => {
                any = true;
                if store.meta(path)?.is_some() {
                    return Ok(false);
                }
            }
            Op::Write { path, content, .. } | Op::Create { path, content } => {
                any = true;
                if file_digest(store, path)? != Some(digest(content.as_bytes())) {
                    return Ok(false);
                }
            }
            Op::Append { .. } | Op::TouchActive | Op::RestartKudu { .. } => {}
        }
    }
    Ok(any)
}

/// How strictly [`check_precondition`] compares a file with the plan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    /// The very version planned: same content and, over Kudu's API, same ETag.
    Planned,
    /// The same content.
    AnyWithSameContent,
}

/// The step's target, and what its ops only read ([`Guard`]s), against the plan.
fn check_precondition(place: &dyn Place, step: &Step, version: Version) -> Result<()> {
    if let (Some(target), Some(pre)) = (&step.target, &step.precondition) {
        check_unchanged(place, target, pre, version)?;
    }
    for op in &step.ops {
        if let Op::RestartKudu { stalled, .. } = op {
            check_guards(place, stalled)?;
        }
    }
    Ok(())
}

/// Paths that must be exactly as planned (the version, not only the content).
fn check_guards(place: &dyn Place, guards: &[Guard]) -> Result<()> {
    for g in guards {
        check_unchanged(place, &g.path, &g.precondition, Version::Planned)?;
    }
    Ok(())
}

fn check_unchanged(
    place: &dyn Place,
    target: &RelPath,
    pre: &Precondition,
    version: Version,
) -> Result<()> {
    let store = place.store();
    let fail = |reason: String| {
        Err(Error::PreconditionFailed {
            path: place.shown(target),
            reason,
        })
    };
    let kind = TargetKind::of(store.meta(target)?.as_ref());
    if kind != pre.kind {
        return fail(format!(
            "it was {} and is now {}",
            kind_name(pre.kind),
            kind_name(kind)
        ));
    }
    let (current, etag) = match kind {
        TargetKind::Dir => (
            Some(tree_digest(store, target, super::plan::MAX_TREE)?),
            None,
        ),
        TargetKind::File => {
            let bytes = read_whole_bytes(store, target, READ_CAP)?;
            (Some(digest(&bytes.data)), bytes.etag)
        }
        TargetKind::Absent | TargetKind::Other => (None, None),
    };
    if current != pre.digest {
        return fail(if kind == TargetKind::Dir {
            "its contents changed (a file was written, added or removed)".to_owned()
        } else {
            "its content changed".to_owned()
        });
    }
    if let Some(planned) = pre.etag.as_ref().filter(|_| version == Version::Planned)
        && etag.as_ref() != Some(planned)
    {
        return fail(format!(
            "it was written since the plan (ETag {planned}, now {})",
            etag.as_deref().unwrap_or("none")
        ));
    }
    Ok(())
}

fn kind_name(k: TargetKind) -> &'static str {
    match k {
        TargetKind::Absent => "absent",
        TargetKind::File => "a file",
        TargetKind::Dir => "a folder",
        TargetKind::Other => "a link or special file",
    }
}

/// What undoing `op` needs, read from the home before the step starts; a rewritten file's original
/// is copied into the backup here, before the journal says the step began.
fn prepare(place: &dyn Place, b: &Backup, index: usize, op: &Op) -> Result<Done> {
    let store = place.store();
    Ok(match op {
        Op::Move { path } => Done::Moved {
            from: path.clone(),
            to: Backup::moved_path(path),
        },
        Op::Write {
            path,
            content,
            expect,
        } => {
            if let Some(expected) = expect
                && file_digest(store, path)?.as_deref() != Some(expected.as_str())
            {
                return Err(Error::PreconditionFailed {
                    path: place.shown(path),
                    reason: "its content changed".to_owned(),
                });
            }
            let meta = store.meta(path)?;
            let original = match &meta {
                Some(m) => {
                    let rel = Backup::original_path(index, path);
                    keep_original(b, &rel, &read_whole(store, path, READ_CAP)?, m.modified)?;
                    Some(rel)
                }
                None => None,
            };
            Done::Wrote {
                path: path.clone(),
                original,
                original_mtime: meta.and_then(|m| m.modified),
                after_digest: digest(content.as_bytes()),
            }
        }
        Op::Create { path, content } => Done::Created {
            path: path.clone(),
            digest: digest(content.as_bytes()),
        },
        Op::Append { path, text } => {
            let meta = store.meta(path)?;
            let original = match &meta {
                Some(m) if !place.appends_in_place() => {
                    let rel = Backup::original_path(index, path);
                    keep_original(b, &rel, &read_whole(store, path, COPY_CAP)?, m.modified)?;
                    Some(rel)
                }
                _ => None,
            };
            Done::Appended {
                path: path.clone(),
                original_len: meta.as_ref().map_or(0, |m| m.size),
                original_mtime: meta.and_then(|m| m.modified),
                text: text.clone(),
                original,
            }
        }
        Op::RestartKudu { instance, lock, .. } => Done::Restarted {
            lock: lock.clone(),
            instance: instance.clone(),
        },
        Op::TouchActive => {
            let rel = RelPath::new("site/deployments/active")?;
            let meta = store.meta(&rel)?;
            Done::Touched {
                path: rel,
                existed: meta.is_some(),
                original_mtime: meta.and_then(|m| m.modified),
            }
        }
    })
}

/// Keeps `bytes`, a file's content before a step changes it, at `rel` in the backup folder.
fn keep_original(b: &Backup, rel: &str, bytes: &[u8], mtime: Option<DateTime<Utc>>) -> Result<()> {
    let dest = b.full(rel);
    if let Some(parent) = dest.parent() {
        fs_err::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    write_atomic(&dest, bytes, mtime)
}

/// Makes one journaled change. Each arm first recognises a change an interrupted apply already made,
/// so running it again after a crash finishes the step instead of repeating it. A write replaces the
/// version just read and checked (over Kudu's API, exactly that version).
fn perform(
    place: &dyn Place,
    b: &Backup,
    step: &Step,
    op: &Op,
    change: &Done,
    now: DateTime<Utc>,
) -> Result<()> {
    let store = place.store();
    let changed_meanwhile = |path: &RelPath, what: &str| Error::PreconditionFailed {
        path: place.shown(path),
        reason: format!("{what} while the apply was interrupted"),
    };
    match (op, change) {
        (Op::Move { path }, Done::Moved { to, .. }) => {
            let to = b.full(to);
            if store.meta(path)?.is_none() && lstat_opt(&to)?.is_some() {
                return Ok(());
            }
            place.move_out(path, &to)
        }
        (Op::Write { path, content, .. }, Done::Wrote { original, .. }) => {
            let current = File::now(store, path)?;
            if current.digest() == Some(digest(content.as_bytes())) {
                return Ok(());
            }
            let original_digest = match original {
                Some(rel) => Some(digest(&read_capped(&b.full(rel), READ_CAP)?)),
                None => None,
            };
            if current.digest() != original_digest && !current.is_cut_short(content.as_bytes()) {
                return Err(changed_meanwhile(path, "it changed"));
            }
            place.write(path, content.as_bytes(), Some(now), current.version())
        }
        (Op::Create { path, content }, Done::Created { .. }) => {
            let current = File::now(store, path)?;
            match current.digest() {
                Some(d) if d == digest(content.as_bytes()) => Ok(()),
                // Kudu's API writes into the file itself: a create cut short left a prefix.
                Some(_) if current.is_cut_short(content.as_bytes()) => {
                    place.write(path, content.as_bytes(), Some(now), current.version())
                }
                Some(_) => Err(Error::PreconditionFailed {
                    path: place.shown(path),
                    reason: "it was created by someone else since the plan was made".to_owned(),
                }),
                None => place.create(path, content.as_bytes(), now),
            }
        }
        (
            Op::Append { path, text },
            Done::Appended {
                original_len,
                original,
                ..
            },
        ) => {
            let len = store.meta(path)?.map_or(0, |m| m.size);
            let whole = original_len + text.len() as u64;
            if len == whole {
                return place.set_mtime(path, now).map(|_| ());
            }
            if len == *original_len {
                return place.append(path, text.as_bytes(), now);
            }
            match original {
                // Appended by rewriting the whole file (Kudu's API): one cut short holds a prefix
                // of the original and the entry.
                Some(rel) => {
                    let mut intended = read_capped(&b.full(rel), COPY_CAP)?;
                    intended.extend_from_slice(text.as_bytes());
                    let current = File::now(store, path)?;
                    if current.is_cut_short(&intended) {
                        return place.write(path, &intended, Some(now), current.version());
                    }
                }
                // Appended in place: a torn append left a prefix of the entry, and nothing else.
                None if len > *original_len && len < whole => {
                    let tail = store.read_tail(path, len - original_len)?;
                    if text.as_bytes().starts_with(&tail.data) {
                        place.truncate(path, *original_len, tail.etag.as_deref())?;
                        return place.append(path, text.as_bytes(), now);
                    }
                }
                None => {}
            }
            Err(changed_meanwhile(path, "the log changed"))
        }
        (Op::TouchActive, Done::Touched { path, .. }) => place.touch(path, now),
        (
            Op::RestartKudu {
                instance,
                lock,
                stalled,
            },
            Done::Restarted { .. },
        ) => {
            let planned = step.precondition.as_ref().and_then(|p| p.etag.as_deref());
            // Checked only once the lock is proven still held as planned: after a restart already
            // sent (a resumed apply), Kudu itself fails the record, and that is no reason to stop.
            place
                .restart_kudu(instance, lock, planned, &|| check_guards(place, stalled))
                .map(|_| ())
        }
        _ => Err(Error::invalid(
            "journal",
            format!(
                "the journal in `{}` does not match this plan's step",
                b.dir.display()
            ),
        )),
    }
}

/// A file as it is now, read whole: what a rewrite checks, and the version it then replaces.
pub(crate) enum File {
    Absent,
    /// A folder, a link or anything else that is not a regular file.
    Other,
    Regular(Bytes),
}

impl File {
    pub(crate) fn now(store: &dyn Store, path: &RelPath) -> Result<File> {
        Ok(match store.meta(path)? {
            None => File::Absent,
            Some(m) if m.kind == EntryKind::File => {
                File::Regular(read_whole_bytes(store, path, COPY_CAP)?)
            }
            Some(_) => File::Other,
        })
    }

    /// As [`file_digest`]: the content's digest, a marker for a non-file, `None` when absent.
    pub(crate) fn digest(&self) -> Option<String> {
        match self {
            File::Absent => None,
            File::Other => Some("not-a-file".to_owned()),
            File::Regular(b) => Some(digest(&b.data)),
        }
    }

    /// The ETag of the version read (over Kudu's API).
    pub(crate) fn version(&self) -> Option<&str> {
        match self {
            File::Regular(b) => b.etag.as_deref(),
            File::Absent | File::Other => None,
        }
    }

    /// Whether it holds a strict prefix of `intended`: a write over Kudu's API (which writes into
    /// the file itself) that broke off. Only such a file may be written again on resume.
    fn is_cut_short(&self, intended: &[u8]) -> bool {
        matches!(self, File::Regular(b) if b.data.len() < intended.len() && intended.starts_with(&b.data))
    }
}
