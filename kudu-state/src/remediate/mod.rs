//! Remediation: a reviewable [`Plan`], a guarded and reversible [`apply`], and [`undo`] (spec §9, §10).
//!
//! The rules every plan obeys, whatever the options:
//! - least disruptive first; while a deployment runs the plan only waits;
//! - nothing is deleted: a removal is a move into the backup folder, a rewrite keeps the original there;
//! - only an allowlist of paths is ever touched ([`check_op`]): `pending`, `settings.xml`, `hooks`,
//!   `tools/`, `latest.json`, `wwwroot`, `repository`, the Linux idle lock files, the active deployment's
//!   folder and anything outside `HOME/site` never appear in a plan;
//! - every step carries a precondition captured at plan time and re-checked just before it runs.

mod apply;
mod home;
mod journal;
mod place;
mod plan;
mod undo;

use crate::names::named_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::diagnose::{FindingCode, Verdict};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::store::RelPath;

#[cfg(feature = "fixture")]
pub use apply::apply_crashing_after;
pub use apply::{
    ApplyOptions, ApplyReport, StepOutcome, StepReport, apply, apply_with_progress, state_dir,
};
pub(crate) use apply::{check_ops, named_backup_root, run_on};
pub use home::HomeIdentity;
pub(crate) use journal::Backup;
pub use place::{LocalPlace, Place};
pub use plan::{PlanOptions, plan, plan_site};
pub(crate) use undo::undo_on;
pub use undo::{UndoReport, undo};

/// Version of the plan and journal JSON. 2: preconditions carry a documented folder digest
/// ([`Precondition::digest`]), a plan names its home by canonical path and [`HomeIdentity`], the journal
/// is append-only (`journal.jsonl`), `create` ops, and `remove-orphaned-temp` is gone (temp records are
/// healed in place), and (added before any release, so without a bump) [`Op::RestartKudu`]'s `stalled`
/// guards. A schema-1 plan is refused: plan again.
pub const PLAN_SCHEMA: u32 = 2;

named_enum! {
    /// What a step does.
    pub enum Action {
        /// Touch nothing; wait (until a time, when one is known).
        Wait => "wait",
        /// Do to an orphaned incomplete record (a `temp-` one too) exactly what Kudu's own self-heal does: log
        /// the error entry, mark it failed. Never a move: a temp record's log may be the only copy of the
        /// error that stopped the deployment.
        FailOrphanedRecord => "fail-orphaned-record",
        /// Move away KuduLite's expired lock directory (Kudu deletes it at its next check anyway).
        RemoveExpiredLock => "remove-expired-lock",
        /// Move away a Linux lock directory whose `info.lock` Kudu cannot parse.
        RemoveCorruptLock => "remove-corrupt-lock",
        /// Move away a *live* Linux lock whose deployment has stalled (only with `allow_live_lock`).
        RemoveStalledLock => "remove-stalled-lock",
        /// Move away a deployment folder that has no `status.xml`.
        RemoveFolderWithoutStatus => "remove-folder-without-status",
        /// Rewrite a `status.xml` Kudu would reject (and delete the folder for) as a complete, valid record.
        RepairStatusXml => "repair-status-xml",
        /// Rewrite `active` as the exact id Kudu expects.
        RepairActive => "repair-active",
        /// Restart the SCM (Kudu) site. Advice (no ops) unless the plan was made over Kudu's API for a
        /// Windows lock proven held by a stalled deployment and with `allow_scm_restart`: then one
        /// [`Op::RestartKudu`] ends Kudu's process on the holder's instance.
        RestartScm => "restart-scm",
    }
}

named_enum! {
    /// How much a step can hurt if the diagnosis behind it were wrong.
    #[derive(PartialOrd, Ord)]
    pub enum Risk {
        /// Touches nothing.
        None => "none",
        /// Does what Kudu itself would do next.
        Low => "low",
        /// Changes what Kudu reads, reversibly.
        Medium => "medium",
        /// Can let two deployments run at once.
        High => "high",
    }
}

