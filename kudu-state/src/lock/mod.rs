//! Kudu's locks under `site/locks` (spec §2): the model, how they are read, and (in [`rules`]) how
//! they are judged.
//!
//! Kudu has two deployment locks with nothing in common but their purpose:
//! - Windows: `site/locks/deployments.lock`, held by an *open handle*. The JSON inside only names the
//!   holder for the 409 message; whether the lock is held can only be decided on the site itself.
//! - Linux: the *directory* `site/locks/deployment/` plus `info.lock`, whose `lockExpiry` decides
//!   everything: held while it is in the future, deleted by the next check once it is past.
//!
//! Besides them: `status.lock`, `hooks.lock`, `sshkey.lock` (always present on Linux, where they exclude
//! nothing) and `autoswap.lock` (only its mtime matters). What the files say is in [`info`].

pub mod info;
pub(crate) mod rules;

use serde::Serialize;

pub use info::{
    AUTOSWAP_WINDOW, LINUX_LOCK_LIFETIME, LinuxLockInfo, OperationLockInfo, parse_linux_lock,
    parse_operation_lock,
};

use crate::names::named_enum;
use crate::scan::{LOCK_CAP, list_or_note, note_wrong_kind, read_small, stat_or_gone};
use crate::snapshot::ScanNote;
use crate::store::{Content, EntryKind, Meta, RelPath, Store};

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

named_enum! {
    /// Which idle lock a file is (Linux keeps these permanently; Windows deletes them on release).
    /// Declared in file-name order.
    pub enum IdleLockName {
        /// `hooks.lock`: guards web hooks.
        Hooks => "hooks",
        /// `sshkey.lock`: guards the SSH key API.
        Sshkey => "sshkey",
        /// `status.lock`: guards `status.xml` and `active`.
        Status => "status",
    }
}

impl IdleLockName {
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

pub(crate) fn read(
    store: &dyn Store,
    dir: &RelPath,
    meta: Option<Meta>,
    notes: &mut Vec<ScanNote>,
) -> Locks {
    let mut locks = Locks {
        dir: meta,
        ..Locks::default()
    };
    for entry in list_or_note(store, dir, notes) {
        let Ok(path) = dir.join(&entry.name) else {
            continue;
        };
        let lock_file = |notes: &mut Vec<ScanNote>| {
            let (meta, content) = read_small(
                store,
                &path,
                &entry.kind,
                LOCK_CAP,
                notes,
                parse_operation_lock,
            )?;
            Some(LockFile {
                path: path.clone(),
                meta,
                content,
            })
        };
        match entry.name.as_str() {
            "deployments.lock" => locks.windows_deployment = lock_file(notes),
            "autoswap.lock" => locks.autoswap = stat_or_gone(store, &path, notes),
            "deployment" if entry.kind == EntryKind::Dir => {
                let Some(meta) = stat_or_gone(store, &path, notes) else {
                    continue;
                };
                let info = list_or_note(store, &path, notes)
                    .into_iter()
                    .find(|e| e.name == "info.lock")
                    .and_then(|e| {
                        let info_path = path.join("info.lock").ok()?;
                        let (meta, content) = read_small(
                            store,
                            &info_path,
                            &e.kind,
                            LOCK_CAP,
                            notes,
                            parse_linux_lock,
                        )?;
                        Some(LockFile {
                            path: info_path,
                            meta,
                            content,
                        })
                    });
                locks.linux_deployment = Some(LinuxLockDir {
                    path: path.clone(),
                    meta,
                    info,
                });
            }
            "deployment" => note_wrong_kind(notes, path.as_str(), &entry.kind),
            name => {
                if let Some(idle) = IdleLockName::ALL
                    .iter()
                    .copied()
                    .find(|n| n.file_name() == name)
                    && let Some(file) = lock_file(notes)
                {
                    locks.idle.push(IdleLock { name: idle, file });
                }
            }
        }
    }
    locks
}
