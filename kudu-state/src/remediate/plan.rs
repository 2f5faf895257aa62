//! [`plan`]: from a diagnosis to an ordered list of the least disruptive steps that fix it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, Op, PLAN_SCHEMA, Plan, Precondition, Risk, Step, check_op};
use crate::deployments::{ActiveValue, DeploymentsDir};
use crate::diagnose::{Diagnosis, Finding, FindingCode, Verdict};
use crate::dotnet_time::format_round_trip;
use crate::error::Result;
use crate::fs::{digest, lstat_opt, read_capped, tree_digest};
use crate::lock::Content;
use crate::platform::Platform;
use crate::record::{DeploymentRecord, IdKind, NextRead};
use crate::snapshot::Snapshot;
use crate::status_xml::{self, DeployStatus, StatusXml};
use crate::store::{EntryKind, RelPath};

/// The error entry Kudu appends when it fails an orphaned record (spec §7.2).
pub const UNKNOWN_ERROR_MESSAGE: &str =
    "An unknown error has occurred. Check the diagnostic log for details.";

/// Largest folder (in entries) a plan moves; a record folder has five files.
const MAX_TREE: usize = 10_000;

/// What a plan may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Allow moving away a *live* Linux deployment lock once its deployment has stalled. A concurrent
    /// deployment becomes possible; the plan says so.
    pub allow_live_lock: bool,
}

