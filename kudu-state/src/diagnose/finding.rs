//! What diagnose hands on: a [`Finding`] is a coded reason, the thing it is about ([`Subject`], a typed
//! reference into the snapshot, so that plan never looks a record up again by its path), and the values
//! it was decided from ([`Evidence`], typed per family).
//!
//! JSON (schema 1, API): `{"code", "severity", "path", "message", "evidence"}`; the subject and the
//! verdict a finding implies are not serialised. Evidence objects keep their keys in alphabetical order.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Severity, Verdict};
use crate::deployments::DeploymentsDir;
use crate::lock::IdleLockName;
use crate::names::named_enum;
use crate::record::DeploymentRecord;
use crate::snapshot::NoteKind;
use crate::status_xml::DeployStatus;

named_enum! {
    /// What a finding is about. The kebab-case codes are API: they never change meaning.
    #[derive(PartialOrd, Ord)]
    pub enum FindingCode {
        /// Linux `info.lock` with `lockExpiry` in the future: Kudu answers 409.
        LinuxLockLive => "linux-lock-live",
        /// Linux `info.lock` whose expiry has passed (or is null): Kudu deletes it at its next check.
        LinuxLockExpired => "linux-lock-expired",
        /// Linux `info.lock` that Kudu cannot parse: its check throws, deployments fail with a server error.
        LinuxLockCorrupt => "linux-lock-corrupt",
        /// `site/locks/deployment/` without `info.lock`: Kudu treats the lock as free.
        LinuxLockDirEmpty => "linux-lock-dir-empty",
        /// Windows `deployments.lock` exists: held right now, or left by a crash.
        WindowsLockFile => "windows-lock-file",
        /// A status/hooks/sshkey lock file (normal on Linux).
        IdleLockFile => "idle-lock-file",
        /// A lock file that cannot be read.
        LockFileUnreadable => "lock-file-unreadable",
        /// `autoswap.lock` written less than 2 minutes ago: Kudu answers 409 while it is fresh.
        AutoswapLockFresh => "autoswap-lock-fresh",
        /// `autoswap.lock` older than 2 minutes: ignored by Kudu.
        AutoswapLockStale => "autoswap-lock-stale",
        /// An incomplete record that is moving: a deployment is running.
        DeploymentInProgress => "deployment-in-progress",
        /// An incomplete record under a live lock that has not moved for longer than the stall window.
        DeploymentStalled => "deployment-stalled",
        /// An incomplete record with the lock free: Kudu fails it on its next read; trackers hang meanwhile.
        DeploymentOrphaned => "deployment-orphaned",
        /// An incomplete `temp-` record with the lock free.
        TempDeploymentOrphaned => "temp-deployment-orphaned",
        /// A `temp-` record Kudu marked Failed: a fetch or unzip failed before the build, and its `log.log`
        /// holds the only copy of that error. Kudu's own failure record; never a thing to remove.
        TempDeploymentFailed => "temp-deployment-failed",
        /// A `status.xml` Kudu rejects, deleting the whole folder on its next read.
        StatusXmlCorrupt => "status-xml-corrupt",
        /// A `status.xml` Kudu reads but cannot save again (no `author` or `message`).
        StatusXmlUnsavable => "status-xml-unsavable",
        /// Windows `status_complete.xml` says something other than `status.xml`, and shadows it.
        StatusCompleteMismatch => "status-complete-mismatch",
        /// A deployment folder with no `status.xml`: invisible to Kudu, never purged.
        FolderWithoutStatus => "folder-without-status",
        /// `active` is empty or missing.
        ActiveEmpty => "active-empty",
        /// `active` is not exactly an id (newline, NUL, case).
        ActiveMalformed => "active-malformed",
        /// `active` names a record that does not exist (or has no `status.xml`).
        ActiveMissingTarget => "active-missing-target",
        /// The `pending` marker: normal, never a cause of 409.
        PendingMarker => "pending-marker",
        /// `settings.xml` that Kudu will delete at its next start.
        SettingsXmlCorrupt => "settings-xml-corrupt",
        /// Records Kudu's own purge will remove at its next listing.
        PurgeBacklog => "purge-backlog",
        /// A file or folder kudu-state could not read.
        FileUnreadable => "file-unreadable",
        /// A symbolic link inside Kudu's state, not followed.
        SymlinkNotFollowed => "symlink-not-followed",
    }
}

