//! [`diagnose`]: a verdict with reasons for a [`Snapshot`] at a given time.
//!
//! Every rule here is what Kudu itself does with the same files (spec §2, §3, §7, §10): a lock is live
//! when Kudu would answer 409, a record is orphaned when Kudu would fail it on its next read, a
//! `status.xml` is corrupt when Kudu would delete its folder. Time comes in as `now`, so the same tree
//! gives the same verdict in a test as on the site.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::deployments::{ActiveValue, DeploymentsDir};
use crate::lock::{AUTOSWAP_WINDOW, Content, LinuxLockInfo};
use crate::platform::Platform;
use crate::record::{DeploymentRecord, NextRead};
use crate::snapshot::{IdleLockName, NoteKind, Snapshot};
use crate::status_doc::StatusDoc;
use crate::status_xml::DeployStatus;

/// How long KuduLite waits before it fails an incomplete record whose lock is free (spec §7.2).
pub const LINUX_ORPHAN_GRACE: TimeDelta = TimeDelta::seconds(180);

/// Version of the diagnosis JSON (`"schema"`).
pub const SCHEMA: u32 = 1;

/// How many ever-succeeded records Kudu's purge keeps (spec §7.1).
pub const PURGE_KEEP_SUCCEEDED: usize = 10;

/// The overall state of a home, most severe last so that `max` gives the precedence
/// broken > stuck > deploying > idle.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing running, nothing blocking: deploying now works.
    Idle,
    /// A live deployment or a fresh auto-swap: wait, touch nothing.
    Deploying,
    /// Something makes deployments fail and will not clear soon by itself, or a tracker would hang.
    Stuck,
    /// A state on which Kudu itself errors or will destroy data.
    Broken,
}

impl Verdict {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Idle => "idle",
            Verdict::Deploying => "deploying",
            Verdict::Stuck => "stuck",
            Verdict::Broken => "broken",
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Normal state worth knowing.
    Info,
    /// Not blocking now, but wrong or about to matter.
    Warning,
    /// Blocking deployments or losing data.
    Error,
}

impl Severity {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// What a finding is about. The kebab-case codes are API: they never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
        pub enum FindingCode {
            $($(#[$doc])* #[serde(rename = $code)] $variant,)*
        }
        impl FindingCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];
            /// The stable kebab-case code.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $code,)* }
            }
        }
    };
}

codes! {
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
    pub evidence: Map<String, Value>,
    /// What this finding alone makes the verdict.
    #[serde(skip)]
    pub verdict: Verdict,
}

/// How to diagnose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiagnoseOptions {
    /// A deployment under a live lock with no activity for longer than this is stalled, not running.
    pub stall_window: TimeDelta,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            stall_window: TimeDelta::minutes(10),
        }
    }
}

/// The verdict on a home at a time, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Version of this JSON shape; bumped only on an incompatible change.
    pub schema: u32,
    /// The home that was diagnosed.
    pub home: std::path::PathBuf,
    /// The platform the home was read as.
    pub platform: Platform,
    /// The time the verdict is for.
    pub now: DateTime<Utc>,
    /// The overall verdict.
    pub verdict: Verdict,
    /// True when a deployment started now would be accepted (not refused with 409, not failed by a
    /// corrupt lock), whatever else is wrong.
    pub safe_to_deploy: bool,
    /// When `safe_to_deploy` is false: the earliest time it may become true on its own, if there is one.
    pub safe_after: Option<DateTime<Utc>>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// The findings with this code.
    pub fn with_code(&self, code: FindingCode) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.code == code)
    }

    /// True when some finding has this code.
    #[must_use]
    pub fn has(&self, code: FindingCode) -> bool {
        self.with_code(code).next().is_some()
    }

    /// The distinct codes found, sorted.
    #[must_use]
    pub fn codes(&self) -> BTreeSet<FindingCode> {
        self.findings.iter().map(|f| f.code).collect()
    }
}

/// Something that stops a deployment from being accepted now, and when it lifts by itself.
struct Blocker {
    until: Option<DateTime<Utc>>,
}

