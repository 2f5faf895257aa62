//! [`plan`]: from a diagnosis to an ordered list of the least disruptive steps that fix it.
//!
//! A step that cannot be made (a file that cannot be read to capture its precondition, a legacy log that
//! cannot be re-saved faithfully) never sinks the plan: it is left out, with a note that says why, and
//! the rest is planned.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::home::{self, HomeIdentity};
use super::{
    Action, Guard, Op, PLAN_SCHEMA, Plan, PlanSite, Precondition, Risk, Step, TargetKind, check_op,
};
use crate::deployments::{ActiveValue, DeploymentsDir};
use crate::diagnose::{Diagnosis, Finding, FindingCode, Severity, Verdict};
use crate::dotnet_time::format_xs;
use crate::error::{Error, Result};
use crate::log::log_xml::{self, LogXmlEntry};
use crate::log::{LogEntryType, entry_line};
use crate::platform::Platform;
use crate::record::{DeploymentRecord, IdKind, NextRead};
use crate::snapshot::Snapshot;
use crate::status_xml::{self, DeployStatus, StatusDoc, StatusXml};
use crate::store::local::{REWRITE_CAP, digest};
use crate::store::{
    Content, EntryKind, LocalStore, RelPath, Store, file_digest, read_whole, read_whole_bytes,
    tree_digest,
};

/// The error entry Kudu appends when it fails an orphaned record (spec §7.2).
pub const UNKNOWN_ERROR_MESSAGE: &str =
    "An unknown error has occurred. Check the diagnostic log for details.";

/// Windows Kudu's deployment lock file.
const WINDOWS_LOCK: &str = "site/locks/deployments.lock";

/// Largest folder (in entries) a plan moves; a record folder has five files.
pub(crate) const MAX_TREE: usize = 10_000;

/// What a plan may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Allow moving away a *live* Linux deployment lock once its deployment has stalled. A concurrent
    /// deployment becomes possible; the plan says so.
    pub allow_live_lock: bool,
    /// Over Kudu's API, on Windows: end Kudu's process on the instance that holds `deployments.lock`
    /// open for a deployment proven stalled (`DELETE /api/processes/0` pinned to it), instead of only
    /// advising it. Ends any build running there; never the app; cannot be undone.
    #[serde(default)]
    pub allow_scm_restart: bool,
}

/// Builds the plan for `diagnosis` of `snapshot`. Reads the files it will touch to capture their
/// preconditions (and, to repair `active`, looks for a `manifest` in records the scan did not list).
///
/// The plan names the home by its canonical path and identity, so that it applies to this home from any
/// working directory, and to no other.
///
/// # Errors
/// `HOME_NOT_FOUND` or `IO_ERROR` when the home itself cannot be resolved; a step that cannot be made
/// is left out with a note instead.
pub fn plan(snapshot: &Snapshot, diagnosis: &Diagnosis, options: PlanOptions) -> Result<Plan> {
    let home = home::canonical(&snapshot.home)?;
    let home_identity = HomeIdentity::of(&home)?;
    let store = LocalStore::new(home.clone());
    build(
        snapshot,
        diagnosis,
        options,
        &store,
        home,
        home_identity,
        None,
    )
}

/// Builds the plan for a site read over Kudu's REST API through `store` (the snapshot's own store):
/// preconditions are read through it, and the plan records the site it applies to.
///
/// # Errors
/// As [`plan`].
pub fn plan_site(
    snapshot: &Snapshot,
    diagnosis: &Diagnosis,
    options: PlanOptions,
    store: &dyn Store,
    site: PlanSite,
) -> Result<Plan> {
    let home = std::path::PathBuf::from(&site.url);
    build(
        snapshot,
        diagnosis,
        options,
        store,
        home,
        HomeIdentity::default(),
        Some(site),
    )
}