named_enum! {
    /// What a step's target was when the plan was made.
    pub enum TargetKind {
        /// Nothing there.
        Absent => "absent",
        /// A regular file.
        File => "file",
        /// A folder.
        Dir => "dir",
        /// A link, FIFO, device or socket (never acted on).
        Other => "other",
    }
}

impl TargetKind {
    /// The kind of what `meta` describes (`None`: nothing there).
    #[must_use]
    pub fn of(meta: Option<&crate::store::Meta>) -> TargetKind {
        match meta.map(|m| &m.kind) {
            None => TargetKind::Absent,
            Some(crate::store::EntryKind::File) => TargetKind::File,
            Some(crate::store::EntryKind::Dir) => TargetKind::Dir,
            Some(_) => TargetKind::Other,
        }
    }
}

/// The state of a step's target when the plan was made; apply refuses the step if it differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precondition {
    /// What was there.
    pub kind: TargetKind,
    /// Size in bytes (0 for folders).
    pub size: u64,
    /// Last write time, for the reader (a folder's digest covers its contents' times).
    pub mtime: Option<DateTime<Utc>>,
    /// `fnv1a64:<16 hex>`: FNV-1a (64 bit) of a file's bytes, or of a folder's entries as
    /// `<path>\t<kind>\t<size>\t<mtime ns>\n` lines sorted by path (see the README's plan format); `None`
    /// for anything else. Stable across versions: a stored plan is checked by the same rule.
    pub digest: Option<String>,
    /// The site's ETag of the file read (a plan made over Kudu's API): apply refuses the step when
    /// the file was written since, even with the same bytes. A folder has none: its digest already
    /// covers each file's exact last-write time, which is what Kudu's ETag encodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// One primitive change. A step is a short list of these, fixed at plan time so the plan says exactly
/// what will be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum Op {
    /// Move the path into the backup folder.
    Move {
        /// What to move.
        path: RelPath,
    },
    /// Replace (or create) a file atomically with this text; the original is kept in the backup.
    Write {
        /// The file.
        path: RelPath,
        /// Its new content.
        content: String,
        /// The digest (as in [`Precondition::digest`]) of the content it replaces, when the step's
        /// precondition does not cover the file (`latest.json`, a legacy `log.xml`); apply refuses the step
        /// (`PRECONDITION_FAILED`) if the file holds anything else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect: Option<String>,
    },
    /// Create a file that does not exist (a log Kudu would create with its first entry); refused if
    /// something is there by then. Undo moves it into the backup.
    Create {
        /// The file.
        path: RelPath,
        /// Its content.
        content: String,
    },
    /// Append this text to a file (a log line).
    Append {
        /// The file.
        path: RelPath,
        /// What to append.
        text: String,
    },
    /// Set `active`'s mtime to the plan time (Kudu does this on every status write; it invalidates the
    /// `/api/deployments` cache), creating it empty if missing, as Kudu does.
    TouchActive,
    /// End Kudu's process on one instance (`DELETE /api/processes/0` pinned to it), which closes the
    /// deployment lock it holds open; the app keeps running, a build running there is ended too.
    /// Kudu restarts with the next request. Only over Kudu's API, only on Windows, and cannot be
    /// undone: apply proves again, just before, that Kudu there still holds `lock` and that the
    /// stalled deployment has not moved since the plan.
    RestartKudu {
        /// The instance (its `ARRAffinity` name) whose Kudu holds the lock.
        instance: String,
        /// The lock file it holds (`site/locks/deployments.lock`).
        lock: RelPath,
        /// The stalled deployments' record folders as they were planned. A plan can be approved
        /// hours after it was made: a status or log write since means the deployment resumed, and
        /// Kudu is not ended. Empty for a lock held with no record in progress (then the lock's own
        /// ETag, the same acquisition, is the guard).
        stalled: Vec<Guard>,
    },
}

