//! Repairing a site over Kudu's REST API: the same plan, apply and undo as for a home on a disk, with
//! the site as the [`RemotePlace`] and the backups, journal and lock on the local disk (a CI runner's:
//! upload the backup folder as an artifact to keep it). Never in `site/` on the server, where a folder
//! in `site/deployments` would look like a deployment record to Kudu.

use std::path::{Path, PathBuf};

use super::store::RemoteStore;
use super::url::SiteUrl;
use super::writer::RemotePlace;
use super::{SiteDiagnosis, diagnose_site};
use crate::error::{Error, Result};
use crate::remediate::{
    ApplyReport, Backup, Plan, PlanOptions, PlanSite, StepReport, UndoReport, check_ops,
    named_backup_root, plan_site, run_on, undo_on,
};
use crate::store::local::HomeLock;

/// How to apply a plan to a site.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiteApplyOptions {
    /// Folder that receives one backup folder per apply (created); default
    /// [`default_backup_root`]. Its `apply.lock` keeps two applies from this machine apart; the
    /// site's ETags guard against everyone else.
    pub backup_root: Option<PathBuf>,
}

/// `./kudu-state-backups/<host>` under the working directory: a CI job's workspace, where an
/// artifact upload finds it.
#[must_use]
pub fn default_backup_root(site: &SiteUrl) -> PathBuf {
    PathBuf::from("kudu-state-backups").join(site.host().replace(':', "_"))
}

/// Diagnoses the site, then plans its repair, every precondition read through `store` (with the
/// ETag of each file). The plan names the site, and applies only there.
///
/// # Errors
/// As [`diagnose_site`], and the reads of the preconditions.
pub fn plan_site_repair(
    store: &RemoteStore,
    options: &crate::HomeOptions,
    plan_options: PlanOptions,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(SiteDiagnosis, Plan)> {
    let site = diagnose_site(store, options, now)?;
    let plan = plan_site(
        &site.snapshot,
        &site.diagnosis,
        plan_options,
        store,
        PlanSite {
            url: store.site().as_str().to_owned(),
            instance: store.instance(),
        },
    )?;
    Ok((site, plan))
}

/// Applies `plan` (made by [`plan_site_repair`]) to the site `store` reads, step by step, each
/// re-checked first; `on_step` is called as each step ends. An interrupted apply of the same plan
/// (a kill, a lost connection) is finished, from its journal in the backup root.
///
/// # Errors
/// `HOME_MISMATCH` for a plan made for a home on a disk or for another site; `APPLY_LOCKED`;
/// `PRECONDITION_FAILED` (something changed since the plan: nothing more is touched); `HELD_OPEN`
/// (Kudu holds a file open); `PROTECTED_PATH`; the network's and the site's errors.
pub fn apply_site(
    plan: &Plan,
    store: &RemoteStore,
    options: &SiteApplyOptions,
    on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    run(plan, store, options, None, on_step)
}

/// [`apply_site`] that stops, as a kill would, right after `journal_writes` journal writes and
/// changes made (counted together): for tests of crash recovery (feature `fixture`).
///
/// # Errors
/// As [`apply_site`], and `INVALID_INPUT` "injected crash" when it stops.
#[cfg(feature = "fixture")]
pub fn apply_site_crashing_after(
    plan: &Plan,
    store: &RemoteStore,
    options: &SiteApplyOptions,
    journal_writes: u32,
) -> Result<ApplyReport> {
    run(plan, store, options, Some(journal_writes), |_| {})
}

fn run(
    plan: &Plan,
    store: &RemoteStore,
    options: &SiteApplyOptions,
    crash_after: Option<u32>,
    on_step: impl FnMut(&StepReport),
) -> Result<ApplyReport> {
    same_site(plan.site.as_ref(), &plan.home, store)?;
    let place = RemotePlace::new(store);
    check_ops(plan, &place)?;
    let root = named_backup_root(
        &options
            .backup_root
            .clone()
            .unwrap_or_else(|| default_backup_root(store.site())),
    )?;
    let _lock = HomeLock::acquire(&root.join("apply.lock"))?;
    run_on(plan, &place, &root, crash_after, on_step)
}

/// Reverses the apply recorded in `backup_dir` on the site `store` reads: every change is checked
/// first (`UNDO_CONFLICT`, nothing overwritten), then each file is put back with a `PUT` that
/// creates it or replaces exactly the version apply left. File times cannot be put back over VFS
/// ([`UndoReport::times_not_restored`]).
///
/// # Errors
/// `HOME_MISMATCH` for a backup of another site or of a home on a disk; `UNDO_CONFLICT`;
/// `APPLY_LOCKED`; the network's and the site's errors.
pub fn undo_site(backup_dir: &Path, store: &RemoteStore) -> Result<UndoReport> {
    let backup = Backup::open(backup_dir, None)?;
    same_site(backup.site.as_ref(), &backup.home, store)?;
    let root = backup_dir.parent().unwrap_or(backup_dir);
    let _lock = HomeLock::acquire(&root.join("apply.lock"))?;
    undo_on(backup, &RemotePlace::new(store))
}

/// Refuses a plan or backup made for a home on a disk, or for another site.
fn same_site(site: Option<&PlanSite>, home: &Path, store: &RemoteStore) -> Result<()> {
    let here = store.site().as_str();
    let mismatch = |reason: String| {
        Err(Error::HomeMismatch {
            path: PathBuf::from(here),
            reason,
        })
    };
    match site {
        None => mismatch(format!(
            "it was made for the home `{}` on a disk: apply or undo it there, without --remote",
            home.display()
        )),
        Some(site) => match SiteUrl::parse(&site.url) {
            Ok(planned) if planned.as_str().eq_ignore_ascii_case(here) => Ok(()),
            _ => mismatch(format!("it was made for the site {}", site.url)),
        },
    }
}
