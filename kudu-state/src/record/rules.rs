//! How Kudu judges a deployment record (spec §5.2, §7.2, S7–S9, S12), as diagnose rules: which
//! record Kudu deletes on its next read, which it cannot save, which is running, stalled or orphaned.

use chrono::TimeDelta;

use super::{DeploymentRecord, IdKind, NextRead};
use crate::deployments::DeploymentsDir;
use crate::diagnose::{
    Ctx, Evidence, Finding, FindingCode, INFO, RecordRef, Severity, Subject, Verdict, human_secs,
};
use crate::lock::rules::LockState;
use crate::platform::Platform;
use crate::status_xml::{DeployStatus, StatusDoc};
use crate::store::Content;

/// How long KuduLite waits before it fails an incomplete record whose lock is free (spec §7.2).
pub const LINUX_ORPHAN_GRACE: TimeDelta = TimeDelta::seconds(180);

/// Every record, under the deployment lock's `state`.
pub(crate) fn records(cx: &mut Ctx<'_>, d: &DeploymentsDir, lock: LockState) {
    let platform = cx.platform();
    let active = d.named_active();
    for (index, r) in d.records.iter().enumerate() {
        let path = r.path.as_str();
        let subject = Subject::Record(RecordRef {
            index,
            id: r.id().to_owned(),
        });
        let is_active = active.is_some_and(|a| a.eq_ignore_ascii_case(r.id()));
        match &r.next_read {
            NextRead::DeleteFolder { reason } => {
                let loud = if is_active {
                    " It is the ACTIVE deployment: its manifest is lost with it, so the next deployment leaves removed files behind in wwwroot."
                } else {
                    ""
                };
                cx.push(Finding::new(
                    FindingCode::StatusXmlCorrupt,
                    (Severity::Error, Verdict::Broken),
                    subject,
                    format!("{path}/status.xml"),
                    format!("status.xml is not what Kudu can read ({reason}): Kudu deletes this whole folder, log and manifest included, the next time anything reads it.{loud} Rewrite it as a complete record (kudu-state plan) before then"),
                    Evidence::CorruptStatus {
                        active: is_active,
                        has_log: r.log().is_some(),
                        has_manifest: r.folder.as_ref().map(|f| f.manifest),
                        reason: reason.clone(),
                    },
                ));
                continue;
            }
            NextRead::Invisible => {
                if !is_active {
                    cx.push(Finding::new(
                        FindingCode::FolderWithoutStatus,
                        (Severity::Warning, Verdict::Idle),
                        subject,
                        path,
                        "a deployment folder without status.xml: invisible to Kudu's API and never purged; safe to remove when nothing is deploying",
                        Evidence::Folder {
                            has_log: r.log().is_some(),
                            has_manifest: r.folder.as_ref().map(|f| f.manifest),
                            mtime: r.folder.as_ref().and_then(|f| f.meta.as_ref()?.modified),
                        },
                    ));
                }
                continue;
            }
            NextRead::KeepUnsavable { .. } | NextRead::Keep => {}
        }
        if let Some(Content::Unreadable { error }) = r.status.as_ref().map(|s| &s.content) {
            cx.push(Finding::new(
                FindingCode::FileUnreadable,
                (Severity::Warning, Verdict::Idle),
                subject,
                format!("{path}/status.xml"),
                format!("status.xml cannot be read here ({error})"),
                Evidence::Unreadable {
                    error: error.clone(),
                },
            ));
            continue;
        }
        let Some(doc) = r.effective(platform) else {
            continue;
        };
        if let NextRead::KeepUnsavable { reason } = &r.next_read {
            let incomplete = !doc.complete;
            cx.push(Finding::new(
                FindingCode::StatusXmlUnsavable,
                if incomplete {
                    (Severity::Error, Verdict::Broken)
                } else {
                    (Severity::Warning, Verdict::Idle)
                },
                subject.clone(),
                format!("{path}/status.xml"),
                format!(
                    "status.xml can be read but not saved again by Kudu ({reason}){}",
                    if incomplete {
                        ": Kudu's attempt to mark this incomplete record failed throws on every listing"
                    } else {
                        "; a redeploy of this record would fail"
                    }
                ),
                Evidence::Unsavable {
                    complete: doc.complete,
                    reason: reason.clone(),
                },
            ));
        }
        if platform == Platform::Windows {
            complete_mismatch(cx, r, &subject);
        }
        if !doc.complete {
            incomplete_record(cx, r, subject, doc, lock);
        } else if doc.status == DeployStatus::Failed && is_temp(r, doc) {
            cx.push(Finding::new(
                FindingCode::TempDeploymentFailed,
                INFO,
                subject,
                path,
                format!("temporary record '{}' failed before its build (a fetch or unzip error): {path}/log.log holds the only copy of that error. Kudu keeps it while it is the newest record and purges it later; leave it", r.id()),
                Evidence::FailedTemp {
                    end: doc.end_time,
                    log: format!("{path}/log.log"),
                    received: doc.received_time,
                },
            ));
        }
    }
}

/// A `temp-` record: by its flag or by its id.
fn is_temp(r: &DeploymentRecord, doc: &StatusDoc) -> bool {
    doc.is_temp || r.id_kind == IdKind::Temp
}