/// A path an op only reads, which must still be as it was planned for the op to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    /// The path.
    pub path: RelPath,
    /// Its state at plan time, compared as a step's own precondition is.
    pub precondition: Precondition,
}

impl Op {
    /// The path the op changes (`None` for [`Op::TouchActive`], which always means `active`).
    #[must_use]
    pub fn path(&self) -> Option<&RelPath> {
        match self {
            Op::Move { path }
            | Op::Write { path, .. }
            | Op::Create { path, .. }
            | Op::Append { path, .. } => Some(path),
            Op::TouchActive | Op::RestartKudu { .. } => None,
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it does.
    pub action: Action,
    /// The main path it acts on, relative to the home.
    pub target: Option<RelPath>,
    /// The finding it answers.
    pub finding: FindingCode,
    /// How much it can hurt.
    pub risk: Risk,
    /// One line for a person: why, and what it costs.
    pub reason: String,
    /// The target's state at plan time.
    pub precondition: Option<Precondition>,
    /// For `wait`: until when, if known.
    pub until: Option<DateTime<Utc>>,
    /// The changes, in order (empty for advisory steps).
    pub ops: Vec<Op>,
}

impl Step {
    /// True for a step that changes nothing: `wait`, and `restart-scm` as advice.
    #[must_use]
    pub fn is_advisory(&self) -> bool {
        self.ops.is_empty()
    }

    /// The id `active` names once this step has run, when it rewrites `active` (`Some(None)`: it
    /// then names none). The planner judges each later step against it, so that a folder `active`
    /// named before an earlier step repointed it can be moved in the same plan; apply checks the same
    /// before it starts, and each move again against `active` on the disk just before it runs.
    #[must_use]
    pub fn active_after(&self) -> Option<Option<String>> {
        self.ops.iter().rev().find_map(|op| match op {
            Op::Write { path, content, .. } if path.as_str() == "site/deployments/active" => Some(
                crate::deployments::ActiveValue::parse(content.as_bytes())
                    .named_id()
                    .map(str::to_owned),
            ),
            _ => None,
        })
    }
}

/// Where a remote plan applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSite {
    /// The SCM site's URL (`https://<app>.scm.azurewebsites.net`).
    pub url: String,
    /// The instance the plan was made on, when pinned (`--instance`).
    pub instance: Option<String>,
}

/// An ordered list of steps for one home, made at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA`].
    pub schema: u32,
    /// The home it was made for: its canonical absolute path, resolved once when planning.
    pub home: std::path::PathBuf,
    /// What identifies that folder beyond its path; apply and undo refuse (`HOME_MISMATCH`) a folder at
    /// the same path that is not it.
    pub home_identity: HomeIdentity,
    /// The site, for a plan made over Kudu's REST API (`home` is then its URL); absent for a home on a
    /// disk. A plan applies only where it was made: a local plan is refused on a site and the reverse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<PlanSite>,
    /// The platform the home was read as.
    pub platform: Platform,
    /// When it was made (every time written by a step is this time).
    pub created: DateTime<Utc>,
    /// The verdict it starts from.
    pub verdict: Verdict,
    /// The steps, least disruptive first.
    pub steps: Vec<Step>,
    /// What was deliberately not planned, and why.
    pub notes: Vec<String>,
}

impl Plan {
    /// True when there is nothing to do or wait for.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// True when some step changes files.
    #[must_use]
    pub fn changes_files(&self) -> bool {
        self.steps.iter().any(|s| !s.ops.is_empty())
    }

    /// A digest identifying this plan's steps and time (not its home, so a copy of a home with its
    /// backups resumes the same way); an interrupted apply of it is resumed, not restarted.
    #[must_use]
    pub fn id(&self) -> String {
        let key = serde_json::json!([self.schema, self.platform, self.created, self.steps]);
        crate::store::local::digest(key.to_string().as_bytes())
    }

