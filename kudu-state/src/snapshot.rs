//! [`Snapshot`]: everything kudu-state knows about a home after one scan.

use std::path::PathBuf;

use serde::Serialize;

use crate::deployments::DeploymentsDir;
use crate::lock::{Content, LinuxLockInfo, OperationLockInfo};
use crate::platform::Platform;
use crate::store::{Meta, RelPath};

/// Which path the caller gave: the home itself or its `site` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Given {
    /// The folder that contains `site/` (`/home`, `D:\home`).
    Home,
    /// `HOME/site` itself.
    Site,
}

/// One observation that points at a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The platform it points at.
    pub platform: Platform,
    /// The path it was seen at.
    pub path: RelPath,
    /// What was seen.
    pub why: String,
}

/// The platform a snapshot is interpreted for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformChoice {
    /// The platform.
    pub platform: Platform,
    /// True when the caller chose it rather than the tree.
    pub overridden: bool,
    /// What the tree showed (kept even when overridden, so a wrong override is visible).
    pub evidence: Vec<Evidence>,
}

/// A lock file: where, its metadata, its parsed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockFile<T> {
    /// Where it is.
    pub path: RelPath,
    /// Its metadata (an mtime is the only age a Windows lock has besides its JSON).
    pub meta: Meta,
    /// Its content.
    pub content: Content<T>,
}

/// KuduLite's deployment lock directory `site/locks/deployment/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinuxLockDir {
    /// `site/locks/deployment`.
    pub path: RelPath,
    /// The directory's metadata.
    pub meta: Meta,
    /// `info.lock`; absent means "not held" to Kudu, though the directory stays.
    pub info: Option<LockFile<LinuxLockInfo>>,
}

/// Which idle lock a file is (Linux keeps these permanently; Windows deletes them on release).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdleLockName {
    /// `status.lock`: guards `status.xml` and `active`.
    Status,
    /// `hooks.lock`: guards web hooks.
    Hooks,
    /// `sshkey.lock`: guards the SSH key API.
    Sshkey,
}

impl IdleLockName {
    /// All of them, in file-name order.
    pub const ALL: [IdleLockName; 3] = [
        IdleLockName::Hooks,
        IdleLockName::Sshkey,
        IdleLockName::Status,
    ];

    /// The file name under `site/locks`.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            IdleLockName::Status => "status.lock",
            IdleLockName::Hooks => "hooks.lock",
            IdleLockName::Sshkey => "sshkey.lock",
        }
    }
}

/// A status, hooks or sshkey lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdleLock {
    /// Which one.
    pub name: IdleLockName,
    /// The file.
    pub file: LockFile<OperationLockInfo>,
}

/// Everything under `site/locks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Locks {
    /// `site/locks` itself, absent on a site that never took a lock.
    pub dir: Option<Meta>,
    /// Windows `deployments.lock`.
    pub windows_deployment: Option<LockFile<OperationLockInfo>>,
    /// Linux `deployment/`.
    pub linux_deployment: Option<LinuxLockDir>,
    /// `status.lock`, `hooks.lock`, `sshkey.lock` that exist.
    pub idle: Vec<IdleLock>,
    /// `autoswap.lock`: only its mtime matters.
    pub autoswap: Option<Meta>,
}

/// Something the scanner met and did not (or could not) read, reported rather than guessed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanNote {
    /// Where.
    pub path: String,
    /// What kind of thing.
    pub kind: NoteKind,
    /// Details for a person.
    pub detail: String,
}

/// Kinds of [`ScanNote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// A symbolic link, not followed.
    Symlink,
    /// A name that is not UTF-8, skipped.
    NonUtf8Name,
    /// A file or folder that could not be read.
    Unreadable,
    /// Something of the wrong kind where Kudu expects a file or a folder.
    WrongKind,
}

/// The state of one home, read in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The home directory (the folder containing `site/`).
    pub home: PathBuf,
    /// Whether the caller gave the home or its `site` folder.
    pub given: Given,
    /// The platform the snapshot is interpreted for.
    pub platform: PlatformChoice,
    /// `site/locks`.
    pub locks: Locks,
    /// `site/deployments`, or `None` when it does not exist (a valid, empty state).
    pub deployments: Option<DeploymentsDir>,
    /// `site/wwwroot`'s metadata, if it exists.
    pub wwwroot: Option<Meta>,
    /// Links, odd names and unreadable entries met on the way.
    pub notes: Vec<ScanNote>,
}

impl Snapshot {
    /// The platform the snapshot is interpreted for.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.platform.platform
    }
}