/// The plan, with every precondition read through `store`.
fn build(
    snapshot: &Snapshot,
    diagnosis: &Diagnosis,
    options: PlanOptions,
    store: &dyn Store,
    home: std::path::PathBuf,
    home_identity: HomeIdentity,
    site: Option<PlanSite>,
) -> Result<Plan> {
    let mut b = Builder {
        s: snapshot,
        store,
        home,
        now: diagnosis.now,
        steps: Vec::new(),
        notes: Vec::new(),
        planned_active: None,
        site,
    };
    let d = snapshot.deployments.as_ref();

    if diagnosis.verdict == Verdict::Deploying {
        let until = diagnosis.safe_after;
        let f = diagnosis
            .findings
            .iter()
            .find(|f| f.verdict == Verdict::Deploying);
        b.steps.push(Step {
            action: Action::Wait,
            target: None,
            finding: f.map_or(FindingCode::DeploymentInProgress, |f| f.code),
            risk: Risk::None,
            reason: match until {
                Some(t) => format!("a deployment is running or the lock is live; it clears by itself by {} — `kudu-state wait-idle` waits for it. Nothing is touched while a deployment runs", t.to_rfc3339()),
                None => "a deployment is running; wait for it to finish (`kudu-state wait-idle`). Nothing is touched while a deployment runs".to_owned(),
            },
            precondition: None,
            until,
            ops: Vec::new(),
        });
        b.notes.push("while a deployment runs kudu-state only waits: any repair could race Kudu's own writes".to_owned());
        return Ok(b.finish(diagnosis, home_identity));
    }

    // Least disruptive first: rewrites Kudu would accept, then Kudu's own self-heal, then moves, then locks.
    // `active` before the records: their rebuilds touch `active` (creating it when missing), as Kudu's
    // status writes do, so its own repair must come first; it may name a record rebuilt next.
    let rebuilt: Vec<&RelPath> = diagnosis
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.code,
                FindingCode::StatusXmlCorrupt | FindingCode::StatusXmlUnsavable
            )
        })
        .filter_map(|f| d.and_then(|d| f.record(d)).map(|r| &r.path))
        .collect();
    for f in &diagnosis.findings {
        if matches!(
            f.code,
            FindingCode::ActiveMalformed
                | FindingCode::ActiveMissingTarget
                | FindingCode::ActiveEmpty
        ) && f.severity > Severity::Info
            && let Some(d) = d
        {
            b.attempt(Action::RepairActive, &d.path, |b| {
                b.repair_active(d, f, &rebuilt)
            });
        }
    }
    for f in &diagnosis.findings {
        if matches!(
            f.code,
            FindingCode::StatusXmlCorrupt | FindingCode::StatusXmlUnsavable
        ) && let Some(r) = d.and_then(|d| f.record(d))
        {
            b.attempt(Action::RepairStatusXml, &r.path, |b| b.repair_status(r, f));
        }
    }
    let stalled_lock = options.allow_live_lock && lock_is_stalled(diagnosis);
    for f in &diagnosis.findings {
        if matches!(
            f.code,
            FindingCode::DeploymentOrphaned | FindingCode::TempDeploymentOrphaned
        ) && let Some(r) = d.and_then(|d| f.record(d))
        {
            b.attempt(Action::FailOrphanedRecord, &r.path, |b| {
                b.fail_orphaned(r, f)
            });
        }
    }
    for f in &diagnosis.findings {
        match f.code {
            FindingCode::FolderWithoutStatus => {
                if let Some(r) = d.and_then(|d| f.record(d)) {
                    b.attempt(Action::RemoveFolderWithoutStatus, &r.path, |b| {
                        b.move_step(Action::RemoveFolderWithoutStatus, &r.path, f, Risk::Low,
                            "a folder without status.xml is invisible to Kudu and never purged; moved into the backup")
                    });
                }
            }
            FindingCode::LinuxLockExpired => {
                if let Some(dir) = &snapshot.locks.linux_deployment {
                    b.attempt(Action::RemoveExpiredLock, &dir.path, |b| {
                        b.move_step(Action::RemoveExpiredLock, &dir.path, f, Risk::Low,
                            "the lock expired; Kudu deletes the whole lock folder at its next check, this does the same now")
                    });
                }
            }
            FindingCode::LinuxLockCorrupt => {
                if let Some(dir) = &snapshot.locks.linux_deployment {
                    b.attempt(Action::RemoveCorruptLock, &dir.path, |b| {
                        b.move_step(Action::RemoveCorruptLock, &dir.path, f, Risk::Medium,
                            "Kudu cannot parse info.lock: async deployments get 409 'There is a deployment currently in progress' and its API answers 500. Nothing can hold a lock Kudu cannot read, so the lock folder is moved away, as a Kudu restart would delete it")
                    });
                }
            }
            _ => {}
        }
    }
    if stalled_lock
        && let Some(dir) = &snapshot.locks.linux_deployment
        && let Some(f) = diagnosis
            .findings
            .iter()
            .find(|f| f.code == FindingCode::LinuxLockLive)
    {
        b.attempt(Action::RemoveStalledLock, &dir.path, |b| {
            b.move_step(Action::RemoveStalledLock, &dir.path, f, Risk::High,
                "the live lock's deployment has stalled (no activity past the stall window). Moving the lock lets a new deployment start; if the stalled one is in fact still running, the two run at once into the same wwwroot")
        });
        // With the lock gone, the stalled records are orphans: fail them as Kudu would.
        for f in diagnosis
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::DeploymentStalled)
        {
            if let Some(r) = d.and_then(|d| f.record(d)) {
                b.attempt(Action::FailOrphanedRecord, &r.path, |b| {
                    b.fail_orphaned(r, f)
                });
            }
        }
    }

    let stuck_lock = diagnosis.findings.iter().find(|f| {
        f.code == FindingCode::DeploymentStalled
            || (matches!(
                f.code,
                FindingCode::LinuxLockLive | FindingCode::WindowsLockFile
            ) && f.verdict == Verdict::Stuck)
    });
    let restart = stuck_lock
        .filter(|_| !stalled_lock)
        .and_then(|f| b.held_lock_holder().map(|instance| (f, instance)));
    if let Some((f, instance)) = restart.as_ref().filter(|_| options.allow_scm_restart) {
        let stalled: Vec<&DeploymentRecord> = diagnosis
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::DeploymentStalled)
            .filter_map(|f| d.and_then(|d| f.record(d)))
            .collect();
        b.attempt(Action::RestartScm, &RelPath::new(WINDOWS_LOCK)?, |b| {
            b.restart_kudu(f, instance, &stalled)
        });
    } else if let Some(f) = stuck_lock.filter(|_| !stalled_lock) {
        let linux = snapshot.platform() == Platform::Linux;
        let mut reason = if linux {
            "a hung deployment holds the lock. Restart the Kudu (SCM) container: Kudu deletes the lock at start-up and fails the record 180 s later. On Linux that is `az webapp restart` (the app restarts too); or wait for the lock's expiry. Re-run with --allow-live-lock to move the lock instead (a concurrent deployment becomes possible)".to_owned()
        } else {
            "a hung deployment holds deployments.lock open. Restart only the SCM site — kill Kudu's own process (Kudu console: `DELETE /api/processes/0`, the app keeps running); Kudu fails the record at its next read. Deleting the lock file cannot work while it is held".to_owned()
        };
        if restart.is_some() {
            reason.push_str(". Re-run with --allow-scm-restart to have kudu-state do exactly that on the holder's instance");
        }
        b.steps.push(Step {
            action: Action::RestartScm,
            target: None,
            finding: f.code,
            risk: Risk::Medium,
            reason,
            precondition: None,
            until: None,
            ops: Vec::new(),
        });
    }
    if snapshot.platform() == Platform::Windows
        && snapshot.locks.windows_deployment.is_some()
        && stuck_lock.is_none()
    {
        b.notes.push("deployments.lock is left alone: a held one cannot be deleted, and Kudu deletes an unheld one itself".to_owned());
    }
    if options.allow_scm_restart && restart.is_none() {
        b.notes.push(if b.site.is_none() {
            "--allow-scm-restart needs the site (--remote): Kudu is restarted over its API".to_owned()
        } else {
            "--allow-scm-restart: nothing to restart — no deployments.lock proven held (by Kudu's open handles on the instance asked) by a stalled deployment".to_owned()
        });
    }
    if diagnosis.has(FindingCode::SettingsXmlCorrupt) {
        b.notes.push("settings.xml is corrupt and Kudu deletes it at start-up; kudu-state cannot know the settings it held — copy it away and re-apply them through /api/settings".to_owned());
    }
    Ok(b.finish(diagnosis, home_identity))
}