/// Windows reads `status_complete.xml` first: a copy that disagrees hides `status.xml`.
fn complete_mismatch(cx: &mut Ctx<'_>, r: &DeploymentRecord, subject: &Subject) {
    let (Some(complete), Some(status)) = (
        r.status_complete.as_ref().and_then(|f| f.content.value()),
        r.status.as_ref().and_then(|f| f.content.value()),
    ) else {
        return;
    };
    if complete != status {
        cx.push(Finding::new(
            FindingCode::StatusCompleteMismatch,
            (Severity::Warning, Verdict::Idle),
            subject.clone(),
            format!("{}/status_complete.xml", r.path),
            "status_complete.xml differs from status.xml and Windows Kudu reads it first, so edits to status.xml are invisible; update or delete both together",
            Evidence::StatusMismatch {
                complete_flag: [complete.complete, status.complete],
                status_complete: complete.status,
                status_xml: status.status,
            },
        ));
    }
}

/// An incomplete record: running, stalled under the lock, or orphaned (spec §7.2, S1, S7, S8).
fn incomplete_record(
    cx: &mut Ctx<'_>,
    r: &DeploymentRecord,
    subject: Subject,
    doc: &StatusDoc,
    lock: LockState,
) {
    let platform = cx.platform();
    let path = r.path.as_str();
    let activity = r.last_activity();
    let idle_for = cx.age(activity);
    let moving = activity.is_some_and(|a| cx.now - a <= cx.opts.stall_window);
    let evidence = Evidence::Progress {
        idle_seconds: idle_for,
        is_temp: doc.is_temp,
        last_activity: activity,
        last_log_message: r.log().and_then(|l| l.last_message.clone()),
        progress: doc.progress().map(str::to_owned),
        received: doc.received_time,
        stall_window_seconds: cx.opts.stall_window.num_seconds(),
        status: doc.status,
        status_text: doc.status_text().map(str::to_owned),
    };
    let (orphan_code, what) = if is_temp(r, doc) {
        (FindingCode::TempDeploymentOrphaned, "temporary record")
    } else {
        (FindingCode::DeploymentOrphaned, "record")
    };
    // A corrupt Linux lock holds nothing: Kudu cannot read it, so no deployment runs under it.
    let lock_free = !lock.may_protect();
    if let Some(meaning) = ended_meaning(doc.status) {
        // Over for the Kudu build that wrote it and for every client, so neither running nor stuck.
        // With the lock free, Kudu's public sources still fail it on the next read (they look at the
        // complete flag); with the lock held, the holder is reported by the lock findings.
        if lock_free {
            let grace = doc.received_time + LINUX_ORPHAN_GRACE;
            let when = if platform == Platform::Linux && grace > cx.now {
                format!("after {}", grace.to_rfc3339())
            } else {
                "on its next read".to_owned()
            };
            cx.push(Finding::new(
                orphan_code,
                INFO,
                subject,
                path,
                format!("{what} '{}' has ended: {meaning}. Nothing is running it; it is only not flagged complete, which Kudu turns into Failed {when}", r.id()),
                evidence,
            ));
        }
        return;
    }
    // KuduLite runs most of a synchronous deployment without the lock (spec §4.3 B), so on Linux a
    // moving record is a running deployment even with the lock free.
    if moving && (!lock_free || platform == Platform::Linux) {
        cx.push(Finding::new(
            FindingCode::DeploymentInProgress,
            (Severity::Info, Verdict::Deploying),
            subject,
            path,
            format!(
                "deployment '{}' is running ({}); wait for it, do not delete anything",
                r.id(),
                doc.status_text()
                    .filter(|t| !t.is_empty())
                    .unwrap_or("no status text")
            ),
            evidence,
        ));
        // A held Windows lock refuses the next deployment; a free lock would accept one that overlaps
        // this one. (A live Linux lock already blocks until its expiry.)
        if lock_free || platform == Platform::Windows {
            cx.block(None);
        }
        return;
    }
    if !lock_free {
        cx.push(Finding::new(
            FindingCode::DeploymentStalled,
            (Severity::Error, Verdict::Stuck),
            subject,
            path,
            format!("deployment '{}' holds the lock but has not moved for {} (stall window {} min): it is hung, not running. Restart the SCM site to end it; Kudu then marks it failed", r.id(), human_secs(idle_for), cx.opts.stall_window.num_minutes()),
            evidence,
        ));
        if platform == Platform::Windows {
            cx.block(None);
        }
        return;
    }
    let grace = (platform == Platform::Linux).then(|| doc.received_time + LINUX_ORPHAN_GRACE);
    let when = match grace {
        _ if lock == LockState::Corrupt => {
            "only once the corrupt lock is gone (until then its listings fail with 500)".to_owned()
        }
        Some(g) if g > cx.now => format!("after {}", g.to_rfc3339()),
        _ => "on its next read".to_owned(),
    };
    cx.push(Finding::new(
        orphan_code,
        (Severity::Warning, Verdict::Stuck),
        subject,
        path,
        format!("incomplete {what} '{}' with no lock protecting it: nothing is running it. Kudu marks it failed {when}; until then trackers polling /api/deployments/latest wait forever. `GET /api/deployments/{}` or kudu-state apply settles it now", r.id(), r.id()),
        evidence,
    ));
}

/// What a status that newer Kudu builds write for a deployment that is over means, for a person
/// (see [`DeployStatus`] for the sources); `None` for every other status.
fn ended_meaning(status: DeployStatus) -> Option<&'static str> {
    match status {
        DeployStatus::Cancelled => Some(
            "it was cancelled (status Cancelled, -1) and will not finish; deploy again if the change is still wanted",
        ),
        DeployStatus::Conflict => Some(
            "it was cancelled because another deployment was in progress (status Conflict, 5); deploy again once that one has finished",
        ),
        DeployStatus::PartialSuccess => Some(
            "it finished with only partial success (status PartialSuccess, 6): some of its steps or files failed; read its log and redeploy",
        ),
        _ => None,
    }
}