struct Ctx<'a> {
    s: &'a Snapshot,
    now: DateTime<Utc>,
    opts: DiagnoseOptions,
    findings: Vec<Finding>,
    blockers: Vec<Blocker>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        code: FindingCode,
        severity: Severity,
        verdict: Verdict,
        path: &str,
        message: String,
        evidence: Value,
    ) {
        let evidence = match evidence {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.findings.push(Finding {
            code,
            severity,
            path: path.to_owned(),
            message,
            evidence,
            verdict,
        });
    }

    fn age(&self, t: Option<DateTime<Utc>>) -> Option<i64> {
        t.map(|t| (self.now - t).num_seconds())
    }
}

/// Diagnoses `snapshot` as of `now`.
#[must_use]
pub fn diagnose(snapshot: &Snapshot, now: DateTime<Utc>, options: DiagnoseOptions) -> Diagnosis {
    let mut cx = Ctx {
        s: snapshot,
        now,
        opts: options,
        findings: Vec::new(),
        blockers: Vec::new(),
    };
    let lock = deployment_lock(&mut cx);
    autoswap(&mut cx);
    idle_locks(&mut cx);
    if let Some(d) = &snapshot.deployments {
        records(&mut cx, d, lock);
        idle_live_lock(&mut cx);
        active(&mut cx, d);
        root_files(&mut cx, d);
        purge(&mut cx, d, lock);
    }
    notes(&mut cx);

    let verdict = cx
        .findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Idle);
    let safe_to_deploy = cx.blockers.is_empty();
    let safe_after = if safe_to_deploy {
        None
    } else {
        cx.blockers
            .iter()
            .map(|b| b.until)
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    };
    let mut findings = cx.findings;
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
    Diagnosis {
        schema: SCHEMA,
        home: snapshot.home.clone(),
        platform: snapshot.platform(),
        now,
        verdict,
        safe_to_deploy,
        safe_after,
        findings,
    }
}

/// What the deployment lock looks like to Kudu right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockState {
    /// No lock (or one Kudu treats as free).
    Free,
    /// Held: Kudu answers 409. For a Windows file this is "present", the best a copy of the disk can say.
    Held,
    /// `info.lock` is there but not what Kudu can parse: its check throws. It holds nothing: no
    /// deployment can run under a lock Kudu cannot read (spec §2.3, S5).
    Corrupt,
    /// `info.lock` cannot be read here; Kudu may or may not read it, so it may protect a deployment.
    Unreadable,
}

impl LockState {
    /// Whether a deployment may be running under this lock (so its incomplete records are not orphans).
    fn may_protect(self) -> bool {
        matches!(self, LockState::Held | LockState::Unreadable)
    }