/// A live Linux lock counts as stalled when the diagnosis says the lock's deployment is stuck.
fn lock_is_stalled(d: &Diagnosis) -> bool {
    d.findings
        .iter()
        .any(|f| f.code == FindingCode::LinuxLockLive)
        && d.findings.iter().any(|f| {
            f.code == FindingCode::DeploymentStalled
                || (f.code == FindingCode::LinuxLockLive && f.verdict == Verdict::Stuck)
        })
}

/// The record exactly as Kudu's `VerifyDeployment` saves it after marking it failed (spec §7.2, checked
/// against `DeploymentStatusFile.Save` and `MarkFailed`): a text element Kudu read is written back as
/// `<x>text</x>` (so a `<deployer />` it read as "" becomes `<deployer></deployer>`) and an absent one
/// as `<x />`; `status` Failed, `complete` True, `statusText` and `progress` emptied, `endTime` now; on
/// Windows `project_type` and `vsproject_id` come from a null analytics object and are written empty.
///
/// One deliberate difference: Kudu cannot save a record without `<author>` or `<message>` (its sanitiser
/// throws on null, so its own self-heal fails on every listing and the record stays incomplete forever).
/// kudu-state writes the missing element empty, `<author></author>`, which is what Kudu writes for an
/// empty value; the step's reason says so.
pub(crate) fn failed_as_kudu_saves(
    doc: &StatusDoc,
    platform: Platform,
    now: DateTime<Utc>,
) -> StatusXml {
    let mut x = doc.to_status_xml();
    let absent = |name: &str| x.missing.iter().any(|m| m == name);
    let as_read =
        |value: Option<String>, absent: bool| (!absent).then(|| value.unwrap_or_default());
    x.deployer = as_read(x.deployer.take(), absent("deployer"));
    x.author_email = as_read(x.author_email.take(), absent("authorEmail"));
    x.author = Some(x.author.take().unwrap_or_default());
    x.message = Some(x.message.take().unwrap_or_default());
    x.status = DeployStatus::Failed;
    x.complete = true;
    x.status_text = Some(String::new());
    x.progress = Some(String::new());
    x.end_time = Some(now);
    if platform == Platform::Windows {
        x.project_type = Some(String::new());
        x.vsproject_id = Some(String::new());
    }
    x.missing.clear();
    x.status_unrecognised = None;
    x
}