/// What a finding is about, as a typed reference into the snapshot it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// KuduLite's deployment lock folder `site/locks/deployment` (and its `info.lock`).
    LinuxLock,
    /// Windows Kudu's `site/locks/deployments.lock`.
    WindowsLock,
    /// A status, hooks or sshkey lock file.
    IdleLock(IdleLockName),
    /// `site/locks/autoswap.lock`.
    Autoswap,
    /// A deployment record.
    Record(RecordRef),
    /// `site/deployments/active`.
    Active,
    /// `site/deployments/pending`.
    Pending,
    /// `site/deployments/settings.xml`.
    SettingsXml,
    /// `site/deployments` as a whole (Kudu's purge).
    Deployments,
    /// Something the scan could not read or did not follow (see [`Finding::path`]).
    Note,
}

/// A record of the snapshot a diagnosis was made from: its position in
/// [`DeploymentsDir::records`] and its id, which are checked against each other when resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// Position in `deployments.records`.
    pub index: usize,
    /// The record's id (folder name).
    pub id: String,
}

impl RecordRef {
    /// The record this refers to in `d`: by position, or by id when `d` is not the snapshot the
    /// finding was made from.
    #[must_use]
    pub fn resolve<'a>(&self, d: &'a DeploymentsDir) -> Option<&'a DeploymentRecord> {
        d.records
            .get(self.index)
            .filter(|r| r.id() == self.id)
            .or_else(|| d.record(&self.id))
    }
}