    /// Parses a plan written by `kudu-state plan --json`.
    ///
    /// # Errors
    /// `INVALID_INPUT` when it is not such a plan.
    pub fn from_json(text: &str) -> Result<Plan> {
        // The schema first: a plan of another version says so, rather than which field it lacks.
        #[derive(Deserialize)]
        struct Versioned {
            schema: u32,
        }
        let again = "plan again with this version of kudu-state";
        if let Ok(Versioned { schema }) = serde_json::from_str(text)
            && schema != PLAN_SCHEMA
        {
            return Err(Error::invalid(
                "plan",
                format!("schema {schema} is not {PLAN_SCHEMA}: {again}"),
            ));
        }
        serde_json::from_str(text).map_err(|e| {
            Error::invalid(
                "plan",
                format!("{e} (a plan written by `kudu-state plan --json`? if by another version, {again})"),
            )
        })
    }
}

/// Refuses any change outside the allowlist. Called for every op at plan time and again at apply time
/// (a plan file can be edited by hand).
///
/// Allowed: moving `site/locks/deployment` and record folders other than the active one; writing
/// `site/deployments/active`, a record's `status.xml` / `status_complete.xml` / legacy `log.xml`, and
/// (Windows Kudu's self-heal rewrites it) `site/deployments/latest.json`; creating or appending to a
/// record's `log.log`.
///
/// # Errors
/// `PROTECTED_PATH` naming the path and the reason.
pub fn check_op(op: &Op, home: &std::path::Path, active: Option<&str>) -> Result<()> {
    let refuse = |path: &RelPath, reason: &str| {
        Err(Error::Protected {
            path: path.under(home),
            reason: reason.to_owned(),
        })
    };
    let parts = |p: &RelPath| p.as_str().split('/').map(str::to_owned).collect::<Vec<_>>();
    let record_folder = |id: &str| !crate::deployments::read::ROOT_NAMES.contains(&id);
    let is_active = |id: &str| active.is_some_and(|a| a.eq_ignore_ascii_case(id));
    let record_file = |path: &RelPath, names: &[&str]| match parts(path).as_slice() {
        [s, d, id, f] => {
            s == "site" && d == "deployments" && record_folder(id) && names.contains(&f.as_str())
        }
        _ => false,
    };
    match op {
        Op::TouchActive => Ok(()),
        Op::RestartKudu { lock, .. } => {
            if lock.as_str() == "site/locks/deployments.lock" {
                Ok(())
            } else {
                refuse(
                    lock,
                    "Kudu is restarted only to release the Windows deployments.lock it holds",
                )
            }
        }
        Op::Move { path } => match parts(path).as_slice() {
            [s, l, d] if s == "site" && l == "locks" && d == "deployment" => Ok(()),
            [s, d, id] if s == "site" && d == "deployments" && record_folder(id) => {
                if is_active(id) {
                    refuse(
                        path,
                        "the active deployment's folder holds the manifest the next deployment needs",
                    )
                } else {
                    Ok(())
                }
            }
            _ => refuse(
                path,
                "kudu-state only moves the Linux lock directory and inactive record folders",
            ),
        },
        Op::Write { path, .. } => match parts(path).as_slice() {
            [s, d, f]
                if s == "site" && d == "deployments" && (f == "active" || f == "latest.json") =>
            {
                Ok(())
            }
            _ if record_file(path, &["status.xml", "status_complete.xml", "log.xml"]) => Ok(()),
            _ => refuse(
                path,
                "kudu-state only rewrites `active`, `latest.json` and a record's status files and legacy log.xml",
            ),
        },
        Op::Create { path, .. } | Op::Append { path, .. } => {
            if record_file(path, &["log.log"]) {
                Ok(())
            } else {
                refuse(
                    path,
                    "kudu-state only creates or appends to a record's log.log",
                )
            }
        }
    }
}