    /// The more telling of two states (a broken lock outranks a held one, which outranks a free one).
    fn max_with(self, other: LockState) -> LockState {
        let rank = |s| match s {
            LockState::Free => 0,
            LockState::Held => 1,
            LockState::Unreadable => 2,
            LockState::Corrupt => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

fn deployment_lock(cx: &mut Ctx<'_>) -> LockState {
    let mut state = LockState::Free;
    let platform = cx.s.platform();
    if let Some(dir) = &cx.s.locks.linux_deployment {
        let dir_path = dir.path.to_string();
        match &dir.info {
            None => cx.push(
                FindingCode::LinuxLockDirEmpty,
                Severity::Info,
                Verdict::Idle,
                &dir_path,
                "the lock directory has no info.lock, so Kudu treats the deployment lock as free"
                    .to_owned(),
                json!({ "dir_mtime": dir.meta.modified }),
            ),
            Some(file) => {
                let path = file.path.to_string();
                match &file.content {
                    Content::Parsed { value } => state = linux_lock(cx, value, &path),
                    Content::Corrupt { reason } => {
                        cx.push(
                            FindingCode::LinuxLockCorrupt,
                            Severity::Error,
                            Verdict::Broken,
                            &path,
                            format!("info.lock is not what Kudu writes ({reason}): Kudu's lock check throws, so asynchronous deployments (az webapp deploy, ARM, the GitHub Actions and Azure Pipelines tasks) get 409 \"There is a deployment currently in progress\", synchronous ones and /api/deployments get 500, and a CI /deploy hook gets 202 and nothing deploys. It protects nothing: move the whole site/locks/deployment folder away (kudu-state plan) or restart the SCM site"),
                            json!({ "reason": reason, "size": file.meta.size, "mtime": file.meta.modified }),
                        );
                        cx.blockers.push(Blocker { until: None });
                        state = LockState::Corrupt;
                    }
                    Content::Unreadable { error } => {
                        cx.push(
                            FindingCode::LockFileUnreadable,
                            Severity::Error,
                            Verdict::Broken,
                            &path,
                            format!("info.lock cannot be read ({error}); if Kudu cannot read it either, every deployment fails"),
                            json!({ "error": error }),
                        );
                        cx.blockers.push(Blocker { until: None });
                        state = LockState::Unreadable;
                    }
                }
            }
        }
    }
    if let Some(file) = &cx.s.locks.windows_deployment {
        let path = file.path.to_string();
        let info = file.content.value();
        let acquired = info.and_then(|i| i.acquired).or(file.meta.modified);
        let op = info.and_then(|i| i.operation.clone());
        let evidence = json!({
            "operation": op,
            "acquired": acquired,
            "age_seconds": cx.age(acquired),
            "instance": info.and_then(|i| i.instance_id.clone()),
            "mtime": file.meta.modified,
        });
        let holder = op.as_deref().unwrap_or("unknown");
        if platform == Platform::Windows {
            cx.push(
                FindingCode::WindowsLockFile,
                Severity::Info,
                Verdict::Idle,
                &path,
                format!("deployments.lock names '{holder}' as holder; Windows Kudu deletes it on release, so it is either held right now or left by a crash (then Kudu deletes it at its next check). Only the site can prove which: a held file cannot be opened for writing from the Kudu console"),
                evidence,
            );
            state = state.max_with(LockState::Held);
        } else {
            cx.push(
                FindingCode::WindowsLockFile,
                Severity::Info,
                Verdict::Idle,
                &path,
                "deployments.lock means nothing to KuduLite (a leftover of the older Mono-based Linux Kudu); harmless".to_owned(),
                evidence,
            );
        }
    }
    state
}

fn linux_lock(cx: &mut Ctx<'_>, info: &LinuxLockInfo, path: &str) -> LockState {
    let evidence = json!({
        "operation": info.operation,
        "acquired": info.acquired(),
        "expiry": info.expiry,
        "expires_in_seconds": info.expiry.map(|e| (e - cx.now).num_seconds()),
        "worker": info.worker,
        "pid": info.pid,
    });
    if info.is_held_at(cx.now) {
        let expiry = info.expiry;
        let op = info.operation.as_deref().unwrap_or("unknown");
        cx.push(
            FindingCode::LinuxLockLive,
            Severity::Warning,
            Verdict::Deploying,
            path,
            format!(
                "the deployment lock is held by '{op}' until {}: Kudu answers 409 to every deployment until then",
                expiry.map_or_else(|| "?".to_owned(), |e| e.to_rfc3339())
            ),
            evidence,
        );
        cx.blockers.push(Blocker { until: expiry });
        LockState::Held
    } else {
        cx.push(
            FindingCode::LinuxLockExpired,
            Severity::Info,
            Verdict::Idle,
            path,
            "the deployment lock has expired: Kudu treats it as free and deletes it at its next check; no 409 comes from it".to_owned(),
            evidence,
        );
        LockState::Free
    }
}

/// Operations that hold KuduLite's deployment lock for a malware scan (up to 20 minutes), not a deployment.
const SCAN_OPERATIONS: [&str; 2] = ["Performing continuous scan", "Creating unique scan folder"];

/// A live Linux lock with no record in progress (spec S4 i): just taken if it is young, hung if it is
/// older than the stall window — 409 until `lockExpiry` with nothing running.
fn idle_live_lock(cx: &mut Ctx<'_>) {
    let running = cx.findings.iter().any(|f| {
        matches!(
            f.code,
            FindingCode::DeploymentInProgress | FindingCode::DeploymentStalled
        )
    });
    if running {
        return;
    }
    let Some(info) =
        cx.s.locks
            .linux_deployment
            .as_ref()
            .and_then(|d| d.info.as_ref())
            .and_then(|i| i.content.value())
    else {
        return;
    };
    let (now, window) = (cx.now, cx.opts.stall_window);
    let Some(f) = cx
        .findings
        .iter_mut()
        .find(|f| f.code == FindingCode::LinuxLockLive)
    else {
        return;
    };
    let op = info.operation.as_deref().unwrap_or("unknown");
    if SCAN_OPERATIONS.contains(&op) {
        f.message.push_str(
            "; it is a malware scan, which holds the lock for up to 20 minutes — wait for it",
        );
        return;
    }
    let Some(acquired) = info.acquired() else {
        return;
    };
    if now - acquired > window {
        f.verdict = Verdict::Stuck;
        f.severity = Severity::Error;
        f.message = format!(
            "the deployment lock has been held by '{op}' since {} but no deployment record is in progress: a hung or crashed deployment. Kudu answers 409 until {}. Confirm nothing is deploying, then restart the SCM site, or move the lock with `kudu-state plan --allow-live-lock`",
            acquired.to_rfc3339(),
            info.expiry
                .map_or_else(|| "?".to_owned(), |e| e.to_rfc3339())
        );
    }
}

fn autoswap(cx: &mut Ctx<'_>) {
    let Some(meta) = cx.s.locks.autoswap.clone() else {
        return;
    };
    let path = "site/locks/autoswap.lock";
    let fresh = meta.modified.is_some_and(|m| cx.now - m < AUTOSWAP_WINDOW);
    let evidence = json!({ "mtime": meta.modified, "age_seconds": cx.age(meta.modified) });
    if cx.s.platform() == Platform::Linux {
        cx.push(
            FindingCode::AutoswapLockStale,
            Severity::Info,
            Verdict::Idle,
            path,
            "autoswap.lock is never consulted by KuduLite (it builds the path with backslashes); harmless".to_owned(),
            evidence,
        );
    } else if fresh {
        let until = meta.modified.map(|m| m + AUTOSWAP_WINDOW);
        cx.push(
            FindingCode::AutoswapLockFresh,
            Severity::Warning,
            Verdict::Deploying,
            path,
            "an auto swap started less than 2 minutes ago: Kudu answers 409 until it is 2 minutes old".to_owned(),
            evidence,
        );
        cx.blockers.push(Blocker { until });
    } else {
        cx.push(
            FindingCode::AutoswapLockStale,
            Severity::Info,
            Verdict::Idle,
            path,
            "autoswap.lock is older than 2 minutes, so Kudu ignores it".to_owned(),
            evidence,
        );
    }
}

fn idle_locks(cx: &mut Ctx<'_>) {
    let platform = cx.s.platform();
    for idle in &cx.s.locks.idle {
        let path = idle.file.path.to_string();
        match &idle.file.content {
            Content::Unreadable { error } => {
                let status = idle.name == IdleLockName::Status;
                cx.push(
                    FindingCode::LockFileUnreadable,
                    if status { Severity::Error } else { Severity::Warning },
                    if status { Verdict::Stuck } else { Verdict::Idle },
                    &path,
                    if status {
                        format!("status.lock cannot be read ({error}); if Kudu cannot open it either, every status read and write waits 30 s and fails, and deployments report 409 'deployment in progress'. Fix its ownership/permissions or delete it (on Linux it excludes nothing; Kudu re-creates it)")
                    } else {
                        format!("{} cannot be read ({error}); fix its ownership/permissions", idle.name.file_name())
                    },
                    json!({ "error": error }),
                );
                if status && platform == Platform::Linux {
                    cx.blockers.push(Blocker { until: None });
                }
            }
            content => {
                let info = content.value();
                let message = match platform {
                    Platform::Linux => format!(
                        "{} is always present on Linux (KuduLite never deletes it and it excludes nothing); normal",
                        idle.name.file_name()
                    ),
                    Platform::Windows => format!(
                        "{} is held right now or left by a crash (Windows Kudu deletes it on release and removes a stale one at its next check)",
                        idle.name.file_name()
                    ),
                };
                cx.push(
                    FindingCode::IdleLockFile,
                    Severity::Info,
                    Verdict::Idle,
                    &path,
                    message,
                    json!({
                        "operation": info.and_then(|i| i.operation.clone()),
                        "acquired": info.and_then(|i| i.acquired),
                        "mtime": idle.file.meta.modified,
                    }),
                );
            }
        }
    }
}

fn records(cx: &mut Ctx<'_>, d: &DeploymentsDir, lock: LockState) {
    let platform = cx.s.platform();
    let active = d.named_active();
    for r in &d.records {
        let path = r.path.to_string();
        let is_active = active.is_some_and(|a| a.eq_ignore_ascii_case(r.id()));
        match &r.next_read {
            NextRead::DeleteFolder { reason } => {
                let (severity, loud) = if is_active {
                    (
                        Severity::Error,
                        " It is the ACTIVE deployment: its manifest is lost with it, so the next deployment leaves removed files behind in wwwroot.",
                    )
                } else {
                    (Severity::Error, "")
                };
                cx.push(
                    FindingCode::StatusXmlCorrupt,
                    severity,
                    Verdict::Broken,
                    &format!("{path}/status.xml"),
                    format!("status.xml is not what Kudu can read ({reason}): Kudu deletes this whole folder, log and manifest included, the next time anything reads it.{loud} Rewrite it as a complete record (kudu-state plan) before then"),
                    json!({ "reason": reason, "active": is_active, "has_manifest": r.folder.as_ref().map(|f| f.manifest), "has_log": r.log().is_some() }),
                );
                continue;
            }
            NextRead::Invisible => {
                if !is_active {
                    cx.push(
                        FindingCode::FolderWithoutStatus,
                        Severity::Warning,
                        Verdict::Idle,
                        &path,
                        "a deployment folder without status.xml: invisible to Kudu's API and never purged; safe to remove when nothing is deploying".to_owned(),
                        json!({ "mtime": r.folder.as_ref().and_then(|f| f.meta.as_ref()?.modified), "has_log": r.log().is_some(), "has_manifest": r.folder.as_ref().map(|f| f.manifest) }),
                    );
                }
                continue;
            }
            NextRead::KeepUnsavable { .. } | NextRead::Keep => {}
        }
        if let Some(Content::Unreadable { error }) = r.status.as_ref().map(|s| &s.content) {
            cx.push(
                FindingCode::FileUnreadable,
                Severity::Warning,
                Verdict::Idle,
                &format!("{path}/status.xml"),
                format!("status.xml cannot be read here ({error})"),
                json!({ "error": error }),
            );
            continue;
        }
        let Some(doc) = r.effective(platform) else {
            continue;
        };
        if let NextRead::KeepUnsavable { reason } = &r.next_read {
            let incomplete = !doc.complete;
            cx.push(
                FindingCode::StatusXmlUnsavable,
                if incomplete { Severity::Error } else { Severity::Warning },
                if incomplete { Verdict::Broken } else { Verdict::Idle },
                &format!("{path}/status.xml"),
                format!("status.xml can be read but not saved again by Kudu ({reason}){}", if incomplete { ": Kudu's attempt to mark this incomplete record failed throws on every listing" } else { "; a redeploy of this record would fail" }),
                json!({ "reason": reason, "complete": doc.complete }),
            );
        }
        if platform == Platform::Windows {
            complete_mismatch(cx, r);
        }
        if !doc.complete {
            incomplete_record(cx, r, doc, lock);
        } else if doc.status == DeployStatus::Failed
            && (doc.is_temp || r.id_kind == crate::record::IdKind::Temp)
        {
            cx.push(
                FindingCode::TempDeploymentFailed,
                Severity::Info,
                Verdict::Idle,
                &path,
                format!("temporary record '{}' failed before its build (a fetch or unzip error): {path}/log.log holds the only copy of that error. Kudu keeps it while it is the newest record and purges it later; leave it", r.id()),
                json!({ "log": format!("{path}/log.log"), "received": doc.received_time, "end": doc.end_time }),
            );
        }
    }
}

fn complete_mismatch(cx: &mut Ctx<'_>, r: &DeploymentRecord) {
    let (Some(complete), Some(status)) = (
        r.status_complete.as_ref().and_then(|f| f.content.value()),
        r.status.as_ref().and_then(|f| f.content.value()),
    ) else {
        return;
    };
    if complete != status {
        cx.push(
            FindingCode::StatusCompleteMismatch,
            Severity::Warning,
            Verdict::Idle,
            &format!("{}/status_complete.xml", r.path),
            "status_complete.xml differs from status.xml and Windows Kudu reads it first, so edits to status.xml are invisible; update or delete both together".to_owned(),
            json!({ "status_complete": complete.status, "status_xml": status.status, "complete_flag": [complete.complete, status.complete] }),
        );
    }
}

fn incomplete_record(cx: &mut Ctx<'_>, r: &DeploymentRecord, doc: &StatusDoc, lock: LockState) {
    let platform = cx.s.platform();
    let path = r.path.to_string();
    let activity = r.last_activity();
    let idle_for = cx.age(activity);
    let moving = activity.is_some_and(|a| cx.now - a <= cx.opts.stall_window);
    let evidence = json!({
        "status": doc.status,
        "status_text": doc.status_text(),
        "progress": doc.progress(),
        "received": doc.received_time,
        "last_activity": activity,
        "idle_seconds": idle_for,
        "stall_window_seconds": cx.opts.stall_window.num_seconds(),
        "is_temp": doc.is_temp,
        "last_log_message": r.log().and_then(|l| l.last_message.clone()),
    });
    // A corrupt Linux lock holds nothing: Kudu cannot read it, so no deployment runs under it.
    let lock_free = !lock.may_protect();
    if let Some(meaning) = ended_meaning(doc.status) {
        // Over for the Kudu build that wrote it and for every client, so neither running nor stuck.
        // With the lock free, Kudu's public sources still fail it on the next read (they look at the
        // complete flag); with the lock held, the holder is reported by the lock findings.
        if lock_free {
            let (code, what) = if doc.is_temp || r.id_kind == crate::record::IdKind::Temp {
                (FindingCode::TempDeploymentOrphaned, "temporary record")
            } else {
                (FindingCode::DeploymentOrphaned, "record")
            };
            let grace = doc.received_time + LINUX_ORPHAN_GRACE;
            let when = if platform == Platform::Linux && grace > cx.now {
                format!("after {}", grace.to_rfc3339())
            } else {
                "on its next read".to_owned()
            };
            cx.push(
                code,
                Severity::Info,
                Verdict::Idle,
                &path,
                format!("{what} '{}' has ended: {meaning}. Nothing is running it; it is only not flagged complete, which Kudu turns into Failed {when}", r.id()),
                evidence,
            );
        }
        return;
    }
    // KuduLite runs most of a synchronous deployment without the lock (spec §4.3 B), so on Linux a
    // moving record is a running deployment even with the lock free.
    if moving && (!lock_free || platform == Platform::Linux) {
        cx.push(
            FindingCode::DeploymentInProgress,
            Severity::Info,
            Verdict::Deploying,
            &path,
            format!(
                "deployment '{}' is running ({}); wait for it, do not delete anything",
                r.id(),
                doc.status_text()
                    .filter(|t| !t.is_empty())
                    .unwrap_or("no status text")
            ),
            evidence,
        );
        // A held Windows lock refuses the next deployment; a free lock would accept one that overlaps
        // this one. (A live Linux lock already blocks until its expiry.)
        if lock_free || platform == Platform::Windows {
            cx.blockers.push(Blocker { until: None });
        }
        return;
    }
    if !lock_free {
        cx.push(
            FindingCode::DeploymentStalled,
            Severity::Error,
            Verdict::Stuck,
            &path,
            format!("deployment '{}' holds the lock but has not moved for {} (stall window {} min): it is hung, not running. Restart the SCM site to end it; Kudu then marks it failed", r.id(), human_secs(idle_for), cx.opts.stall_window.num_minutes()),
            evidence,
        );
        if cx.s.platform() == Platform::Windows {
            cx.blockers.push(Blocker { until: None });
        }
        return;
    }
    let grace = if platform == Platform::Linux {
        Some(doc.received_time + LINUX_ORPHAN_GRACE)
    } else {
        None
    };
    let when = match grace {
        _ if lock == LockState::Corrupt => {
            "only once the corrupt lock is gone (until then its listings fail with 500)".to_owned()
        }
        Some(g) if g > cx.now => format!("after {}", g.to_rfc3339()),
        _ => "on its next read".to_owned(),
    };
    let (code, what) = if doc.is_temp || r.id_kind == crate::record::IdKind::Temp {
        (FindingCode::TempDeploymentOrphaned, "temporary record")
    } else {
        (FindingCode::DeploymentOrphaned, "record")
    };
    cx.push(
        code,
        Severity::Warning,
        Verdict::Stuck,
        &path,
        format!("incomplete {what} '{}' with no lock protecting it: nothing is running it. Kudu marks it failed {when}; until then trackers polling /api/deployments/latest wait forever. `GET /api/deployments/{}` or kudu-state apply settles it now", r.id(), r.id()),
        evidence,
    );
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

fn human_secs(s: Option<i64>) -> String {
    match s {
        None => "an unknown time".to_owned(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) => format!("{} h", s / 3600),
    }
}

fn active(cx: &mut Ctx<'_>, d: &DeploymentsDir) {
    let path = "site/deployments/active";
    let has_success = d
        .records
        .iter()
        .filter_map(|r| r.effective(cx.s.platform()))
        .any(|s| s.status == DeployStatus::Success || s.last_success_end_time.is_some());
    let Some(file) = &d.active else {
        if has_success {
            cx.push(FindingCode::ActiveEmpty, Severity::Warning, Verdict::Idle, path,
                "active is missing although deployments have succeeded: no deployment is protected from purge and the next deployment gets no previous manifest (files removed from the project stay in wwwroot)".to_owned(),
                json!({ "exists": false }));
        }
        return;
    };
    let value = match &file.content {
        Content::Parsed { value } => value,
        Content::Corrupt { reason } | Content::Unreadable { error: reason } => {
            cx.push(
                FindingCode::FileUnreadable,
                Severity::Warning,
                Verdict::Idle,
                path,
                format!("active cannot be read here ({reason})"),
                json!({ "error": reason }),
            );
            return;
        }
    };
    match value {
        ActiveValue::Empty => {
            let (severity, message) = if has_success {
                (Severity::Warning, "active is empty although deployments have succeeded: no deployment is protected from purge and the next deployment gets no previous manifest (files removed from the project stay in wwwroot)")
            } else {
                (Severity::Info, "active is empty: no deployment has succeeded yet (normal on a new site)")
            };
            cx.push(FindingCode::ActiveEmpty, severity, Verdict::Idle, path, message.to_owned(),
                json!({ "mtime": file.meta.modified, "successful_records": has_success }));
        }
        ActiveValue::Malformed { raw, trimmed, problem } => {
            cx.push(FindingCode::ActiveMalformed, Severity::Error, Verdict::Broken, path,
                format!("active {problem}: Kudu matches no record with it, so the live deployment loses its purge protection and the next deployment its previous manifest; rewrite it as the exact id (kudu-state plan)"),
                json!({ "raw": raw, "trimmed": trimmed, "target_exists": trimmed.as_deref().is_some_and(|t| d.record(t).is_some()) }));
        }
        ActiveValue::Id { id } => match d.record(id) {
            Some(r) if r.status.is_some() => {}
            Some(_) => cx.push(FindingCode::ActiveMissingTarget, Severity::Error, Verdict::Broken, path,
                format!("active names '{id}', whose folder has no status.xml: Kudu sees no active deployment"),
                json!({ "id": id, "folder_exists": true })),
            None => {
                if let Some(r) = d.records.iter().find(|r| r.id().eq_ignore_ascii_case(id)) {
                    cx.push(FindingCode::ActiveMalformed, Severity::Error, Verdict::Broken, path,
                        format!("active names '{id}' but the folder is '{}': Kudu flags no record active (it compares case-sensitively)", r.id()),
                        json!({ "id": id, "folder": r.id() }));
                } else {
                    cx.push(FindingCode::ActiveMissingTarget, Severity::Error, Verdict::Broken, path,
                        format!("active names '{id}', which does not exist: the next deployment gets no previous manifest, so files removed from the project stay in wwwroot"),
                        json!({ "id": id, "folder_exists": false }));
                }
            }
        },
    }
}

fn root_files(cx: &mut Ctx<'_>, d: &DeploymentsDir) {
    if let Some(p) = &d.pending {
        cx.push(FindingCode::PendingMarker, Severity::Info, Verdict::Idle, "site/deployments/pending",
            "pending is a 0-byte marker Kudu creates on most deployments and never deletes; it never causes a 409 — do not delete it".to_owned(),
            json!({ "mtime": p.modified, "size": p.size }));
    }
    if let Some(f) = &d.settings_xml
        && let Content::Corrupt { reason } = &f.content
    {
        cx.push(FindingCode::SettingsXmlCorrupt, Severity::Error, Verdict::Broken, f.path.as_str(),
            format!("settings.xml is not well-formed XML ({reason}): Kudu deletes it at its next start, losing the deployment settings set through /api/settings; fix or re-create them first"),
            json!({ "reason": reason, "size": f.meta.size }));
    }
}

/// How many of the ids Kudu's purge would remove a `purge-backlog` finding lists (a neglected site
/// has tens of thousands; the count is always given).
const PURGE_IDS_SHOWN: usize = 20;

/// Kudu's purge (spec §7.1), computed on the records it can read: the ids it would delete, in the
/// order of `d.records` (name order, as a scan lists them).
pub fn purge_candidates(d: &DeploymentsDir, platform: Platform) -> Vec<&str> {
    // (received, position in `d.records`, document) of what Kudu can read, newest first; ties keep
    // name order. Positions, not ids, are compared and marked: a neglected site has 100,000 records.
    let mut recs: Vec<(DateTime<Utc>, usize, &StatusDoc)> = d
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            !matches!(
                r.next_read,
                NextRead::DeleteFolder { .. } | NextRead::Invisible
            )
        })
        .filter_map(|(i, r)| r.effective(platform).map(|s| (s.received_time, i, s)))
        .collect();
    recs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let Some(&(_, newest, _)) = recs.first() else {
        return Vec::new();
    };
    let active = d.active_id();
    let mut purged = vec![false; d.records.len()];
    let in_progress: Vec<_> = recs
        .iter()
        .filter(|(_, _, s)| !s.status.is_terminal())
        .collect();
    if in_progress.len() > 1 {
        let any_real = in_progress.iter().any(|(_, _, s)| !s.is_temp);
        for &&(_, i, s) in &in_progress {
            if (any_real && s.is_temp) || (!any_real && i != newest) {
                purged[i] = true;
            }
        }
    }
    for &(_, i, s) in &recs {
        if s.status == DeployStatus::Failed && s.last_success_end_time.is_none() && i != newest {
            purged[i] = true;
        }
    }
    let succeeded = recs
        .iter()
        .filter(|(_, _, s)| s.last_success_end_time.is_some());
    for &(_, i, s) in succeeded.skip(PURGE_KEEP_SUCCEEDED) {
        if s.status.is_terminal() && Some(d.records[i].id()) != active {
            purged[i] = true;
        }
    }
    // Records are in name order, so the ids come out sorted.
    d.records
        .iter()
        .zip(purged)
        .filter(|(_, purged)| *purged)
        .map(|(r, _)| r.id())
        .collect()
}

fn purge(cx: &mut Ctx<'_>, d: &DeploymentsDir, lock: LockState) {
    let ids = purge_candidates(d, cx.s.platform());
    if ids.is_empty() {
        return;
    }
    let skipped = cx.s.platform() == Platform::Linux && lock == LockState::Held;
    cx.push(FindingCode::PurgeBacklog, Severity::Info, Verdict::Idle, d.path.as_str(),
        format!("Kudu's own purge will remove {} record folder(s) at its next deployment listing{}; nothing to do", ids.len(),
            if skipped { " (KuduLite skips purge while the lock is held)" } else { "" }),
        json!({ "count": ids.len(), "first_ids": ids.iter().take(PURGE_IDS_SHOWN).collect::<Vec<_>>() }));
}

fn notes(cx: &mut Ctx<'_>) {
    for n in &cx.s.notes {
        let (code, severity) = match n.kind {
            NoteKind::Symlink => (FindingCode::SymlinkNotFollowed, Severity::Warning),
            NoteKind::Unreadable | NoteKind::NonUtf8Name | NoteKind::WrongKind => {
                (FindingCode::FileUnreadable, Severity::Warning)
            }
        };
        // Lock files and status.xml already have their own finding.
        if cx.findings.iter().any(|f| f.path == n.path) {
            continue;
        }
        cx.push(
            code,
            severity,
            Verdict::Idle,
            &n.path.clone(),
            n.detail.clone(),
            json!({ "kind": n.kind }),
        );
    }
}