/// Builds the plan for `diagnosis` of `snapshot`. Reads the files it will touch to capture their
/// preconditions (and, to repair `active`, looks for a `manifest` in records the scan did not list).
///
/// # Errors
/// `IO_ERROR` when a target cannot be read to capture its precondition.
pub fn plan(snapshot: &Snapshot, diagnosis: &Diagnosis, options: PlanOptions) -> Result<Plan> {
    let mut b = Builder {
        s: snapshot,
        now: diagnosis.now,
        steps: Vec::new(),
        notes: Vec::new(),
    };
    let d = snapshot.deployments.as_ref();
    let active = d.and_then(DeploymentsDir::named_active);

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
        return Ok(b.finish(snapshot, diagnosis));
    }

    // Least disruptive first: rewrites Kudu would accept, then Kudu's own self-heal, then moves, then locks.
    for f in &diagnosis.findings {
        match f.code {
            FindingCode::ActiveMalformed
            | FindingCode::ActiveMissingTarget
            | FindingCode::ActiveEmpty
                if f.severity > crate::diagnose::Severity::Info =>
            {
                if let Some(d) = d {
                    b.repair_active(d, f)?;
                }
            }
            FindingCode::StatusXmlCorrupt | FindingCode::StatusXmlUnsavable => {
                if let Some(r) = d.and_then(|d| record_for(d, &f.path)) {
                    b.repair_status(r, f, active)?;
                }
            }
            _ => {}
        }
    }
    let stalled_lock = options.allow_live_lock && lock_is_stalled(diagnosis);
    for f in &diagnosis.findings {
        match f.code {
            FindingCode::DeploymentOrphaned => {
                if let Some(r) = d.and_then(|d| record_for(d, &f.path)) {
                    b.fail_orphaned(r, f)?;
                }
            }
            FindingCode::TempDeploymentOrphaned => {
                if let Some(r) = d.and_then(|d| record_for(d, &f.path)) {
                    b.move_step(Action::RemoveOrphanedTemp, &r.path, f, Risk::Low,
                        "an orphaned temporary record: Kudu fails and later purges it itself; moving it into the backup settles trackers now")?;
                }
            }
            FindingCode::FolderWithoutStatus => {
                if let Some(r) = d.and_then(|d| record_for(d, &f.path)) {
                    b.move_step(Action::RemoveFolderWithoutStatus, &r.path, f, Risk::Low,
                        "a folder without status.xml is invisible to Kudu and never purged; moved into the backup")?;
                }
            }
            FindingCode::LinuxLockExpired => {
                if let Some(dir) = &snapshot.locks.linux_deployment {
                    b.move_step(Action::RemoveExpiredLock, &dir.path, f, Risk::Low,
                        "the lock expired; Kudu deletes the whole lock folder at its next check, this does the same now")?;
                }
            }
            FindingCode::LinuxLockCorrupt => {
                if let Some(dir) = &snapshot.locks.linux_deployment {
                    b.move_step(Action::RemoveCorruptLock, &dir.path, f, Risk::Medium,
                        "Kudu cannot parse info.lock and fails every deployment; nothing is deploying, so the lock folder is moved away, as a Kudu restart would delete it")?;
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
        b.move_step(Action::RemoveStalledLock, &dir.path, f, Risk::High,
            "the live lock's deployment has stalled (no activity past the stall window). Moving the lock lets a new deployment start; if the stalled one is in fact still running, the two run at once into the same wwwroot")?;
        // With the lock gone, the stalled records are orphans: fail them as Kudu would.
        for f in diagnosis
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::DeploymentStalled)
        {
            if let Some(r) = d.and_then(|d| record_for(d, &f.path)) {
                b.fail_orphaned(r, f)?;
            }
        }
    }

    let stuck_lock = diagnosis.findings.iter().find(|f| {
        f.code == FindingCode::DeploymentStalled
            || (f.code == FindingCode::LinuxLockLive && f.verdict == Verdict::Stuck)
    });
    if let Some(f) = stuck_lock.filter(|_| !stalled_lock) {
        let linux = snapshot.platform() == Platform::Linux;
        b.steps.push(Step {
            action: Action::RestartScm,
            target: None,
            finding: f.code,
            risk: Risk::Medium,
            reason: if linux {
                "a hung deployment holds the lock. Restart the Kudu (SCM) container: Kudu deletes the lock at start-up and fails the record 180 s later. On Linux that is `az webapp restart` (the app restarts too); or wait for the lock's expiry. Re-run with --allow-live-lock to move the lock instead (a concurrent deployment becomes possible)".to_owned()
            } else {
                "a hung deployment holds deployments.lock open. Restart only the SCM site — kill Kudu's own process (Kudu console: `DELETE /api/processes/0`, the app keeps running); Kudu fails the record at its next read. Deleting the lock file cannot work while it is held".to_owned()
            },
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
    if diagnosis.has(FindingCode::SettingsXmlCorrupt) {
        b.notes.push("settings.xml is corrupt and Kudu deletes it at start-up; kudu-state cannot know the settings it held — copy it away and re-apply them through /api/settings".to_owned());
    }
    Ok(b.finish(snapshot, diagnosis))
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

fn record_for<'a>(d: &'a DeploymentsDir, finding_path: &str) -> Option<&'a DeploymentRecord> {
    d.records.iter().find(|r| {
        finding_path == r.path.as_str()
            || finding_path
                .strip_prefix(r.path.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

struct Builder<'a> {
    s: &'a Snapshot,
    now: DateTime<Utc>,
    steps: Vec<Step>,
    notes: Vec<String>,
}

impl Builder<'_> {
    fn finish(self, s: &Snapshot, d: &Diagnosis) -> Plan {
        Plan {
            schema: PLAN_SCHEMA,
            home: s.home.clone(),
            platform: s.platform(),
            created: self.now,
            verdict: d.verdict,
            steps: self.steps,
            notes: self.notes,
        }
    }

    fn active_id(&self) -> Option<&str> {
        self.s
            .deployments
            .as_ref()
            .and_then(DeploymentsDir::named_active)
    }

    fn precondition(&self, path: &RelPath) -> Result<Precondition> {
        let full = path.under(&self.s.home);
        Ok(match lstat_opt(&full)? {
            None => Precondition {
                kind: "absent".to_owned(),
                size: 0,
                mtime: None,
                digest: None,
            },
            Some(m) if m.kind == EntryKind::Dir => Precondition {
                kind: "dir".to_owned(),
                size: 0,
                mtime: m.modified,
                digest: Some(tree_digest(&full, MAX_TREE)?),
            },
            Some(m) => Precondition {
                kind: if m.kind == EntryKind::File {
                    "file"
                } else {
                    "other"
                }
                .to_owned(),
                size: m.size,
                mtime: m.modified,
                digest: if m.kind == EntryKind::File {
                    Some(digest(&read_capped(&full, crate::scan::STATUS_XML_CAP)?))
                } else {
                    None
                },
            },
        })
    }

    fn push(&mut self, step: Step) -> Result<()> {
        let active = self.active_id().map(str::to_owned);
        for op in &step.ops {
            check_op(op, &self.s.home, active.as_deref())?;
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
        if self.steps.iter().any(|s| s.target.as_ref() == Some(path)) {
            return Ok(());
        }
        if let Some(id) = path.as_str().strip_prefix("site/deployments/")
            && self.active_id().is_some_and(|a| a.eq_ignore_ascii_case(id))
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

    fn status_ops(&self, r: &DeploymentRecord, doc: &StatusXml) -> Vec<Op> {
        let bytes = status_xml::write(doc, self.s.platform());
        let content = String::from_utf8_lossy(&bytes).into_owned();
        let mut ops = Vec::new();
        let file = |name: &str| r.path.join(name).ok();
        if let Some(p) = file("status.xml") {
            ops.push(Op::Write {
                path: p,
                content: content.clone(),
            });
        }
        // Windows Kudu copies a complete record to status_complete.xml and reads that copy first.
        if self.s.platform() == Platform::Windows
            && let Some(p) = file("status_complete.xml")
        {
            ops.push(Op::Write { path: p, content });
        }
        ops
    }

    fn fail_orphaned(&mut self, r: &DeploymentRecord, f: &Finding) -> Result<()> {
        let Some(doc) = r.effective(self.s.platform()) else {
            return Ok(());
        };
        if self
            .steps
            .iter()
            .any(|s| s.target.as_ref() == Some(&r.path))
        {
            return Ok(());
        }
        let mut failed = doc.to_status_xml();
        failed.status = DeployStatus::Failed;
        failed.complete = true;
        failed.end_time = Some(self.now);
        failed.status_text = Some(String::new());
        failed.progress = Some(String::new());
        for (name, field) in [
            ("author", &mut failed.author),
            ("message", &mut failed.message),
        ] {
            if field.is_none() || failed.missing.iter().any(|m| m == name) {
                field.get_or_insert_with(String::new);
            }
        }
        failed.missing.clear();
        let mut ops = Vec::new();
        if let Ok(log) = r.path.join("log.log") {
            let nl = self.s.platform().newline();
            let needs_nl = r.log().is_some() && self.lacks_final_newline(&log);
            let line = format!(
                "{}{},{},{},2{nl}",
                if needs_nl { nl } else { "" },
                format_round_trip(self.now),
                UNKNOWN_ERROR_MESSAGE.replace(',', "&comma;"),
                entry_guid(r.id(), self.now),
            );
            ops.push(if r.log().is_some() {
                Op::Append {
                    path: log,
                    text: line,
                }
            } else {
                Op::Write {
                    path: log,
                    content: line,
                }
            });
        }
        ops.extend(self.status_ops(r, &failed));
        ops.push(Op::TouchActive);
        let step = Step {
            action: Action::FailOrphanedRecord,
            target: Some(r.path.clone()),
            finding: f.code,
            risk: Risk::Low,
            reason: format!(
                "nothing is running '{}'; mark it Failed with the error entry Kudu itself writes, so trackers polling /api/deployments/latest stop waiting",
                r.id()
            ),
            precondition: Some(self.precondition(&r.path)?),
            until: None,
            ops,
        };
        self.push(step)
    }

    /// True when the record has a `manifest` (a settled record's folder is not listed by the scan, so
    /// it is looked up here, for the few records a repair of `active` considers).
    fn has_manifest(&self, r: &DeploymentRecord) -> bool {
        if let Some(folder) = &r.folder {
            return folder.manifest;
        }
        let manifest = r.path.child("manifest").under(&self.s.home);
        lstat_opt(&manifest).is_ok_and(|m| m.is_some_and(|m| m.kind == EntryKind::File))
    }

    /// True when the log has bytes and does not end with a line break (an entry appended to it must
    /// start on a new line).
    fn lacks_final_newline(&self, log: &RelPath) -> bool {
        let store = crate::store::LocalStore::new(self.s.home.clone());
        crate::store::Store::read_tail(&store, log, 1)
            .is_ok_and(|b| b.meta.size > 0 && b.data.last() != Some(&b'\n'))
    }

    fn repair_status(
        &mut self,
        r: &DeploymentRecord,
        f: &Finding,
        active: Option<&str>,
    ) -> Result<()> {
        let is_active = active.is_some_and(|a| a.eq_ignore_ascii_case(r.id()));
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

    fn repair_active(&mut self, d: &DeploymentsDir, f: &Finding) -> Result<()> {
        let platform = self.s.platform();
        let usable = |r: &&DeploymentRecord| {
            r.status
                .as_ref()
                .is_some_and(|s| s.content.value().is_some())
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
            }],
        };
        self.push(step)
    }
}

/// A dashed GUID for a log entry, derived from the record and the time so the plan is reproducible.
fn entry_guid(id: &str, now: DateTime<Utc>) -> String {
    let h = digest(format!("{id}|{}", format_round_trip(now)).as_bytes());
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
