//! How Kudu judges its locks (spec §2, S1–S5, S10), as diagnose rules: which lock makes Kudu answer
//! 409, which one it deletes at its next check, which one breaks its lock check altogether.

use crate::diagnose::{Ctx, Evidence, Finding, FindingCode, INFO, Severity, Subject, Verdict};
use crate::lock::{AUTOSWAP_WINDOW, IdleLockName, LinuxLockInfo};
use crate::platform::Platform;
use crate::store::Content;

/// What the deployment lock looks like to Kudu right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockState {
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
    pub(crate) fn may_protect(self) -> bool {
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

/// The deployment lock of either platform: findings, blockers, and the state the record rules need.
pub(crate) fn deployment_lock(cx: &mut Ctx<'_>) -> LockState {
    let mut state = LockState::Free;
    if let Some(dir) = &cx.s.locks.linux_deployment {
        match &dir.info {
            None => cx.push(Finding::new(
                FindingCode::LinuxLockDirEmpty,
                INFO,
                Subject::LinuxLock,
                dir.path.as_str(),
                "the lock directory has no info.lock, so Kudu treats the deployment lock as free",
                Evidence::LockDir {
                    dir_mtime: dir.meta.modified,
                },
            )),
            Some(file) => {
                let path = file.path.as_str();
                match &file.content {
                    Content::Parsed { value } => state = linux_lock(cx, value, path),
                    Content::Corrupt { reason } => {
                        cx.push(Finding::new(
                            FindingCode::LinuxLockCorrupt,
                            (Severity::Error, Verdict::Broken),
                            Subject::LinuxLock,
                            path,
                            format!("info.lock is not what Kudu writes ({reason}): Kudu's lock check throws, so asynchronous deployments (az webapp deploy, ARM, the GitHub Actions and Azure Pipelines tasks) get 409 \"There is a deployment currently in progress\", synchronous ones and /api/deployments get 500, and a CI /deploy hook gets 202 and nothing deploys. It protects nothing: move the whole site/locks/deployment folder away (kudu-state plan) or restart the SCM site"),
                            Evidence::CorruptFile {
                                mtime: file.meta.modified,
                                reason: reason.clone(),
                                size: file.meta.size,
                            },
                        ));
                        cx.block(None);
                        state = LockState::Corrupt;
                    }
                    Content::Unreadable { error } => {
                        cx.push(Finding::new(
                            FindingCode::LockFileUnreadable,
                            (Severity::Error, Verdict::Broken),
                            Subject::LinuxLock,
                            path,
                            format!("info.lock cannot be read ({error}); if Kudu cannot read it either, every deployment fails"),
                            Evidence::Unreadable {
                                error: error.clone(),
                            },
                        ));
                        cx.block(None);
                        state = LockState::Unreadable;
                    }
                }
            }
        }
    }
    if let Some(file) = &cx.s.locks.windows_deployment {
        let info = file.content.value();
        let acquired = info.and_then(|i| i.acquired).or(file.meta.modified);
        let operation = info.and_then(|i| i.operation.clone());
        let holder = operation.as_deref().unwrap_or("unknown");
        let mut level = INFO;
        let message = if cx.platform() == Platform::Windows {
            match &file.held {
                Some(proof) if proof.held => {
                    state = state.max_with(LockState::Held);
                    level = (Severity::Warning, Verdict::Deploying);
                    cx.block(None);
                    format!(
                        "Kudu on instance {} holds deployments.lock open right now (its open file handles, GET /api/processes/0): '{holder}' is running or hung there; Kudu answers 409 until it ends or that instance's Kudu restarts",
                        proof.instance
                    )
                }
                Some(proof) => format!(
                    "deployments.lock names '{holder}' but Kudu on instance {} does not hold it open (its open file handles, GET /api/processes/0): a leftover, which Kudu deletes at its next check; it blocks nothing",
                    proof.instance
                ),
                None => {
                    state = state.max_with(LockState::Held);
                    format!(
                        "deployments.lock names '{holder}' as holder; Windows Kudu deletes it on release, so it is either held right now or left by a crash (then Kudu deletes it at its next check). Only the site can prove which: over Kudu's API kudu-state asks Kudu's process on the holder's instance (--remote, --instance)"
                    )
                }
            }
        } else {
            "deployments.lock means nothing to KuduLite (a leftover of the older Mono-based Linux Kudu); harmless".to_owned()
        };
        let evidence = Evidence::WindowsLock {
            acquired,
            age_seconds: cx.age(acquired),
            held: file.held.as_ref().map(|p| p.held),
            instance: info.and_then(|i| i.instance_id.clone()),
            mtime: file.meta.modified,
            operation,
        };
        cx.push(Finding::new(
            FindingCode::WindowsLockFile,
            level,
            Subject::WindowsLock,
            file.path.as_str(),
            message,
            evidence,
        ));
    }
    state
}

/// KuduLite's "held?" check: the lock holds while `lockExpiry` is in the future (spec §2.3).
fn linux_lock(cx: &mut Ctx<'_>, info: &LinuxLockInfo, path: &str) -> LockState {
    let evidence = Evidence::LinuxLock {
        acquired: info.acquired(),
        expires_in_seconds: info.expiry.map(|e| (e - cx.now).num_seconds()),
        expiry: info.expiry,
        operation: info.operation.clone(),
        pid: info.pid,
        worker: info.worker.clone(),
    };
    if info.is_held_at(cx.now) {
        let expiry = info.expiry;
        let op = info.operation.as_deref().unwrap_or("unknown");
        cx.push(Finding::new(
            FindingCode::LinuxLockLive,
            (Severity::Warning, Verdict::Deploying),
            Subject::LinuxLock,
            path,
            format!(
                "the deployment lock is held by '{op}' until {}: Kudu answers 409 to every deployment until then",
                expiry.map_or_else(|| "?".to_owned(), |e| e.to_rfc3339())
            ),
            evidence,
        ));
        cx.block(expiry);
        LockState::Held
    } else {
        cx.push(Finding::new(
            FindingCode::LinuxLockExpired,
            INFO,
            Subject::LinuxLock,
            path,
            "the deployment lock has expired: Kudu treats it as free and deletes it at its next check; no 409 comes from it",
            evidence,
        ));
        LockState::Free
    }
}

/// Operations that hold KuduLite's deployment lock for a malware scan (up to 20 minutes), not a deployment.
const SCAN_OPERATIONS: [&str; 2] = ["Performing continuous scan", "Creating unique scan folder"];

/// A live Linux lock with no record in progress (spec S4 i): just taken if it is young, hung if it is
/// older than the stall window — 409 until `lockExpiry` with nothing running. The same for a Windows
/// lock proven held by Kudu's open handles, which holds until that instance's Kudu ends it. Runs after
/// the record rules, which say whether a record is in progress.
pub(crate) fn idle_live_lock(cx: &mut Ctx<'_>) {
    if cx.has(FindingCode::DeploymentInProgress) || cx.has(FindingCode::DeploymentStalled) {
        return;
    }
    windows_hung_lock(cx);
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

/// A Windows lock Kudu is proven to hold, with no record in progress, older than the stall window: a
/// hung operation only a restart of that instance's Kudu ends (spec S3, §8 "restarting Kudu only").
fn windows_hung_lock(cx: &mut Ctx<'_>) {
    let Some(file) = &cx.s.locks.windows_deployment else {
        return;
    };
    let Some(proof) = file.held.as_ref().filter(|p| p.held) else {
        return;
    };
    let acquired = file
        .content
        .value()
        .and_then(|i| i.acquired)
        .or(file.meta.modified);
    let Some(acquired) = acquired.filter(|a| cx.now - *a > cx.opts.stall_window) else {
        return;
    };
    let holder = file
        .content
        .value()
        .and_then(|i| i.operation.clone())
        .unwrap_or_else(|| "unknown".to_owned());
    let instance = proof.instance.clone();
    if let Some(f) = cx
        .findings
        .iter_mut()
        .find(|f| f.code == FindingCode::WindowsLockFile)
    {
        f.verdict = Verdict::Stuck;
        f.severity = Severity::Error;
        f.message = format!(
            "Kudu on instance {instance} has held deployments.lock for '{holder}' since {} with no deployment record in progress: a hung operation. Kudu answers 409 until it ends; restarting Kudu on that instance alone ends it (DELETE /api/processes/0 pinned to it; the app keeps running)",
            acquired.to_rfc3339()
        );
    }
}

/// `autoswap.lock`: a 409 while it is less than 2 minutes old, on Windows only.
pub(crate) fn autoswap(cx: &mut Ctx<'_>) {
    let Some(meta) = cx.s.locks.autoswap.clone() else {
        return;
    };
    let path = "site/locks/autoswap.lock";
    let fresh = meta.modified.is_some_and(|m| cx.now - m < AUTOSWAP_WINDOW);
    let evidence = Evidence::Autoswap {
        age_seconds: cx.age(meta.modified),
        mtime: meta.modified,
    };
    let finding = if cx.platform() == Platform::Linux {
        Finding::new(
            FindingCode::AutoswapLockStale,
            INFO,
            Subject::Autoswap,
            path,
            "autoswap.lock is never consulted by KuduLite (it builds the path with backslashes); harmless",
            evidence,
        )
    } else if fresh {
        cx.block(meta.modified.map(|m| m + AUTOSWAP_WINDOW));
        Finding::new(
            FindingCode::AutoswapLockFresh,
            (Severity::Warning, Verdict::Deploying),
            Subject::Autoswap,
            path,
            "an auto swap started less than 2 minutes ago: Kudu answers 409 until it is 2 minutes old",
            evidence,
        )
    } else {
        Finding::new(
            FindingCode::AutoswapLockStale,
            INFO,
            Subject::Autoswap,
            path,
            "autoswap.lock is older than 2 minutes, so Kudu ignores it",
            evidence,
        )
    };
    cx.push(finding);
}

/// `status.lock`, `hooks.lock`, `sshkey.lock`: normal on Linux, and a blocker only when unreadable
/// (spec §2.4, S10).
pub(crate) fn idle_locks(cx: &mut Ctx<'_>) {
    let platform = cx.platform();
    for idle in &cx.s.locks.idle {
        let path = idle.file.path.as_str();
        let subject = Subject::IdleLock(idle.name);
        let finding = match &idle.file.content {
            Content::Unreadable { error } => {
                let status = idle.name == IdleLockName::Status;
                if status && platform == Platform::Linux {
                    cx.block(None);
                }
                Finding::new(
                    FindingCode::LockFileUnreadable,
                    if status {
                        (Severity::Error, Verdict::Stuck)
                    } else {
                        (Severity::Warning, Verdict::Idle)
                    },
                    subject,
                    path,
                    if status {
                        format!(
                            "status.lock cannot be read ({error}); if Kudu cannot open it either, every status read and write waits 30 s and fails, and deployments report 409 'deployment in progress'. Fix its ownership/permissions or delete it (on Linux it excludes nothing; Kudu re-creates it)"
                        )
                    } else {
                        format!(
                            "{} cannot be read ({error}); fix its ownership/permissions",
                            idle.name.file_name()
                        )
                    },
                    Evidence::Unreadable {
                        error: error.clone(),
                    },
                )
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
                Finding::new(
                    FindingCode::IdleLockFile,
                    INFO,
                    subject,
                    path,
                    message,
                    Evidence::IdleLock {
                        acquired: info.and_then(|i| i.acquired),
                        mtime: idle.file.meta.modified,
                        operation: info.and_then(|i| i.operation.clone()),
                    },
                )
            }
        };
        cx.push(finding);
    }
}