/// The values a finding was decided from, typed per family; serialised as a JSON object whose keys
/// are in alphabetical order (the fields are declared so).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    /// `linux-lock-dir-empty`.
    LockDir {
        /// The folder's last write time.
        dir_mtime: Option<DateTime<Utc>>,
    },
    /// A file whose content Kudu cannot parse (`linux-lock-corrupt`).
    CorruptFile {
        /// Last write time.
        mtime: Option<DateTime<Utc>>,
        /// Why it does not parse.
        reason: String,
        /// Size in bytes.
        size: u64,
    },
    /// A root file Kudu cannot parse (`settings-xml-corrupt`).
    CorruptRootFile {
        /// Why it does not parse.
        reason: String,
        /// Size in bytes.
        size: u64,
    },
    /// A file that cannot be read (`lock-file-unreadable`, `file-unreadable`).
    Unreadable {
        /// The error.
        error: String,
    },
    /// `windows-lock-file`.
    WindowsLock {
        /// When the holder took it (its JSON, else the file's time).
        acquired: Option<DateTime<Utc>>,
        /// Seconds since then.
        age_seconds: Option<i64>,
        /// Whether Kudu holds it open right now, when proven over Kudu's API (its open file
        /// handles); absent when not known (always, on a copy of the disk).
        #[serde(skip_serializing_if = "Option::is_none")]
        held: Option<bool>,
        /// The holder's instance (first 6 characters of its id).
        instance: Option<String>,
        /// The file's last write time.
        mtime: Option<DateTime<Utc>>,
        /// The holder's operation.
        operation: Option<String>,
    },
    /// `linux-lock-live`, `linux-lock-expired`.
    LinuxLock {
        /// `lockExpiry` − 1500 s.
        acquired: Option<DateTime<Utc>>,
        /// Seconds until (negative: since) `lockExpiry`.
        expires_in_seconds: Option<i64>,
        /// `lockExpiry`.
        expiry: Option<DateTime<Utc>>,
        /// `heldByOp`.
        operation: Option<String>,
        /// `heldByPID`.
        pid: Option<i64>,
        /// `heldByWorker`.
        worker: Option<String>,
    },
    /// `autoswap-lock-fresh`, `autoswap-lock-stale`.
    Autoswap {
        /// Seconds since its last write.
        age_seconds: Option<i64>,
        /// Its last write time.
        mtime: Option<DateTime<Utc>>,
    },
    /// `idle-lock-file`.
    IdleLock {
        /// When the last acquirer took it.
        acquired: Option<DateTime<Utc>>,
        /// The file's last write time.
        mtime: Option<DateTime<Utc>>,
        /// The last acquirer's operation.
        operation: Option<String>,
    },
    /// `status-xml-corrupt`.
    CorruptStatus {
        /// The record is the active deployment.
        active: bool,
        /// The folder has a `log.log` (as far as it was listed).
        has_log: bool,
        /// The folder has a `manifest`, when it was listed.
        has_manifest: Option<bool>,
        /// Why Kudu rejects it.
        reason: String,
    },
    /// `folder-without-status`.
    Folder {
        /// The folder has a `log.log`.
        has_log: bool,
        /// The folder has a `manifest`, when it was listed.
        has_manifest: Option<bool>,
        /// The folder's last write time.
        mtime: Option<DateTime<Utc>>,
    },
    /// `status-xml-unsavable`.
    Unsavable {
        /// The record says complete.
        complete: bool,
        /// Which element is missing.
        reason: String,
    },
    /// `temp-deployment-failed`.
    FailedTemp {
        /// When it ended.
        end: Option<DateTime<Utc>>,
        /// Its log, which holds the error.
        log: String,
        /// When it was received.
        received: DateTime<Utc>,
    },
    /// `status-complete-mismatch`.
    StatusMismatch {
        /// `complete` in status_complete.xml and in status.xml.
        complete_flag: [bool; 2],
        /// The status in status_complete.xml.
        status_complete: DeployStatus,
        /// The status in status.xml.
        status_xml: DeployStatus,
    },
    /// An incomplete record: `deployment-in-progress`, `-stalled`, `-orphaned`, `temp-deployment-orphaned`.
    Progress {
        /// Seconds since the last sign of life.
        idle_seconds: Option<i64>,
        /// `is_temp`.
        is_temp: bool,
        /// The last sign of life (status or log written, newest log entry).
        last_activity: Option<DateTime<Utc>>,
        /// The newest top-level log message read.
        last_log_message: Option<String>,
        /// `progress`.
        progress: Option<String>,
        /// `receivedTime`.
        received: DateTime<Utc>,
        /// The stall window in seconds.
        stall_window_seconds: i64,
        /// `status`.
        status: DeployStatus,
        /// `statusText`.
        status_text: Option<String>,
    },
    /// `active-empty` when the file is missing.
    ActiveMissing {
        /// Always false.
        exists: bool,
    },
    /// `active-empty`.
    ActiveEmpty {
        /// Its last write time.
        mtime: Option<DateTime<Utc>>,
        /// Some deployment has succeeded.
        successful_records: bool,
    },
    /// `active-malformed` (not exactly an id).
    ActiveMalformed {
        /// The content, escaped.
        raw: String,
        /// The folder the trimmed id names exists.
        target_exists: bool,
        /// The id once trimmed.
        trimmed: Option<String>,
    },
    /// `active-malformed` (the case differs from the folder's).
    ActiveCase {
        /// The folder's name.
        folder: String,
        /// What `active` says.
        id: String,
    },
    /// `active-missing-target`.
    ActiveTarget {
        /// A folder of that name exists (without status.xml).
        folder_exists: bool,
        /// What `active` says.
        id: String,
    },
    /// `pending-marker`.
    Marker {
        /// Its last write time.
        mtime: Option<DateTime<Utc>>,
        /// Its size (0 as Kudu writes it).
        size: u64,
    },
    /// `purge-backlog`.
    Purge {
        /// How many records Kudu's purge removes.
        count: usize,
        /// The first 20 of them, in name order.
        first_ids: Vec<String>,
    },
    /// A scan note (`file-unreadable`, `symlink-not-followed`).
    Note {
        /// What the scan met.
        kind: NoteKind,
    },
}

/// One reason behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// Path relative to the home, `/`-separated.
    pub path: String,
    /// One line for a person, saying what it means and what to do.
    pub message: String,
    /// The values it was decided from.
    pub evidence: Evidence,
    /// What it is about, in the snapshot it was made from.
    #[serde(skip)]
    pub subject: Subject,
    /// What this finding alone makes the verdict.
    #[serde(skip)]
    pub verdict: Verdict,
}

impl Finding {
    /// The record this finding is about, in `d`, if it is about one.
    #[must_use]
    pub fn record<'a>(&self, d: &'a DeploymentsDir) -> Option<&'a DeploymentRecord> {
        match &self.subject {
            Subject::Record(r) => r.resolve(d),
            _ => None,
        }
    }
}