struct Builder<'a> {
    s: &'a Snapshot,
    /// The canonical home (or the site's URL), as the plan names it.
    home: std::path::PathBuf,
    /// Where every precondition is read.
    store: &'a dyn Store,
    /// The site, for a plan made over Kudu's REST API.
    site: Option<PlanSite>,
    now: DateTime<Utc>,
    steps: Vec<Step>,
    notes: Vec<String>,
    /// What `active` will name once the steps so far have run, when one of them rewrites it.
    planned_active: Option<Option<String>>,
}

impl Builder<'_> {
    fn finish(self, d: &Diagnosis, home_identity: HomeIdentity) -> Plan {
        Plan {
            schema: PLAN_SCHEMA,
            home: self.home,
            home_identity,
            site: self.site,
            platform: self.s.platform(),
            created: self.now,
            verdict: d.verdict,
            steps: self.steps,
            notes: self.notes,
        }
    }

    /// Runs one step's builder; a step that cannot be made is left out with a note saying why.
    fn attempt(
        &mut self,
        action: Action,
        target: &RelPath,
        build: impl FnOnce(&mut Self) -> Result<()>,
    ) {
        if let Err(e) = build(self) {
            self.notes.push(format!(
                "left out: {} of `{target}`: {} ({}); the rest of the plan does not depend on it",
                action.as_str(),
                crate::error::error_chain(&e),
                e.code()
            ));
        }
    }

    /// The `active` id the next step will see: after an earlier step's rewrite, the new one.
    fn active_id(&self) -> Option<&str> {
        match &self.planned_active {
            Some(planned) => planned.as_deref(),
            None => self
                .s
                .deployments
                .as_ref()
                .and_then(DeploymentsDir::named_active),
        }
    }

    fn is_active(&self, id: &str) -> bool {
        self.active_id().is_some_and(|a| a.eq_ignore_ascii_case(id))
    }

    /// The instance whose Kudu is proven to hold the Windows lock open, for a plan made over Kudu's
    /// API of a Windows site (the proof is Kudu's open handles on the instance that answered).
    fn held_lock_holder(&self) -> Option<String> {
        if self.site.is_none() || self.s.platform() != Platform::Windows {
            return None;
        }
        let proof = self.s.locks.windows_deployment.as_ref()?.held.as_ref()?;
        // A restart is pinned by the instance's name: without one it could reach another instance.
        (proof.held && proof.instance != "?").then(|| proof.instance.clone())
    }

    /// The executable `restart-scm`: end Kudu's process on `instance`, guarded by the lock file as it
    /// is now (a new acquisition changes its content and ETag), re-proven held just before, and by
    /// the `stalled` records' folders as they are now (a deployment that resumed writes to them).
    fn restart_kudu(
        &mut self,
        f: &Finding,
        instance: &str,
        stalled: &[&DeploymentRecord],
    ) -> Result<()> {
        let lock = RelPath::new(WINDOWS_LOCK)?;
        let stalled = stalled
            .iter()
            .map(|r| {
                Ok(Guard {
                    path: r.path.clone(),
                    precondition: self.precondition(&r.path)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let step = Step {
            action: Action::RestartScm,
            target: Some(lock.clone()),
            finding: f.code,
            risk: Risk::High,
            reason: format!(
                "Kudu on instance {instance} holds deployments.lock open for a deployment that has stalled. End Kudu's process on that instance only (DELETE /api/processes/0 pinned to it): its handle closes, Kudu restarts with the next request and deletes the stale lock; the app keeps running, a build running there ends too. Cannot be undone; re-checked just before (the lock unchanged and still held there, the stalled deployment's record unchanged)"
            ),
            precondition: Some(self.precondition(&lock)?),
            until: None,
            ops: vec![Op::RestartKudu {
                instance: instance.to_owned(),
                lock,
                stalled,
            }],
        };
        self.push(step)
    }

    fn has_step_for(&self, path: &RelPath) -> bool {
        self.steps.iter().any(|s| s.target.as_ref() == Some(path))
    }

    fn precondition(&self, path: &RelPath) -> Result<Precondition> {
        let meta = self.store.meta(path)?;
        let kind = TargetKind::of(meta.as_ref());
        let (digest, etag) = match kind {
            TargetKind::Dir => (Some(tree_digest(self.store, path, MAX_TREE)?), None),
            TargetKind::File => {
                let bytes = read_whole_bytes(self.store, path, REWRITE_CAP)?;
                (Some(digest(&bytes.data)), bytes.etag)
            }
            TargetKind::Absent | TargetKind::Other => (None, None),
        };
        Ok(Precondition {
            kind,
            size: meta.as_ref().map_or(0, |m| m.size),
            mtime: meta.and_then(|m| m.modified),
            digest,
            etag,
        })
    }

    fn push(&mut self, step: Step) -> Result<()> {
        for op in &step.ops {
            check_op(op, &self.home, self.active_id())?;
        }
        if let Some(named) = step.active_after() {
            self.planned_active = Some(named);
        }
        self.steps.push(step);
        Ok(())
    }

    fn move_step(
        &mut self,
        action: Action,
        path: &RelPath,
        f: &Finding,
        risk: Risk,
        reason: &str,
    ) -> Result<()> {
        if self.has_step_for(path) {
            return Ok(());
        }
        // Not the folder `active` names when this step runs (an earlier step may have repointed
        // it); apply checks each step against the same.
        if let Some(id) = path.as_str().strip_prefix("site/deployments/")
            && self.is_active(id)
        {
            self.notes.push(format!(
                "`{path}` is the active deployment's folder and is never moved"
            ));
            return Ok(());
        }
        let step = Step {
            action,
            target: Some(path.clone()),
            finding: f.code,
            risk,
            reason: reason.to_owned(),
            precondition: Some(self.precondition(path)?),
            until: None,
            ops: vec![Op::Move { path: path.clone() }],
        };
        self.push(step)
    }

    /// Writes of `status.xml` (and, on Windows, the `status_complete.xml` copy Kudu's save makes of a
    /// complete record) with `doc` in Kudu's bytes.
    fn status_ops(&self, r: &DeploymentRecord, doc: &StatusXml) -> Vec<Op> {
        let bytes = status_xml::write(doc, self.s.platform());
        let content = String::from_utf8_lossy(&bytes).into_owned();
        let mut ops = vec![Op::Write {
            path: r.status_path(crate::record::StatusName::Status),
            content: content.clone(),
            expect: None,
        }];
        if self.s.platform() == Platform::Windows && doc.complete {
            ops.push(Op::Write {
                path: r.status_path(crate::record::StatusName::StatusComplete),
                content,
                expect: None,
            });
        }
        ops
    }

    /// Kudu's self-heal of an incomplete record nothing runs: its error entry in the record's log, the
    /// record saved Failed, `active` touched, and on Windows `latest.json` rewritten. A temp record is
    /// healed the same way, in place: after a failed fetch or unzip its log is the only copy of the error.
    fn fail_orphaned(&mut self, r: &DeploymentRecord, f: &Finding) -> Result<()> {
        let platform = self.s.platform();
        let Some(doc) = r.effective(platform) else {
            return Ok(());
        };
        if self.has_step_for(&r.path) {
            return Ok(());
        }
        let failed = failed_as_kudu_saves(doc, platform, self.now);
        let mut ops = vec![self.log_entry_op(r)?];
        ops.extend(self.status_ops(r, &failed));
        ops.push(Op::TouchActive);
        if platform == Platform::Windows {
            ops.push(self.latest_json_op(&failed)?);
        }
        let unsavable: Vec<&str> = ["author", "message"]
            .into_iter()
            .filter(|m| doc.missing().iter().any(|x| x == m))
            .collect();
        let mut reason = format!(
            "nothing is running '{}'; mark it Failed with the error entry Kudu itself writes, in place, so trackers polling /api/deployments/latest stop waiting",
            r.id()
        );
        if !unsavable.is_empty() {
            reason.push_str(&format!(
                ". Kudu's own self-heal throws on this record (no <{}>); kudu-state writes the element empty, as Kudu writes an empty value",
                unsavable.join("> or <")
            ));
        }
        let step = Step {
            action: Action::FailOrphanedRecord,
            target: Some(r.path.clone()),
            finding: f.code,
            risk: Risk::Low,
            reason,
            precondition: Some(self.precondition(&r.path)?),
            until: None,
            ops,
        };
        self.push(step)
    }

    /// The error entry, where Kudu's `GetLogger` puts it: a legacy `log.xml` when the record has one,
    /// else `log.log` (created when missing, as Kudu's logger creates it with its first entry).
    fn log_entry_op(&self, r: &DeploymentRecord) -> Result<Op> {
        let platform = self.s.platform();
        let guid = entry_guid(r.id(), self.now);
        if r.folder.as_ref().is_some_and(|f| f.log_xml) {
            let path = r.path.child("log.xml");
            let bytes = self.store.read_head(&path, REWRITE_CAP)?;
            if bytes.is_partial() {
                return Err(Error::invalid(
                    "argument",
                    format!("`{path}` is larger than {REWRITE_CAP} bytes; not rewritten"),
                ));
            }
            let entry = LogXmlEntry {
                time: format_xs(self.now),
                id: guid,
                kind: 2,
                message: UNKNOWN_ERROR_MESSAGE.to_owned(),
            };
            let content = log_xml::append_entry(&bytes.data, &entry, platform).map_err(|why| {
                Error::invalid(
                    "argument",
                    format!("`{path}` cannot be re-saved as Kudu would: {why}"),
                )
            })?;
            return Ok(Op::Write {
                path,
                content: String::from_utf8_lossy(&content).into_owned(),
                expect: Some(digest(&bytes.data)),
            });
        }
        let path = r.path.child("log.log");
        let nl = platform.newline();
        let line = entry_line(
            0,
            self.now,
            UNKNOWN_ERROR_MESSAGE,
            &guid,
            LogEntryType::Error,
            nl,
        );
        Ok(match r.log() {
            Some(_) => {
                let needs_nl = self
                    .store
                    .read_tail(&path, 1)
                    .is_ok_and(|b| b.meta.size > 0 && b.data.last() != Some(&b'\n'));
                Op::Append {
                    path,
                    text: if needs_nl {
                        format!("{nl}{line}")
                    } else {
                        line
                    },
                }
            }
            None => Op::Create {
                path,
                content: line,
            },
        })
    }

    /// Windows Kudu's `latest.json` after the save, guarded by the digest of the one it replaces (an
    /// earlier step of this plan may have rewritten it already).
    fn latest_json_op(&self, failed: &StatusXml) -> Result<Op> {
        let path = RelPath::new("site/deployments/latest.json")?;
        let planned = self
            .steps
            .iter()
            .rev()
            .flat_map(|s| s.ops.iter().rev())
            .find_map(|op| match op {
                Op::Write {
                    path: p, content, ..
                } if *p == path => Some(content.clone()),
                _ => None,
            });
        let current = match planned {
            Some(c) => Some(c.into_bytes()),
            None => match file_digest(self.store, &path)? {
                Some(_) => Some(read_whole(self.store, &path, REWRITE_CAP)?),
                None => None,
            },
        };
        let site = current
            .as_deref()
            .and_then(crate::deployments::latest_json::site_name);
        Ok(Op::Write {
            content: crate::deployments::latest_json::render(failed, site.as_deref(), self.now),
            expect: current.as_deref().map(digest),
            path,
        })
    }

    /// True when the record has a `manifest` (a settled record's folder is not listed by the scan, so
    /// it is looked up here, for the few records a repair of `active` considers).
    fn has_manifest(&self, r: &DeploymentRecord) -> bool {
        if let Some(folder) = &r.folder {
            return folder.manifest;
        }
        self.store
            .meta(&r.path.child("manifest"))
            .is_ok_and(|m| m.is_some_and(|m| m.kind == EntryKind::File))
    }

    fn repair_status(&mut self, r: &DeploymentRecord, f: &Finding) -> Result<()> {
        let is_active = self.is_active(r.id());
        let doc = match (&r.next_read, r.status.as_ref().map(|s| &s.content)) {
            (NextRead::KeepUnsavable { .. }, Some(Content::Parsed { value })) => {
                let mut d = value.to_status_xml();
                d.author.get_or_insert_with(String::new);
                d.message.get_or_insert_with(String::new);
                d.missing.clear();
                d
            }
            (NextRead::DeleteFolder { reason }, _) => {
                self.rebuilt_status(r, is_active, &reason.clone())
            }
            _ => return Ok(()),
        };
        let mut ops = self.status_ops(r, &doc);
        ops.push(Op::TouchActive);
        let step = Step {
            action: Action::RepairStatusXml,
            target: Some(r.path.clone()),
            finding: f.code,
            risk: Risk::Medium,
            reason: if is_active {
                format!(
                    "rewrite the ACTIVE record '{}' as a complete Success record so Kudu keeps its folder, log and manifest",
                    r.id()
                )
            } else {
                format!(
                    "rewrite '{}' as a complete Failed record so Kudu keeps its folder and log instead of deleting it on its next read",
                    r.id()
                )
            },
            precondition: Some(self.precondition(&r.path)?),
            until: None,
            ops,
        };
        self.push(step)
    }

    /// A complete record for a folder whose status.xml Kudu rejects. Times come from the files.
    fn rebuilt_status(&self, r: &DeploymentRecord, is_active: bool, reason: &str) -> StatusXml {
        let when = r
            .status
            .as_ref()
            .and_then(|s| s.meta.modified)
            .or(r.folder.as_ref().and_then(|f| f.meta.as_ref()?.modified))
            .unwrap_or(self.now);
        let when = crate::dotnet_time::truncate_to_tick(when);
        StatusXml {
            id: r.id().to_owned(),
            author: Some("N/A".to_owned()),
            deployer: Some("kudu-state".to_owned()),
            author_email: Some("N/A".to_owned()),
            message: Some(format!(
                "Record rebuilt by kudu-state: status.xml was unreadable ({reason})"
            )),
            progress: Some(String::new()),
            status: if is_active {
                DeployStatus::Success
            } else {
                DeployStatus::Failed
            },
            status_text: Some(String::new()),
            last_success_end_time: is_active.then_some(when),
            received_time: when,
            start_time: when,
            end_time: Some(when),
            complete: true,
            is_temp: r.id_kind == IdKind::Temp,
            is_readonly: false,
            project_type: None,
            vsproject_id: None,
            missing: Vec::new(),
            status_unrecognised: None,
        }
    }

    /// Repoints `active` at the record it means, else at the newest success with a manifest.
    /// `rebuilt`: the records whose status.xml this plan rebuilds next (one `active` names is then
    /// usable: it is rebuilt as the active, successful record).
    fn repair_active(
        &mut self,
        d: &DeploymentsDir,
        f: &Finding,
        rebuilt: &[&RelPath],
    ) -> Result<()> {
        let platform = self.s.platform();
        let usable = |r: &&DeploymentRecord| {
            r.status
                .as_ref()
                .is_some_and(|s| s.content.value().is_some())
                || rebuilt.contains(&&r.path)
        };
        let exact = |id: &str| {
            d.records
                .iter()
                .filter(usable)
                .find(|r| r.id() == id || r.id().eq_ignore_ascii_case(id))
        };
        let current = d.active.as_ref().and_then(|a| a.content.value());
        let named = match current {
            Some(ActiveValue::Malformed {
                trimmed: Some(t), ..
            }) => exact(t),
            Some(ActiveValue::Id { id }) => exact(id),
            _ => None,
        };
        let newest_success = || {
            let mut successes: Vec<_> = d
                .records
                .iter()
                .filter(|r| !matches!(r.next_read, NextRead::DeleteFolder { .. }))
                .filter_map(|r| r.effective(platform).map(|s| (r, s)))
                .filter(|(_, s)| s.status == DeployStatus::Success && s.complete)
                .collect();
            // Newest first; of equally new ones the last in name order, as a `max_by_key` over the
            // records would pick.
            successes.sort_by_key(|(r, s)| {
                std::cmp::Reverse((s.last_success_end_time.or(s.end_time), r.id()))
            });
            successes
                .into_iter()
                .map(|(r, _)| r)
                .find(|r| self.has_manifest(r))
        };
        let Some(target) = named.or_else(newest_success) else {
            self.notes.push("active is not fixed: no successful record with a manifest exists to point it at; the next successful deployment rewrites it".to_owned());
            return Ok(());
        };
        // The folder `active` names now, when it has no status.xml: once `active` points elsewhere it is
        // an invisible folder like any other (spec S11, S12), moved in the same plan.
        let left_behind = d
            .named_active()
            .and_then(|id| d.records.iter().find(|r| r.id() == id))
            .filter(|r| r.next_read == NextRead::Invisible && r.id() != target.id());
        let path = d.path.join("active")?;
        let step = Step {
            action: Action::RepairActive,
            target: Some(path.clone()),
            finding: f.code,
            risk: Risk::Medium,
            reason: format!(
                "write '{}' (exactly, no newline) to active, so Kudu protects the live deployment and the next deployment gets its manifest",
                target.id()
            ),
            precondition: Some(self.precondition(&path)?),
            until: None,
            ops: vec![Op::Write {
                path,
                content: target.id().to_owned(),
                expect: None,
            }],
        };
        self.push(step)?;
        if let Some(r) = left_behind {
            self.attempt(Action::RemoveFolderWithoutStatus, &r.path, |b| {
                b.move_step(Action::RemoveFolderWithoutStatus, &r.path, f, Risk::Low,
                    "the folder active named has no status.xml; with active repaired it is invisible to Kudu and never purged; moved into the backup")
            });
        }
        Ok(())
    }
}

/// A dashed GUID for a log entry, derived from the record and the time so the plan is reproducible.
fn entry_guid(id: &str, now: DateTime<Utc>) -> String {
    let h = digest(format!("{id}|{}", crate::dotnet_time::format_round_trip(now)).as_bytes());
    let hex: String = h
        .trim_start_matches("fnv1a64:")
        .chars()
        .chain(digest(id.as_bytes()).trim_start_matches("fnv1a64:").chars())
        .collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
